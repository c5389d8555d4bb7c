r"""BGRL's memory hook (``MethodSpec.memory``), for the estimate checked
before full-batch training (:mod:`graphcl.memory`)."""
from typing import Any, Dict

from torch.nn import Module

from ..memory import (FLOAT, INDEX, Breakdown, GraphStats, Layer,
                      MethodMemory, csr_bytes, encoder_layers, larger,
                      plain_inference, plain_training, probe_bytes)
from ..sampling.features import SPARSE_DENSITY

__all__ = ['bgrl_memory']


def _fast(model: Module) -> bool:
    # Whether objective() takes the CSR path for a plain (x, edge_index)
    # view, asked of the model's encoders (the input checks pass for the
    # graphs the engine trains on).
    from .gcn_views import _encoder_refusal
    encoders = (getattr(model, 'encoder', None),
                getattr(model, 'target_encoder', None))
    return getattr(model, 'fast_path', False) and all(
        e is not None and _encoder_refusal(e) is None for e in encoders)


def bgrl_memory(stats: GraphStats, options: Dict[str, Any],
                model: Module) -> MethodMemory:
    r"""BGRL (:mod:`graphcl.models.bgrl`): two views, each a masked copy
    of the features (where its rate is above 0) and its kept edges, run
    through the online encoder with autograd and the target encoder
    without; the predictor on both online embeddings.

    * **fast path** (:mod:`graphcl.models.gcn_views`, the default): per
      view the normalised adjacency and its transpose (CSR,
      :math:`E' = pE + N` non-zeros each); per online layer and view three
      :math:`(N, c)` tensors kept (the propagated rows, batch norm's
      output, PReLU's output), no per-edge messages. Features at most
      10 % non-zero are cached as CSR rows, and the views' masked copies
      (with the transposes the first layer's backward builds) are CSR.
    * **plain path**: :func:`~graphcl.memory.plain_training` over the two
      views (PyG's per-edge messages), as for GRACE.

    Both add the predictor's kept rows (two :math:`(N, P)` and one
    :math:`(N, D)` per view) and the two target embeddings."""
    n = stats.num_nodes
    layers = encoder_layers(model) or [Layer(stats.num_features,
                                             int(options['out_channels']),
                                             int(options['out_channels']))]
    d = layers[-1].c_out
    p = int(options.get('pred_hidden') or d)
    keep = [1.0 - float(options.get(f'edge_drop_{v}') or 0.0)
            for v in (1, 2)]
    masked = sum(1 for v in (1, 2)
                 if float(options.get(f'feature_mask_{v}') or 0.0) > 0)
    head = {'predictor (2 views: 2 x N x P + N x D)':
            2 * n * (2 * p + d) * FLOAT,
            'target embeddings (2 x N x D)': 2 * n * d * FLOAT}
    widest = max(layer.c_out for layer in layers)
    nd = n * widest * FLOAT
    constants = Breakdown()
    if _fast(model):
        training = Breakdown()
        if stats.sparse_features or stats.density <= SPARSE_DENSITY:
            nnz = stats.feature_nnz
            constants.add('features as CSR rows (cache)', csr_bytes(n, nnz))
            training.add('masked copies of the CSR rows and their '
                         'transposes (first layer backward)',
                         2 * masked * csr_bytes(n, nnz), nnz * INDEX)
        else:
            training.add('corrupted copies of the features',
                         masked * stats.feature_bytes(),
                         n * stats.num_features * FLOAT)
        edges = [int(stats.num_edges * k) + n for k in keep]
        training.add('normalised adjacency and transpose per view (CSR)',
                     sum(2 * csr_bytes(n, e) for e in edges),
                     max(edges) * INDEX)
        training.add('edges of the views',
                     sum(2 * int(stats.num_edges * k) * INDEX for k in keep),
                     stats.num_edges * INDEX)
        training.add(f'online activations (3 x N x c per layer, '
                     f'{len(layers)} layers x 2 views)',
                     2 * sum(3 * n * layer.c_out * FLOAT
                             for layer in layers), nd)
        for label, nbytes in head.items():
            training.add(label, nbytes, nd)
        training.add('gradients of one layer (4 x N x D)', 4 * nd, nd)
    else:
        training = plain_training(stats, layers, views=2,
                                  feature_copies=masked, edge_keep=keep,
                                  saved=head)
    embedding = larger(plain_inference(stats, layers), probe_bytes(stats, d))
    return MethodMemory(constants, training, embedding)
