r"""DGI's registration: its options, defaults and help, readable without
importing PyTorch (``graphcl train dgi --help`` answers at once); the
builder is :func:`graphcl.models.dgi_builder.build_dgi`, imported on first
use."""
from .registry import MethodSpec

__all__ = ['DGI_DEFAULTS', 'METHOD']

DGI_DEFAULTS = dict(
    encoder='gcn', hidden=512, layers=1, act='prelu', readout='sigmoid_mean',
    corruption='shuffle', discriminator='bilinear', disc_init='xavier',
    loss='jsd',
)

METHOD = MethodSpec(
    'dgi', 'graphcl.models.dgi_builder:build_dgi', DGI_DEFAULTS,
    description='Deep Graph Infomax (Veličković et al., ICLR 2019)',
    source="DGI paper and reference code (github.com/PetarV-/DGI)",
    help=dict(
        encoder='gcn, sage, gat or gin (with --batch-size: sage)',
        hidden='embedding width',
        layers='number of encoder layers (with --batch-size: one per '
        'fan-out)',
        act='activation after every layer (prelu, relu, elu, ...)',
        readout='summary readout (sigmoid_mean, mean, sum, max, attention)',
        corruption='corruption name(s), comma-separated (shuffle, '
        'edge_drop, feature_mask, node_drop, feature_noise)',
        discriminator='bilinear or dot',
        disc_init="initialisation of the bilinear critic: as DGI's "
        "reference code (xavier) or as PyG (pyg)",
        loss='jsd, infonce, triplet or dv',
    ),
    minibatch=True,
    minibatch_defaults=dict(encoder='sage'),
    memory='graphcl.memory:dgi_memory',
)
