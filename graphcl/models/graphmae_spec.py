r"""GraphMAE's registration: its options, defaults, help and per-dataset
presets, readable without importing PyTorch; the builder is
:func:`graphcl.models.graphmae.build_graphmae`, imported on first use."""
from .registry import MethodSpec

__all__ = ['GRAPHMAE_DEFAULTS', 'METHOD']

#: configs.yml's Cora settings (those not given there are main_transductive
#: defaults: negative_slope 0.2, no norm, no residual).
GRAPHMAE_DEFAULTS = dict(
    hidden=512, heads=4, layers=2, act='prelu', in_drop=0.2, attn_drop=0.1,
    norm='none', residual=False, negative_slope=0.2, mask_rate=0.5,
    replace_rate=0.05, alpha=3.0, edge_drop=0.0, lr_schedule='cosine',
)

_SOURCE = ("GraphMAE's official code, github.com/THUDM/GraphMAE: configs.yml "
           "(Cora, CiteSeer, PubMed, ogbn-arxiv; what it leaves out are the "
           "defaults of graphmae/utils.py build_args: one decoder head, "
           "negative slope 0.2, no norm, no residual), "
           "graphmae/models/edcoder.py and graphmae/models/gat.py")


def _preset(epochs, weight_decay, **options):
    # configs.yml: Adam at lr 0.001 with a cosine decay to 0 over max_epoch
    # (scheduler: True), the final state kept.
    return dict(epochs=epochs, patience=0, lr=1e-3,
                weight_decay=weight_decay, keep='last', **options)


#: GraphMAE's registration (``'graphmae'`` in
#: :data:`~graphcl.models.registry.BUILTIN_METHODS`).
METHOD = MethodSpec(
    'graphmae', 'graphcl.models.graphmae:build_graphmae', GRAPHMAE_DEFAULTS,
    description='GraphMAE: Self-Supervised Masked Graph Autoencoders (Hou '
    'et al., KDD 2022)',
    source=_SOURCE,
    help=dict(
        hidden='embedding width D (all heads together)',
        heads='attention heads of every encoder layer (each D / heads '
        'wide); the decoder has one',
        layers='GAT layers of the encoder (the decoder has one)',
        act='activation after every encoder layer (prelu: one slope per '
        'layer, relu, elu, ...)',
        in_drop='dropout on every GAT layer\'s input, in [0, 1)',
        attn_drop='dropout on the attention coefficients, in [0, 1)',
        norm='none, layernorm or batchnorm after every encoder layer',
        residual='residual projection in every encoder layer',
        negative_slope='LeakyReLU slope of the attention logits',
        mask_rate='share of nodes masked each step, in (0, 1)',
        replace_rate='share of masked nodes given a random node\'s '
        'features instead of the mask token, in [0, 1)',
        alpha='exponent of the scaled cosine error, > 0',
        edge_drop='share of edges dropped from the encoder\'s graph each '
        'step, in [0, 1]',
        lr_schedule='cosine (decay to 0 over the run, as the code\'s '
        'scheduler) or constant',
    ),
    # The code evaluates the final state: keep='last'.
    train=dict(epochs=1500, patience=0, lr=1e-3, weight_decay=2e-4,
               keep='last'),
    presets={
        'Cora': _preset(1500, 2e-4),
        'CiteSeer': _preset(300, 2e-5, heads=2, replace_rate=0.1,
                            alpha=1.0),
        'PubMed': _preset(1000, 1e-5, hidden=1024, mask_rate=0.75,
                          replace_rate=0.0),
        'ogbn-arxiv': _preset(1000, 0.0, hidden=1024, layers=3,
                              edge_drop=0.5, replace_rate=0.0,
                              norm='layernorm'),
    },
    minibatch=False,
    memory='graphcl.models.graphmae:graphmae_memory',
)
