r"""Training any :class:`~graphcl.models.GraphMethod` on neighbour-sampled
mini-batches: the seed-node encoder shared by the methods'
``minibatch_objective`` and the module the engine trains (and wraps in
:class:`~torch.nn.parallel.DistributedDataParallel` under ``torchrun``)."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Module

from .base import GraphMethod

__all__ = ['MiniBatchTrainer', 'encode_seeds', 'sampled_hops']

Hops = Optional[Tuple[List[int], List[int]]]


def sampled_hops(batch) -> Hops:
    r"""``(num_sampled_nodes, num_sampled_edges)`` of a sampled batch, or
    :obj:`None` when it does not carry them."""
    nodes = getattr(batch, 'num_sampled_nodes', None)
    edges = getattr(batch, 'num_sampled_edges', None)
    if nodes is None or edges is None:
        return None
    return nodes, edges


def encode_seeds(encoder: Module, x: Tensor, edge_index: Tensor,
                 batch_size: int, hops: Hops = None,
                 edge_weight: Optional[Tensor] = None,
                 trim: bool = True) -> Tensor:
    r"""Embeddings ``[batch_size, D]`` of the seed nodes (the first
    :obj:`batch_size` rows of :obj:`x`) of a sampled subgraph.

    With a :class:`~graphcl.nn.GNNEncoder` and the per-hop counts
    :obj:`hops` (see :func:`sampled_hops`), layer :math:`l` only runs on
    the nodes still needed by the seeds
    (:func:`torch_geometric.utils.trim_to_layer`); the result is the same.
    """
    can_trim = (trim and hops is not None and hasattr(encoder, 'layer')
                and len(hops[1]) == getattr(encoder, 'num_layers', -1))
    if not can_trim:
        args = (x, edge_index) if edge_weight is None else \
            (x, edge_index, edge_weight)
        return encoder(*args)[:batch_size]
    from torch_geometric.utils import trim_to_layer
    num_nodes, num_edges = hops
    for i in range(encoder.num_layers):
        x, edge_index, edge_weight = trim_to_layer(
            i, num_nodes, num_edges, x, edge_index, edge_weight)
        x = encoder.layer(i, x, edge_index, edge_weight)
    return x[:batch_size]


class MiniBatchTrainer(Module):
    r"""The module the engine trains in mini-batch mode: its
    :meth:`forward` is the method's
    :meth:`~graphcl.models.GraphMethod.minibatch_objective` (so it can be
    wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`) and
    :meth:`embed` computes full-graph embeddings of the method's encoder by
    :func:`graphcl.inference.layerwise_inference` (memory bounded by the
    chunk size, not the graph).

    Args:
        method (GraphMethod): The method trained; its parameters are
            shared.
        inference_batch_size (int, optional): Chunk size of :meth:`embed`.
            (default: ``4096``)

    Shapes:
        - **input:** a sampled batch with ``x`` ``[|S|, F]``,
          ``edge_index`` ``[2, |E_S|]`` and ``batch_size`` (seeds first)
        - **output:** the scalar loss
    """
    def __init__(self, method: GraphMethod,
                 inference_batch_size: int = 4096):
        super().__init__()
        if not isinstance(method, GraphMethod):
            raise TypeError(f"{type(self).__name__} trains a GraphMethod, "
                            f"got {type(method).__name__}")
        if not method.supports_minibatch:
            raise ValueError(
                f"{type(method).__name__} cannot be trained on sampled "
                f"mini-batches; drop --batch-size to train full batch")
        self.method = method
        self.inference_batch_size = inference_batch_size

    @property
    def encoder(self) -> Module:
        return self.method.encoder

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        self.method.reset_parameters()

    def forward(self, batch) -> Tensor:
        r"""The method's loss on one sampled mini-batch."""
        return self.method.minibatch_objective(batch)

    def objective(self, batch) -> Tensor:
        r"""Alias of :meth:`forward`."""
        return self(batch)

    def on_step(self) -> None:
        self.method.on_step()

    @torch.no_grad()
    def embed(self, data, batch_size: Optional[int] = None, csc=None,
              progress: bool = False) -> Tensor:
        r"""Frozen embeddings ``[N, D]`` of every node of :obj:`data`, by
        layer-wise inference."""
        from ..inference import layerwise_inference
        return layerwise_inference(
            self.method.encoder, data,
            batch_size or self.inference_batch_size, csc=csc,
            progress=progress)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.method!r})'
