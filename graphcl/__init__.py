r"""graphcl: graph self-supervised learning for PyTorch Geometric.

Deep Graph Infomax assembled from PyG modules (corruptions, encoders,
readouts, discriminators, mutual-information losses), a fast full-batch path,
mini-batch and multi-process training, offline dataset loaders, and a linear
probe evaluation protocol.

The names below are imported on first use (:pep:`562`), so that
``import graphcl`` and ``graphcl --help`` cost no PyTorch import;
``from graphcl import DeepGraphInfomax`` works as usual.
"""
import importlib
from typing import TYPE_CHECKING, Any, List

__version__ = '0.1.0'

#: Public names and the submodule each comes from.
_EXPORTS = {
    'Compose': 'corruptions', 'Corruption': 'corruptions',
    'EdgeDrop': 'corruptions', 'FeatureMask': 'corruptions',
    'FeatureNoise': 'corruptions', 'FeatureShuffle': 'corruptions',
    'NodeDrop': 'corruptions', 'RandomChoice': 'corruptions',
    'get_corruption': 'corruptions',
    'list_datasets': 'data', 'load_dataset': 'data',
    'load_graph_dataset': 'data', 'random_node_split': 'data',
    'linear_probe': 'eval',
    'run_experiment': 'experiment',
    'DonskerVaradhanLoss': 'losses', 'InfoNCELoss': 'losses',
    'JSDLoss': 'losses', 'NTXentLoss': 'losses',
    'TripletMarginLoss': 'losses', 'get_loss': 'losses',
    'DeepGraphInfomax': 'models', 'GraphMethod': 'models',
    'MethodSpec': 'models', 'build_method': 'models',
    'list_methods': 'models', 'register_method': 'models',
    'AttentionReadout': 'nn', 'BilinearDiscriminator': 'nn',
    'DotDiscriminator': 'nn', 'GATEncoder': 'nn', 'GCNEncoder': 'nn',
    'GINEncoder': 'nn', 'MaxReadout': 'nn', 'MeanReadout': 'nn',
    'ProjectionHead': 'nn', 'SAGEEncoder': 'nn', 'SigmoidMeanReadout': 'nn',
    'SumReadout': 'nn',
    'pretrain': 'train',
}

#: Subpackages listed by ``dir(graphcl)`` (every submodule is reachable as
#: an attribute, imported on first access).
_SUBMODULES = ('corruptions', 'data', 'eval', 'losses', 'models', 'nn')

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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f'.{_EXPORTS[name]}', __name__)
        value = getattr(module, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if not name.startswith('__'):  # a submodule: graphcl.data, graphcl.train
        try:
            return importlib.import_module(f'.{name}', __name__)
        except ModuleNotFoundError as e:
            if e.name != f'{__name__}.{name}':
                raise  # a missing dependency of that submodule
    raise AttributeError(f"module 'graphcl' has no attribute '{name}'")


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


if TYPE_CHECKING:  # what type checkers and IDEs see
    from . import corruptions, data, eval, losses, models, nn  # noqa: F401
    from .corruptions import (Compose, Corruption, EdgeDrop,  # noqa: F401
                              FeatureMask, FeatureNoise, FeatureShuffle,
                              NodeDrop, RandomChoice, get_corruption)
    from .data import (list_datasets, load_dataset,  # noqa: F401
                       load_graph_dataset, random_node_split)
    from .eval import linear_probe  # noqa: F401
    from .experiment import run_experiment  # noqa: F401
    from .losses import (DonskerVaradhanLoss, InfoNCELoss,  # noqa: F401
                         JSDLoss, NTXentLoss, TripletMarginLoss, get_loss)
    from .models import (DeepGraphInfomax, GraphMethod,  # noqa: F401
                         MethodSpec, build_method, list_methods,
                         register_method)
    from .nn import (AttentionReadout, BilinearDiscriminator,  # noqa: F401
                     DotDiscriminator, GATEncoder, GCNEncoder, GINEncoder,
                     MaxReadout, MeanReadout, ProjectionHead, SAGEEncoder,
                     SigmoidMeanReadout, SumReadout)
    from .train import pretrain  # noqa: F401
