r"""BGRL's registration: its options, defaults, help and per-dataset
presets, readable without importing PyTorch; the builder is
:func:`graphcl.models.bgrl.build_bgrl`, imported on first use."""
from .registry import MethodSpec

__all__ = ['BGRL_DEFAULTS', 'LR_SCHEDULES', 'OPTIMIZERS', 'METHOD']

#: The learning-rate schedules :class:`~graphcl.models.bgrl.BGRL` knows.
LR_SCHEDULES = ('cosine', 'constant')

#: The optimisers :class:`~graphcl.models.bgrl.BGRL` trains with:
#: ``'adamw'`` (decoupled weight decay, the reference code's) or ``'adam'``
#: (weight decay as an L2 term, the engine's default for other methods).
OPTIMIZERS = ('adamw', 'adam')

#: The reference code's Amazon-Computers configuration (its defaults for a
#: dataset it has no configuration for).
BGRL_DEFAULTS = dict(
    hidden=256, out_channels=128, layers=2, pred_hidden=512,
    edge_drop_1=0.5, edge_drop_2=0.4, feature_mask_1=0.2,
    feature_mask_2=0.1, momentum=0.99, lr_warmup=0.1, lr_schedule='cosine',
    bn_momentum=0.99, optimizer='adamw',
)


def _preset(hidden, out_channels, e1, f1, e2, f2, lr):
    # config/<dataset>.cfg: graph_encoder_layer (hidden, out_channels),
    # drop_edge_p_1, drop_feat_p_1, drop_edge_p_2, drop_feat_p_2, lr; all
    # four train 10,000 epochs with a 1,000-epoch warm-up, mm 0.99,
    # weight decay 1e-5 and a 512-wide predictor.
    return dict(hidden=hidden, out_channels=out_channels, edge_drop_1=e1,
                feature_mask_1=f1, edge_drop_2=e2, feature_mask_2=f2, lr=lr,
                epochs=10000, weight_decay=1e-5, patience=0, keep='last')


#: BGRL's registration (``'bgrl'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'bgrl', 'graphcl.models.bgrl:build_bgrl', BGRL_DEFAULTS,
    description='BGRL: Large-Scale Representation Learning on Graphs via '
    'Bootstrapping (Thakoor et al., ICLR 2022)',
    source="BGRL's official code, github.com/nerdslab/bgrl: config/"
    "amazon-computers.cfg, amazon-photos.cfg, coauthor-cs.cfg, "
    "coauthor-physics.cfg (widths, view rates, lr), train_transductive.py "
    "(10,000 epochs, 1,000 warm-up epochs, momentum 0.99, AdamW with "
    "weight decay 1e-5) and bgrl/models.py (GCN, batch norm momentum 0.99, PReLU)",
    help=dict(
        hidden='width of the inner GCN layers',
        out_channels='embedding width D (the last GCN layer)',
        layers='number of GCN layers (with --batch-size: one per fan-out)',
        pred_hidden="hidden width of the predictor MLP",
        edge_drop_1='edge dropping rate of view 1, in [0, 1]',
        edge_drop_2='edge dropping rate of view 2, in [0, 1]',
        feature_mask_1='feature masking rate of view 1, in [0, 1]',
        feature_mask_2='feature masking rate of view 2, in [0, 1]',
        momentum="the target's initial moving-average momentum, in [0, 1] "
        "(rises to 1 on a cosine over the run)",
        lr_warmup="the learning rate's linear warm-up, a fraction of the "
        "run's steps, in [0, 1)",
        lr_schedule="'cosine' (warm-up, then cosine decay to 0) or "
        "'constant'",
        bn_momentum="batch norm's running-statistics momentum (PyTorch's "
        "convention: the newest batch's weight), in [0, 1]",
        optimizer="'adamw' (decoupled weight decay, as the reference code's "
        "AdamW) or 'adam' (weight decay as an L2 term)",
    ),
    # BGRL trains a fixed number of epochs (no early stopping) and
    # evaluates the last state (train_transductive.py).
    train=dict(epochs=10000, patience=0, lr=5e-4, weight_decay=1e-5,
               keep='last'),
    presets={
        'Amazon-Computers': _preset(256, 128, 0.5, 0.2, 0.4, 0.1, 5e-4),
        'Amazon-Photo': _preset(256, 128, 0.4, 0.1, 0.1, 0.2, 1e-4),
        'Coauthor-CS': _preset(512, 256, 0.3, 0.3, 0.2, 0.4, 1e-5),
        'Coauthor-Physics': _preset(256, 128, 0.4, 0.1, 0.1, 0.4, 1e-5),
    },
    minibatch=True,
    memory='graphcl.models.bgrl_memory:bgrl_memory',
)
