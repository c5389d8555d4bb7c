r"""Evaluation protocols on frozen embeddings."""
from .linear_probe import LogisticRegression, ProbeResult, linear_probe
from .selection import select_pooled

__all__ = ['LogisticRegression', 'ProbeResult', 'linear_probe',
           'select_pooled']
