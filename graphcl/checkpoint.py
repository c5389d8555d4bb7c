r"""The random state of a training run, saved and restored so that a
resumed run continues exactly where it stopped.

A run draws from PyTorch's global generators (initialisation, dropout,
mini-batch shuffling) and from the private :class:`torch.Generator` of
every seeded part (corruptions and augmentations keep theirs as
``.generator``). :func:`rng_state` collects all of them;
:func:`set_rng_state` puts them back. Together with the model's and the
optimizer's ``state_dict`` and the early-stopping state, a checkpoint then
continues a run to the same embeddings and metrics as an uninterrupted one
(on the same machine and thread count).
"""
from typing import Any, Dict

import torch
from torch.nn import Module

__all__ = ['rng_state', 'set_rng_state', 'module_generators']


def module_generators(model: Module) -> Dict[str, torch.Generator]:
    r"""The private generators of :obj:`model`'s submodules (attribute
    ``generator``), by module name."""
    out = {}
    for name, module in model.named_modules():
        gen = getattr(module, 'generator', None)
        if isinstance(gen, torch.Generator):
            out[name] = gen
    return out


def rng_state(model: Module) -> Dict[str, Any]:
    r"""PyTorch's global CPU (and CUDA) generator states and those of
    :obj:`model`'s parts."""
    state = dict(cpu=torch.get_rng_state(), modules={
        name: gen.get_state() for name, gen in
        module_generators(model).items()})
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(model: Module, state: Dict[str, Any]):
    r"""Restores what :func:`rng_state` saved; a part that has no saved
    state, or a saved state without its part, raises
    :class:`ValueError` (the checkpoint is of another model)."""
    gens = module_generators(model)
    saved = state.get('modules', {})
    if set(gens) != set(saved):
        raise ValueError(f"The checkpoint's random states are for parts "
                         f"{sorted(saved)}, the model has {sorted(gens)}; "
                         f"it was written by another model")
    torch.set_rng_state(state['cpu'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    for name, gen in gens.items():
        gen.set_state(saved[name])
