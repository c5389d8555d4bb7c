r"""Methods by name: how the CLI, :func:`graphcl.run_experiment` and the
benchmarks build a method from options.

A method is a :class:`~graphcl.models.GraphMethod` built by a function
``build(in_channels, **options)``. Its :class:`MethodSpec` holds that
function, the method's own options with their defaults and help texts, its
training defaults (epochs, learning rate, ...) and per-dataset presets.

Registration is explicit. The built-in methods are listed in
:data:`BUILTIN_METHODS` (name to module, imported on first use, so naming
them costs no import); your own method is added with
:func:`register_method`:

.. code-block:: python

    from graphcl.models import MethodSpec, register_method
    register_method(MethodSpec('mine', build_mine, defaults=dict(hidden=256)))
"""
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Union

if TYPE_CHECKING:  # no PyTorch import to list methods or show their options
    from torch.nn import Module

__all__ = ['MethodSpec', 'TRAIN_DEFAULTS', 'GRAPH_TRAIN_DEFAULTS',
           'train_setting_defaults', 'KEEP_CHOICES', 'BUILTIN_METHODS', 'METHODS',
           'resolve',
           'register_method', 'get_method', 'list_methods', 'build_method',
           'method_defaults', 'method_settings']

#: What a method embeds: the nodes of one graph, or whole graphs.
LEVELS = ('node', 'graph')

#: Training settings every method has, with the engine's defaults; a method
#: overrides them in :attr:`MethodSpec.train`, a dataset in its presets.
TRAIN_DEFAULTS: Dict[str, Any] = dict(epochs=1000, patience=20, lr=1e-3,
                                      weight_decay=0.0, keep='best')

#: Which state a run keeps at the end of training: the lowest-loss epoch's
#: (DGI's and GGD's reference code) or the last (GRACE's, BGRL's).
KEEP_CHOICES = ('best', 'last')

#: Training settings that graph-level methods have besides
#: :data:`TRAIN_DEFAULTS`: graphs per mini-batch.
GRAPH_TRAIN_DEFAULTS: Dict[str, Any] = dict(batch_size=128)


def train_setting_defaults(level: str = 'node') -> Dict[str, Any]:
    r"""The training settings of a method of :obj:`level` with the
    engine's defaults: :data:`TRAIN_DEFAULTS`, plus
    :data:`GRAPH_TRAIN_DEFAULTS` for graph-level methods."""
    if level == 'graph':
        return {**TRAIN_DEFAULTS, **GRAPH_TRAIN_DEFAULTS}
    return dict(TRAIN_DEFAULTS)


@dataclass
class MethodSpec:
    r"""A registered method.

    Args:
        name (str): The name used by ``graphcl train NAME``.
        build (callable or str): ``build(in_channels, **options)``
            (or its ``'module:function'`` path, imported on first build)
            returning a
            :class:`~graphcl.models.GraphMethod`.
        defaults (dict): The method's own options and their defaults; every
            option ``build`` takes except ``in_channels`` and ``seed``.
        help (dict, optional): Help text per option (shown by
            ``graphcl train NAME --help``).
        train (dict, optional): Overrides of :data:`TRAIN_DEFAULTS`.
        presets (dict, optional): Per-dataset settings, ``{dataset name:
            {option or training setting: value}}``, applied unless the
            user sets the option; ``source`` names where they come from.
        source (str, optional): The paper or code the defaults come from.
        description (str, optional): One line for ``graphcl train --help``.
        minibatch (bool, optional): Whether the method trains on sampled
            mini-batches (``--batch-size``). (default: :obj:`False`)
        minibatch_defaults (dict, optional): Option overrides in mini-batch
            mode (e.g. a GraphSAGE encoder).
        memory (callable or str, optional): ``memory(stats, options,
            model) ->
            MethodMemory``: the method's graph constants and activations
            per layer and view, for the memory estimate checked before
            full-batch training (:mod:`graphcl.memory`). (default:
            :obj:`None`, a conservative generic estimate)
        level (str, optional): What the method embeds: :obj:`"node"`
            (one graph, node embeddings) or :obj:`"graph"` (a dataset of
            graphs, one embedding per graph). (default: :obj:`"node"`)
    """
    name: str
    build: Union[Callable[..., 'Module'], str]
    defaults: Dict[str, Any]
    help: Dict[str, str] = field(default_factory=dict)
    train: Dict[str, Any] = field(default_factory=dict)
    presets: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    source: str = ''
    description: str = ''
    minibatch: bool = False
    minibatch_defaults: Dict[str, Any] = field(default_factory=dict)
    memory: Union[Callable[..., Any], str, None] = None
    level: str = 'node'

    def __post_init__(self):
        self.name = self.name.lower()
        if self.level not in LEVELS:
            raise ValueError(f"Method '{self.name}' has level "
                             f"{self.level!r}; use one of {list(LEVELS)}")
        unknown = set(self.train) - set(train_setting_defaults(self.level))
        if unknown:
            raise ValueError(f"Unknown training setting(s) {sorted(unknown)} "
                             f"for method '{self.name}'; known: "
                             f"{sorted(train_setting_defaults(self.level))}")
        clash = set(self.defaults) & set(train_setting_defaults(self.level))
        if clash:
            raise ValueError(f"Method '{self.name}' names option(s) "
                             f"{sorted(clash)} that are training settings")
        known = set(self.defaults) | set(train_setting_defaults(self.level))
        for dataset, preset in self.presets.items():
            bad = set(preset) - known
            if bad:
                raise ValueError(f"Preset '{dataset}' of method "
                                 f"'{self.name}' sets unknown option(s) "
                                 f"{sorted(bad)}")

    @property
    def train_defaults(self) -> Dict[str, Any]:
        return {**train_setting_defaults(self.level), **self.train}

    def preset(self, dataset: Any) -> Dict[str, Any]:
        r"""The preset of :obj:`dataset` (matched by name, case- and
        punctuation-insensitively), or ``{}``."""
        if not isinstance(dataset, str):
            return {}
        key = _norm(dataset)
        for name, preset in self.presets.items():
            if _norm(name) == key:
                return dict(preset)
        return {}


