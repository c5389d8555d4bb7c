r"""CCA-SSG's registration: its options, defaults, help and per-dataset
presets, readable without importing PyTorch; the builder is
:func:`graphcl.models.cca_ssg.build_cca_ssg`, imported on first use."""
from .registry import MethodSpec

__all__ = ['CCA_SSG_DEFAULTS', 'METHOD']

#: main.py's defaults (hid_dim = out_dim = 512, n_layers 2, der 0.2,
#: dfr 0.2, lambd 1e-3).
CCA_SSG_DEFAULTS = dict(
    encoder='gcn', hidden=512, layers=2, act='relu', edge_drop=0.2,
    feature_mask=0.2, lambd=1e-3,
)


def _preset(epochs, lambd, feature_mask, edge_drop=0.2, layers=2,
            encoder='gcn'):
    # The README's command: --epochs, --lambd, --dfr, --der, --n_layers,
    # --use_mlp (the --lr2/--wd2 there are its probe's, not training's).
    return dict(epochs=epochs, lambd=lambd, feature_mask=feature_mask,
                edge_drop=edge_drop, layers=layers, encoder=encoder)


#: CCA-SSG's registration (``'cca_ssg'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'cca_ssg', 'graphcl.models.cca_ssg:build_cca_ssg', CCA_SSG_DEFAULTS,
    description='CCA-SSG: From Canonical Correlation Analysis to '
    'Self-supervised Graph Neural Networks (Zhang et al., NeurIPS 2021)',
    source="CCA-SSG's official code, github.com/hengruizhang98/CCA-SSG: "
    "main.py's defaults and the README's command per dataset",
    help=dict(
        encoder="gcn (GCN layers, no activation after the last) or mlp "
        "(Linear-BatchNorm-ReLU-Linear, ignores the graph)",
        hidden='width of every layer (the embedding width)',
        layers='number of GCN layers (with --batch-size: one per '
        'fan-out); the MLP has 2',
        act='activation between layers (relu, prelu, elu, ...)',
        edge_drop='rate of edges dropped in each view, in [0, 1]',
        feature_mask='rate of feature columns masked in each view, in '
        '[0, 1]',
        lambd='weight of the decorrelation term, >= 0',
    ),
    # main.py: Adam (lr1 1e-3, wd1 0) for a fixed number of epochs, then
    # the last state is embedded.
    train=dict(epochs=100, patience=0, lr=1e-3, weight_decay=0.0,
               keep='last'),
    presets={
        'Cora': _preset(50, 1e-3, 0.1, 0.4),
        'CiteSeer': _preset(20, 5e-4, 0.0, 0.4, layers=1),
        'PubMed': _preset(100, 1e-3, 0.3, 0.5),
        'Amazon-Computers': _preset(50, 5e-4, 0.1, 0.3),
        'Amazon-Photo': _preset(50, 1e-3, 0.2, 0.3),
        'Coauthor-CS': _preset(50, 1e-3, 0.2, encoder='mlp'),
        'Coauthor-Physics': _preset(100, 1e-3, 0.5, 0.5),
    },
    minibatch=True,
    memory='graphcl.memory:cca_ssg_memory',
)
