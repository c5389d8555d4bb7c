r"""Pieces of the experiment runner over seeds, shared by the graph engine
(:func:`graphcl.experiment.run_experiment`) and the adapters
(:func:`graphcl.adapters.run_experiment`): the seed list, the device, the
per-seed loop and ``metrics.json``. Statistics across seeds follow
:mod:`graphcl.stats`."""
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, TypeVar, Union

import torch

from .atomic import atomic_write_json

__all__ = ['seed_list', 'resolve_device', 'run_seeds', 'write_metrics']

T = TypeVar('T')


def seed_list(seeds: Union[int, Sequence[int]]) -> List[int]:
    r"""The seeds of a run: an ``int`` :math:`n` means ``0..n-1``, a
    sequence is taken as is. Refuses an empty list and anything that is not
    an integer seed."""
    if isinstance(seeds, bool):
        raise ValueError(f"'seeds' must be a number of seeds or a list of "
                         f"integer seeds, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"'seeds' must name at least one seed, got "
                             f"{seeds}")
        return list(range(seeds))
    out = list(seeds)
    if not out:
        raise ValueError("'seeds' must name at least one seed")
    for s in out:
        if isinstance(s, bool) or not isinstance(s, int):
            raise ValueError(f"Seeds must be integers, got {s!r} in "
                             f"{out!r}")
    return out


def resolve_device(device: Union[str, torch.device]) -> torch.device:
    r""":obj:`device` as a :class:`torch.device`, refusing CUDA where it is
    not available (before any data is loaded or any seed trained)."""
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but CUDA is not "
                         "available here; use --device cpu")
    return device


def run_seeds(seeds: Union[int, Sequence[int]],
              run_one: Callable[[int], T]) -> List[T]:
    r"""Calls ``run_one(seed)`` for every seed of :func:`seed_list`, after
    :func:`torch.manual_seed` (so that everything drawn from torch's global
    generator, initial weights included, follows the seed), and returns
    the results in seed order."""
    out = []
    for seed in seed_list(seeds):
        torch.manual_seed(seed)
        out.append(run_one(seed))
    return out


def write_metrics(metrics: Dict[str, Any], out: Union[str, Path],
                  name: str = 'metrics.json') -> Path:
    r"""Writes :obj:`metrics` as indented JSON to ``out/name`` (creating
    :obj:`out`), atomically (:mod:`graphcl.atomic`), and returns the
    path."""
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(path / name, metrics)
