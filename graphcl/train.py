r"""One training loop for every self-supervised method, graph methods
(:mod:`graphcl.experiment`) and the adapters' image and sequence methods
(:func:`graphcl.adapters.pretrain`) alike: full batch or mini-batch,
gradient clipping, early stopping on the training loss, best-state
restore, progress."""
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module

__all__ = ['PretrainResult', 'EarlyStopping', 'Progress', 'pretrain']

#: Without a terminal, :class:`Progress` writes a line every this many
#: epochs, ...
PROGRESS_EVERY = 50
#: ... or when this many seconds have passed since its last line.
PROGRESS_SECONDS = 30.0


@dataclass
class PretrainResult:
    r"""What :func:`pretrain` did: epochs run, wall time of the loop (data
    loading and evaluation excluded), per-epoch losses, the best loss, and
    the mini-batches skipped for being smaller than ``min_batch_size``
    (all epochs together)."""
    epochs: int = 0
    seconds: float = 0.0
    losses: List[float] = field(default_factory=list)
    best_loss: float = float('inf')
    best_epoch: int = 0
    skipped_batches: int = 0

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

    def state_dict(self) -> Dict[str, Any]:
        r"""The stopping rule's state (best loss and epoch, epochs without
        improvement, the best parameters), for checkpoints."""
        return dict(best=self.best, best_epoch=self.best_epoch,
                    bad_epochs=self.bad_epochs, state=self._state)

    def load_state_dict(self, state: Dict[str, Any]):
        r"""Restores what :meth:`state_dict` returned."""
        self.best, self.best_epoch = state['best'], state['best_epoch']
        self.bad_epochs = state['bad_epochs']
        with torch.no_grad():
            for k, v in state['state'].items():
                self._state[k].copy_(v)


def _interactive(stream) -> bool:
    # A terminal, or a Jupyter kernel (where tqdm.auto draws a widget).
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    ipython = sys.modules.get('IPython')
    shell = ipython.get_ipython() if ipython is not None and hasattr(
        ipython, 'get_ipython') else None
    return shell is not None and hasattr(shell, 'kernel')


class Progress:
    r"""The progress of :func:`pretrain`, on :obj:`stream`.

    On a terminal (or in Jupyter) a tqdm bar counts epochs without a fixed
    total while early stopping may end training (the total is shown only
    when training runs to :obj:`epochs`), with the loss and the patience
    counter (epochs without a lower loss, of :obj:`patience`). Elsewhere
    (a log file, a pipe) it writes one line every :data:`PROGRESS_EVERY`
    epochs or :data:`PROGRESS_SECONDS` seconds, and one when training ends,
    instead of redrawn bar frames.

    Args:
        desc (str): What is trained (the bar's description, each line's
            start).
        epochs (int): Maximum number of epochs.
        patience (int): Early stopping's patience (``0``: off).
        first (int, optional): The first epoch (``> 1`` when resuming).
            (default: ``1``)
        stream (file, optional): Where to write. (default:
            :obj:`sys.stderr`)
        every (int, optional): Epochs between lines without a terminal.
            (default: :data:`PROGRESS_EVERY`)
    """
    def __init__(self, desc: str, epochs: int, patience: int,
                 first: int = 1, stream=None, every: int = PROGRESS_EVERY):
        self.desc, self.epochs, self.patience = desc, epochs, patience
        self.stream = sys.stderr if stream is None else stream
        self.every = every
        self.first = first
        self.epoch = first - 1
        self.bar = None
        self._start = self._last = time.monotonic()
        self._state = ''
        if _interactive(self.stream):
            from tqdm.auto import tqdm
            self.bar = tqdm(total=epochs if patience == 0 else None,
                            initial=first - 1, desc=desc, unit='epoch',
                            leave=False, dynamic_ncols=True, file=self.stream)

    def update(self, epoch: int, loss: float, stopper: 'EarlyStopping'):
        r"""Reports that :obj:`epoch` ended with :obj:`loss`."""
        self.epoch = epoch
        wait = (f'{stopper.bad_epochs}/{self.patience}' if self.patience
                else 'off')
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f'{loss:.4f}', patience=wait,
                                 refresh=False)
            return
        self._state = (f'loss {loss:.4g}, best {stopper.best:.4g} at epoch '
                       f'{stopper.best_epoch}, patience {wait}')
        now = time.monotonic()
        if epoch % self.every == 0 or now - self._last >= PROGRESS_SECONDS:
            self._line(f'epoch {epoch}' + (
                f'/{self.epochs}' if not self.patience else '') +
                f', {self._state}')
            self._last = now

    def _line(self, text: str):
        done = self.epoch - self.first + 1
        ms = 1000 * (time.monotonic() - self._start) / max(done, 1)
        print(f'{self.desc}: {text} ({ms:.1f} ms/epoch)', file=self.stream,
              flush=True)

    def close(self, stopped: bool = False):
        r"""Ends the bar, or writes the last line (why training ended)."""
        if self.bar is not None:
            self.bar.close()
            return
        if self.epoch < self.first:
            return
        why = (f'early stop: no lower loss for {self.patience} epochs'
               if stopped else f'the maximum of {self.epochs} epochs')
        self._line(f'ended at epoch {self.epoch} ({why}); {self._state}')


