r"""SimCLR, CPC and Deep InfoMax for images and sequences, sharing graphcl's
losses (:mod:`graphcl.losses`): the non-graph methods that DGI-style graph
methods are compared against.

Example::

    from graphcl.adapters import (ConvEncoder, SimCLR, default_augmentation,
                                  load_digits, pretrain)
    data = load_digits()
    model = SimCLR(ConvEncoder(), default_augmentation(data.x_train))
    pretrain(model, data.x_train, epochs=100)
    features = model.embed(data.x_test)
"""
from ..nn.heads import ProjectionHead  # SimCLR's head: one class for all
from .augment import (BatchAugmentation, Compose, GaussianNoise, PerSample,
                      RandomAffine, RandomErasing, RandomFlip,
                      RandomResizedCrop, default_augmentation, make_generator)
from .base import SelfSupervisedMethod
from .cpc import CPC
from .data import (DATASETS, Splits, as_loader, load_dataset, load_digits,
                   load_mnist1d, load_mnist5k)
from .dim import DeepInfoMax, GlobalCritic, LocalCritic
from .encoders import (ConvEncoder, ConvGRUEncoder, SequenceEncoder,
                       SplitEncoder, default_encoder)
from .experiment import METHODS, build_method, run_experiment
from .probe import few_label_indices, knn_probe, linear_probe, probe_all
from .simclr import SimCLR
from .train import PretrainResult, pretrain

__all__ = [
    'BatchAugmentation', 'Compose', 'GaussianNoise', 'PerSample',
    'RandomAffine', 'RandomErasing', 'RandomFlip', 'RandomResizedCrop',
    'default_augmentation', 'make_generator', 'SelfSupervisedMethod', 'CPC',
    'DATASETS', 'Splits', 'as_loader', 'load_dataset', 'load_digits',
    'load_mnist1d', 'load_mnist5k', 'DeepInfoMax', 'GlobalCritic',
    'LocalCritic', 'ConvEncoder', 'ConvGRUEncoder', 'SequenceEncoder',
    'SplitEncoder', 'default_encoder', 'METHODS', 'build_method',
    'run_experiment', 'few_label_indices', 'knn_probe', 'linear_probe',
    'probe_all', 'ProjectionHead', 'SimCLR', 'PretrainResult', 'pretrain'
]
