r"""Sphinx configuration of graphcl's documentation.

Why Sphinx (autodoc + napoleon + myst-parser) and not mkdocs+mkdocstrings:
graphcl follows PyG's house style, and its docstrings are written for
Sphinx, as PyG's are: ``:obj:``, ``:class:``, ``:func:``, ``:mod:`` roles,
``.. math::`` blocks and Google-style ``Args:`` sections. Sphinx renders
them as written and resolves every role to its target; mkdocstrings would
need the roles rewritten. myst-parser keeps the hand-written pages in
Markdown (``docs/*.md``, readable on the forge as they are).

Build (warnings are errors, so a broken cross-reference fails CI)::

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -b html docs docs/_build/html

Cross-references are checked strictly (``nitpicky``): every ``graphcl.*``
target must exist. Targets in other packages (PyTorch, PyG, NumPy, ...)
are not checked: resolving them needs intersphinx inventories downloaded
from those projects' sites at build time, which CI cannot reach.

The tutorial page (``tutorial_own_graph.md``) is executed before the build
(:mod:`tutorial_runner`), into ``docs/_build/tutorial``, so that its
figures are the ones its own code draws; ``tests/test_tutorial.py`` runs
the same code in the test suite.
"""
import inspect
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # graphcl from this checkout
sys.path.insert(0, str(DOCS))  # tutorial_runner

import graphcl  # noqa: E402

project = 'graphcl'
author = 'graphcl contributors'
copyright = 'graphcl contributors'
version = release = graphcl.__version__

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
    'sphinx.ext.viewcode',
    'myst_parser',
]

source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']
templates_path = []
html_theme = 'alabaster'
html_static_path = []
html_theme_options = {'description': 'Graph self-supervised learning for '
                                     'PyTorch Geometric'}

# Markdown pages: $...$ and $$...$$ math (api.md), ::: fences, and
# GitHub-style heading anchors (api.md#metricsjson) for the links between
# pages.
myst_enable_extensions = ['dollarmath', 'colon_fence']
myst_heading_anchors = 4

# Docstrings: Google style (napoleon), as PyG's. Every module is documented
# where its objects are defined (graphcl.nn.encoders.GCNEncoder), with all
# its public members; a reference to a re-exported path (graphcl.nn.PReLU,
# graphcl.DeepGraphInfomax) resolves to that entry when the package really
# exports the name (_resolve_reexport below).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # Attributes: as fields, not second entries
autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_default_options = {'members': True, 'undoc-members': True,
                           'show-inheritance': True,
                           'ignore-module-all': True}
add_module_names = False

# Strict cross-references for graphcl itself (see the header).
nitpicky = True
_EXTERNAL = (r'(torch|torch_geometric|numpy|np|scipy|sklearn|networkx|nx|'
             r'matplotlib|ogb|tqdm|psutil|threadpoolctl|typing|'
             r'collections|pathlib|os|sys|argparse|json|enum|dataclasses|'
             r'abc|types|io|signal|socket|threading|multiprocessing|'
             r'contextlib|concurrent|logging|warnings|difflib)(\..*)?')
nitpick_ignore_regex = [
    (r'py:.*', _EXTERNAL),
    # PyG's convention: :obj:`x` marks an argument or a literal
    # (:obj:`True`, :obj:`None`, :obj:`"node"`) or an argument's attribute
    # (:obj:`data.x`), not a link. A dotted :obj: target that starts with
    # graphcl. or a capital (a class) is a reference and is checked.
    (r'py:obj', r'[^.]*|[0-9.e+-]+|(?!graphcl\.)[a-z_]\w*\..*|'
                r'.*[\[\]()/"\' ].*'),
    # Targets with spaces are words, never names.
    (r'py:.*', r'.* .*'),
    # A TypeVar in a signature.
    (r'py:class', r'(.*\.)?T'),
    # Python's own modules and builtins (no inventory: see the header).
    (r'py:.*', r'(pickle|pickletools|hashlib|difflib|shutil|tempfile|'
               r'resource|inspect|functools|itertools|re|math|random|time|'
               r'platform|builtins|gc|mmap|ctypes|subprocess|importlib|'
               r'input|print|open|len|range|float|int|str|dict|list|'
               r'tuple|set|bool)(\..*)?'),
    # Private objects (a private base class shown by show-inheritance).
    (r'py:.*', r'(.*\.)?_[A-Za-z].*'),
    # Type words of Google-style "Args: name (type, optional)" lists and
    # short names of external types used in them.
    (r'py:class', r'(optional|default|callable|Callable|Tensor|'
                  r'SparseTensor|Data|Batch|HeteroData|Module|Generator|'
                  r'Path|PathLike|array|ndarray|array-like|iterable|'
                  r'sequence|mapping|Optimizer|Dataset|DataLoader|'
                  r'InMemoryDataset|file|file-like|NodeSamplerInput|'
                  r'EdgeSamplerInput|NegativeSampling|BaseSampler|'
                  r'SamplerOutput|path|".*"|\'.*\')'),
]


_PRIMITIVES = (bool, int, float, complex, str, bytes, type(None))


def _import_path(path: str):
    # The object a dotted path names, or _MISSING: attributes first
    # (graphcl.eval.linear_probe is graphcl.eval's function), then modules
    # (graphcl.eval.linear_probe.linear_probe is the module's function).
    import importlib
    parts = path.split('.')
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return _MISSING
    for name in parts[1:]:
        obj = getattr(obj, name, _MISSING)
        if obj is _MISSING:
            break
    else:
        return obj
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


