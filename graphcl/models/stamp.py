r"""Stamps of input tensors: how caches and checks know that an input is
the very one they saw before.

A tensor's address (``data_ptr``) or ``id`` is no key: a freed tensor's
address and id are reused by the next one, so a stream of freshly built
same-shape graphs would be served an earlier graph's answer.
:class:`TensorStamp` instead holds references to the tensors themselves
(no other tensor can take their identity while they are held) and their
in-place version counters.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = ['TensorStamp']


def _tensor_version(t: Tensor) -> Optional[int]:
    # PyTorch's in-place version counter (bumped by every in-place op on the
    # tensor, its views and, for sparse tensors, their index/value tensors);
    # None where a PyTorch build has none: then nothing is ever reused.
    return getattr(t, '_version', None)


def _state(t: Optional[Tensor]):
    if t is None:
        return None
    version = _tensor_version(t)
    if version is None:
        return object()  # equal to nothing: always rebuild
    # data_ptr: storage swapped in place (set_) without a version bump
    ptr = t.data_ptr() if t.layout == torch.strided else None
    return version, ptr, tuple(t.shape), t.dtype, t.device


class TensorStamp:
    r"""Remembers the exact tensors an answer was computed from:
    :meth:`matches` is :obj:`True` only for the same tensor objects (held
    here, so no new tensor can take their identity) with the same in-place
    version, storage, shape, dtype and device. Copies and pickles start
    empty (a stamp is never shared between models)."""
    __slots__ = ('tensors', 'states', 'extra')

    def __init__(self):
        self.clear()

    def clear(self):
        r"""Forgets the tensors (and lets them be freed)."""
        self.tensors: Tuple[Optional[Tensor], ...] = ()
        self.states: tuple = ()
        self.extra = None

    def set(self, tensors: Sequence[Optional[Tensor]], extra=None):
        r"""Stamps :obj:`tensors` (and any hashable :obj:`extra` key)."""
        self.tensors = tuple(tensors)
        self.states = tuple(_state(t) for t in self.tensors)
        self.extra = extra

    def matches(self, tensors: Sequence[Optional[Tensor]],
                extra=None) -> bool:
        r"""Whether :obj:`tensors` are the stamped objects, unchanged."""
        if len(tensors) != len(self.tensors) or extra != self.extra:
            return False
        for t, held, state in zip(tensors, self.tensors, self.states):
            if t is not held or (t is not None and _state(t) != state):
                return False
        return True

    def __deepcopy__(self, memo) -> 'TensorStamp':
        return TensorStamp()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict):
        self.clear()
