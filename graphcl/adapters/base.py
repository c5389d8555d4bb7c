r"""The interface every adapter method implements, so that graphcl's one
training loop (:func:`graphcl.train.pretrain`, through
:func:`graphcl.adapters.pretrain`) and one evaluation serve them all."""
from typing import Optional, Sequence

import torch
from torch import Tensor

from .augment import SeedLike

__all__ = ['SelfSupervisedMethod']


class SelfSupervisedMethod(torch.nn.Module):
    r"""Base class of :class:`SimCLR`, :class:`DeepInfoMax` and :class:`CPC`.

    Subclasses set :attr:`encoder` (the part kept after pre-training) and
    implement :meth:`loss`.
    """
    #: Smallest batch the objective is defined for (negatives come from the
    #: other examples of the batch); smaller batches are skipped in training.
    min_batch_size: int = 2
    #: Gradient-norm clipping used by :func:`pretrain` unless overridden.
    default_grad_clip: Optional[float] = None
    #: Allowed input ranks (``x.dim()``).
    input_ranks: Sequence[int] = (3, 4)

    encoder: torch.nn.Module

    def reset_parameters(self):
        for m in self.modules():
            if m is not self and hasattr(m, 'reset_parameters'):
                m.reset_parameters()

    def check_input(self, x: Tensor):
        r"""Raises a :class:`ValueError` explaining what is wrong with a batch
        :obj:`x` before any training happens."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__} expects a tensor batch, "
                            f"got {type(x).__name__}")
        if x.dim() not in self.input_ranks:
            names = {3: '[N, C, L]', 4: '[N, C, H, W]'}
            want = ' or '.join(names.get(r, f'rank {r}')
                               for r in self.input_ranks)
            raise ValueError(
                f"{type(self).__name__} expects batches of shape {want}, got "
                f"shape {tuple(x.shape)} (rank {x.dim()}); add a channel "
                f"dimension with x.unsqueeze(1) or reshape your data")
        dim = getattr(getattr(self, 'encoder', None), 'dim', None)
        if isinstance(dim, int) and x.dim() - 2 != dim:
            want = '[N, C, L]' if dim == 1 else '[N, C, H, W]'
            raise ValueError(
                f"The encoder {type(self.encoder).__name__} expects inputs "
                f"{want} but got shape {tuple(x.shape)}; add a channel "
                f"dimension with x.unsqueeze(1) or build the encoder with "
                f"dim={x.dim() - 2}")
        c_in = getattr(getattr(self, 'encoder', None), 'in_channels', None)
        if isinstance(c_in, int) and x.size(1) != c_in:
            raise ValueError(f"The encoder expects {c_in} input channel(s) "
                             f"but the batch of shape {tuple(x.shape)} has "
                             f"{x.size(1)}; inputs are [N, C, ...]")
        if not x.is_floating_point():
            raise ValueError(f"{type(self).__name__} expects a floating "
                             f"point batch, got dtype {x.dtype}; convert it "
                             f"with x.float()")

    def loss(self, x: Tensor, generator: SeedLike = None) -> Tensor:
        r"""Self-supervised loss of one batch :obj:`x`."""
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"'loss(x, generator)'")

    def forward(self, x: Tensor, generator: SeedLike = None) -> Tensor:
        return self.loss(x, generator)

    @torch.no_grad()
    def embed(self, x: Tensor) -> Tensor:
        r"""Representation of :obj:`x` by the frozen encoder (eval mode)."""
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            return self.encoder(x)
        finally:
            self.encoder.train(was_training)
