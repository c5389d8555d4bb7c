r"""``graphcl train METHOD``: pretrain a registered method over seeds and
evaluate it with the linear probe (:func:`graphcl.run_experiment`).

The method sub-commands are populated when used: ``graphcl train --help``
lists the methods without importing them, and ``graphcl train dgi`` imports
DGI's registration alone."""
import argparse
import sys
from typing import List

from .common import (add_common, add_out, add_seeds, apply_threads,
                     check_dataset_name)

__all__ = ['add_parser', 'run']


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
                   "Computers, CS, Physics, ogbn-arxiv, ...; see graphcl "
                   "datasets) or a saved PyG Data file (.pt)")
    p.add_argument('--root', default=None,
                   help='data root (default: $GRAPHCL_DATA, then ./datasets)')
    add_seeds(p)
    p.add_argument('--epochs', type=int, default=None,
                   help=f"maximum number of epochs (default: "
                   f"{train['epochs']}, or the dataset's preset)")
    p.add_argument('--patience', type=int, default=None,
                   help=f"early stopping on the training loss; 0 turns it "
                   f"off (default: {train['patience']})")
    p.add_argument('--keep', default=None, choices=['best', 'last'],
                   help=f"the state kept after training: the lowest-loss "
                   f"epoch's or the last (default: {train['keep']}, or the "
                   f"method's)")
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
    add_common(p)
    p.add_argument('--no-malloc-tuning', action='store_true',
                   help="leave glibc's allocator settings alone (by default "
                   "graphcl train keeps freed activation buffers in the "
                   "heap: graphcl.perf.tune_cpu_allocator)")
    p.add_argument('--keep-denormals', action='store_true',
                   help="keep the CPU's IEEE handling of subnormal floats "
                   "(by default graphcl train flushes them to zero: weights "
                   "that weight decay shrinks into that range otherwise "
                   "slow training steps several times; "
                   "graphcl.perf.flush_denormals)")
    add_out(p, 'run folder: metrics.json, embeddings.pt (first seed), '
            'encoder.pt and model.json (for graphcl embed), run.json '
            '(status and config), seeds/ and checkpoint.pt')
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
    p.add_argument('--max-memory', default=None, metavar='SIZE',
                   help='memory a full-batch run may use, e.g. 8G or 512M; '
                   'a run whose estimate exceeds it (default: the memory '
                   'available) is refused before training, with the '
                   '--batch-size command that fits')
    if spec.level == 'graph':
        _add_graph_options(p, spec)
        return
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


def _add_graph_options(p: argparse.ArgumentParser, spec):
    # A graph-level method trains on mini-batches of whole graphs.
    g = p.add_argument_group(
        f'graph-level training ({spec.name} embeds whole graphs; evaluation:'
        f' SVM under 10-fold CV on TU datasets, linear probe on OGB\'s '
        f'split)')
    g.add_argument('--batch-size', type=int, default=None,
                   help=f"graphs per mini-batch (default: "
                   f"{spec.train_defaults['batch_size']}, or the dataset's "
                   f"preset)")
    g.add_argument('--num-workers', type=int, default=0,
                   help='DataLoader worker processes (default: 0)')


def _populate_method(name: str):
    def populate(m: argparse.ArgumentParser):
        from ..models.registry import get_method
        spec = get_method(name)
        m.description = (
            f"Pretrain {spec.description or name} and evaluate it with a "
            f"linear probe. Options left unset take the method's preset for "
            f"the dataset, then its defaults.")
        _add_train_options(m, spec)
        m.set_defaults(func=run, option_names=_add_method_options(m, spec))
    return populate


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..models.registry import METHODS, list_methods
    p = subparsers.add_parser(
        'train', help='pretrain a method and evaluate it with a linear probe',
        description='Pretrain a self-supervised method over several seeds '
        'and report the linear-probe test accuracy (mean ± std over seeds). '
        '`graphcl train METHOD --help` describes the method and lists its '
        'own options.')
    methods = p.add_subparsers(dest='method', metavar='METHOD')
    methods.required = True
    for name in list_methods():
        loaded = METHODS.get(name)  # registered in this process already
        methods.add_lazy_parser(
            name, _populate_method(name),
            help=(loaded.description if loaded is not None and
                  loaded.description else
                  f'(graphcl train {name} --help: what it is, its options)'))
    return p


def run(args) -> int:
    from ..distributed import cleanup_distributed
    from ..experiment import run_experiment
    from ..perf import flush_denormals, tune_cpu_allocator
    from ..signals import RunInterrupted
    check_dataset_name(args.dataset)
    apply_threads(args)
    if args.device == 'cpu' and not args.no_malloc_tuning:
        tune_cpu_allocator()
    if args.device == 'cpu' and not args.keep_denormals:
        flush_denormals()
    options = {name: getattr(args, name) for name in args.option_names
               if getattr(args, name) is not None}
    minibatch = {key: getattr(args, key) for key in (
        'batch_size', 'fanout', 'num_workers', 'inference_batch_size',
        'distributed', 'nproc') if hasattr(args, key)}
    try:
        metrics = run_experiment(
            args.method, args.dataset, seeds=args.seeds, epochs=args.epochs,
            patience=args.patience, lr=args.lr,
            weight_decay=args.weight_decay, keep=args.keep,
            device=args.device,
            root=args.root, out=args.out,
            normalize_features=not args.no_normalize,
            progress=not args.quiet,
            probe=not args.no_probe, resume=args.resume,
            overwrite=args.overwrite, checkpoint_every=args.checkpoint_every,
            max_memory=getattr(args, 'max_memory', None),
            probe_selection=getattr(args, 'probe_selection', 'per-seed'),
            **minibatch, **options)
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
    score = dict(rocauc='ROC-AUC').get(metrics.get('metric'),
                                      'test accuracy')
    if (metrics.get('protocol') or '').startswith('SVM'):
        score = 'SVM accuracy (10-fold CV)'
    if metrics['test_acc_mean'] is None:
        print(f"{metrics['method']} on {metrics['dataset']}: pretrained "
              f"{seeds} ({speed}); no probe")
    else:
        print(f"{metrics['method']} on {metrics['dataset']}: {score} "
              f"{metrics['test_acc_mean']:.2f} ± "
              f"{metrics['test_acc_std']:.2f} % over {seeds} ({speed})")
    if args.out:
        print(f"wrote {args.out}/metrics.json")
    return 0
