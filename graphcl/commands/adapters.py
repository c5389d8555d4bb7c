r"""``graphcl adapters {simclr,dim,cpc}``: SimCLR, Deep InfoMax and CPC on
images and sequences (:mod:`graphcl.adapters`), with the options every
``graphcl`` sub-command shares.

Also runnable on its own: ``python -m graphcl.adapters.cli simclr --data
digits --out runs/simclr``. ``--out DIR`` writes ``metrics.json`` (method,
dataset, seeds, probe accuracies beside the random-init and raw-input
baselines, configuration) and ``encoder.pt`` (weights of the first seed's
encoder)."""
import argparse
import os
import sys

from .common import (add_common, add_out, add_seeds, apply_threads,
                     GraphclParser, populate_all)

__all__ = ['add_parser', 'build_parser', 'run', 'METHODS']

#: The adapters' methods with one line each (``graphcl adapters --help``).
HELP = {
    'simclr': 'SimCLR: NT-Xent between two augmentations of each example',
    'dim': 'Deep InfoMax: global vs. local feature mutual information',
    'cpc': 'Contrastive Predictive Coding: predict future latents of a '
           'sequence',
}
METHODS = tuple(HELP)
DEFAULT_DATA = {'simclr': 'digits', 'dim': 'digits', 'cpc': 'mnist1d'}


class _Deprecated(argparse.Action):
    # --no-progress: the old name of --quiet, hidden from --help.
    def __init__(self, option_strings, dest, new: str = '', **kwargs):
        self.new = new
        super().__init__(option_strings, dest, nargs=0,
                         default=argparse.SUPPRESS,
                         help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"graphcl: warning: {option_string} is deprecated; use "
              f"{self.new}", file=sys.stderr)
        setattr(namespace, self.dest, True)


def _populate(method: str):
    def populate(p: argparse.ArgumentParser):
        from ..adapters.experiment import DEFAULTS
        d = DEFAULTS[method]
        p.add_argument('--data', default=DEFAULT_DATA[method],
                       choices=['digits', 'mnist5k', 'mnist1d'],
                       help='dataset, all offline (default: %(default)s); '
                       'mnist5k and mnist1d need pip install graphcl[demos]')
        add_seeds(p, help='seeds, one pretraining each')
        p.add_argument('--epochs', type=int, default=d['epochs'],
                       help='pretraining epochs (default: %(default)s)')
        p.add_argument('--batch-size', type=int, default=d['batch_size'],
                       help='batch size (default: %(default)s)')
        p.add_argument('--lr', type=float, default=d['lr'],
                       help='Adam learning rate (default: %(default)s)')
        add_out(p, 'write metrics.json and encoder.pt to DIR')
        add_common(p)
        p.add_argument('--no-progress', dest='quiet', action=_Deprecated,
                       new='--quiet')
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
    return populate


def _add_methods(parser: argparse.ArgumentParser):
    from .common import LazySubParsers
    sub = parser.add_subparsers(dest='method', metavar='METHOD',
                                action=LazySubParsers,
                                parser_class=GraphclParser)
    sub.required = True
    for m in METHODS:
        sub.add_lazy_parser(m, _populate(m), help=HELP[m],
                            description=HELP[m])


def add_parser(subparsers) -> argparse.ArgumentParser:
    r"""Adds the ``adapters`` sub-command (``simclr``, ``dim``, ``cpc``) to
    an :mod:`argparse` sub-parser collection; the parsed arguments carry
    ``func=run``."""
    p = subparsers.add_parser(
        'adapters', help='SimCLR, DIM and CPC on images and sequences',
        description='Pretrain SimCLR, Deep InfoMax or CPC on image or '
        'sequence data and probe the frozen encoder beside its baselines.')
    _add_methods(p)
    return p


def build_parser(lazy: bool = True) -> argparse.ArgumentParser:
    r"""Stand-alone parser of ``python -m graphcl.adapters.cli``."""
    p = GraphclParser(
        prog='python -m graphcl.adapters.cli',
        description='Pretrain SimCLR, Deep InfoMax or CPC and probe it.')
    _add_methods(p)
    if not lazy:
        populate_all(p)
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
    if args.method == 'cpc' and args.data != 'mnist1d':
        print(f"graphcl: error: CPC needs sequence data; '{args.data}' "
              f"holds images, use --data mnist1d", file=sys.stderr)
        return 2
    if args.epochs < 1 or args.batch_size < 2:
        print('graphcl: error: --epochs must be >= 1 and --batch-size >= 2',
              file=sys.stderr)
        return 2
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            print("graphcl: error: --device cuda was asked for but CUDA is "
                  "not available here; use --device cpu", file=sys.stderr)
            return 2
    apply_threads(args)
    if args.out:
        os.makedirs(args.out, exist_ok=True)  # fail now, not after training
    from ..adapters.data import load_dataset
    from ..adapters.experiment import run_experiment
    try:
        data = load_dataset(args.data)
    except ImportError as e:
        print(f'graphcl: error: {e}', file=sys.stderr)
        return 2
    import torch
    config = {k: v for k, v in vars(args).items() if k != 'func'}
    config['threads'] = torch.get_num_threads()  # the number in use
    metrics, _ = run_experiment(
        args.method, data, args.seeds, args.epochs, args.batch_size, args.lr,
        args.device, not args.quiet, _method_kwargs(args), out=args.out,
        config=config)
    print(_table(metrics))
    if args.out:
        print(f'wrote {args.out}/metrics.json and {args.out}/encoder.pt')
    return 0
