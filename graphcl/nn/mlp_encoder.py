r"""An encoder that reads the features alone: the graph-free baseline and
CCA-SSG's encoder on Coauthor-CS."""
from typing import Callable, Optional, Union

from torch import Tensor

from .heads import ProjectionHead

__all__ = ['MLPEncoder']


class MLPEncoder(ProjectionHead):
    r"""A two-layer MLP on the node features that takes the encoder call
    ``(x, edge_index[, edge_weight])`` and ignores the graph:

    .. math::
        \mathbf{H} = \sigma\left(\mathrm{BN}(\mathbf{X} \mathbf{W}_1 +
        \mathbf{b}_1)\right) \mathbf{W}_2 + \mathbf{b}_2

    (CCA-SSG's ``MLP`` with ``use_bn=True``; a
    :class:`~graphcl.nn.ProjectionHead` with batch norm.) In training mode
    the batch norm normalises with the statistics of the rows it is given,
    in eval mode with its running ones.

    Args:
        in_channels (int): Input feature width :math:`F`.
        hidden_channels (int): Hidden width.
        out_channels (int): Embedding width :math:`D`.
        act (str or callable, optional): Activation. (default: ``'relu'``)
        batch_norm (bool, optional): Batch norm after the first layer.
            (default: ``True``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)` (unused), optional edge weights (unused)
        - **output:** node embeddings :math:`(N, D)`
    """
    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, act: Union[str, Callable] = 'relu',
                 batch_norm: bool = True):
        super().__init__(in_channels, hidden_channels, out_channels, act=act,
                         batch_norm=batch_norm)

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        return super().forward(x)
