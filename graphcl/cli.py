r"""The ``graphcl`` command.

.. code-block:: bash

    graphcl train dgi --dataset Cora --seeds 10 --out runs/cora
    graphcl train dgi --dataset ogbn-arxiv --batch-size 1024 --fanout 10,10,25
    torchrun --nproc_per_node 2 -m graphcl.cli train dgi \
        --dataset ogbn-arxiv --batch-size 1024 --distributed
    graphcl datasets
    graphcl adapters simclr --data digits
"""
import argparse
import sys
from typing import List, Optional

__all__ = ['main', 'build_parser']


def _option_type(value):
    # The argparse type of a method option, from its default.
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return type(value)
    return str


def _add_method_options(p: argparse.ArgumentParser, spec) -> List[str]:
    # The method's own options, from its registered defaults; argparse
    # defaults stay None so that the method's dataset presets apply.
    g = p.add_argument_group(f'{spec.name} options',
                             f'defaults from {spec.source}' if spec.source
                             else None)
    names = []
    for name, default in spec.defaults.items():
        flag = '--' + name.replace('_', '-')
        text = spec.help.get(name, '')
        text = f'{text} (default: {default})' if text else \
            f'(default: {default})'
        if isinstance(default, bool):
            g.add_argument(flag, dest=name, default=None,
                           action=argparse.BooleanOptionalAction, help=text)
        else:
            g.add_argument(flag, dest=name, default=None,
                           type=_option_type(default), help=text)
        names.append(name)
    return names


def _add_train_options(p: argparse.ArgumentParser, spec):
    train = spec.train_defaults
    p.add_argument('--dataset', required=True,
                   help="dataset name (Cora, CiteSeer, PubMed, Photo, "
                   "Computers, CS, Physics, ogbn-arxiv, ...) or a saved "
                   "PyG Data file (.pt)")
    p.add_argument('--root', default=None,
                   help='data root (default: $GRAPHCL_DATA, then ./datasets)')
    p.add_argument('--seeds', type=int, default=1,
                   help='number of pretraining seeds (default: 1)')
    p.add_argument('--epochs', type=int, default=None,
                   help=f"maximum number of epochs (default: "
                   f"{train['epochs']}, or the dataset's preset)")
    p.add_argument('--patience', type=int, default=None,
                   help=f"early stopping on the training loss; 0 turns it "
                   f"off (default: {train['patience']})")
    p.add_argument('--lr', type=float, default=None,
                   help=f"Adam learning rate (default: {train['lr']})")
    p.add_argument('--weight-decay', type=float, default=None,
                   help=f"Adam weight decay (default: "
                   f"{train['weight_decay']})")
    p.add_argument('--no-normalize', action='store_true',
                   help='do not row-normalise the input features')
    p.add_argument('--no-probe', action='store_true',
                   help='pretrain only: skip the linear probe (graphs '
                   'without labels skip it anyway); the encoder and '
                   'embeddings are written with --out')
    p.add_argument('--probe-selection', default='per-seed',
                   choices=['per-seed', 'pooled'],
                   help="how the linear probe's weight decay is chosen on "
                   "the validation split: each seed's own best (per-seed), "
                   "or one for all seeds, on the validation accuracy "
                   "averaged over them (pooled) (default: per-seed)")
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--threads', type=int, default=None,
                   help="PyTorch CPU threads (default: PyTorch's own; on a "
                   "busy or shared machine use 1)")
    p.add_argument('--no-malloc-tuning', action='store_true',
                   help="leave glibc's allocator settings alone (by default "
                   "graphcl train keeps freed activation buffers in the "
                   "heap: graphcl.perf.tune_cpu_allocator)")
    p.add_argument('--out', default=None,
                   help='run folder: metrics.json, embeddings.pt, '
                   'encoder.pt, run.json (status and config), seeds/ and '
                   'checkpoint.pt')
    p.add_argument('--resume', action='store_true',
                   help='continue the run in --out (same options): '
                   'finished seeds are kept, the seed in progress continues '
                   'from its checkpoint')
    p.add_argument('--overwrite', action='store_true',
                   help='replace the run that --out holds')
    p.add_argument('--checkpoint-every', type=int, default=None,
                   metavar='EPOCHS',
                   help='write the checkpoint every EPOCHS epochs (default: '
                   'every 30 s, and at the end of each seed)')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    # Shown for every method, so that a method without a mini-batch
    # objective answers --batch-size with a clear error, not 'unrecognized'.
    g = p.add_argument_group(
        'mini-batch and multi-process training (large graphs)' +
        ('' if spec.minibatch else f'; {spec.name} trains full batch only'))
    g.add_argument('--batch-size', type=int, default=None,
                   help='train on mini-batches of this many seed nodes with '
                   'sampled neighbourhoods and embed by layer-wise inference '
                   '(default: full batch)')
    g.add_argument('--fanout', default=None,
                   help='neighbours sampled per hop, one per layer, e.g. '
                   '10,10,25 (-1: all); needs --batch-size (default: '
                   '10,10,25, or 10 per --layers)')
    g.add_argument('--num-workers', type=int, default=0,
                   help='DataLoader worker processes for sampling '
                   '(default: 0)')
    g.add_argument('--inference-batch-size', type=int, default=4096,
                   help='nodes per chunk of the layer-wise inference '
                   '(default: 4096)')
    g.add_argument('--distributed', action='store_true',
                   help='DistributedDataParallel over the processes started '
                   'by torchrun (gloo on CPU, nccl on CUDA); implied under '
                   'torchrun with several processes')
    g.add_argument('--nproc', type=int, default=None,
                   help='processes per machine you expect; graphcl does not '
                   'spawn them: without torchrun this fails with the '
                   "torchrun command to use (under torchrun, use torchrun's "
                   '--nproc_per_node instead)')


