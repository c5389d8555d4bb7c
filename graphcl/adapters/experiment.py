r"""Pre-train a method over several seeds and probe it beside its two
baselines (the same encoder randomly initialised, and the raw input). Used
by the command line and by ``benchmarks/adapters.py``.

The seed loop, the device check, the statistics (mean and population
standard deviation across seeds, :mod:`graphcl.stats`) and
``metrics.json`` are the engine's (:mod:`graphcl.runner`), as for the graph
methods; training is :func:`graphcl.train.pretrain` through
:func:`graphcl.adapters.pretrain`."""
import copy
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from ..runner import resolve_device, run_seeds, seed_list, write_metrics
from ..stats import STD_CONVENTION, summarize
from .augment import default_augmentation
from .base import SelfSupervisedMethod
from .cpc import CPC
from .data import Splits
from .dim import DeepInfoMax
from .encoders import default_encoder
from .probe import PROBES, embed, probe_all
from .simclr import SimCLR
from .train import pretrain

__all__ = ['METHODS', 'DEFAULTS', 'build_method', 'run_experiment',
           'summarize']

METHODS = ('simclr', 'dim', 'cpc')

#: Training defaults per method (chosen on these 2-core machines so that 3
#: seeds of a benchmark take about 2 minutes).
DEFAULTS: Dict[str, Dict[str, Any]] = {
    'simclr': dict(epochs=100, batch_size=256, lr=2e-3),
    'dim': dict(epochs=30, batch_size=128, lr=1e-3),
    'cpc': dict(epochs=20, batch_size=128, lr=2e-3),
}

#: The encoders probed: pre-trained, the same before training, raw input.
MODELS = ('trained', 'random_init', 'raw')


def build_method(method: str, x: Tensor,
                 encoder: Optional[torch.nn.Module] = None,
                 **kwargs) -> SelfSupervisedMethod:
    r"""Builds ``'simclr'``, ``'dim'`` or ``'cpc'`` with the default encoder
    (and, for SimCLR, augmentation) for a batch :obj:`x`; keyword arguments
    go to the method's constructor."""
    if method not in METHODS:
        raise ValueError(f"Unknown method '{method}'; choose one of "
                         f"{METHODS}")
    encoder = encoder if encoder is not None else default_encoder(x, method)
    if method == 'simclr':
        kwargs.setdefault('augment', default_augmentation(x))
        return SimCLR(encoder, **kwargs)
    if method == 'dim':
        return DeepInfoMax(encoder, **kwargs)
    return CPC(encoder, **kwargs)


def _probe(fn, data: Splits, seed: int, device) -> Dict[str, float]:
    tr = embed(fn, data.x_train, device=device)
    te = embed(fn, data.x_test, device=device)
    return probe_all(tr, data.y_train.numpy(), te, data.y_test.numpy(),
                     data.few_per_class, seed)


def _jsonable(value: Any) -> Any:
    # Method options as written to metrics.json (objects by their repr).
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _frozen(encoder: torch.nn.Module):
    encoder.eval()
    return encoder


def run_experiment(method: str, data: Splits,
                   seeds: Union[int, Sequence[int]] = (0, ),
                   epochs: Optional[int] = None,
                   batch_size: Optional[int] = None,
                   lr: Optional[float] = None, device: str = 'cpu',
                   progress: bool = True,
                   method_kwargs: Optional[Dict[str, Any]] = None, *,
                   out: Optional[Union[str, Path]] = None,
                   config: Optional[Dict[str, Any]] = None
                   ) -> Tuple[Dict[str, Any], List[torch.nn.Module]]:
    r"""Pre-trains :obj:`method` on ``data.x_train`` once per seed and probes
    the trained encoder, the same encoder before training (random init) and
    the raw input.

    Args:
        method (str): ``'simclr'``, ``'dim'`` or ``'cpc'``.
        data (Splits): Train/test examples and labels.
        seeds (int or list of int): Number of seeds (``0..n-1``) or the
            seeds themselves. (default: ``(0,)``)
        epochs, batch_size, lr (optional): Training settings; :obj:`None`
            takes the method's :data:`DEFAULTS`.
        device (str): ``'cpu'`` or ``'cuda'``.
        progress (bool): Show a progress bar per seed.
        method_kwargs (dict, optional): Options of the method's constructor.
        out (str, optional): Folder for ``metrics.json`` and ``encoder.pt``
            (the first seed's trained encoder).
        config (dict, optional): Extra entries recorded in
            ``metrics['config']`` (the command line's arguments).

    Returns:
        ``(metrics, encoders)``: ``metrics`` holds ``probe[model][probe]``
        summaries (``{'per_seed', 'mean', 'std'}``,
        :func:`graphcl.stats.summarize`: mean and population std across
        seeds, stated in ``config['std']``) for models ``'trained'``,
        ``'random_init'`` and ``'raw'`` and probes ``'linear_all'``,
        ``'linear_few'``, ``'knn'``; ``encoders`` the trained encoders.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method '{method}'; choose one of "
                         f"{METHODS}")
    cfg = dict(DEFAULTS[method])
    for key, value in (('epochs', epochs), ('batch_size', batch_size),
                       ('lr', lr)):
        if value is not None:
            cfg[key] = value
    seeds = seed_list(seeds)
    device = resolve_device(device)
    method_kwargs = dict(method_kwargs or {})

    def run_one(seed: int) -> Dict[str, Any]:
        model = build_method(method, data.x_train[:2], **method_kwargs)
        model.check_input(data.x_train[:cfg['batch_size']])
        random_encoder = copy.deepcopy(model.encoder).to(device)
        result = pretrain(model, data.x_train, cfg['epochs'],
                          cfg['batch_size'], cfg['lr'], seed=seed,
                          device=device, progress=progress,
                          desc=f'{method} {data.name} seed {seed}')
        scores = {
            'trained': _probe(model.embed, data, seed, device),
            'random_init': _probe(_frozen(random_encoder), data, seed,
                                  device),
            'raw': _probe(lambda x: x.flatten(1), data, seed, None),
        }
        return {'seed': seed, 'pretrain_seconds': result.seconds,
                'final_loss': result.losses[-1], 'losses': result.losses,
                'skipped_batches': result.skipped_batches,
                'scores': scores, 'encoder': model.encoder.cpu()}

    runs = run_seeds(seeds, run_one)
    encoders = [r.pop('encoder') for r in runs]
    scores = [r.pop('scores') for r in runs]
    metrics = {
        'method': method,
        'dataset': data.name,
        'seeds': seeds,
        'epochs': cfg['epochs'],
        'pretrain_seconds': sum(r['pretrain_seconds'] for r in runs),
        'few_per_class': data.few_per_class,
        'probe': {m: {p: summarize([s[m][p] for s in scores])
                      for p in PROBES} for m in MODELS},
        'runs': runs,
        'config': {**(config or {}), 'method': method, 'seeds': seeds,
                   **cfg, 'device': str(device),
                   'method_kwargs': {k: _jsonable(v)
                                     for k, v in method_kwargs.items()},
                   'std': STD_CONVENTION},
    }
    if out is not None:
        write_metrics(metrics, out)
        torch.save(encoders[0].state_dict(), Path(out) / 'encoder.pt')
    return metrics, encoders
