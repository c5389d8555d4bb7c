r"""Pre-training of an adapter method (SimCLR, DIM, CPC, or any
:class:`~graphcl.adapters.base.SelfSupervisedMethod`) with graphcl's one
training loop, :func:`graphcl.train.pretrain`: this module only turns the
adapters' data into shuffled mini-batches and checks them first."""
from typing import Optional, Union

import torch

from ..train import PretrainResult
from ..train import pretrain as train_loop
from .base import SelfSupervisedMethod
from .data import DataLike, as_loader, batch_input

__all__ = ['PretrainResult', 'pretrain']


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
             progress: bool = True, desc: Optional[str] = None,
             patience: int = 0, restore_best: bool = False
             ) -> PretrainResult:
    r"""Pre-trains :obj:`model` with Adam on shuffled mini-batches of
    :obj:`data`, through :func:`graphcl.train.pretrain`.

    Input problems (rank, too short sequences, batches of one) are detected
    on the first batch, before any update. Batches smaller than
    ``model.min_batch_size`` (a short last batch) are skipped and counted
    in :obj:`PretrainResult.skipped_batches`; the epoch loss is the mean
    over examples. Every batch draws its augmentations from one generator
    seeded with :obj:`seed`, which also seeds the shuffling.

    The losses of these methods are noisy (fresh augmentations and
    batches every epoch), so by default all epochs run and the final state
    is kept; :obj:`patience` and :obj:`restore_best` turn on early stopping
    and the best-state restore of the loop.

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
        desc (str, optional): Progress bar label. (default: ``None``, the
            method's class name)
        patience (int, optional): Early stopping on the epoch loss
            (``0``: off). (default: ``0``)
        restore_best (bool, optional): Load the state of the best epoch at
            the end. (default: ``False``)
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
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

    def batches():
        return (batch_input(b).to(device) for b in loader)

    return train_loop(
        model, lambda x: model.loss(x, gen), opt, epochs, patience=patience,
        batches=batches, restore_best=restore_best,
        progress=(desc or type(model).__name__) if progress else False,
        grad_clip=grad_clip, batch_size=lambda x: x.size(0),
        min_batch_size=need)
