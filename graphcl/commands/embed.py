r"""``graphcl embed``: applies a saved run's encoder to a graph and writes
the node embeddings.

.. code-block:: bash

    graphcl embed --encoder runs/cora --dataset my_graph.pt --out z.npy
    graphcl embed --encoder runs/arxiv --dataset ogbn-arxiv --out z \
        --batch-size 4096

The run folder (``graphcl train ... --out DIR``) holds ``model.json`` (the
method, its options and the feature width it was trained on) and
``encoder.pt`` (the encoder's weights, read with ``weights_only=True``).
The method is rebuilt from ``model.json``, the weights are loaded, the
graph's features are normalised as the run's were, and the embeddings are
computed full batch (the method's own ``embed``) or, with ``--batch-size``,
by layer-wise inference (:func:`graphcl.inference.layerwise_inference`,
memory bounded by the batch size).

Row ``i`` of the output is node ``i`` of the graph as
:func:`graphcl.data.load_dataset` loads it: the order of ``data.x`` in a
saved ``Data`` file, of ``G.nodes`` for a networkx graph converted by
:func:`graphcl.data.from_networkx`, and PyG's/OGB's node order for a
registered dataset.
"""
import argparse
import json
from pathlib import Path
from typing import Any, Dict, Tuple

from .common import (add_common, add_out, apply_threads, check_dataset_name,
                     check_suffix, say)

__all__ = ['add_parser', 'run', 'load_run_model', 'EMBEDDING_SUFFIXES']

#: File types ``--out`` writes (a path without a suffix writes both).
EMBEDDING_SUFFIXES = ('.pt', '.npy')

MODEL_FILE = 'model.json'
ENCODER_FILE = 'encoder.pt'


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        'embed', help="apply a saved run's encoder to a graph",
        description="Apply the encoder of a run folder (graphcl train ... "
        "--out DIR) to a graph with the same feature width, and write the "
        "node embeddings [num_nodes, dim]: row i is node i of the graph "
        "(the order of data.x in a saved Data file, of G.nodes for a "
        "networkx graph, PyG's order for a registered dataset).")
    p.add_argument('--encoder', required=True, metavar='RUN_DIR',
                   help='run folder holding model.json and encoder.pt (or '
                   'the path of its encoder.pt)')
    p.add_argument('--dataset', required=True,
                   help='dataset name or a saved PyG Data file (.pt)')
    p.add_argument('--root', default=None,
                   help='data root (default: $GRAPHCL_DATA, then ./datasets)')
    add_out(p, 'where to write the embeddings: PATH.pt (a torch tensor), '
            'PATH.npy (a NumPy array), or PATH without a suffix for both',
            metavar='PATH', required=True)
    p.add_argument('--batch-size', type=int, default=None,
                   help='layer-wise inference over chunks of this many nodes '
                   '(memory follows the chunk, not the graph; methods whose '
                   'embedding is the encoder output) (default: full batch); '
                   'for a graph-level run, graphs per batch (default: 512)')
    add_common(p)
    p.set_defaults(func=run)
    return p


def _read_json(path: Path, what: str) -> Dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"'{path}' ({what}) is unreadable: {e}") from None
    if not isinstance(value, dict):
        raise ValueError(f"'{path}' ({what}) does not hold a JSON object")
    return value


def load_run_model(run_dir) -> Tuple[Any, Dict[str, Any]]:
    r"""Rebuilds the method a run folder saved (``model.json``) with its
    encoder's weights (``encoder.pt``, loaded with ``weights_only=True``);
    returns ``(model, record)``. A missing or inconsistent file raises a
    :class:`ValueError` naming it."""
    run_dir = Path(run_dir)
    if run_dir.name == ENCODER_FILE and run_dir.is_file():
        run_dir = run_dir.parent
    if not run_dir.is_dir():
        raise ValueError(f"--encoder '{run_dir}' is not a run folder; give "
                         f"the --out folder of a graphcl train run")
    model_file, encoder_file = run_dir / MODEL_FILE, run_dir / ENCODER_FILE
    for f, what in ((model_file, "the method, its options and its feature "
                     "width"), (encoder_file, "the encoder's weights")):
        if not f.is_file():
            raise ValueError(
                f"The run folder '{run_dir}' has no {f.name} ({what}); it is "
                f"written when the first seed of graphcl train --out ends "
                f"(runs from before model.json existed need training again)")
    record = _read_json(model_file, 'the saved model')
    missing = [k for k in ('method', 'in_channels', 'options',
                           'normalize_features') if k not in record]
    if missing or not isinstance(record.get('options'), dict):
        raise ValueError(f"'{model_file}' lacks {missing or ['options']}; "
                         f"it is not a graphcl model record")
    run_file = run_dir / 'run.json'
    if run_file.is_file():
        config = _read_json(run_file, 'the run status').get('config', {})
        if config.get('method', record['method']) != record['method']:
            raise ValueError(
                f"'{model_file}' is from method '{record['method']}' but "
                f"'{run_file}' from '{config['method']}': the folder mixes "
                f"two runs; train again into an empty --out")
    from ..models.registry import build_method, get_method
    try:
        get_method(record['method'])
    except ValueError as e:
        raise ValueError(f"'{model_file}': {e}") from None
    import torch
    try:
        state = torch.load(encoder_file, map_location='cpu',
                           weights_only=True)
    except Exception as e:  # noqa: BLE001 (any unreadable file)
        raise ValueError(f"'{encoder_file}' is unreadable "
                         f"({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or not all(
            torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"'{encoder_file}' does not hold an encoder's "
                         f"weights (a state dict of tensors)")
    model = build_method(record['method'], int(record['in_channels']),
                         **record['options'])
    try:
        model.encoder.load_state_dict(state)
    except RuntimeError as e:
        detail = ' '.join(str(e).split())
        raise ValueError(
            f"'{encoder_file}' does not hold the encoder of method "
            f"'{record['method']}' with the options of '{model_file}' "
            f"({detail[:300]}); the two files are from different runs") \
            from None
    model.eval()
    return model, record


