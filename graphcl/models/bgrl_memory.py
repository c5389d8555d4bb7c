r"""BGRL's memory hook (``MethodSpec.memory``), for the estimate checked
before full-batch training (:mod:`graphcl.memory`)."""
from typing import Any, Dict

from torch.nn import Module

from ..memory import (FLOAT, GraphStats, Layer, MethodMemory,
                      encoder_layers, fast_inference, gcn_views_memory,
                      gcn_views_path, larger, plain_inference,
                      plain_training, probe_bytes)

__all__ = ['bgrl_memory']


def _fast(model: Module) -> bool:
    # Whether objective() takes the CSR path for a plain (x, edge_index)
    # view, asked of the model's online and target encoders.
    return gcn_views_path(model, 'encoder', 'target_encoder')


def bgrl_memory(stats: GraphStats, options: Dict[str, Any],
                model: Module) -> MethodMemory:
    r"""BGRL (:mod:`graphcl.models.bgrl`): two views, each a masked copy
    of the features (where its rate is above 0) and its kept edges, run
    through the online encoder with autograd and the target encoder
    without; the predictor on both online embeddings.

    * **fast path** (:mod:`graphcl.models.gcn_views`, the default):
      :func:`~graphcl.memory.gcn_views_memory`, shared with GRACE: per
      view the normalised adjacency and its transpose (CSR,
      :math:`E' = pE + N` non-zeros each); per online layer and view three
      :math:`(N, c)` tensors kept (the propagated rows, batch norm's
      output, PReLU's output), no per-edge messages. Features at most
      10 % non-zero are cached as CSR rows, and the views' masked copies
      (with the transposes the first layer's backward builds) are CSR.
    * **plain path**: :func:`~graphcl.memory.plain_training` over the two
      views (PyG's per-edge messages), as for GRACE.

    Both add the predictor's kept rows (two :math:`(N, P)` and one
    :math:`(N, D)` per view) and the two target embeddings. The
    embeddings: :func:`~graphcl.memory.fast_inference` on the fast path,
    :func:`~graphcl.memory.plain_inference` otherwise."""
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
    fast = _fast(model)
    if fast:
        # The online encoder's layers keep three (N, c) each: the
        # propagated rows, batch norm's output and PReLU's output.
        constants, training = gcn_views_memory(
            stats, layers, keep, masked, tensors_per_layer=3,
            prefix='online ')
        for label, nbytes in head.items():
            training.add(label, nbytes, nd)
        training.add('gradients of one layer (4 x N x D)', 4 * nd, nd)
    else:
        constants = {}
        training = plain_training(stats, layers, views=2,
                                  feature_copies=masked, edge_keep=keep,
                                  saved=head)
    encode = fast_inference(stats, layers) if fast else \
        plain_inference(stats, layers)
    embedding = larger(encode, probe_bytes(stats, d))
    return MethodMemory(constants, training, embedding)
