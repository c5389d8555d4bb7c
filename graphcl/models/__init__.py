r"""Self-supervised methods: one file per method, registered by name.

The names below are imported on first use (:pep:`562`): listing the
methods (:func:`list_methods`, ``graphcl train --help``) imports neither
PyTorch nor any method's module."""
import importlib
from typing import TYPE_CHECKING, Any, List

_EXPORTS = {
    'GraphMethod': 'base', 'encoder_inputs': 'base',
    'DeepGraphInfomax': 'dgi',
    'METHODS': 'registry', 'MethodSpec': 'registry',
    'build_method': 'registry', 'get_method': 'registry',
    'list_methods': 'registry', 'method_defaults': 'registry',
    'method_settings': 'registry', 'register_method': 'registry',
}

__all__ = ['GraphMethod', 'encoder_inputs', 'DeepGraphInfomax', 'METHODS',
           'MethodSpec', 'build_method', 'get_method', 'list_methods',
           'method_defaults', 'method_settings', 'register_method']


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f'.{_EXPORTS[name]}', __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    if not name.startswith('__'):  # a submodule: graphcl.models.grace
        try:
            return importlib.import_module(f'.{name}', __name__)
        except ModuleNotFoundError as e:
            if e.name != f'{__name__}.{name}':
                raise
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see
    from .base import GraphMethod, encoder_inputs  # noqa: F401
    from .dgi import DeepGraphInfomax  # noqa: F401
    from .registry import (METHODS, MethodSpec, build_method,  # noqa: F401
                           get_method, list_methods, method_defaults,
                           method_settings, register_method)
