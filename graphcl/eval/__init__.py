r"""Evaluation protocols on frozen embeddings."""
from .linear_probe import ABSOLUTE_WEIGHT_DECAYS, DEFAULT_WEIGHT_DECAYS, \
    PROBE_PROTOCOL, LogisticRegression, ProbeResult, linear_probe
from .selection import select_pooled
from .svm import SVM_C_GRID, SVMResult, svm_cross_validation
from .graph_probe import graph_linear_probe

__all__ = ['LogisticRegression', 'ProbeResult', 'linear_probe',
           'select_pooled', 'SVMResult', 'SVM_C_GRID', 'svm_cross_validation',
           'graph_linear_probe', 'DEFAULT_WEIGHT_DECAYS',
           'ABSOLUTE_WEIGHT_DECAYS', 'PROBE_PROTOCOL']
