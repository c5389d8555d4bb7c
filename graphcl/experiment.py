r"""Pretrain a method over several seeds, probe it, and report metrics: the
engine behind ``graphcl train`` and the benchmark scripts."""
import copy
import json
import os
import statistics
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import torch

from .atomic import atomic_save, atomic_write_text
from .models import build_method, get_method, method_settings
from .models.registry import KEEP_CHOICES, TRAIN_DEFAULTS
from .perf import make_adam
from .runner import resolve_device, seed_list
from .signals import RunInterrupted, StopRequests
from .stats import STD_CONVENTION, mean_std
from .train import PretrainResult, pretrain
from .validation import check_int

__all__ = ['run_experiment', 'peak_rss_mb', 'METRIC_KEYS',
           'MINIBATCH_FANOUT']

#: Fan-outs of ``--batch-size`` runs without ``--fanout``/``--layers``: the
#: three-layer GraphSAGE setup of DGI's large-graph experiments.
MINIBATCH_FANOUT = (10, 10, 25)

#: The keys of the metrics :func:`run_experiment` returns and writes to
#: ``metrics.json`` (a fixed set: benchmarks read them).
METRIC_KEYS = ('method', 'dataset', 'seeds', 'epochs', 'seconds_per_epoch',
               'pretrain_seconds', 'probe_seconds', 'val_acc', 'val_acc_mean',
               'test_acc', 'test_acc_mean', 'test_acc_std',
               'probe_weight_decay', 'probe_grid', 'probe_protocol',
               'peak_rss_mb', 'config')

#: Without ``checkpoint_every``, a run folder's checkpoint is written when
#: this many seconds have passed since the last one (and at each seed's
#: end): frequent enough to lose little, rare enough to cost nothing.
CHECKPOINT_SECONDS = 30.0

#: The keys of :data:`METRIC_KEYS` that the probe fills (``None`` when a
#: run pretrains only: no labels, or ``probe=False``).
PROBE_KEYS = ('val_acc', 'val_acc_mean', 'test_acc', 'test_acc_mean',
              'test_acc_std', 'probe_weight_decay', 'probe_grid',
              'probe_protocol')

#: How :func:`run_experiment` chooses the probe's weight decay.
PROBE_SELECTIONS = ('per-seed', 'pooled')


def peak_rss_mb() -> float:
    r"""Peak resident memory of this process so far, in MiB."""
    try:
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1024 if sys.platform != 'darwin' else kb / 2**20
    except ImportError:  # pragma: no cover (Windows)
        import psutil
        return psutil.Process().memory_info().peak_wset / 2**20


def make_optimizer(model: torch.nn.Module,
                   train_settings: Dict[str, Any]) -> torch.optim.Optimizer:
    r"""The optimiser of a run: the method's own
    (:meth:`~graphcl.models.GraphMethod.configure_optimizer`, Adam unless
    its reference code uses another) with the run's ``lr`` and
    ``weight_decay``; :func:`~graphcl.perf.make_adam` for a model without
    that hook."""
    configure = getattr(model, 'configure_optimizer', None)
    if configure is None:
        return make_adam(model.parameters(), lr=train_settings['lr'],
                         weight_decay=train_settings['weight_decay'])
    return configure(lr=train_settings['lr'],
                     weight_decay=train_settings['weight_decay'])


def _row_normalize(x: torch.Tensor) -> torch.Tensor:
    # DGI's and GRACE's preprocessing: every feature row sums to one (empty
    # rows stay 0). Not PyG's NormalizeFeatures, which first subtracts the
    # global minimum (a change for features with negative entries).
    return x / x.sum(dim=-1, keepdim=True).clamp_min(1e-12)


def _dense_features(data, verbose: bool):
    # Sparse node features (COO, CSR or CSC, e.g. a user's bag-of-words
    # graph) are made dense once, as the built-in datasets are loaded: the
    # methods' fast paths keep mostly-zero features as CSR themselves, and
    # the memory estimate that follows counts the dense matrix.
    x = getattr(data, 'x', None)
    if not isinstance(x, torch.Tensor) or x.layout == torch.strided:
        return data
    if x.dim() != 2:
        raise ValueError(f"data.x is a sparse tensor of shape "
                         f"{tuple(x.shape)}; node features must be "
                         f"[num_nodes, num_features]")
    layout = str(x.layout).replace('torch.', '')
    _say(f"data.x is {layout}: made dense ({x.size(0):,} x {x.size(1):,}, "
         f"{x.size(0) * x.size(1) * x.element_size() / 2**20:,.1f} MiB); "
         f"mostly-zero features are kept as CSR inside the methods' fast "
         f"paths", verbose)
    data = copy.copy(data)
    data.x = x.to_dense()
    return data


