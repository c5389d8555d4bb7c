r"""``graphcl probe``: the linear probe (:func:`graphcl.eval.linear_probe`)
on saved embeddings, with the dataset's labels and split.

.. code-block:: bash

    graphcl probe --embeddings runs/cora/embeddings.pt --dataset Cora
    graphcl probe --embeddings z.npy --dataset my_graph.pt --out probe.json

For a run folder's ``embeddings.pt`` (the run's first seed) the numbers
equal those the run reported for that seed: the same protocol on the same
split (random splits are drawn from the seed; ``--split-seed`` defaults to
the run's first seed when the file sits in a run folder)."""
import argparse
import json
from pathlib import Path

from .common import (add_common, add_out, apply_threads, check_dataset_name,
                     check_suffix, say)

__all__ = ['add_parser', 'run', 'load_embeddings']


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        'probe', help='linear probe on saved embeddings',
        description="Fit the linear probe (logistic regression, weight decay "
        "chosen on the validation split) on saved node embeddings and "
        "report its validation and test accuracy, as graphcl train does for "
        "each seed.")
    p.add_argument('--embeddings', required=True, metavar='FILE',
                   help='embeddings [num_nodes, dim]: .pt (a torch tensor) '
                   'or .npy, row i = node i (graphcl train --out DIR writes '
                   'DIR/embeddings.pt, graphcl embed writes either)')
    p.add_argument('--dataset', required=True,
                   help='the labelled graph: dataset name or a saved PyG '
                   'Data file (.pt)')
    p.add_argument('--root', default=None,
                   help='data root (default: $GRAPHCL_DATA, then ./datasets)')
    p.add_argument('--split-seed', type=int, default=None, metavar='SEED',
                   help="seed of the dataset's random split, for datasets "
                   "without a fixed one (default: the run's first seed when "
                   "FILE is in a run folder, else 0)")
    add_out(p, 'also write the result as JSON (val_acc, test_acc, '
            'weight_decay, grid: the fields of the run\'s seeds/seed_N.json '
            'probe entry)', metavar='FILE')
    add_common(p)
    p.set_defaults(func=run)
    return p


def load_embeddings(path):
    r"""Reads a ``[num_nodes, dim]`` embedding matrix from a ``.pt`` file
    (loaded with ``weights_only=True``) or a ``.npy`` file."""
    import torch
    path = Path(path)
    suffix = check_suffix(str(path), ('.pt', '.npy'), '--embeddings')
    if not path.is_file():
        raise ValueError(f"The embeddings file '{path}' does not exist")
    try:
        if suffix == '.pt':
            z = torch.load(path, map_location='cpu', weights_only=True)
        else:
            import numpy as np
            z = np.load(path, allow_pickle=False)
            if not z.dtype.isnative:  # e.g. big-endian '>f4' from another
                z = z.astype(z.dtype.newbyteorder('='))  # machine
            z = torch.from_numpy(z)
    except Exception as e:  # noqa: BLE001 (any unreadable file)
        raise ValueError(f"'{path}' is unreadable ({type(e).__name__}: "
                         f"{e})") from None
    if not torch.is_tensor(z) or z.dim() != 2:
        what = (f'a tensor of shape {tuple(z.shape)}' if torch.is_tensor(z)
                else type(z).__name__)
        raise ValueError(f"'{path}' holds {what}, not embeddings "
                         f"[num_nodes, dim]")
    return z


