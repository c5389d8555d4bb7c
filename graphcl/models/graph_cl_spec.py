r"""GraphCL's registration: its options, defaults, help and per-dataset
augmentations, readable without importing PyTorch; the builder is
:func:`graphcl.models.graph_cl.build_graphcl`, imported on first use."""
from .registry import MethodSpec

__all__ = ['GRAPHCL_DEFAULTS', 'METHOD']

GRAPHCL_DEFAULTS = dict(
    hidden=32, layers=3, aug1='none', aug2='random2', aug_ratio=0.1,
    subgraph_ratio=0.2, add_edges=True, tau=0.2,
)

#: The second view per dataset (the first is the graph itself, as in the
#: reference's unsupervised TU code): node dropping or subgraph
#: (``random2``) for molecules, the author's rule for biochemical graphs;
#: all four augmentations (``random4``) for the dense social graphs of
#: IMDB-BINARY, where the paper finds edge perturbation and attribute
#: masking help.
_AUG2 = {
    'MUTAG': 'random2', 'PROTEINS': 'random2', 'NCI1': 'random2',
    'IMDB-BINARY': 'random4', 'ogbg-molbace': 'random2',
    'ogbg-molbbbp': 'random2',
}

#: GraphCL's registration (``'graphcl'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'graphcl', 'graphcl.models.graph_cl:build_graphcl', GRAPHCL_DEFAULTS,
    description='GraphCL: Graph Contrastive Learning with Augmentations '
    '(You et al., NeurIPS 2020)',
    source="GraphCL's official code, github.com/Shen-Lab/GraphCL "
    "unsupervised_TU/: go.sh (--lr 0.01 --num-gc-layers 3), arguments.py "
    "(hidden 32), gsimclr.py (20 epochs, batch size 128, Adam, T = 0.2, "
    "projection head, the first view the graph itself), aug.py (ratios "
    "0.1 and 0.2), README.md (random2/3/4 pools); per-dataset pools: "
    "random2 (node dropping, subgraph) for molecules as the author states "
    "in GraphCL issue 57, random4 for IMDB-BINARY after the paper's "
    "Sec. 4.2 (edge perturbation and attribute masking help social, "
    "denser graphs)",
    help=dict(
        hidden='width of every GIN layer (the graph embedding is '
        'layers x hidden wide)',
        layers='number of GIN layers, each sum-pooled and concatenated',
        aug1="augmentation of view 1: none, dnodes, pedges, subgraph, "
        "mask_nodes, random2, random3, random4",
        aug2='augmentation of view 2 (same names)',
        aug_ratio='share of each graph\'s nodes (edges) dropped, '
        'perturbed or masked, in [0, 1]',
        subgraph_ratio='the subgraph keeps int(ratio * n) + 1 nodes of '
        'each n-node graph',
        add_edges='edge perturbation adds as many random edges as it '
        'removes',
        tau='temperature of the NT-Xent loss, > 0',
    ),
    # A fixed schedule, the last state evaluated, as the reference does.
    train=dict(epochs=20, patience=0, lr=0.01, weight_decay=0.0,
               keep='last', batch_size=128),
    presets={name: dict(aug2=aug) for name, aug in _AUG2.items()},
    level='graph',
)