def pretrain(model: Module, objective: Callable[..., Tensor],
             optimizer: torch.optim.Optimizer, epochs: int,
             patience: int = 20,
             batches: Optional[Callable[[], Iterable]] = None,
             restore_best: bool = True, progress: Union[bool, str] = False,
             on_step: Optional[Callable[[], None]] = None,
             sync_loss: Optional[Callable[[float], float]] = None,
             grad_clip: Optional[float] = None,
             batch_size: Optional[Callable[[Any], int]] = None,
             min_batch_size: int = 1,
             resume: Optional[Dict[str, Any]] = None,
             on_epoch_end: Optional[Callable[[int, Callable[[], Dict[
                 str, Any]]], None]] = None) -> PretrainResult:
    r"""Minimises :obj:`objective` for at most :obj:`epochs` epochs.

    One step is :math:`\theta \leftarrow \mathrm{opt}(\theta,
    \nabla_\theta \mathcal{L})`, with the gradient rescaled to norm at
    most :obj:`grad_clip` when given. Full batch (no :obj:`batches`), the
    loss is judged, and the best state kept, *before* the update it was
    computed with, as in DGI's reference code; with mini-batches the epoch
    loss is the mean of its batches' losses, plain or weighted by
    :obj:`batch_size`,

    .. math::
        \mathcal{L}_{\mathrm{epoch}} = \frac{\sum_b n_b \mathcal{L}_b}
        {\sum_b n_b},

    and the state is judged after the epoch's updates. A NaN or infinite
    epoch loss raises :class:`FloatingPointError`.

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
            for one epoch (called once per epoch, so it can reshuffle).
        restore_best (bool, optional): Load the best state at the end.
            (default: ``True``)
        progress (bool or str, optional): Report progress on stderr (a
            string is used as its description): a tqdm bar counting epochs
            with the loss and the patience counter on a terminal, one line
            every few epochs elsewhere (:class:`Progress`).
            (default: ``False``)
        on_step (callable, optional): Called after every optimiser step
            (e.g. BGRL's moving-average target; hooks for DDP).
        sync_loss (callable, optional): Maps each epoch's loss to the value
            recorded and used for early stopping; with several processes
            pass :func:`graphcl.distributed.all_reduce_mean` so that all
            ranks see the same loss and stop at the same epoch.
        grad_clip (float, optional): Clip the gradient norm of the model's
            parameters to this value before every step
            (:func:`torch.nn.utils.clip_grad_norm_`); :obj:`None` does not
            clip. (default: :obj:`None`)
        batch_size (callable, optional): Number of examples of a
            mini-batch, ``batch_size(batch) -> int``: the epoch loss is
            then weighted by batch size and batches smaller than
            :obj:`min_batch_size` are skipped (counted in
            :obj:`PretrainResult.skipped_batches`), e.g. the short last
            batch of a contrastive method whose negatives are the other
            examples. Without it every batch counts once.
            (default: :obj:`None`)
        min_batch_size (int, optional): Smallest batch trained on; needs
            :obj:`batch_size`. (default: ``1``)
        resume (dict, optional): A state taken at the end of an epoch (see
            :obj:`on_epoch_end`): training continues from the next epoch
            with the model, optimizer, early-stopping, random states and
            losses it holds, and ends as the uninterrupted run would (same
            machine and thread count).
        on_epoch_end (callable, optional): Called as
            ``on_epoch_end(epoch, state)`` after every epoch's update, where
            ``state()`` returns the training state to save for
            :obj:`resume`; an exception it raises ends training (e.g. on
            a stop request).
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"'epochs' must be a positive integer, got {epochs}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"'grad_clip' must be a positive gradient norm (or "
                         f"None for no clipping), got {grad_clip}")
    if isinstance(min_batch_size, bool) or not isinstance(
            min_batch_size, int) or min_batch_size < 1:
        raise ValueError(f"'min_batch_size' must be a positive integer, got "
                         f"{min_batch_size}")
    if min_batch_size > 1 and batch_size is None:
        raise ValueError("'min_batch_size' needs 'batch_size' (a function "
                         "giving the size of a batch) to tell which "
                         "batches to skip")
    if batches is None and batch_size is not None:
        raise ValueError("'batch_size' applies to mini-batches; pass "
                         "'batches' as well, or drop it for full-batch "
                         "training")
    from .checkpoint import rng_state, set_rng_state
    stopper = EarlyStopping(model, patience)
    result = PretrainResult(epochs=0, seconds=0.0)
    first, seconds_before = 1, 0.0
    if resume is not None:
        model.load_state_dict(resume['model'])
        optimizer.load_state_dict(resume['optimizer'])
        stopper.load_state_dict(resume['stopper'])
        result.losses = [float(v) for v in resume['losses']]
        result.epochs = first = int(resume['epoch'])
        result.skipped_batches = int(resume.get('skipped_batches', 0))
        seconds_before = float(resume.get('seconds', 0.0))
        set_rng_state(model, resume['rng'])
        first += 1
    bar = None
    if progress:
        bar = Progress(progress if isinstance(progress, str) else 'pretrain',
                       epochs, patience, first=first)

    def forward_backward(*args) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = objective(*args)
        loss.backward()
        return loss.item()

    params = ([p for p in model.parameters() if p.requires_grad]
              if grad_clip is not None else [])

    def update():
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        if on_step is not None:
            on_step()

    def state() -> Dict[str, Any]:
        return dict(epoch=result.epochs, model=model.state_dict(),
                    optimizer=optimizer.state_dict(),
                    stopper=stopper.state_dict(), losses=result.losses,
                    skipped_batches=result.skipped_batches,
                    seconds=seconds_before + time.perf_counter() - start,
                    rng=rng_state(model))

    model.train()
    start = time.perf_counter()
    stop = False
    for epoch in range(first, epochs + 1):
        if batches is None:
            # As in DGI's reference code: the loss is judged, and the best
            # parameters kept, before the update they produced it with.
            loss = forward_backward()
        else:
            total, count, skipped = 0.0, 0, 0
            for batch in batches():
                size = 1 if batch_size is None else int(batch_size(batch))
                if size < min_batch_size:
                    skipped += 1
                    continue
                total += forward_backward(batch) * size
                update()
                count += size
            result.skipped_batches += skipped
            if count == 0:
                raise ValueError(
                    "The mini-batch loader yielded no batches" if not skipped
                    else f"Every batch of epoch {epoch} ({skipped}) was "
                    f"smaller than min_batch_size={min_batch_size}; use "
                    f"larger batches or more data")
            loss = total / count
        if sync_loss is not None:
            loss = sync_loss(loss)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The loss became {'NaN' if loss != loss else loss} at epoch "
                f"{epoch}; lower the learning rate, clip the gradients "
                f"(grad_clip) or check the input features")
        result.losses.append(loss)
        result.epochs = epoch
        stop = stopper.step(loss, epoch)
        if bar is not None:
            bar.update(epoch, loss, stopper)
        if stop:
            break
        if batches is None:
            update()
        if on_epoch_end is not None:
            on_epoch_end(epoch, state)
    result.seconds = seconds_before + time.perf_counter() - start
    if bar is not None:
        bar.close(stopped=stop)
    if restore_best:
        stopper.restore()
    result.best_loss, result.best_epoch = stopper.best, stopper.best_epoch
    model.eval()
    return result