def resolve(obj: Any) -> Any:
    r"""A callable given as ``'module:attribute'`` (imported on first use,
    so that a spec can name its builder without importing PyTorch), or
    :obj:`obj` itself."""
    if isinstance(obj, str):
        module, _, attr = obj.partition(':')
        return getattr(importlib.import_module(module), attr)
    return obj


def _norm(name: str) -> str:
    return ''.join(c for c in name.lower() if c.isalnum())


#: Built-in methods: name to the module whose ``METHOD`` is its spec.
BUILTIN_METHODS: Dict[str, str] = {
    'bgrl': 'graphcl.models.bgrl_spec',
    'cca_ssg': 'graphcl.models.cca_ssg_spec',
    'dgi': 'graphcl.models.dgi_spec',
    'ggd': 'graphcl.models.ggd_spec',
    'graphmae': 'graphcl.models.graphmae_spec',
    'grace': 'graphcl.models.grace_spec',
    'graphcl': 'graphcl.models.graph_cl_spec',
    'infograph': 'graphcl.models.infograph_spec',
    'mvgrl': 'graphcl.models.mvgrl_spec',
}

#: Methods registered so far (built-ins are added on first lookup).
METHODS: Dict[str, MethodSpec] = {}


def register_method(spec: MethodSpec, replace: bool = False) -> MethodSpec:
    r"""Makes :obj:`spec` available by its name; registering a taken name
    raises unless :obj:`replace`."""
    if not isinstance(spec, MethodSpec):
        raise TypeError(f"register_method takes a MethodSpec, got "
                        f"{type(spec).__name__}")
    if not replace and spec.name in list_methods() and \
            get_method(spec.name) is not spec:
        raise ValueError(f"A method named '{spec.name}' is already "
                         f"registered; pass replace=True to replace it")
    METHODS[spec.name] = spec
    return spec


def list_methods() -> List[str]:
    r"""Names of the built-in and registered methods."""
    return sorted(set(BUILTIN_METHODS) | set(METHODS))


def get_method(name: str) -> MethodSpec:
    r"""The :class:`MethodSpec` registered as :obj:`name`."""
    if not isinstance(name, str):
        raise TypeError(f"A method name must be a string, got "
                        f"{type(name).__name__}")
    key = name.lower()
    if key not in METHODS and key in BUILTIN_METHODS:
        METHODS[key] = importlib.import_module(BUILTIN_METHODS[key]).METHOD
    if key not in METHODS:
        raise ValueError(f"Unknown method '{name}'; choose one of "
                         f"{list_methods()}")
    return METHODS[key]


def method_defaults(name: str) -> Dict[str, Any]:
    r"""The default options of method :obj:`name` (without the training
    settings)."""
    return dict(get_method(name).defaults)


def method_settings(name: str, dataset: Any = None,
                    minibatch: bool = False,
                    **given: Any) -> Dict[str, Any]:
    r"""Every option and training setting of method :obj:`name` for
    :obj:`dataset`: the method's defaults, then its mini-batch defaults
    (when :obj:`minibatch`), then the dataset's preset, then the options
    :obj:`given` (``None`` values count as not given). Unknown names raise
    :class:`ValueError` naming them."""
    spec = get_method(name)
    given = {k: v for k, v in given.items() if v is not None}
    known = set(spec.defaults) | set(train_setting_defaults(spec.level))
    unknown = set(given) - known
    if unknown:
        raise ValueError(f"Unknown option(s) {sorted(unknown)} for method "
                         f"'{spec.name}'; known: {sorted(spec.defaults)}")
    settings = {**spec.train_defaults, **spec.defaults}
    if minibatch:
        settings.update(spec.minibatch_defaults)
    settings.update(spec.preset(dataset))
    settings.update(given)
    return settings


def build_method(name: str, in_channels: int, seed: Optional[int] = None,
                 **options: Any) -> 'Module':
    r"""Builds method :obj:`name` for inputs with :obj:`in_channels`
    features from its defaults and :obj:`options`; unknown option names
    raise :class:`ValueError`. :obj:`seed` seeds the method's random parts
    (corruptions, augmentations)."""
    spec = get_method(name)
    unknown = set(options) - set(spec.defaults)
    if unknown:
        raise ValueError(f"Unknown option(s) {sorted(unknown)} for method "
                         f"'{spec.name}'; known: {sorted(spec.defaults)}")
    return resolve(spec.build)(in_channels, seed=seed,
                               **{**spec.defaults, **options})
