r"""graphcl: graph self-supervised learning for PyTorch Geometric.

Deep Graph Infomax assembled from PyG modules (corruptions, encoders,
readouts, discriminators, mutual-information losses), a fast full-batch path,
mini-batch and multi-process training, offline dataset loaders, and a linear
probe evaluation protocol.
"""
__version__ = '0.1.0'

from . import corruptions, data, eval, losses, models, nn  # noqa: F401
from .corruptions import (Compose, Corruption, EdgeDrop, FeatureMask,
                          FeatureNoise, FeatureShuffle, NodeDrop,
                          RandomChoice, get_corruption)
from .data import (list_datasets, load_dataset, load_graph_dataset,
                   random_node_split)
from .eval import linear_probe
from .experiment import run_experiment
from .losses import (DonskerVaradhanLoss, InfoNCELoss, JSDLoss, NTXentLoss,
                     TripletMarginLoss, get_loss)
from .models import (DeepGraphInfomax, GraphMethod, MethodSpec, build_method,
                     list_methods, register_method)
from .nn import (AttentionReadout, BilinearDiscriminator, DotDiscriminator,
                 GATEncoder, GCNEncoder, GINEncoder, MaxReadout, MeanReadout,
                 ProjectionHead, SAGEEncoder, SigmoidMeanReadout, SumReadout)
from .train import pretrain

__all__ = [
    'DeepGraphInfomax', 'GraphMethod', 'MethodSpec', 'register_method',
    'list_methods', 'build_method', 'run_experiment', 'pretrain',
    'linear_probe', 'load_dataset', 'load_graph_dataset', 'list_datasets',
    'random_node_split', 'Corruption', 'FeatureShuffle', 'EdgeDrop',
    'FeatureMask', 'NodeDrop', 'FeatureNoise', 'Compose', 'RandomChoice',
    'get_corruption', 'GCNEncoder', 'SAGEEncoder', 'GATEncoder', 'GINEncoder',
    'SigmoidMeanReadout', 'MeanReadout', 'SumReadout', 'MaxReadout',
    'AttentionReadout', 'BilinearDiscriminator', 'DotDiscriminator',
    'ProjectionHead', 'JSDLoss', 'InfoNCELoss', 'TripletMarginLoss',
    'DonskerVaradhanLoss', 'NTXentLoss', 'get_loss'
]
