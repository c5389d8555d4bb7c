r"""Methods by name: how the CLI and benchmarks build a model from options.

A method is a :class:`torch.nn.Module` with ``objective(data) -> loss`` and
``embed(data) -> embeddings``; :data:`METHODS` maps its name to a builder
``build(in_channels, **options)`` and its default options.
"""
from typing import Any, Callable, Dict, Tuple

from torch.nn import Module

__all__ = ['METHODS', 'build_method', 'method_defaults', 'register_method']

METHODS: Dict[str, Tuple[Callable[..., Module], Dict[str, Any]]] = {}


def register_method(name: str, defaults: Dict[str, Any]):
    r"""Decorator registering ``build(in_channels, **options)`` under
    :obj:`name` with its default options."""
    def wrap(fn):
        METHODS[name] = (fn, dict(defaults))
        return fn
    return wrap


def _lookup(name: str):
    key = name.lower()
    if key not in METHODS:
        raise ValueError(f"Unknown method '{name}'; choose one of "
                         f"{sorted(METHODS)}")
    return METHODS[key]


def method_defaults(name: str) -> Dict[str, Any]:
    r"""The default options of method :obj:`name`."""
    return dict(_lookup(name)[1])


def build_method(name: str, in_channels: int, **options: Any) -> Module:
    r"""Builds method :obj:`name` for inputs with :obj:`in_channels`
    features; unknown option names raise :class:`ValueError`."""
    build, defaults = _lookup(name)
    unknown = set(options) - set(defaults)
    if unknown:
        raise ValueError(f"Unknown option(s) {sorted(unknown)} for method "
                         f"'{name}'; known: {sorted(defaults)}")
    return build(in_channels, **{**defaults, **options})


from . import dgi_builder  # noqa: E402,F401  (registers 'dgi')
