r"""Building blocks: encoders, readouts, discriminators, heads, and
:class:`PReLU` (PyTorch's, with a faster CPU backward)."""
from .activations import PReLU, prelu
from .encoders import (GNNEncoder, GCNEncoder, SAGEEncoder, GATEncoder,
                       GINEncoder, get_encoder)
from .readouts import (Readout, SigmoidMeanReadout, MeanReadout, SumReadout,
                       MaxReadout, AttentionReadout, get_readout)
from .discriminators import (Discriminator, BilinearDiscriminator,
                             DotDiscriminator, get_discriminator)
from .heads import ProjectionHead
from .mlp_encoder import MLPEncoder
from .graph_encoder import GraphEncoder

__all__ = [
    'GNNEncoder', 'GCNEncoder', 'SAGEEncoder', 'GATEncoder', 'GINEncoder',
    'get_encoder', 'Readout', 'SigmoidMeanReadout', 'MeanReadout',
    'SumReadout', 'MaxReadout', 'AttentionReadout', 'get_readout',
    'Discriminator', 'BilinearDiscriminator', 'DotDiscriminator',
    'get_discriminator', 'ProjectionHead', 'MLPEncoder', 'PReLU', 'prelu',
    'GraphEncoder'
]