def _add_train_parser(subparsers):
    from .models import get_method, list_methods
    p = subparsers.add_parser(
        'train', help='pretrain a method and evaluate it with a linear probe',
        description='Pretrain a self-supervised method over several seeds '
        'and report the linear-probe test accuracy (mean ± std over seeds). '
        '`graphcl train METHOD --help` lists the method\'s own options.')
    methods = p.add_subparsers(dest='method', metavar='METHOD')
    methods.required = True
    for name in list_methods():
        spec = get_method(name)
        m = methods.add_parser(
            name, help=spec.description or name,
            description=f"Pretrain {spec.description or name} and evaluate "
            f"it with a linear probe. Options left unset take the method's "
            f"preset for the dataset, then its defaults.")
        _add_train_options(m, spec)
        m.set_defaults(func=_run_train, option_names=_add_method_options(
            m, spec))


def _run_train(args) -> int:
    from .distributed import cleanup_distributed
    from .experiment import run_experiment
    from .perf import set_threads, tune_cpu_allocator
    from .signals import RunInterrupted
    set_threads(args.threads)
    if args.device == 'cpu' and not args.no_malloc_tuning:
        tune_cpu_allocator()
    options = {name: getattr(args, name) for name in args.option_names
               if getattr(args, name) is not None}
    minibatch = {key: getattr(args, key) for key in (
        'batch_size', 'fanout', 'num_workers', 'inference_batch_size',
        'distributed', 'nproc') if hasattr(args, key)}
    try:
        metrics = run_experiment(
            args.method, args.dataset, seeds=args.seeds, epochs=args.epochs,
            patience=args.patience, lr=args.lr,
            weight_decay=args.weight_decay, device=args.device,
            root=args.root, out=args.out,
            normalize_features=not args.no_normalize,
            progress=not args.quiet, probe=not args.no_probe,
            resume=args.resume,
            overwrite=args.overwrite, checkpoint_every=args.checkpoint_every,
            probe_selection=args.probe_selection, **minibatch, **options)
    except RunInterrupted as e:
        how = ("resume with the same command and --resume" if e.saved
               else "nothing was saved (no --out)")
        print(f"graphcl: {e}; {how}", file=sys.stderr)
        return e.exit_code
    finally:
        cleanup_distributed()
    if metrics is None:  # not rank 0 of a distributed run
        return 0
    n = len(metrics['seeds'])
    seeds = f"{n} seed{'s' if n > 1 else ''}"
    speed = f"{1000 * metrics['seconds_per_epoch']:.1f} ms/epoch"
    if metrics['test_acc_mean'] is None:
        print(f"{metrics['method']} on {metrics['dataset']}: pretrained "
              f"{seeds} ({speed}); no probe")
    else:
        print(f"{metrics['method']} on {metrics['dataset']}: test accuracy "
              f"{metrics['test_acc_mean']:.2f} ± "
              f"{metrics['test_acc_std']:.2f} % over {seeds} ({speed})")
    if args.out:
        print(f"wrote {args.out}/metrics.json")
    return 0


def _add_datasets_parser(subparsers):
    p = subparsers.add_parser('datasets', help='list the known datasets')
    p.set_defaults(func=_run_datasets)


def _run_datasets(args) -> int:
    from .data import list_datasets
    for name, desc in list_datasets().items():
        print(f'{name:20s} {desc}')
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='graphcl', description='Graph self-supervised learning for '
        'PyTorch Geometric.')
    subparsers = parser.add_subparsers(dest='command', required=True)
    _add_train_parser(subparsers)
    _add_datasets_parser(subparsers)
    try:
        from .adapters.cli import add_adapters_parser
    except ImportError:  # adapters missing from a partial install
        pass
    else:
        add_adapters_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as e:
        print(f'graphcl: error: {e}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C: stopped at once
        print('graphcl: stopped by a second interrupt; the last periodic '
              'checkpoint (if any) is kept: resume with --resume',
              file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
