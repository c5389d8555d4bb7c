r"""MVGRL's registration: its options, defaults, help and per-dataset
presets, readable without importing PyTorch; the builder is
:func:`graphcl.models.mvgrl.build_mvgrl`, imported on first use."""
from .registry import MethodSpec

__all__ = ['MVGRL_DEFAULTS', 'METHOD']

MVGRL_DEFAULTS = dict(
    hidden=512, act='prelu', alpha=0.2, diffusion='auto', eps=0.0, topk=64,
    diffusion_scale='none', exact_max_nodes=5000, ppr_tol=1e-4,
)

#: MVGRL's registration (``'mvgrl'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'mvgrl', 'graphcl.models.mvgrl:build_mvgrl', MVGRL_DEFAULTS,
    description='MVGRL: Contrastive Multi-View Representation Learning on '
    'Graphs (Hassani and Khasahmadi, ICML 2020)',
    source="MVGRL's official code (github.com/kavehhassani/mvgrl: "
    "node/train.py, node/dataset.py, utils.py: 512 channels, alpha 0.2, "
    "lr 0.001, patience 20; CiteSeer's diffusion thresholded and min-max "
    "scaled) and DGL's full-graph reproduction (github.com/dmlc/dgl, "
    "examples/pytorch/mvgrl/node/main.py and README: 500 epochs; CiteSeer "
    "epsilon 0.01, weight decay 0.001, 200 epochs)",
    help=dict(
        hidden='embedding width D of both views',
        act='activation of both GCN encoders (prelu, relu, ...)',
        alpha='PPR teleport probability, in (0, 1)',
        diffusion='auto (exact up to --exact-max-nodes nodes, sparse '
        'approximation above), exact (dense N x N) or approx',
        eps='drop diffusion entries below this (>= 0; CiteSeer 0.01)',
        topk='diffusion entries kept per node by the sparse approximation',
        diffusion_scale='none, or minmax (each column of the diffusion '
        'scaled to [0, 1], as MVGRL on CiteSeer)',
        exact_max_nodes='largest graph diffused exactly by '
        '--diffusion auto',
        ppr_tol='error bound per entry of the sparse approximation (> 0)',
    ),
    # node/train.py and DGL's main.py: lr 0.001, no weight decay, early
    # stopping after 20 epochs without a lower loss; DGL: 500 epochs.
    train=dict(epochs=500, patience=20, lr=1e-3, weight_decay=0.0,
               keep='best'),
    presets={
        'Cora': dict(epochs=500, patience=20, lr=1e-3, weight_decay=0.0,
                     alpha=0.2, eps=0.0, diffusion_scale='none'),
        # node/dataset.py: CiteSeer's diffusion thresholded (DGL: 0.01)
        # and min-max scaled per column; DGL's README command: --wd1
        # 0.001 --epochs 200.
        'CiteSeer': dict(epochs=200, patience=20, lr=1e-3,
                         weight_decay=1e-3, alpha=0.2, eps=0.01,
                         diffusion_scale='minmax'),
    },
    minibatch=False,
    memory='graphcl.models.mvgrl:mvgrl_memory',
)