def _say(msg: str, verbose: bool):
    if verbose:
        print(msg, file=sys.stderr, flush=True)


def _minibatch_fanout(settings: Dict[str, Any], given: Dict[str, Any],
                      fanout: Optional[Sequence[int]]):
    # One fan-out per encoder layer: fill whichever of the two is unset.
    from .sampling import parse_fanout
    if 'layers' not in settings:  # a method without a layer count
        return parse_fanout(fanout if fanout is not None
                            else list(MINIBATCH_FANOUT))
    layers = given.get('layers')
    if fanout is None:
        fanout = list(MINIBATCH_FANOUT) if layers is None else [10] * layers
    fanout = parse_fanout(fanout)
    if layers is None:
        settings['layers'] = layers = len(fanout)
    if layers != len(fanout):
        raise ValueError(
            f"--fanout {','.join(map(str, fanout))} gives {len(fanout)} "
            f"hop(s) but the encoder has {layers} layer(s); give one fan-out "
            f"per layer (e.g. --fanout {','.join(['10'] * layers)}) or "
            f"--layers {len(fanout)}")
    return fanout


def _pretrain_minibatch(trainer, data, optimizer, *, fanout, batch_size,
                        num_workers, env, seed, epochs, patience, desc,
                        keep='best', resume=None, on_epoch_end=None):
    # Neighbour-sampled training of any method with a minibatch_objective
    # (optionally DDP). The sampler's CSC adjacency is kept on the trainer
    # (trainer.csc) for the layer-wise inference that follows.
    from .distributed import all_reduce_mean, split_nodes
    from .sampling import make_neighbor_sampler, neighbor_loader
    from .sampling.features import mostly_zero, to_sparse_rows
    x = data.x
    if isinstance(x, torch.Tensor) and x.layout == torch.strided and \
            x.is_floating_point() and mostly_zero(x):
        # Mostly-zero features (bag-of-words): CSR once per seed, so that
        # every batch gathers sparse rows without converting again.
        data = copy.copy(data)
        data.x = to_sparse_rows(x)
    sampler = make_neighbor_sampler(data, fanout)
    trainer.csc = getattr(sampler, 'csc', None)
    train_model = trainer
    if env.distributed:
        from torch.nn.parallel import DistributedDataParallel
        train_model = DistributedDataParallel(
            trainer, device_ids=[env.device.index]
            if env.device.type == 'cuda' else None)
    all_nodes = torch.arange(data.num_nodes)
    epoch = 0 if resume is None else int(resume['epoch'])

    def batches():
        nonlocal epoch
        epoch += 1
        nodes = all_nodes
        if env.distributed:  # same count per rank, reshuffled per epoch
            nodes = split_nodes(all_nodes, env.rank, env.world_size,
                                seed=seed * 100003 + epoch)
        return neighbor_loader(data, batch_size=batch_size,
                               input_nodes=nodes, sampler=sampler,
                               shuffle=not env.distributed,
                               num_workers=num_workers)

    dev = env.device
    # A batch with fewer seeds than the method's loss is defined on (the
    # short last one) is skipped and counted; every rank holds the same
    # number of seeds, so under torchrun all ranks skip the same steps.
    # (Only then are the epoch's batch losses weighted by their seeds.)
    least = int(getattr(trainer.method, 'min_batch_size', 1))
    sizes = (lambda batch: int(batch.batch_size)) if least > 1 else None
    return pretrain(trainer, lambda batch: train_model(batch.to(dev)),
                    optimizer, epochs=epochs, patience=patience,
                    restore_best=keep == 'best',
                    batches=batches, progress=desc, on_step=trainer.on_step,
                    sync_loss=all_reduce_mean if env.distributed else None,
                    resume=resume, on_epoch_end=on_epoch_end,
                    batch_size=sizes, min_batch_size=least)


