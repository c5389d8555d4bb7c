r"""One training loop for every self-supervised method: full batch or
mini-batch, early stopping on the training loss, best-state restore."""
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module

__all__ = ['PretrainResult', 'EarlyStopping', 'pretrain']


@dataclass
class PretrainResult:
    r"""What :func:`pretrain` did: epochs run, wall time of the loop (data
    loading and evaluation excluded), per-epoch losses, the best loss."""
    epochs: int
    seconds: float
    losses: List[float] = field(default_factory=list)
    best_loss: float = float('inf')
    best_epoch: int = 0

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(self.epochs, 1)


class EarlyStopping:
    r"""Stops when the monitored loss has not improved for :obj:`patience`
    epochs and keeps a copy of the best parameters (copied in place into
    buffers allocated once, so improvements allocate nothing).

    Args:
        model (Module): The model whose state is kept.
        patience (int): Epochs without improvement before stopping; ``0``
            turns early stopping off (the best state is still kept).
        min_delta (float, optional): Smallest decrease that counts as an
            improvement. (default: ``0.0``)
    """
    def __init__(self, model: Module, patience: int, min_delta: float = 0.0):
        if patience < 0:
            raise ValueError(f"'patience' must be >= 0 (0 disables early "
                             f"stopping), got {patience}")
        self.model = model
        self.patience = patience
        self.min_delta = min_delta
        self.best = float('inf')
        self.best_epoch = 0
        self.bad_epochs = 0
        self._state = {k: v.detach().clone()
                       for k, v in model.state_dict().items()}

    def step(self, loss: float, epoch: int) -> bool:
        r"""Records :obj:`loss`; returns :obj:`True` when training should
        stop."""
        if loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = loss, epoch, 0
            with torch.no_grad():
                for k, v in self.model.state_dict().items():
                    self._state[k].copy_(v)
            return False
        self.bad_epochs += 1
        return self.patience > 0 and self.bad_epochs >= self.patience

    def restore(self):
        r"""Loads the best parameters back into the model."""
        self.model.load_state_dict(self._state)


def pretrain(model: Module, objective: Callable[..., Tensor],
             optimizer: torch.optim.Optimizer, epochs: int,
             patience: int = 20,
             batches: Optional[Callable[[], Iterable]] = None,
             restore_best: bool = True, progress: Union[bool, str] = False,
             on_step: Optional[Callable[[], None]] = None,
             sync_loss: Optional[Callable[[float], float]] = None
             ) -> PretrainResult:
    r"""Minimises :obj:`objective` for at most :obj:`epochs` epochs.

    Args:
        model (Module): The model being trained (for train mode and early
            stopping).
        objective (callable): Returns the scalar loss; called with no
            arguments (full batch) or with each item of :obj:`batches()`.
        optimizer (Optimizer): Optimizer over the model's parameters.
        epochs (int): Maximum number of epochs.
        patience (int, optional): Early stopping on the training loss;
            ``0`` disables it. (default: ``20``)
        batches (callable, optional): Returns an iterable of mini-batches
            for one epoch; the epoch loss is their mean.
        restore_best (bool, optional): Load the best state at the end.
            (default: ``True``)
        progress (bool or str, optional): Show a tqdm bar (a string is used
            as its description). (default: ``False``)
        on_step (callable, optional): Called after every optimiser step
            (e.g. gradient clipping is done before; hooks for DDP).
        sync_loss (callable, optional): Maps each epoch's loss to the value
            recorded and used for early stopping; with several processes
            pass :func:`graphcl.distributed.all_reduce_mean` so that all
            ranks see the same loss and stop at the same epoch.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"'epochs' must be a positive integer, got {epochs}")
    stopper = EarlyStopping(model, patience)
    result = PretrainResult(epochs=0, seconds=0.0)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc=progress if isinstance(progress, str)
                   else 'pretrain', leave=False, dynamic_ncols=True)

    def forward_backward(*args) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = objective(*args)
        loss.backward()
        return loss.item()

    def update():
        optimizer.step()
        if on_step is not None:
            on_step()

    model.train()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if batches is None:
            # As in DGI's reference code: the loss is judged, and the best
            # parameters kept, before the update they produced it with.
            loss = forward_backward()
        else:
            total, count = 0.0, 0
            for batch in batches():
                total += forward_backward(batch)
                update()
                count += 1
            if count == 0:
                raise ValueError("The mini-batch loader yielded no batches")
            loss = total / count
        if sync_loss is not None:
            loss = sync_loss(loss)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The loss became {'NaN' if loss != loss else loss} at epoch "
                f"{epoch}; lower the "
                f"learning rate or check the input features")
        result.losses.append(loss)
        result.epochs = epoch
        stop = stopper.step(loss, epoch)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f'{loss:.4f}', refresh=False)
        if stop:
            break
        if batches is None:
            update()
    result.seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    if restore_best:
        stopper.restore()
    result.best_loss, result.best_epoch = stopper.best, stopper.best_epoch
    model.eval()
    return result
