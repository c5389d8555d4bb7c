r"""Mini-batch Deep Graph Infomax on neighbour-sampled subgraphs, the
large-graph setup of the DGI paper (Reddit, PPI), built from the parts of a
:class:`~graphcl.models.DeepGraphInfomax`."""
from typing import List, Optional

import torch
from torch import Tensor
from torch.nn import Module

from .dgi import DeepGraphInfomax

__all__ = ['MiniBatchDGI']


class MiniBatchDGI(Module):
    r"""Trains a :class:`~graphcl.models.DeepGraphInfomax` on mini-batches
    of seed nodes :math:`\mathcal{B}` with their sampled :math:`L`-hop
    neighbourhoods (a :class:`~torch_geometric.data.Data` from
    :func:`graphcl.sampling.neighbor_loader`), as in the DGI paper's
    large-graph experiments (`Veličković et al., 2019
    <https://arxiv.org/abs/1809.10341>`_, Sec. 4.3):

    .. math::
        \mathbf{Z}_\mathcal{B} = \mathcal{E}(\mathbf{X}_\mathcal{S},
        \mathbf{A}_\mathcal{S})_\mathcal{B}, \quad
        \tilde{\mathbf{Z}}_\mathcal{B} = \mathcal{E}(\mathcal{C}(
        \mathbf{X}_\mathcal{S}, \mathbf{A}_\mathcal{S}))_\mathcal{B}, \quad
        \mathbf{s}_\mathcal{B} = \mathcal{R}(\mathbf{Z}_\mathcal{B})

    .. math::
        \mathcal{L}_\mathcal{B} = -\frac{1}{|\mathcal{B}|}
        \sum_{i \in \mathcal{B}} \left[\log \sigma(\mathcal{D}(\mathbf{z}_i,
        \mathbf{s}_\mathcal{B})) + \log(1 - \sigma(\mathcal{D}(
        \tilde{\mathbf{z}}_i, \mathbf{s}_\mathcal{B})))\right]

    where :math:`\mathcal{S} \supseteq \mathcal{B}` is the sampled subgraph:
    the corruption :math:`\mathcal{C}` (the DGI model's, a row shuffle of
    the subgraph's features by default) acts on the whole subgraph, and the
    summary :math:`\mathbf{s}_\mathcal{B}` (the DGI model's readout,
    :math:`\sigma(\mathrm{mean})` by default) and the loss use the seed
    nodes only. Encoder, readout, corruption, discriminator and loss are
    those of the wrapped model, whose parameters this module shares.

    With a :class:`~graphcl.nn.GNNEncoder` and batches that carry
    ``num_sampled_nodes``/``num_sampled_edges``, layer :math:`l` only runs
    on the nodes still needed by the seeds
    (:func:`torch_geometric.utils.trim_to_layer`).

    :meth:`forward` (= :meth:`objective`) returns the loss, so the module
    can be wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`;
    :meth:`embed` computes full-graph embeddings with
    :func:`graphcl.inference.layerwise_inference`.

    Args:
        dgi (DeepGraphInfomax): The model whose parts are trained.
        trim (bool, optional): Trim each layer's input to the nodes it
            needs. (default: :obj:`True`)
        inference_batch_size (int, optional): Chunk size of :meth:`embed`.
            (default: ``4096``)

    Shapes:
        - **input:** a batch with ``x`` ``[|S|, F]``, ``edge_index``
          ``[2, |E_S|]`` and ``batch_size`` :math:`|\mathcal{B}|` (the
          seeds are its first rows)
        - **output:** the scalar loss
    """
    def __init__(self, dgi: DeepGraphInfomax, trim: bool = True,
                 inference_batch_size: int = 4096):
        super().__init__()
        if not isinstance(dgi, DeepGraphInfomax):
            raise TypeError(f"MiniBatchDGI wraps a DeepGraphInfomax, got "
                            f"{type(dgi).__name__}")
        self.dgi = dgi
        self.trim = trim
        self.inference_batch_size = inference_batch_size

    @property
    def encoder(self) -> Module:
        return self.dgi.encoder

    @property
    def hidden_channels(self) -> int:
        return self.dgi.hidden_channels

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        self.dgi.reset_parameters()

    def encode(self, x: Tensor, edge_index: Tensor, batch_size: int,
               num_sampled_nodes: Optional[List[int]] = None,
               num_sampled_edges: Optional[List[int]] = None,
               edge_weight: Optional[Tensor] = None) -> Tensor:
        r"""Embeddings ``[batch_size, D]`` of the seed nodes (the first
        :obj:`batch_size` rows of :obj:`x`)."""
        enc = self.dgi.encoder
        trim = (self.trim and num_sampled_nodes is not None
                and num_sampled_edges is not None and hasattr(enc, 'layer')
                and len(num_sampled_edges) == getattr(enc, 'num_layers', -1))
        if not trim:
            args = (x, edge_index) if edge_weight is None else \
                (x, edge_index, edge_weight)
            return enc(*args)[:batch_size]
        from torch_geometric.utils import trim_to_layer
        for i in range(enc.num_layers):
            x, edge_index, edge_weight = trim_to_layer(
                i, num_sampled_nodes, num_sampled_edges, x, edge_index,
                edge_weight)
            x = enc.layer(i, x, edge_index, edge_weight)
        return x[:batch_size]

    def forward(self, batch) -> Tensor:
        r"""The DGI loss of one sampled mini-batch."""
        batch_size = int(getattr(batch, 'batch_size', batch.num_nodes))
        x, edge_index = batch.x, batch.edge_index
        edge_weight = getattr(batch, 'edge_weight', None)
        hops = (getattr(batch, 'num_sampled_nodes', None),
                getattr(batch, 'num_sampled_edges', None))
        pos_z = self.encode(x, edge_index, batch_size, *hops, edge_weight)
        if not self.dgi._checked:
            self.dgi._check_width(tuple(pos_z.shape))

        args = (x, edge_index) if edge_weight is None else \
            (x, edge_index, edge_weight)
        cor = self.dgi.corruption(*args)
        cor = cor if isinstance(cor, tuple) else (cor, )
        cor_x, cor_edge_index = cor[0], cor[1] if len(cor) > 1 else edge_index
        cor_weight = cor[2] if len(cor) > 2 else edge_weight
        if cor_x.size(0) != x.size(0):
            raise ValueError(
                f"The corruption changed the number of nodes ({x.size(0)} -> "
                f"{cor_x.size(0)}); mini-batch DGI needs the seed nodes to "
                f"stay the first rows: use a corruption that keeps nodes "
                f"(e.g. 'shuffle', 'feature_mask', 'edge_drop')")
        same_edges = cor_edge_index is edge_index
        neg_z = self.encode(cor_x, cor_edge_index, batch_size,
                            *(hops if same_edges else (None, None)),
                            cor_weight)
        summary = self.dgi.summary(pos_z)
        return self.dgi.loss(pos_z, neg_z, summary)

    def objective(self, batch) -> Tensor:
        r"""Alias of :meth:`forward`, the method interface of
        :func:`graphcl.train.pretrain`."""
        return self(batch)

    @torch.no_grad()
    def embed(self, data, batch_size: Optional[int] = None, csc=None,
              progress: bool = False) -> Tensor:
        r"""Frozen embeddings ``[N, D]`` of every node of the full graph
        :obj:`data`, by layer-wise inference (memory bounded by
        :obj:`batch_size`, default :obj:`inference_batch_size`)."""
        from ..inference import layerwise_inference
        return layerwise_inference(
            self.dgi.encoder, data,
            batch_size or self.inference_batch_size, csc=csc,
            progress=progress)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.dgi!r})'
