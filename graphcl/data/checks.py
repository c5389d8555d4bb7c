r"""Validation of node-level graphs before training: re-exported from
:mod:`graphcl.validation`, where every check lives."""
from ..validation import check_node_data

__all__ = ['check_node_data']
