r"""The graph-level path of :func:`graphcl.run_experiment`: methods of
``level='graph'`` pretrain on mini-batches of whole graphs and are
evaluated on frozen graph embeddings.

Protocols (the papers'):

* TU datasets (MUTAG, PROTEINS, NCI1, IMDB-BINARY): an SVM under 10-fold
  stratified cross-validation, :math:`C` from :math:`10^{-3}` to
  :math:`10^3` chosen by an inner cross-validation on the training folds
  (:func:`graphcl.eval.svm_cross_validation`); the accuracy of a seed is
  the mean over its folds, reported as mean ± std over pretraining seeds.
* OGB molecules (``ogbg-molbace``, ``ogbg-molbbbp``): a linear probe on the
  official scaffold split, weight decay chosen on the validation split,
  ROC-AUC from OGB's Evaluator (:func:`graphcl.eval.graph_linear_probe`).

The seeds loop, run folders, checkpoints, ``--resume``, ``metrics.json``
and the summary are the node path's (:mod:`graphcl.experiment`).
"""
import math
import time
from typing import Any, Dict, List, Optional, Sequence, Union

import torch

from .experiment import (_say, base_metrics, open_rundir, run_in_folder,
                         train_seed, write_outputs, _summarise,
                         _probe_from_json, _data_root, peak_rss_mb,
                         make_optimizer)
from .models import build_method, method_settings
from .models.registry import KEEP_CHOICES, train_setting_defaults
from .runner import resolve_device, seed_list
from .signals import RunInterrupted
from .stats import STD_CONVENTION, mean_std
from .train import PretrainResult, pretrain
from .validation import check_int

__all__ = ['run_graph_experiment', 'embed_graphs', 'evaluate_graphs',
           'GRAPH_METRIC_KEYS', 'EMBED_BATCH_SIZE']

#: Keys :func:`run_graph_experiment` adds to
#: :data:`graphcl.experiment.METRIC_KEYS`: the protocol, the metric, and
#: for the SVM protocol each seed's fold accuracies and chosen :math:`C`.
GRAPH_METRIC_KEYS = ('protocol', 'metric', 'fold_scores', 'svm_c')

#: Graphs per batch when embedding (eval mode, no gradients).
EMBED_BATCH_SIZE = 512


def _graph_loader(graphs, batch_size: int, shuffle: bool,
                  num_workers: int = 0):
    from torch_geometric.loader import DataLoader
    return DataLoader(graphs, batch_size=batch_size, shuffle=shuffle,
                      num_workers=num_workers)


@torch.no_grad()
def embed_graphs(model: torch.nn.Module, graphs: Sequence[Any],
                 batch_size: int = EMBED_BATCH_SIZE,
                 device: Union[str, torch.device] = 'cpu') -> torch.Tensor:
    r"""Frozen graph embeddings :math:`(G, D)` of :obj:`graphs`, row
    :math:`i` for graph :math:`i`: ``model.embed(batch)`` in eval mode over
    an unshuffled :class:`~torch_geometric.loader.DataLoader`,
    concatenated."""
    if len(graphs) == 0:
        raise ValueError("No graphs to embed; give at least one graph")
    was_training = model.training
    model.eval()
    out = []
    try:
        for batch in _graph_loader(graphs, batch_size, shuffle=False):
            z = model.embed(batch.to(device))
            if z.dim() != 2 or z.size(0) != batch.num_graphs:
                raise ValueError(
                    f"{type(model).__name__}.embed(batch) must return one "
                    f"embedding per graph, shape [{batch.num_graphs}, D], "
                    f"got {tuple(z.shape)}")
            out.append(z.detach().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out, 0)


def evaluate_graphs(z: torch.Tensor, data, seed: int = 0):
    r"""Evaluates graph embeddings :obj:`z` of the
    :class:`~graphcl.data.graphs.GraphDataset` :obj:`data` with its
    protocol: an :class:`~graphcl.eval.SVMResult` for datasets without an
    official split (TU), a :class:`~graphcl.eval.ProbeResult` on the
    official split with OGB's metric otherwise. :obj:`seed` seeds the
    SVM's folds."""
    if data.y is None:
        raise ValueError(f"'{data.name}' has no labels (y): nothing to "
                         f"evaluate; pretrain with probe=False (--no-probe)")
    if data.split_idx is None:
        from .eval import svm_cross_validation
        return svm_cross_validation(z, data.y, seed=seed)
    from .eval import graph_linear_probe
    metric = None
    if data.ogb_name is not None:
        from .data import ogb_graph_metric
        metric = ogb_graph_metric(data.ogb_name)
    return graph_linear_probe(z, data.y, data.split_idx, metric=metric)


