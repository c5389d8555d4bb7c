r"""Self-supervised methods: one file per method, registered by name."""
from .dgi import DeepGraphInfomax
from .registry import METHODS, build_method, method_defaults

__all__ = ['DeepGraphInfomax', 'METHODS', 'build_method', 'method_defaults']
