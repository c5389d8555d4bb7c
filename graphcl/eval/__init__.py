r"""Evaluation protocols on frozen embeddings."""
from .linear_probe import LogisticRegression, ProbeResult, linear_probe

__all__ = ['LogisticRegression', 'ProbeResult', 'linear_probe']
