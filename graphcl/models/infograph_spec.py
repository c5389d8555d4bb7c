r"""InfoGraph's registration: its options, defaults and source, readable
without importing PyTorch; the builder is
:func:`graphcl.models.infograph.build_infograph`, imported on first use."""
from .registry import MethodSpec

__all__ = ['INFOGRAPH_DEFAULTS', 'METHOD']

INFOGRAPH_DEFAULTS = dict(hidden=32, layers=3, readout='sum')

#: InfoGraph's registration (``'infograph'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'infograph', 'graphcl.models.infograph:build_infograph',
    INFOGRAPH_DEFAULTS,
    description='InfoGraph: unsupervised graph-level representations by '
    'local-global mutual information (Sun et al., ICLR 2020)',
    source="InfoGraph's official code, github.com/fanyun-sun/InfoGraph "
    "unsupervised/: main.py (20 epochs, batch size 128, Adam, the "
    "local-global JSD loss without the prior), arguments.py (hidden 32), "
    "README.md's command (--lr 0.001 --num-gc-layers 3), gin.py (the "
    "encoder)",
    help=dict(
        hidden='width D of every GIN layer (the graph embedding is '
        'layers x D wide)',
        layers='number of GIN layers, each sum-pooled and concatenated',
        readout="pooling of every layer's nodes per graph (sum, mean, max)",
    ),
    # A fixed schedule: no early stopping, the last state kept.
    train=dict(epochs=20, patience=0, lr=1e-3, weight_decay=0.0,
               keep='last', batch_size=128),
    level='graph',
)