def _svm_from_json(d: Dict[str, Any]):
    from .eval import SVMResult
    return SVMResult(tuple(d['fold_scores']), tuple(d['chosen_c']),
                     tuple(d['inner_scores']))


def _result_json(fit) -> Optional[Dict[str, Any]]:
    from .eval import SVMResult
    if fit is None:
        return None
    if isinstance(fit, SVMResult):
        return dict(kind='svm', fold_scores=list(fit.fold_scores),
                    chosen_c=list(fit.chosen_c),
                    inner_scores=list(fit.inner_scores))
    return dict(kind='probe', val_acc=fit.val_acc, test_acc=fit.test_acc,
                weight_decay=fit.weight_decay,
                grid=[list(g) for g in fit.grid])


def _result_from_json(d: Optional[Dict[str, Any]]):
    if d is None:
        return None
    return _svm_from_json(d) if d['kind'] == 'svm' else _probe_from_json(d)


def _canonical_graph_name(dataset: Any) -> Any:
    if isinstance(dataset, str):
        from .data.registry import get_spec
        try:
            return get_spec(dataset, level='graph').name
        except ValueError:
            return dataset
    return getattr(dataset, 'name', None)


def run_graph_experiment(spec, dataset: Any, *,
                         seeds: Union[int, Sequence[int]] = 1,
                         epochs: Optional[int] = None,
                         patience: Optional[int] = None,
                         lr: Optional[float] = None,
                         weight_decay: Optional[float] = None,
                         keep: Optional[str] = None, device: str = 'cpu',
                         root: Optional[str] = None,
                         out: Optional[str] = None, progress: bool = True,
                         verbose: bool = True,
                         batch_size: Optional[int] = None,
                         num_workers: int = 0, probe: bool = True,
                         resume: bool = False, overwrite: bool = False,
                         checkpoint_every: Optional[int] = None,
                         pretrain_model: bool = True,
                         node_only: Optional[Dict[str, Any]] = None,
                         **method_options: Any) -> Dict[str, Any]:
    r"""Pretrains the graph-level method :obj:`spec` on :obj:`dataset` once
    per seed and evaluates its frozen graph embeddings (see the module's
    protocols); :func:`graphcl.run_experiment` calls it for methods of
    ``level='graph'`` and documents the shared arguments.

    Graph-level specifics:

    * :obj:`batch_size`: graphs per mini-batch (the method's setting,
      e.g. InfoGraph's 128, when :obj:`None`). Batches are drawn by a
      shuffled :class:`~torch_geometric.loader.DataLoader` (PyG ``Batch``
      objects with their ``batch`` vector); a last batch of a single graph
      is skipped, as contrastive objectives need another graph of the
      batch.
    * Features are used as loaded (TU: one-hot node labels, IMDB-BINARY:
      one-hot degrees; OGB: one-hot atom features), never row-normalised.
    * :obj:`pretrain_model`: :obj:`False` evaluates the method's encoder
      at its random initialisation (the baseline of the benchmarks).
    * Metrics: the keys of :data:`graphcl.experiment.METRIC_KEYS`
      (``test_acc`` holds each seed's score in percent: the mean SVM
      fold accuracy, or the OGB test ROC-AUC; ``val_acc`` the inner
      cross-validation accuracy of the chosen :math:`C`, or the
      validation ROC-AUC), plus :data:`GRAPH_METRIC_KEYS`.
    * Outputs: ``embeddings.pt`` holds the first seed's graph embeddings
      :math:`(G, D)`, row :math:`i` for graph :math:`i` of the dataset.

    Raises:
        ValueError: For node-level settings (:obj:`node_only`: fan-outs,
            distributed training, ...), bad settings or options (before
            any data is loaded), or a dataset that is not graph-level.
    """
    if node_only:
        flags = ', '.join('--' + k.replace('_', '-') for k in node_only)
        raise ValueError(f"{flags} appl{'ies' if len(node_only) == 1 else 'y'}"
                         f" to node-level methods only; '{spec.name}' is "
                         f"graph-level (mini-batches of whole graphs: "
                         f"--batch-size), drop {flags}")
    given = dict(method_options, epochs=epochs, patience=patience, lr=lr,
                 weight_decay=weight_decay, keep=keep, batch_size=batch_size)
    canonical = _canonical_graph_name(dataset)
    settings = method_settings(spec.name, canonical, **given)
    seeds = seed_list(seeds)
    check_int(settings['epochs'], "'epochs'")
    check_int(settings['patience'], "'patience'", minimum=0)
    check_int(settings['batch_size'], '--batch-size', minimum=2,
              what='graphs per mini-batch')
    check_int(num_workers, '--num-workers', minimum=0)
    if settings['keep'] not in KEEP_CHOICES:
        raise ValueError(f"'keep' is {settings['keep']!r}; use one of "
                         f"{list(KEEP_CHOICES)} (the lowest-loss epoch's "
                         f"state, or the last)")
    if checkpoint_every is not None:
        check_int(checkpoint_every, '--checkpoint-every',
                  what='epochs between checkpoints')
    if (resume or overwrite) and out is None:
        raise ValueError("--resume and --overwrite apply to a run folder; "
                         "add --out DIR")
    dev = resolve_device(device)
    train_settings = {k: settings.pop(k)
                      for k in train_setting_defaults('graph')}
    options = settings
    with torch.device('meta'):  # bad options fail before any data loads
        build_method(spec.name, 1, **options)

    from . import __version__
    preset = spec.preset(canonical)
    config = dict(method=spec.name, level='graph', dataset=str(
        canonical if canonical is not None else 'graphs'), seeds=seeds,
        **train_settings, device=str(dev), root=root,
        data_root=_data_root(dataset, root), version=__version__,
        probe=probe, pretrain=pretrain_model, num_workers=num_workers,
        std=STD_CONVENTION, preset=preset or None,
        preset_source=spec.source if preset else None, **options)
    rundir = open_rundir(out, config, resume, overwrite)

    def body(stop):
        from .data.graphs import load_graphs
        data = load_graphs(dataset, root=root)
        runs = _run_graph_seeds(spec, data, seeds, options, train_settings,
                                dev=dev, progress=progress, verbose=verbose,
                                rundir=rundir, stop=stop, probe=probe,
                                checkpoint_every=checkpoint_every,
                                num_workers=num_workers,
                                pretrain_model=pretrain_model)
        return _summarise_graphs(spec.name, seeds, runs, data, config,
                                 verbose)

    return run_in_folder(rundir, body)


