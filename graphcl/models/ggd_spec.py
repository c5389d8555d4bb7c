r"""GGD's registration: its options, defaults, help and per-dataset
presets, readable without importing PyTorch; the builder is
:func:`graphcl.models.ggd.build_ggd`, imported on first use."""
from .registry import MethodSpec

__all__ = ['GGD_DEFAULTS', 'METHOD']

GGD_DEFAULTS = dict(
    encoder='gcn', hidden=512, layers=1, act='prelu', proj_layers=1,
    feature_mask=0.2, edge_drop=0.0, power=5,
)


_CITATION = "GGD-citation/execute.py"
_AMCO = "GGD-amco/train_coauthor.py"


def _amco(hidden, lr, epochs):
    # train_coauthor.py: early stopping after 500 epochs without a lower
    # loss, feature dropping 0.2 and power 10 (both fixed in the code).
    return dict(hidden=hidden, lr=lr, epochs=epochs, patience=500,
                weight_decay=0.0, power=10, feature_mask=0.2)


#: GGD's registration (``'ggd'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'ggd', 'graphcl.models.ggd:build_ggd', GGD_DEFAULTS,
    description='GGD: Graph Group Discrimination (Zheng et al., NeurIPS '
    '2022)',
    source="GGD's official code, github.com/zyzisastudyreallyhardguy/"
    f"Graph-Group-Discrimination: {_CITATION} (Cora, CiteSeer, PubMed), "
    f"{_AMCO} with the README's commands (Amazon-Computers, Amazon-Photo) "
    "and its defaults (Coauthor-CS, Coauthor-Physics)",
    help=dict(
        encoder='gcn (the paper), sage, gat or gin',
        hidden='embedding width',
        layers='number of encoder layers',
        act='activation after every layer (prelu, relu, elu, ...)',
        proj_layers='linear layers of the projector (no activation '
        'between them, as in the paper)',
        feature_mask='rate of feature columns dropped each step, in [0, 1]',
        edge_drop='rate of edges dropped each step, in [0, 1] (the '
        "official code drops none)",
        power='propagation power n of the global embedding A^n H '
        '(>= 0); the probe sees H + A^n H',
    ),
    # execute.py: 500 epochs, patience 500 (never reached): no early
    # stopping, the lowest-loss state kept.
    train=dict(epochs=500, patience=0, lr=1e-3, weight_decay=0.0),
    presets={
        'Cora': dict(epochs=500, patience=0, lr=1e-3, hidden=512, power=5),
        'CiteSeer': dict(epochs=500, patience=0, lr=1e-3, hidden=512,
                         power=5),
        'PubMed': dict(epochs=500, patience=0, lr=1e-3, hidden=512,
                       power=5),
        'Amazon-Photo': _amco(512, 5e-4, 2000),
        'Amazon-Computers': _amco(1024, 1e-4, 1500),
        'Coauthor-CS': _amco(512, 1e-3, 500),
        'Coauthor-Physics': _amco(512, 1e-3, 500),
    },
    minibatch=False,
    memory='graphcl.memory:ggd_memory',
)