_MISSING = object()


def _resolve_reexport(app, env, node, contnode):
    # A reference Sphinx did not find, to an object that is documented
    # under another name: a re-exported path (graphcl.nn.PReLU is
    # graphcl.nn.activations.PReLU), a short name used in a module that
    # imports it, or a method a class inherits. The name must really lead
    # to that object (it is imported and compared by identity), so a name
    # a package does not export stays a broken reference.
    if node.get('refdomain') != 'py':
        return None
    target = node.get('reftarget', '').lstrip('~.')
    if not target or not target.replace('.', '').replace('_', '').isalnum():
        return None
    modname = node.get('py:module') or ''
    clsname = node.get('py:class')
    if target.startswith('graphcl.'):
        candidates = [target]
    else:
        candidates = []
        if modname and clsname:
            candidates.append(f'{modname}.{clsname}.{target}')
        parts = modname.split('.') if modname else []
        for cut in range(len(parts), 0, -1):
            candidates.append('.'.join(parts[:cut]) + '.' + target)
    py = env.get_domain('py')
    documented = {}
    for name, *_ in py.get_objects():
        documented.setdefault(name.rsplit('.', 1)[-1], []).append(name)
    last = target.rsplit('.', 1)[-1]
    for candidate in candidates:
        value = _import_path(candidate)
        if value is _MISSING:
            continue
        for name in documented.get(last, ()):
            if name == candidate:
                continue
            if isinstance(value, _PRIMITIVES):
                # equal small values are one object: match the owner
                owner = _import_path(candidate.rsplit('.', 1)[0])
                other = _import_path(name.rsplit('.', 1)[0])
                if isinstance(owner, type) and isinstance(other, type):
                    same = issubclass(owner, other) and last in vars(other)
                else:  # module constants: the same name bound to it
                    same = (inspect.ismodule(owner) and inspect.ismodule(
                        other) and getattr(other, last, _MISSING) is value)
            else:
                same = _import_path(name) is value
            if same:
                new = node.deepcopy()
                new['reftarget'] = name
                return py.resolve_xref(env, node['refdoc'], app.builder,
                                       node['reftype'], name, new, contnode)
        return None  # the name exists but is not documented
    return None


# Links from a page to a repository file outside docs/ (../README.md,
# ../benchmarks/results/x.md) become download links: the file is copied
# into the site, and a path that does not exist still fails the build.
_OUTSIDE_LINK = re.compile(r'\[([^\]\n]+)\]\((\.\./[^)#\s]+\.md)\)')


def _outside_links(app, docname, source):
    page = DOCS / docname

    def fix(m):
        path = (page.parent / m.group(2)).resolve()
        if DOCS in path.parents:
            return m.group(0)
        text = m.group(1).replace('`', '')
        return f'{{download}}`{text} <{m.group(2)}>`'

    source[0] = _OUTSIDE_LINK.sub(fix, source[0])


# Modules that no hand-written reference page lists are documented on a
# generated page (reference/other_modules.md, git-ignored), so that a new
# module is never missing from the reference nor a broken link target.
def _other_modules(app):
    import pkgutil
    generated = DOCS / 'reference' / 'other_modules.md'
    listed = set()
    for page in (DOCS / 'reference').glob('*.md'):
        if page != generated:
            listed |= set(re.findall(r'automodule:: (\S+)',
                                     page.read_text()))
    missing = [info.name for info in
               pkgutil.walk_packages(graphcl.__path__, 'graphcl.')
               if info.name not in listed]
    if not missing:
        generated.unlink(missing_ok=True)
        return
    lines = ['# Other modules', '',
             'Modules not yet on a page of their own (generated by '
             '`docs/conf.py`).', '']
    for name in sorted(missing):
        lines += [f'## `{name}`', '', '```{eval-rst}',
                  f'.. automodule:: {name}', '```', '']
    text = '\n'.join(lines)
    if not generated.is_file() or generated.read_text() != text:
        generated.write_text(text)


def _run_tutorial(app):
    from tutorial_runner import run_tutorial
    out = DOCS / '_build' / 'tutorial'
    if os.environ.get('GRAPHCL_DOCS_SKIP_TUTORIAL'):
        if not out.is_dir():
            raise RuntimeError(
                'GRAPHCL_DOCS_SKIP_TUTORIAL is set but the tutorial has '
                f'never run into {out}; unset it once')
        return
    run_tutorial(DOCS / 'tutorial_own_graph.md', out)


def _napoleon_not_for_attributes(app):
    # Napoleon reads an attribute's docstring as "type: description"
    # (Google style); graphcl's attribute and constant docstrings are
    # plain sentences ("The files ...: a, b"), so they are left as written.
    from sphinx.ext.napoleon import _process_docstring
    listeners = app.events.listeners['autodoc-process-docstring']
    for listener in list(listeners):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)

    def process(app, what, name, obj, options, lines):
        if what not in ('attribute', 'data', 'property'):
            _process_docstring(app, what, name, obj, options, lines)

    app.connect('autodoc-process-docstring', process)


def setup(app):
    _napoleon_not_for_attributes(app)
    app.connect('config-inited', lambda app, config: _other_modules(app))
    app.connect('builder-inited', _run_tutorial)
    app.connect('source-read', _outside_links)
    app.connect('missing-reference', _resolve_reexport)