def _run_graph_seeds(spec, data, seeds: List[int], options, train_settings,
                     *, dev, progress, verbose, rundir, stop, probe,
                     checkpoint_every, num_workers, pretrain_model
                     ) -> List[Dict[str, Any]]:
    evaluate = probe and data.y is not None
    batch_size = train_settings['batch_size']
    epochs, patience = train_settings['epochs'], train_settings['patience']
    _say(f"{data.name}: {len(data)} graphs, "
         f"{sum(g.num_nodes for g in data.graphs)} nodes, "
         f"{data.num_features} node features ({data.features}); "
         f"evaluation: " + ("no labels (data.y): pretraining only"
                            if data.y is None else "--no-probe: none"
                            if not probe else "SVM, 10-fold CV"
                            if data.split_idx is None else
                            "linear probe on the official split"), verbose)
    runs: List[Dict[str, Any]] = []
    for i, seed in enumerate(seeds):
        saved = rundir.seed_result(seed) if rundir is not None else None
        if saved is not None:
            saved['probe'] = _result_from_json(saved['probe'])
            runs.append(saved)
            _say(f"seed {seed}: done in an earlier run (read from "
                 f"{rundir.path}/seeds)", verbose)
            continue
        torch.manual_seed(seed)
        model = build_method(spec.name, data.num_features, seed=seed,
                             **options).to(dev)
        if pretrain_model:
            result = _pretrain_graphs(model, spec, data, seed, batch_size,
                                      epochs, patience, train_settings,
                                      dev=dev, progress=progress,
                                      verbose=verbose, rundir=rundir,
                                      stop=stop, num_workers=num_workers,
                                      checkpoint_every=checkpoint_every)
        else:
            result = PretrainResult()
        t0 = time.perf_counter()
        z = embed_graphs(model, data.graphs, device=dev)
        fit = evaluate_graphs(z, data, seed=seed) if evaluate else None
        probe_seconds = time.perf_counter() - t0
        run = dict(seed=seed, dataset=data.name, epochs=result.epochs,
                   seconds=result.seconds,
                   seconds_per_epoch=result.seconds_per_epoch,
                   losses=result.losses, probe_seconds=probe_seconds,
                   probe=fit)
        _say(f"seed {seed}: {result.epochs} epochs "
             f"({1000 * result.seconds_per_epoch:.1f} ms/epoch), "
             f"{_score_text(fit)} (evaluation {probe_seconds:.1f} s)",
             verbose)
        if rundir is not None:
            if i == 0:
                write_outputs(rundir, z, model, dict(
                    method=spec.name, level='graph',
                    in_channels=data.num_features, options=options,
                    normalize_features=False, features=data.features))
            rundir.save_seed(seed, dict(run, probe=_result_json(fit)))
        runs.append(run)
        if stop.signum is not None:
            raise RunInterrupted(stop.signum, f'the end of seed {seed}',
                                 rundir is not None)
    return runs


