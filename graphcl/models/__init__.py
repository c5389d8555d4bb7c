r"""Self-supervised methods: one file per method, registered by name."""
from .base import GraphMethod, encoder_inputs
from .dgi import DeepGraphInfomax
from .registry import (METHODS, MethodSpec, build_method, get_method,
                       list_methods, method_defaults, method_settings,
                       register_method)

__all__ = ['GraphMethod', 'encoder_inputs', 'DeepGraphInfomax', 'METHODS',
           'MethodSpec', 'build_method', 'get_method', 'list_methods',
           'method_defaults', 'method_settings', 'register_method']
