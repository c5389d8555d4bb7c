r"""Command line: ``graphcl adapters {simclr,dim,cpc} --data DATA``.

Also runnable on its own: ``python -m graphcl.adapters.cli simclr --data
digits --out runs/simclr``. ``--out DIR`` writes ``metrics.json`` (method,
dataset, seeds, probe accuracies beside the random-init and raw-input
baselines, configuration) and ``encoder.pt`` (weights of the first seed's
encoder).
"""
import argparse
import os
import sys
from typing import List, Optional

import torch

from .experiment import DEFAULTS, METHODS, run_experiment

__all__ = ['add_adapters_parser', 'build_parser', 'run', 'main']

DEFAULT_DATA = {'simclr': 'digits', 'dim': 'digits', 'cpc': 'mnist1d'}
HELP = {
    'simclr': 'SimCLR: NT-Xent between two augmentations of each example',
    'dim': 'Deep InfoMax: global vs. local feature mutual information',
    'cpc': 'Contrastive Predictive Coding: predict future latents of a '
           'sequence',
}


def _add_method_options(p: argparse.ArgumentParser, method: str):
    d = DEFAULTS[method]
    p.add_argument('--data', default=DEFAULT_DATA[method],
                   choices=['digits', 'mnist5k', 'mnist1d'],
                   help='dataset, all offline (default: %(default)s); '
                   'mnist5k and mnist1d need pip install graphcl[demos]')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='seeds, one pre-training each (default: 0 1 2)')
    p.add_argument('--epochs', type=int, default=d['epochs'],
                   help='pre-training epochs (default: %(default)s)')
    p.add_argument('--batch-size', type=int, default=d['batch_size'],
                   help='batch size (default: %(default)s)')
    p.add_argument('--lr', type=float, default=d['lr'],
                   help='Adam learning rate (default: %(default)s)')
    p.add_argument('--out', metavar='DIR', default=None,
                   help='write metrics.json and encoder.pt to DIR')
    p.add_argument('--threads', type=int, default=1,
                   help='torch CPU threads; 1 was fastest for these small '
                   'models on 2 cores (default: %(default)s)')
    p.add_argument('--device', default='cpu',
                   help='torch device, e.g. cpu or cuda (default: cpu)')
    p.add_argument('--no-progress', action='store_true',
                   help='hide the progress bar')
    if method == 'simclr':
        p.add_argument('--temperature', type=float, default=0.5,
                       help='NT-Xent temperature (default: %(default)s)')
    elif method == 'dim':
        p.add_argument('--estimator', default='jsd',
                       choices=['jsd', 'infonce', 'dv'],
                       help='mutual-information estimator (default: '
                       '%(default)s)')
    else:
        p.add_argument('--steps', type=int, default=4,
                       help='prediction steps K (default: %(default)s)')
        p.add_argument('--negatives', default='batch',
                       choices=['batch', 'batch+time'],
                       help='where negatives come from (default: '
                       '%(default)s)')
    p.set_defaults(func=run, method=method)


def _add_methods(parser: argparse.ArgumentParser):
    sub = parser.add_subparsers(dest='method', metavar='METHOD')
    sub.required = True
    for m in METHODS:
        _add_method_options(sub.add_parser(m, help=HELP[m],
                                           description=HELP[m]), m)


def add_adapters_parser(subparsers) -> argparse.ArgumentParser:
    r"""Adds the ``adapters`` sub-command (``simclr``, ``dim``, ``cpc``) to
    an :mod:`argparse` sub-parser collection; the parsed arguments carry
    ``func=run``."""
    p = subparsers.add_parser(
        'adapters', help='SimCLR, DIM and CPC on images and sequences',
        description='Pre-train SimCLR, Deep InfoMax or CPC on image or '
        'sequence data and probe the frozen encoder beside its baselines.')
    _add_methods(p)
    return p


def build_parser() -> argparse.ArgumentParser:
    r"""Stand-alone parser of ``python -m graphcl.adapters.cli``."""
    p = argparse.ArgumentParser(
        prog='python -m graphcl.adapters.cli',
        description='Pre-train SimCLR, Deep InfoMax or CPC and probe it.')
    _add_methods(p)
    return p


def _method_kwargs(args: argparse.Namespace) -> dict:
    if args.method == 'simclr':
        return {'temperature': args.temperature}
    if args.method == 'dim':
        return {'estimator': args.estimator}
    return {'steps': args.steps, 'negatives': args.negatives}


def _table(metrics: dict) -> str:
    rows = [f"{metrics['method']} on {metrics['dataset']}, seeds "
            f"{metrics['seeds']} (accuracy %, mean ± std, "
            f"{metrics['config']['std']}):",
            f"{'model':<12} {'linear-all':>13} {'linear-few':>13} "
            f"{'knn':>13}"]
    for model, probes in metrics['probe'].items():
        cells = [f"{probes[p]['mean']:6.1f} ± {probes[p]['std']:4.1f}"
                 for p in ('linear_all', 'linear_few', 'knn')]
        rows.append(f'{model:<12} ' + ' '.join(f'{c:>13}' for c in cells))
    return '\n'.join(rows)


def run(args: argparse.Namespace) -> int:
    r"""Runs one ``graphcl adapters METHOD`` command; returns the exit
    status."""
    from .data import load_dataset
    if args.threads is not None and args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.method == 'cpc' and args.data != 'mnist1d':
        print(f"error: CPC needs sequence data; '{args.data}' holds "
              f"images, use --data mnist1d", file=sys.stderr)
        return 2
    if args.epochs < 1 or args.batch_size < 2:
        print('error: --epochs must be >= 1 and --batch-size >= 2',
              file=sys.stderr)
        return 2
    if args.out:
        os.makedirs(args.out, exist_ok=True)  # fail now, not after training
    try:
        data = load_dataset(args.data)
    except ImportError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    metrics, _ = run_experiment(
        args.method, data, args.seeds, args.epochs, args.batch_size, args.lr,
        args.device, not args.no_progress, _method_kwargs(args),
        out=args.out, config={k: v for k, v in vars(args).items()
                              if k != 'func'})
    print(_table(metrics))
    if args.out:
        print(f'wrote {args.out}/metrics.json and {args.out}/encoder.pt')
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