def _pretrain_graphs(model, spec, data, seed, batch_size, epochs, patience,
                     train_settings, *, dev, progress, verbose, rundir, stop,
                     num_workers, checkpoint_every) -> PretrainResult:
    optimizer = make_optimizer(model, train_settings)
    begin = getattr(model, 'begin_training', None)
    if begin is not None:  # the run's length, for methods' schedules
        begin(optimizer, epochs, math.ceil(len(data) / batch_size))
    loader = _graph_loader(data.graphs, batch_size, shuffle=True,
                           num_workers=num_workers)
    desc = f'{spec.name} {data.name} seed {seed}' if progress else False

    def train(resume, on_epoch_end):
        return pretrain(
            model, lambda batch: model.objective(batch.to(dev)), optimizer,
            epochs=epochs, patience=patience, batches=lambda: loader,
            batch_size=lambda batch: batch.num_graphs, min_batch_size=2,
            restore_best=train_settings['keep'] == 'best', progress=desc,
            on_step=model.on_step, resume=resume, on_epoch_end=on_epoch_end)

    return train_seed(model, train, seed, rundir=rundir, stop=stop,
                      checkpoint_every=checkpoint_every, verbose=verbose)


def _score_text(fit) -> str:
    from .eval import SVMResult
    if fit is None:
        return 'no evaluation'
    if isinstance(fit, SVMResult):
        return (f"SVM accuracy {100 * fit.mean:.2f} ± {100 * fit.std:.2f}% "
                f"over {len(fit.fold_scores)} folds")
    return f"test score {100 * fit.test_acc:.2f}"


def _summarise_graphs(method, seeds, runs, data, config, verbose
                      ) -> Dict[str, Any]:
    from .eval import SVMResult
    fits = [r['probe'] for r in runs]
    extra = dict(protocol=None, metric=None, fold_scores=None, svm_c=None)
    if any(f is None for f in fits):
        return dict(base_metrics(method, seeds, runs),
                    peak_rss_mb=peak_rss_mb(), config=config, **extra)
    if not isinstance(fits[0], SVMResult):  # the node path's probe summary
        metrics = _summarise(method, seeds, runs, 'per-seed', config,
                             verbose)
        metrics.update(extra, protocol='linear probe, official split',
                       metric=(getattr(data, 'ogb_name', None) and
                               'rocauc') or 'accuracy')
        return metrics
    metrics = base_metrics(method, seeds, runs)
    test = [100 * f.mean for f in fits]
    val = [100 * f.inner_mean for f in fits]
    mean, std = mean_std(test)
    metrics.update(
        val_acc=val, val_acc_mean=sum(val) / len(val), test_acc=test,
        test_acc_mean=mean, test_acc_std=std,
        protocol=f'SVM, {len(fits[0].fold_scores)}-fold stratified CV, C '
        f'by inner CV', metric='accuracy',
        fold_scores=[[100 * s for s in f.fold_scores] for f in fits],
        svm_c=[list(f.chosen_c) for f in fits])
    return dict(metrics, peak_rss_mb=peak_rss_mb(), config=config)