def _outputs(out: str):
    suffix = check_suffix(out, EMBEDDING_SUFFIXES, '--out', allow_none=True)
    path = Path(out)
    if suffix:
        return [path]
    return [path.with_name(path.name + s) for s in EMBEDDING_SUFFIXES]


def run(args) -> int:
    outputs = _outputs(args.out)  # bad --out fails before any work
    for path in outputs:
        if not path.parent.is_dir():
            raise ValueError(f"--out '{path}': the folder '{path.parent}' "
                             f"does not exist")
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    check_dataset_name(args.dataset)
    apply_threads(args)
    import torch
    from ..experiment import _dense_features, _row_normalize
    from ..runner import resolve_device
    dev = resolve_device(args.device)
    model, record = load_run_model(args.encoder)
    from ..models.registry import get_method
    spec = get_method(record['method'])
    from ..experiment import check_level
    check_level(spec, args.dataset)  # a node run and graphs, or the reverse
    if spec.level == 'graph':
        return _embed_graphs(args, model, record, outputs, dev)
    if args.batch_size is not None and not spec.minibatch:
        raise ValueError(
            f"Method '{spec.name}' embeds with more than its encoder "
            f"(layer-wise inference would not give its embeddings); drop "
            f"--batch-size to embed full batch")
    from ..data import load_dataset
    data = _dense_features(load_dataset(args.dataset, root=args.root),
                           not args.quiet)
    width = int(record['in_channels'])
    if data.num_features != width:
        raise ValueError(
            f"The graph has {data.num_features} features per node but the "
            f"encoder in '{args.encoder}' was trained on {width}; embed a "
            f"graph with the same {width} features (same columns, same "
            f"order)")
    if record['normalize_features']:  # as the run did
        data.x = _row_normalize(data.x.float())
    model = model.to(dev)
    with torch.no_grad():
        if args.batch_size is None:
            z = model.embed(data.to(dev))
        else:
            from ..inference import layerwise_inference
            z = layerwise_inference(model.encoder, data, args.batch_size,
                                    device=dev, progress=not args.quiet)
    _write(z.detach().cpu(), outputs)
    how = ('full batch' if args.batch_size is None else
           f'layer-wise, {args.batch_size} nodes per chunk')
    say(f"{record['method']} encoder from {args.encoder}, {how}; row i = "
        f"node i of {getattr(data, 'name', args.dataset)}")
    print(f"embedded {z.size(0)} nodes into {z.size(1)} dimensions: "
          f"{', '.join(map(str, outputs))}")
    return 0


def _embed_graphs(args, model, record, outputs, dev) -> int:
    # A graph-level run: one embedding per graph of a graph dataset.
    from ..data.graphs import load_graphs
    from ..experiment_graph import EMBED_BATCH_SIZE, embed_graphs
    data = load_graphs(args.dataset, root=args.root)
    width = int(record['in_channels'])
    if data.num_features != width:
        raise ValueError(
            f"The graphs have {data.num_features} features per node but the "
            f"encoder in '{args.encoder}' was trained on {width}; embed "
            f"graphs with the same {width} features")
    z = embed_graphs(model.to(dev), data.graphs, device=dev,
                     batch_size=args.batch_size or EMBED_BATCH_SIZE)
    _write(z, outputs)
    say(f"{record['method']} encoder from {args.encoder}; row i = graph i "
        f"of {data.name}")
    print(f"embedded {z.size(0)} graphs into {z.size(1)} dimensions: "
          f"{', '.join(map(str, outputs))}")
    return 0


def _write(z, outputs):
    from ..atomic import atomic_save, atomic_write
    for path in outputs:
        if path.suffix == '.pt':
            atomic_save(z, path)
        else:
            import numpy as np
            array = z.numpy()
            atomic_write(path, lambda f: np.save(f, array))
