r"""One training loop for every adapter method (SimCLR, DIM, CPC, or any
:class:`~graphcl.adapters.base.SelfSupervisedMethod`)."""
import time
from dataclasses import dataclass, field
from typing import List, Optional, Union

import torch
from tqdm.auto import tqdm

from .base import SelfSupervisedMethod
from .data import DataLike, as_loader, batch_input

__all__ = ['PretrainResult', 'pretrain']


@dataclass
class PretrainResult:
    r"""Mean loss per epoch and wall-clock seconds of :func:`pretrain`."""
    losses: List[float] = field(default_factory=list)
    seconds: float = 0.0
    skipped_batches: int = 0


def _first_batch(loader):
    try:
        return batch_input(next(iter(loader)))
    except StopIteration:
        raise ValueError("The data is empty: there is nothing to "
                         "pre-train on") from None


def pretrain(model: SelfSupervisedMethod, data: DataLike, epochs: int = 100,
             batch_size: int = 256, lr: float = 1e-3,
             weight_decay: float = 0.0, grad_clip: Optional[float] = -1,
             seed: int = 0, device: Union[str, torch.device] = 'cpu',
             progress: bool = True, desc: Optional[str] = None
             ) -> PretrainResult:
    r"""Pre-trains :obj:`model` with Adam.

    Input problems (rank, too short sequences, batches of one) are detected
    on the first batch, before any update. Trailing batches smaller than
    ``model.min_batch_size`` are skipped (counted in
    :obj:`PretrainResult.skipped_batches`).

    Args:
        model (SelfSupervisedMethod): The method to train.
        data (Tensor, Dataset or DataLoader): Unlabelled examples (a dataset
            or loader may yield ``(x, y)`` pairs; ``y`` is ignored).
        epochs (int, optional): Passes over the data. (default: ``100``)
        batch_size (int, optional): Ignored for a :class:`DataLoader`.
            (default: ``256``)
        lr (float, optional): Learning rate. (default: ``1e-3``)
        weight_decay (float, optional): Adam weight decay. (default: ``0.``)
        grad_clip (float, optional): Max gradient norm; ``-1`` uses
            ``model.default_grad_clip``, ``None`` disables clipping.
            (default: ``-1``)
        seed (int, optional): Seeds shuffling and augmentations.
            (default: ``0``)
        device (str or torch.device, optional): Where to train.
            (default: ``'cpu'``)
        progress (bool, optional): Show a tqdm progress bar.
            (default: ``True``)
        desc (str, optional): Progress bar label. (default: ``None``)
    """
    if epochs < 1:
        raise ValueError(f"'epochs' must be >= 1, got {epochs}")
    if grad_clip == -1:
        grad_clip = model.default_grad_clip
    loader = as_loader(data, batch_size, shuffle=True, seed=seed)
    need = model.min_batch_size
    if loader.batch_size is not None and loader.batch_size < need:
        raise ValueError(f"{type(model).__name__} needs batches of at least "
                         f"{need} examples, the loader yields batches of "
                         f"{loader.batch_size}; increase the batch size")
    device = torch.device(device)
    model.to(device).train()
    model.check_input(_first_batch(loader).to(device))

    opt = torch.optim.Adam(model.parameters(), lr=lr,
                           weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    result = PretrainResult()
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc=desc or type(model).__name__,
               disable=not progress, leave=False)
    for _ in bar:
        total, count = 0.0, 0
        for batch in loader:
            x = batch_input(batch).to(device)
            if x.size(0) < need:
                result.skipped_batches += 1
                continue
            opt.zero_grad()
            loss = model.loss(x, gen)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"{type(model).__name__} loss became {loss.item()}; "
                    f"lower the learning rate or enable gradient clipping")
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            total, count = total + loss.item() * x.size(0), count + x.size(0)
        result.losses.append(total / max(count, 1))
        bar.set_postfix(loss=f'{result.losses[-1]:.4f}')
    result.seconds = time.perf_counter() - start
    model.eval()
    return result