def _batches_per_epoch(num_nodes: int, batch_size: int, env) -> int:
    # Optimiser steps per mini-batch epoch: every node is a seed once (each
    # rank's share, padded to the same count, under torchrun).
    per_rank = -(-num_nodes // env.world_size)
    return -(-per_rank // batch_size)


def run_experiment(method: str = 'dgi', dataset: Any = 'Cora', *,
                   seeds: Union[int, Sequence[int]] = 1,
                   epochs: Optional[int] = None,
                   patience: Optional[int] = None,
                   lr: Optional[float] = None,
                   weight_decay: Optional[float] = None,
                   keep: Optional[str] = None, device: str = 'cpu',
                   root: Optional[str] = None, out: Optional[str] = None,
                   normalize_features: bool = True, progress: bool = True,
                   verbose: bool = True, batch_size: Optional[int] = None,
                   fanout: Optional[Union[str, Sequence[int]]] = None,
                   num_workers: int = 0, distributed: bool = False,
                   nproc: Optional[int] = None,
                   inference_batch_size: int = 4096,
                   probe_selection: str = 'per-seed',
                   probe: bool = True,
                   resume: bool = False, overwrite: bool = False,
                   checkpoint_every: Optional[int] = None,
                   max_memory: Optional[Union[int, str]] = None,
                   **method_options: Any) -> Optional[Dict[str, Any]]:
    r"""Pretrains :obj:`method` on :obj:`dataset` once per seed, evaluates
    each run with :func:`graphcl.eval.linear_probe` and returns the metrics
    (keys :data:`METRIC_KEYS`; accuracies in percent, mean ± std across
    pretraining seeds).

    Args:
        method (str): A registered method name (see
            :func:`graphcl.models.list_methods`).
        dataset (str, Data or path): Anything
            :func:`graphcl.data.load_dataset` accepts.
        seeds (int or list of int): Number of seeds (``0..n-1``) or the
            seeds themselves. (default: ``1``)
        epochs (int, optional): Maximum number of pretraining epochs.
        patience (int, optional): Early stopping on the training loss
            (``0``: off).
        keep (str, optional): The state kept after training:
            :obj:`"best"` (the lowest-loss epoch's) or :obj:`"last"`.
        lr (float, optional), weight_decay (float, optional): Adam
            settings. Training settings and method options left at
            :obj:`None` take the method's preset for the dataset, then its
            defaults (:func:`graphcl.models.method_settings`).
        device (str): ``'cpu'`` or ``'cuda'``.
        root (str, optional): Data root (see :func:`graphcl.data.resolve_root`).
        out (str, optional): The run folder (:mod:`graphcl.rundir`):
            ``metrics.json``, ``embeddings.pt`` and ``encoder.pt`` (first
            seed), ``run.json`` (status and config), ``seeds/`` (each
            seed's results as soon as it ends) and ``checkpoint.pt``. A
            folder holding another run is refused before any work.
        normalize_features (bool): Row-normalise features first, as DGI
            does. (default: ``True``)
        batch_size (int, optional): Train on mini-batches of this many seed
            nodes with sampled neighbourhoods (the method's
            ``minibatch_objective`` through
            :class:`~graphcl.models.minibatch.MiniBatchTrainer`) and embed
            by layer-wise inference; full batch when :obj:`None`. In
            mini-batch mode the method's mini-batch defaults apply (DGI: a
            ``'sage'`` encoder) with one layer per fan-out.
        fanout (str or list of int, optional): Neighbours sampled per hop,
            one per encoder layer (default: :data:`MINIBATCH_FANOUT`, or
            10 per layer when ``layers`` is given).
        num_workers (int): DataLoader workers for sampling. (default: ``0``)
        distributed (bool): Join the ``torchrun`` process group and train
            with DistributedDataParallel (seed nodes split across ranks;
            rank 0 alone evaluates, writes outputs and returns metrics, the
            other ranks return :obj:`None`). Implied under ``torchrun``
            with more than one process. (default: :obj:`False`)
        nproc (int, optional): Expected processes per machine; checked
            against ``torchrun``'s environment.
        inference_batch_size (int): Nodes per chunk of the layer-wise
            inference. (default: ``4096``)
        probe (bool): Evaluate with the linear probe. Without it, or when
            the graph has no labels (``data.y``), the run pretrains,
            writes the encoder and embeddings, and the probe's metrics are
            :obj:`None` (:data:`PROBE_KEYS`). (default: :obj:`True`)
        resume (bool): Continue the run in :obj:`out` (same config):
            finished seeds are read back, the seed in progress continues
            from its checkpoint, and the result equals an uninterrupted
            run's on the same machine and thread count.
            (default: :obj:`False`)
        overwrite (bool): Replace the run :obj:`out` holds.
            (default: :obj:`False`)
        checkpoint_every (int, optional): Write the checkpoint every this
            many epochs (default: every :data:`CHECKPOINT_SECONDS`
            seconds), and always at the end of a seed. SIGINT/SIGTERM
            save one and raise :class:`graphcl.signals.RunInterrupted`.
        max_memory (int or str, optional): The memory a full-batch run
            may use (``'8G'``, ``'512M'`` or bytes); the estimate
            (:func:`graphcl.memory.estimate_full_batch`) is checked against
            it, or against the memory available, before any training, and
            a run that would not fit is refused with the ``--batch-size``
            command that would. (default: the memory available)
        probe_selection (str): How the probe's weight decay is chosen on
            the validation split: ``'per-seed'``, each seed's own best; or
            ``'pooled'``, one weight decay for all seeds, the one with the
            best validation accuracy averaged over the seeds
            (:func:`graphcl.eval.select_pooled`). With one seed both are
            the same. (default: ``'per-seed'``)
        **method_options: Options of the method (see
            :func:`graphcl.models.method_defaults`).

    Process-wide settings (threads, :func:`graphcl.perf.tune_cpu_allocator`,
    :func:`graphcl.perf.flush_denormals`) are the caller's: ``graphcl
    train`` applies them, this function does not.
    """
    if probe_selection not in PROBE_SELECTIONS:
        raise ValueError(f"Unknown probe selection '{probe_selection}'; "
                         f"choose one of {list(PROBE_SELECTIONS)}")
    spec = get_method(method)  # raises on an unknown method
    check_level(spec, dataset)
    if spec.level == 'graph':  # a dataset of graphs: graphcl.experiment_graph
        from .experiment_graph import run_graph_experiment
        node_only = dict(fanout=(fanout, None), distributed=(distributed,
                         False), nproc=(nproc, None),
                         inference_batch_size=(inference_batch_size, 4096),
                         probe_selection=(probe_selection, 'per-seed'),
                         max_memory=(max_memory, None))
        return run_graph_experiment(
            spec, dataset, seeds=seeds, epochs=epochs, patience=patience,
            lr=lr, weight_decay=weight_decay, keep=keep, device=device,
            root=root, out=out, progress=progress, verbose=verbose,
            batch_size=batch_size, num_workers=num_workers, probe=probe,
            resume=resume, overwrite=overwrite,
            checkpoint_every=checkpoint_every,
            node_only={k: v for k, (v, default) in node_only.items()
                       if v != default}, **method_options)
    minibatch = batch_size is not None
    if minibatch and not spec.minibatch:
        raise ValueError(f"Method '{spec.name}' cannot be trained on sampled "
                         f"mini-batches; drop --batch-size (and --fanout) to "
                         f"train full batch")
    given = dict(method_options, epochs=epochs, patience=patience, lr=lr,
                 weight_decay=weight_decay, keep=keep)
    canonical = _canonical_name(dataset)  # the name presets are kept under
    settings = method_settings(spec.name, canonical, minibatch, **given)
    given = {k: v for k, v in given.items() if v is not None}
    seeds = seed_list(seeds)
    check_int(settings['epochs'], "'epochs'")
    check_int(settings['patience'], "'patience'", minimum=0)
    if settings['keep'] not in KEEP_CHOICES:
        raise ValueError(f"'keep' is {settings['keep']!r}; use one of "
                         f"{list(KEEP_CHOICES)} (the lowest-loss epoch's "
                         f"state, or the last)")
    dev = resolve_device(device)
    from .distributed import DistEnv, check_nproc, in_torchrun
    check_nproc(nproc)
    if not minibatch:
        for name, value, default in (('--fanout', fanout, None),
                                     ('--num-workers', num_workers, 0)):
            if value != default:
                raise ValueError(f"{name} applies to mini-batch training "
                                 f"only; add --batch-size N")
    if in_torchrun() and int(os.environ['WORLD_SIZE']) > 1:
        distributed = True
    if (distributed or (nproc or 1) > 1) and not minibatch:
        raise ValueError("Distributed training runs on sampled mini-batches;"
                         " add --batch-size N (and --fanout)")
    env = DistEnv(device=dev)
    if minibatch:
        check_int(batch_size, '--batch-size',
                  what='seed nodes per mini-batch')
        check_int(num_workers, '--num-workers', minimum=0)
        fanout = _minibatch_fanout(settings, given, fanout)
        if distributed:
            from .distributed import init_distributed
            env = init_distributed(dev)
            dev = env.device
    train_settings = {k: settings.pop(k) for k in TRAIN_DEFAULTS}
    epochs, patience = train_settings['epochs'], train_settings['patience']
    # Options the method is built with (validated once, before any data is
    # loaded: a bad option fails here, not after a seed of training).
    options = settings
    # (on the meta device: checking --hidden 100000 allocates nothing)
    with torch.device('meta'):
        build_method(spec.name, 1, **options)
    verbose = verbose and env.is_main
    progress = progress and env.is_main
    if max_memory is not None:
        from .memory import parse_memory
        max_memory = parse_memory(max_memory)
    if checkpoint_every is not None:
        check_int(checkpoint_every, '--checkpoint-every',
                  what='epochs between checkpoints')
    if (resume or overwrite) and out is None:
        raise ValueError("--resume and --overwrite apply to a run folder; "
                         "add --out DIR")

    from . import __version__
    config = dict(method=spec.name, dataset=str(dataset), seeds=seeds,
                  **train_settings, device=str(dev), root=root,
                  data_root=_data_root(dataset, root), version=__version__,
                  normalize_features=normalize_features,
                  probe=probe, probe_selection=probe_selection,
                  std=STD_CONVENTION,
                  preset=spec.preset(canonical) or None,
                  preset_source=spec.source if spec.preset(canonical)
                  else None,
                  **options)
    if minibatch:
        config.update(batch_size=batch_size, fanout=fanout,
                      num_workers=num_workers,
                      inference_batch_size=inference_batch_size,
                      world_size=env.world_size)

    if resume and env.distributed and out is not None:
        raise ValueError("--resume is not supported for distributed "
                         "runs; rerun into a new --out")
    rundir = open_rundir(out, config, resume, overwrite) if env.is_main \
        else None

    def body(stop):
        runs = _run_seeds(
            spec, dataset, seeds, options, train_settings,
            root=root, dev=dev, env=env, minibatch=minibatch,
            normalize_features=normalize_features, progress=progress,
            verbose=verbose, pooled=(probe_selection == 'pooled'
                                     and len(seeds) > 1),
            rundir=rundir, stop=stop, probe=probe,
            checkpoint_every=checkpoint_every, max_memory=max_memory,
            mb=dict(fanout=fanout, batch_size=batch_size,
                    num_workers=num_workers,
                    inference_batch_size=inference_batch_size))
        if not env.is_main:
            return None
        return _summarise(spec.name, seeds, runs, probe_selection, config,
                          verbose)

    return run_in_folder(rundir, body)


def open_rundir(out: Optional[str], config: Dict[str, Any], resume: bool,
                overwrite: bool):
    r"""The run folder :obj:`out` opened for :obj:`config`
    (:class:`graphcl.rundir.RunDir`: a folder holding another run is
    refused unless :obj:`overwrite`), or :obj:`None` without :obj:`out`."""
    if out is None:
        return None
    from . import __version__
    from .rundir import RunDir
    return RunDir(out, config, resume=resume, overwrite=overwrite,
                  version=__version__).open()


def run_in_folder(rundir, body: Callable[[StopRequests], Optional[Dict[
        str, Any]]]) -> Optional[Dict[str, Any]]:
    r"""Runs ``body(stop)`` (the seeds of a run, returning its metrics) while
    SIGINT/SIGTERM are turned into stop requests, writes ``metrics.json``
    into :obj:`rundir` and marks it complete, or marks it interrupted or
    failed (with the error) before re-raising."""
    try:
        with StopRequests() as stop:
            metrics = body(stop)
            if rundir is not None and metrics is not None:
                from .runner import write_metrics
                write_metrics(metrics, rundir.path)
                rundir.finish('complete')
    except BaseException as e:
        if rundir is not None:
            rundir.finish('interrupted' if isinstance(
                e, (RunInterrupted, KeyboardInterrupt)) else 'failed',
                f'{type(e).__name__}: {e}')
        raise
    finally:
        if rundir is not None:
            rundir.close()
    return metrics


def train_seed(model: torch.nn.Module,
               train: Callable[..., PretrainResult], seed: int, *,
               rundir=None, stop: Optional[StopRequests] = None,
               checkpoint_every: Optional[int] = None,
               verbose: bool = False) -> PretrainResult:
    r"""Trains one seed through ``train(resume, on_epoch_end)`` (a call of
    :func:`graphcl.train.pretrain`) with :obj:`rundir`'s checkpoints: the
    state is saved every :obj:`checkpoint_every` epochs (else every
    :data:`CHECKPOINT_SECONDS`) and when training ends, a seed killed
    during training resumes from its checkpoint, one killed after it is
    read back. A stop request (:obj:`stop`) saves and raises
    :class:`~graphcl.signals.RunInterrupted`. Without :obj:`rundir`
    nothing is saved."""
    can_save = rundir is not None
    ckpt = rundir.load_checkpoint(seed) if can_save else None
    last_save = [time.monotonic()]

    def on_epoch_end(epoch, state):
        requested = stop is not None and stop.signum is not None
        due = (epoch % checkpoint_every == 0 if checkpoint_every else
               time.monotonic() - last_save[0] >= CHECKPOINT_SECONDS)
        if can_save and (requested or due):
            rundir.save_checkpoint(dict(state(), seed=seed))
            last_save[0] = time.monotonic()
        if requested:
            raise RunInterrupted(stop.signum, f'seed {seed}, epoch {epoch}',
                                 can_save)

    if ckpt is not None and ckpt.get('finished', False):
        # Killed after training: the trained state is saved.
        model.load_state_dict(ckpt['model'])
        _say(f"seed {seed}: trained in an earlier run", verbose)
        return PretrainResult(**ckpt['result'])
    if ckpt is not None:
        _say(f"seed {seed}: resuming after epoch {ckpt['epoch']}", verbose)
    result = train(ckpt, on_epoch_end)
    if can_save:
        rundir.save_checkpoint(dict(
            seed=seed, finished=True, model=model.state_dict(),
            result=dict(epochs=result.epochs, seconds=result.seconds,
                        losses=result.losses, best_loss=result.best_loss,
                        best_epoch=result.best_epoch,
                        skipped_batches=result.skipped_batches)))
    return result


def write_outputs(rundir, z: torch.Tensor, model: torch.nn.Module,
                  model_info: Dict[str, Any]):
    r"""Writes a run's first-seed outputs into :obj:`rundir`:
    ``embeddings.pt`` (:obj:`z`), ``model.json`` (:obj:`model_info`: what
    ``graphcl embed`` rebuilds the encoder from, written before
    ``encoder.pt`` so that no ``encoder.pt`` goes without it) and
    ``encoder.pt``."""
    atomic_save(z.cpu(), rundir.path / 'embeddings.pt')
    atomic_write_text(rundir.path / 'model.json', json.dumps(
        model_info, indent=2, default=str) + '\n')
    atomic_save(model.encoder.state_dict(), rundir.path / 'encoder.pt')


def _dataset_level(dataset: Any) -> Optional[str]:
    # 'node' or 'graph' for a registered name or an OGB name; None for
    # anything else (files, objects, unknown names: their loaders decide).
    if not isinstance(dataset, str) or os.path.exists(dataset):
        return None
    key = dataset.lower()
    if key.startswith(('ogbn-', 'ogbn_')):
        return 'node'
    if key.startswith(('ogbg-', 'ogbg_')):
        return 'graph'
    from .data.registry import get_spec
    try:
        return get_spec(dataset).level
    except ValueError:
        return None


def check_level(spec, dataset: Any) -> None:
    r"""Raises a :class:`ValueError` when method :obj:`spec` and
    :obj:`dataset` are of different kinds: a node-level method (it embeds
    the nodes of one graph) given a graph-level dataset (a dataset of
    graphs to classify), or the reverse."""
    level = _dataset_level(dataset)
    if level is None or level == spec.level:
        return
    from .data.registry import list_datasets
    from .models.registry import get_method, list_methods
    what = dict(node='it embeds the nodes of one graph',
                graph='it embeds whole graphs of a dataset of graphs')
    data_what = dict(node='one graph whose nodes are classified',
                     graph='a dataset of graphs, each classified')
    methods = [m for m in list_methods() if get_method(m).level == level]
    raise ValueError(
        f"Method '{spec.name}' is {spec.level}-level ({what[spec.level]}) "
        f"but '{dataset}' is a {level}-level dataset ({data_what[level]}); "
        f"use a {level}-level method ({', '.join(methods) or 'none yet'}) "
        f"or a {spec.level}-level dataset "
        f"({', '.join(list(list_datasets(spec.level))[:4])}, ...)")


def _canonical_name(dataset: Any) -> Any:
    # A registered dataset's canonical name ('Computers' ->
    # 'Amazon-Computers'), under which methods keep their presets.
    if isinstance(dataset, str):
        from .data.registry import get_spec
        try:
            return get_spec(dataset, level='node').name
        except ValueError:
            pass
    return dataset


def _data_root(dataset: Any, root: Optional[str]) -> Optional[str]:
    # The folder a registered dataset is read from (explicit root, then
    # $GRAPHCL_DATA, then ./datasets); None for files and objects.
    if not isinstance(dataset, str) or os.path.exists(dataset) or \
            dataset.endswith(('.pt', '.pth')):
        return None
    from .data.root import resolve_root
    return str(resolve_root(root))


def _probe_from_json(d: Dict[str, Any]):
    from .eval import ProbeResult
    return ProbeResult(val_acc=d['val_acc'], test_acc=d['test_acc'],
                       weight_decay=d['weight_decay'],
                       grid=tuple(tuple(g) for g in d['grid']),
                       scale=d.get('scale', 1.0))


def _saved_protocol(d: Dict[str, Any]) -> str:
    # Seeds saved before the probe named its protocol ran the absolute grid.
    from .eval.linear_probe import EARLIER_PROBE_PROTOCOL
    return d.get('protocol', EARLIER_PROBE_PROTOCOL)


def _run_seeds(spec, dataset, seed_list, options, train_settings, *, root,
               dev, env, minibatch, normalize_features, progress, verbose,
               pooled, rundir, stop, probe, checkpoint_every, mb,
               max_memory) -> List[Dict[str, Any]]:
    # Pretrains and probes every seed; finished seeds of a resumed run are
    # read back, the seed in progress continues from its checkpoint.
    from .data import check_node_data, load_dataset
    from .eval import PROBE_PROTOCOL, linear_probe
    epochs, patience = train_settings['epochs'], train_settings['patience']
    runs: List[Dict[str, Any]] = []
    # Checkpoints need one process (ranks' random states differ).
    can_save = rundir is not None and not env.distributed
    for i, seed in enumerate(seed_list):
        saved = rundir.seed_result(seed) if rundir is not None else None
        if saved is not None:
            if saved['probe'] is not None:
                saved['probe_protocol'] = _saved_protocol(saved['probe'])
                if saved['probe_protocol'] != PROBE_PROTOCOL:
                    warnings.warn(
                        f"seed {seed} of '{rundir.path}' was probed with "
                        f"another protocol ({saved['probe_protocol']!r}, "
                        f"not {PROBE_PROTOCOL!r}); its scores are kept as "
                        f"they are and metrics.json lists the protocol of "
                        f"each seed. Re-probe its embeddings with 'graphcl "
                        f"probe', or run the seed again", stacklevel=3)
                saved['probe'] = _probe_from_json(saved['probe'])
            runs.append(saved)
            _say(f"seed {seed}: done in an earlier run (read from "
                 f"{rundir.path}/seeds)", verbose)
            continue
        data = load_dataset(dataset, root=root, seed=seed)
        data = _dense_features(data, verbose and not runs)
        labelled = getattr(data, 'y', None) is not None
        evaluate = probe and labelled
        check_node_data(data, require_labels=evaluate,
                        require_splits=evaluate)
        name = getattr(data, 'name', None) or str(dataset)
        if not runs:
            _say(f"{name}: {data.num_nodes} nodes, {data.num_edges} edges, "
                 f"{data.num_features} features; split: "
                 f"{getattr(data, 'split', 'given masks')}", verbose)
            if not evaluate:
                _say("the linear probe is skipped (" + (
                     "--no-probe" if labelled else "the graph has no "
                     "labels, data.y") + "): pretraining only; the encoder "
                     "and embeddings are written with --out", verbose)
        if not minibatch and not runs:  # before any training: will it fit?
            from .memory import check_fits, estimate_full_batch
            estimate = estimate_full_batch(
                data, spec, options, normalize_features=normalize_features,
                seeds=len(seed_list))
            _say(f"memory estimate: {estimate.summary()}", verbose)
            check_fits(estimate, max_memory, device=dev)
        if normalize_features:
            data.x = _row_normalize(data.x.float())
        if not minibatch:  # mini-batch: the graph stays on the CPU
            data = data.to(dev)

        torch.manual_seed(seed)
        model = build_method(spec.name, data.num_features, seed=seed,
                             **options).to(dev)
        optimizer = make_optimizer(model, train_settings)
        begin = getattr(model, 'begin_training', None)  # GraphMethod's
        if begin is not None:  # the run's length, for methods' schedules
            begin(optimizer, epochs, 1 if not minibatch else
                  _batches_per_epoch(data.num_nodes, mb['batch_size'], env))
        desc = f'{spec.name} {name} seed {seed}' if progress else False
        keep = train_settings['keep']
        if minibatch:
            from .models.minibatch import MiniBatchTrainer
            trainer = MiniBatchTrainer(
                model, inference_batch_size=mb['inference_batch_size'])
            train = lambda resume, on_epoch_end: _pretrain_minibatch(  # noqa
                trainer, data, optimizer, env=env, seed=seed, epochs=epochs,
                patience=patience, desc=desc, keep=keep, resume=resume,
                on_epoch_end=on_epoch_end,
                **{k: v for k, v in mb.items()
                   if k != 'inference_batch_size'})
        else:
            train = lambda resume, on_epoch_end: pretrain(  # noqa: E731
                model, lambda: model.objective(data), optimizer,
                epochs=epochs, patience=patience, progress=desc,
                restore_best=keep == 'best',
                on_step=model.on_step, resume=resume,
                on_epoch_end=on_epoch_end)
        result = train_seed(model, train, seed,
                            rundir=rundir if can_save else None, stop=stop,
                            checkpoint_every=checkpoint_every,
                            verbose=verbose)
        if not env.is_main:  # rank 0 alone evaluates and writes
            continue
        if minibatch:
            csc = getattr(trainer, 'csc', None)
            embed = lambda: trainer.embed(data, csc=csc)  # noqa: E731
        else:
            embed = lambda: model.embed(data)  # noqa: E731

        t0 = time.perf_counter()
        z = embed()
        fit = None
        if evaluate:
            metric = None
            if getattr(data, 'ogb_name', None):
                from .data import ogb_node_metric
                metric = ogb_node_metric(data.ogb_name)
            fit = linear_probe(z, data.y, data.train_mask, data.val_mask,
                               data.test_mask, metric=metric)
        probe_seconds = time.perf_counter() - t0
        run = dict(seed=seed, dataset=name, epochs=result.epochs,
                   seconds=result.seconds,
                   seconds_per_epoch=result.seconds_per_epoch,
                   losses=result.losses, probe_seconds=probe_seconds,
                   probe=fit, skipped_batches=result.skipped_batches)
        if result.skipped_batches:
            _say(f"seed {seed}: {result.skipped_batches} mini-batch(es) of "
                 f"fewer than {getattr(model, 'min_batch_size', 1)} seed "
                 f"nodes skipped "
                 f"(the short last batch of an epoch); choose a batch size "
                 f"that leaves no such remainder to train on every node",
                 verbose)
        score = ("no probe" if fit is None else
                 f"best validation accuracy {100 * fit.val_acc:.2f}%"
                 if pooled else
                 f"test accuracy {100 * fit.test_acc:.2f}%")
        _say(f"seed {seed}: {result.epochs} epochs "
             f"({1000 * result.seconds_per_epoch:.1f} ms/epoch), {score}",
             verbose)
        if rundir is not None:
            if i == 0:
                write_outputs(rundir, z, model, dict(
                    method=spec.name, in_channels=data.num_features,
                    options=options, normalize_features=normalize_features))
            rundir.save_seed(seed, dict(run, probe=None if fit is None else
                                        dict(val_acc=fit.val_acc,
                                             test_acc=fit.test_acc,
                                             weight_decay=fit.weight_decay,
                                             grid=[list(g)
                                                   for g in fit.grid],
                                             scale=fit.scale,
                                             protocol=PROBE_PROTOCOL)))
        runs.append(run)
        if stop.signum is not None:
            raise RunInterrupted(stop.signum, f'the end of seed {seed}',
                                 rundir is not None)
    return runs


def base_metrics(method: str, seed_list: List[int],
                 runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    r"""The metrics every run reports, whatever its evaluation: method,
    dataset, seeds, epochs, time per epoch (median over seeds), pretraining
    and evaluation seconds, with the probe's keys (:data:`PROBE_KEYS`) set
    to :obj:`None`."""
    return dict(
        method=method, dataset=runs[-1]['dataset'], seeds=seed_list,
        epochs=[r['epochs'] for r in runs],
        seconds_per_epoch=statistics.median(
            r['seconds_per_epoch'] for r in runs),
        pretrain_seconds=sum(r['seconds'] for r in runs),
        probe_seconds=sum(r['probe_seconds'] for r in runs),
        **dict.fromkeys(PROBE_KEYS))


def _summarise(method, seed_list, runs, probe_selection, config,
               verbose) -> Dict[str, Any]:
    from .eval import select_pooled
    pooled = probe_selection == 'pooled' and len(seed_list) > 1
    metrics = base_metrics(method, seed_list, runs)
    probes = [r['probe'] for r in runs]
    if any(p is None for p in probes):  # pretraining only: no probe
        return dict(metrics, peak_rss_mb=peak_rss_mb(), config=config)
    if probe_selection == 'pooled':
        wd, probes = select_pooled(probes)
        if pooled:
            _say(f"probe weight decay {wd:g}, chosen on the validation "
                 f"accuracy averaged over {len(seed_list)} seeds; test "
                 f"accuracy per seed: " + ', '.join(
                     f'{100 * p.test_acc:.1f}' for p in probes), verbose)
        wds: Any = wd
    else:
        wds = [p.weight_decay for p in probes]
    from .eval import PROBE_PROTOCOL
    protocols = [r.get('probe_protocol', PROBE_PROTOCOL) for r in runs]
    test_accs = [100 * p.test_acc for p in probes]
    val_accs = [100 * p.val_acc for p in probes]
    mean, std = mean_std(test_accs)
    metrics.update(
        val_acc=val_accs, val_acc_mean=statistics.fmean(val_accs),
        test_acc=test_accs, test_acc_mean=mean, test_acc_std=std,
        probe_weight_decay=wds,
        probe_grid=[[[g[0], 100 * g[1], 100 * g[2]] for g in p.grid]
                    for p in probes],
        # One name when every seed ran the same probe, else one per seed.
        probe_protocol=(protocols[0] if len(set(protocols)) == 1
                        else protocols))
    return dict(metrics, peak_rss_mb=peak_rss_mb(), config=config)