def _run_seed(path: Path):
    # The first seed of the run whose folder holds the embeddings file.
    run_file = path.parent / 'run.json'
    if path.name != 'embeddings.pt' or not run_file.is_file():
        return None
    try:
        seeds = json.loads(run_file.read_text())['config']['seeds']
        return int(seeds[0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def run(args) -> int:
    if args.out is not None:
        check_suffix(args.out, ('.json', ), '--out')
    path = Path(args.embeddings)
    check_dataset_name(args.dataset)
    apply_threads(args)
    z = load_embeddings(path)
    seed = args.split_seed
    if seed is None:
        seed = _run_seed(path)
        if seed is not None:
            say(f"split seed {seed}: the first seed of the run in "
                f"'{path.parent}'")
        else:
            seed = 0
    from ..experiment import _dataset_level
    if _dataset_level(args.dataset) == 'graph':
        return _probe_graphs(args, z, path, seed)
    from ..data import check_node_data, load_dataset
    from ..eval import PROBE_PROTOCOL, linear_probe
    from ..runner import resolve_device
    data = load_dataset(args.dataset, root=args.root, seed=seed)
    if getattr(data, 'y', None) is None:
        raise ValueError(f"The graph '{args.dataset}' has no labels "
                         f"(data.y): there is nothing to probe")
    if z.size(0) != data.num_nodes:
        raise ValueError(f"'{path}' holds {z.size(0)} rows but the graph "
                         f"has {data.num_nodes} nodes; the embeddings are of "
                         f"another graph")
    check_node_data(data, require_labels=True, require_splits=True)
    metric = None
    if getattr(data, 'ogb_name', None):
        from ..data import ogb_node_metric
        metric = ogb_node_metric(data.ogb_name)
    dev = resolve_device(args.device)
    fit = linear_probe(z.to(dev), data.y.to(dev), data.train_mask.to(dev),
                       data.val_mask.to(dev), data.test_mask.to(dev),
                       metric=metric)
    name = getattr(data, 'name', None) or args.dataset
    print(f"linear probe on {name} (split: "
          f"{getattr(data, 'split', 'given masks')}): validation accuracy "
          f"{100 * fit.val_acc:.2f} %, test accuracy "
          f"{100 * fit.test_acc:.2f} % (weight decay {fit.weight_decay:g} "
          f"on the embeddings divided by their rms entry, {fit.scale:.3g})")
    if args.out is not None:
        from ..atomic import atomic_write_json
        atomic_write_json(args.out, dict(
            embeddings=str(path), dataset=name,
            split=getattr(data, 'split', None), split_seed=seed,
            val_acc=fit.val_acc, test_acc=fit.test_acc,
            weight_decay=fit.weight_decay, grid=[list(g) for g in fit.grid],
            scale=fit.scale, protocol=PROBE_PROTOCOL))
        print(f"wrote {args.out}")
    return 0


def _probe_graphs(args, z, path, seed) -> int:
    # Graph embeddings: the graph-level protocol (SVM under 10-fold CV for
    # TU datasets, the linear probe on OGB's split), as graphcl train ran it.
    from ..data.graphs import load_graphs
    from ..eval import SVMResult
    from ..experiment_graph import evaluate_graphs
    data = load_graphs(args.dataset, root=args.root)
    if z.dim() != 2 or z.size(0) != len(data):
        raise ValueError(f"'{path}' holds {tuple(z.shape)} but "
                         f"{data.name} has {len(data)} graphs; the "
                         f"embeddings are of another dataset")
    fit = evaluate_graphs(z, data, seed=seed)
    if isinstance(fit, SVMResult):
        print(f"SVM on {data.name} (10-fold stratified CV, seed {seed}): "
              f"accuracy {100 * fit.mean:.2f} ± {100 * fit.std:.2f} % "
              f"over folds")
        record = dict(fold_scores=list(fit.fold_scores),
                      chosen_c=list(fit.chosen_c), test_acc=fit.mean)
    else:
        print(f"linear probe on {data.name} (official split): validation "
              f"{100 * fit.val_acc:.2f}, test {100 * fit.test_acc:.2f} "
              f"(weight decay {fit.weight_decay:g})")
        record = dict(val_acc=fit.val_acc, test_acc=fit.test_acc,
                      weight_decay=fit.weight_decay)
    if args.out is not None:
        from ..atomic import atomic_write_json
        atomic_write_json(args.out, dict(embeddings=str(path),
                                         dataset=data.name, split_seed=seed,
                                         **record))
        print(f"wrote {args.out}")
    return 0
