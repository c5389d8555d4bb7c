r"""GRACE's registration: its options, defaults, help and per-dataset
presets, readable without importing PyTorch; the builder is
:func:`graphcl.models.grace.build_grace`, imported on first use."""
from .registry import MethodSpec

__all__ = ['GRACE_DEFAULTS', 'METHOD']

GRACE_DEFAULTS = dict(
    hidden=128, proj_hidden=128, layers=2, act='relu', edge_drop_1=0.2,
    edge_drop_2=0.4, feature_mask_1=0.3, feature_mask_2=0.4, tau=0.4,
    block_size=512,
)


def _gca(computers, photo, cs, physics):
    return {'Amazon-Computers': computers, 'Amazon-Photo': photo,
            'Coauthor-CS': cs, 'Coauthor-Physics': physics}


def _preset(hidden, proj_hidden, act, e1, e2, f1, f2, tau, lr, epochs):
    return dict(hidden=hidden, proj_hidden=proj_hidden, act=act,
                edge_drop_1=e1, edge_drop_2=e2, feature_mask_1=f1,
                feature_mask_2=f2, tau=tau, lr=lr, weight_decay=1e-5,
                epochs=epochs, patience=0, keep='last')


#: GRACE's registration (``'grace'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'grace', 'graphcl.models.grace:build_grace', GRACE_DEFAULTS,
    description='GRACE: Deep Graph Contrastive Representation Learning '
    '(Zhu et al., 2020)',
    source="GRACE's config.yaml (github.com/CRIPAC-DIG/GRACE: Cora, "
    "CiteSeer) and GCA's param/*.json (github.com/CRIPAC-DIG/GCA: "
    "Amazon-Computers, Amazon-Photo, Coauthor-CS, Coauthor-Physics)",
    help=dict(
        hidden='embedding width D (inner GCN layers are 2D wide)',
        proj_hidden='hidden width of the projection head',
        layers='number of GCN layers (with --batch-size: one per fan-out)',
        act='activation after every GCN layer (relu, prelu, rrelu, elu, '
        '...)',
        edge_drop_1='edge dropping rate of view 1, in [0, 1]',
        edge_drop_2='edge dropping rate of view 2, in [0, 1]',
        feature_mask_1='feature masking rate of view 1, in [0, 1]',
        feature_mask_2='feature masking rate of view 2, in [0, 1]',
        tau='temperature of the NT-Xent loss, > 0',
        block_size='rows per block of the loss (memory O(N D + block N)); '
        '0: one dense 2N x 2N matrix',
    ),
    # GRACE trains a fixed number of epochs (no early stopping) and
    # evaluates the last state (train.py, then test()).
    train=dict(epochs=200, patience=0, lr=5e-4, weight_decay=1e-5,
               keep='last'),
    presets={
        'Cora': _preset(128, 128, 'relu', 0.2, 0.4, 0.3, 0.4, 0.4, 5e-4,
                        200),
        'CiteSeer': _preset(256, 256, 'prelu', 0.2, 0.0, 0.3, 0.2, 0.9,
                            1e-3, 200),
        **_gca(
            _preset(128, 128, 'rrelu', 0.6, 0.3, 0.2, 0.3, 0.2, 0.01, 2000),
            _preset(256, 64, 'relu', 0.3, 0.5, 0.1, 0.1, 0.3, 0.1, 2000),
            _preset(256, 256, 'rrelu', 0.3, 0.2, 0.3, 0.4, 0.4, 5e-4, 1000),
            _preset(128, 64, 'rrelu', 0.4, 0.1, 0.1, 0.4, 0.5, 0.01, 1500),
        ),
    },
    minibatch=True,
    memory='graphcl.memory:grace_memory',
)
