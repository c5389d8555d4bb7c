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


def _add_train_parser(subparsers):
    from .models import METHODS
    p = subparsers.add_parser(
        'train', help='pretrain a method and evaluate it with a linear probe',
        description='Pretrain a self-supervised method over several seeds '
        'and report the linear-probe test accuracy (mean ± std over seeds).')
    p.add_argument('method', help=f"method name ({', '.join(sorted(METHODS))})")
    p.add_argument('--dataset', required=True,
                   help="dataset name (Cora, CiteSeer, PubMed, Photo, "
                   "Computers, CS, Physics, ogbn-arxiv, ...) or a saved "
                   "PyG Data file (.pt)")
    p.add_argument('--root', default=None,
                   help='data root (default: $GRAPHCL_DATA, then ./datasets)')
    p.add_argument('--seeds', type=int, default=1,
                   help='number of pretraining seeds (default: 1)')
    p.add_argument('--epochs', type=int, default=1000,
                   help='maximum number of epochs (default: 1000)')
    p.add_argument('--patience', type=int, default=20,
                   help='early stopping on the training loss; 0 turns it off '
                   '(default: 20)')
    p.add_argument('--hidden', type=int, default=512,
                   help='embedding width (default: 512)')
    p.add_argument('--layers', type=int, default=None,
                   help='number of encoder layers (default: 1; with '
                   '--batch-size, one per fan-out)')
    p.add_argument('--encoder', default=None,
                   help='gcn, sage, gat or gin (default: gcn; with '
                   '--batch-size, sage)')
    p.add_argument('--corruption', default='shuffle',
                   help="corruption name(s), comma-separated "
                   "(default: shuffle)")
    p.add_argument('--loss', default='jsd',
                   help='jsd, infonce, triplet or dv (default: jsd)')
    p.add_argument('--disc-init', default=None, choices=['xavier', 'pyg'],
                   help="initialisation of DGI's bilinear critic: as DGI's "
                   "reference code (xavier) or as PyG (pyg) (default: "
                   "xavier)")
    p.add_argument('--lr', type=float, default=1e-3,
                   help='Adam learning rate (default: 0.001)')
    p.add_argument('--weight-decay', type=float, default=0.0)
    p.add_argument('--no-normalize', action='store_true',
                   help='do not row-normalise the input features')
    p.add_argument('--probe-selection', default='per-seed',
                   choices=['per-seed', 'pooled'],
                   help="how the linear probe's weight decay is chosen on "
                   "the validation split: each seed's own best (per-seed), "
                   "or one for all seeds, on the validation accuracy "
                   "averaged over them (pooled) (default: per-seed)")
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--out', default=None,
                   help='write metrics.json, embeddings.pt, encoder.pt here')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    g = p.add_argument_group(
        'mini-batch and multi-process training (large graphs)')
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
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:
    from .distributed import cleanup_distributed
    from .experiment import run_experiment
    options = dict(hidden=args.hidden, corruption=args.corruption,
                   loss=args.loss)
    for key in ('layers', 'encoder', 'disc_init'):  # unset: the default
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    try:
        metrics = run_experiment(
            args.method, args.dataset, seeds=args.seeds, epochs=args.epochs,
            patience=args.patience, lr=args.lr,
            weight_decay=args.weight_decay, device=args.device,
            root=args.root, out=args.out,
            normalize_features=not args.no_normalize,
            progress=not args.quiet, batch_size=args.batch_size,
            fanout=args.fanout, num_workers=args.num_workers,
            distributed=args.distributed, nproc=args.nproc,
            inference_batch_size=args.inference_batch_size,
            probe_selection=args.probe_selection, **options)
    finally:
        cleanup_distributed()
    if metrics is None:  # not rank 0 of a distributed run
        return 0
    n = len(metrics['seeds'])
    print(f"{metrics['method']} on {metrics['dataset']}: test accuracy "
          f"{metrics['test_acc_mean']:.2f} ± {metrics['test_acc_std']:.2f} "
          f"% over {n} seed{'s' if n > 1 else ''} "
          f"({1000 * metrics['seconds_per_epoch']:.1f} ms/epoch)")
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
    except (ValueError, FileNotFoundError) as e:
        print(f'graphcl: error: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
