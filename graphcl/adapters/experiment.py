r"""Pre-train a method over several seeds and probe it beside its two
baselines (the same encoder randomly initialised, and the raw input). Used
by the command line and by ``benchmarks/adapters.py``."""
import copy
import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

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


def summarize(values: Sequence[float]) -> Dict[str, Any]:
    r"""``{'per_seed': [...], 'mean': m, 'std': s}`` (sample std, 0 for one
    value)."""
    values = [float(v) for v in values]
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {'per_seed': values, 'mean': statistics.fmean(values), 'std': std}


def _probe(fn, data: Splits, seed: int, device) -> Dict[str, float]:
    tr = embed(fn, data.x_train, device=device)
    te = embed(fn, data.x_test, device=device)
    return probe_all(tr, data.y_train.numpy(), te, data.y_test.numpy(),
                     data.few_per_class, seed)


def _frozen(encoder: torch.nn.Module):
    encoder.eval()
    return encoder


def run_experiment(method: str, data: Splits, seeds: Sequence[int] = (0, ),
                   epochs: Optional[int] = None,
                   batch_size: Optional[int] = None,
                   lr: Optional[float] = None, device: str = 'cpu',
                   progress: bool = True,
                   method_kwargs: Optional[Dict[str, Any]] = None
                   ) -> Tuple[Dict[str, Any], List[torch.nn.Module]]:
    r"""Pre-trains :obj:`method` on ``data.x_train`` once per seed and probes
    the trained encoder, the same encoder before training (random init) and
    the raw input.

    Returns:
        ``(metrics, encoders)``: ``metrics`` holds ``probe[model][probe]``
        summaries (see :func:`summarize`) for models ``'trained'``,
        ``'random_init'`` and ``'raw'`` and probes ``'linear_all'``,
        ``'linear_few'``, ``'knn'``; ``encoders`` the trained encoders.
    """
    cfg = dict(DEFAULTS[method])
    for key, value in (('epochs', epochs), ('batch_size', batch_size),
                       ('lr', lr)):
        if value is not None:
            cfg[key] = value
    device = torch.device(device)
    scores = {m: {p: [] for p in PROBES}
              for m in ('trained', 'random_init', 'raw')}
    encoders, runs = [], []
    for seed in seeds:
        torch.manual_seed(seed)
        model = build_method(method, data.x_train[:2],
                             **(method_kwargs or {}))
        model.check_input(data.x_train[:cfg['batch_size']])
        random_encoder = copy.deepcopy(model.encoder).to(device)
        result = pretrain(model, data.x_train, cfg['epochs'],
                          cfg['batch_size'], cfg['lr'], seed=seed,
                          device=device, progress=progress,
                          desc=f'{method} {data.name} seed {seed}')
        results = {
            'trained': _probe(model.embed, data, seed, device),
            'random_init': _probe(_frozen(random_encoder), data, seed,
                                  device),
            'raw': _probe(lambda x: x.flatten(1), data, seed, None),
        }
        for m, accs in results.items():
            for p, acc in accs.items():
                scores[m][p].append(acc)
        runs.append({'seed': seed, 'pretrain_seconds': result.seconds,
                     'final_loss': result.losses[-1],
                     'losses': result.losses})
        encoders.append(model.encoder.cpu())
    metrics = {
        'method': method,
        'dataset': data.name,
        'seeds': list(seeds),
        'epochs': cfg['epochs'],
        'pretrain_seconds': sum(r['pretrain_seconds'] for r in runs),
        'few_per_class': data.few_per_class,
        'probe': {m: {p: summarize(v) for p, v in d.items()}
                  for m, d in scores.items()},
        'runs': runs,
    }
    return metrics, encoders
