r"""What every ``graphcl`` subcommand shares: the parser class (nearest-name
suggestions, sub-commands populated on first use), the shared options
(``--seeds``, ``--device``, ``--threads``, ``--quiet``, ``--out``) with one
definition each, and the checks of names and file types.

Nothing here imports PyTorch: ``graphcl --help`` stays fast.
"""
import argparse
import difflib
import os
import sys
from pathlib import Path
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

__all__ = ['GraphclParser', 'LazySubParsers', 'nearest', 'did_you_mean',
           'parse_seeds', 'positive_int', 'add_seeds', 'add_device',
           'add_threads', 'add_quiet', 'add_out', 'add_common',
           'SHARED_OPTIONS', 'DEVICES', 'apply_threads', 'check_dataset_name',
           'check_suffix', 'say']

#: The ``--device`` choices of every subcommand.
DEVICES = ('cpu', 'cuda')

#: The options defined once here and shared by the subcommands that have
#: them (same name, type, default and choices everywhere).
SHARED_OPTIONS = ('--seeds', '--device', '--threads', '--quiet', '--out')


# Names ---------------------------------------------------------------------
def nearest(name: str, known: Iterable[str],
            key: Callable[[str], str] = str.lower) -> Optional[str]:
    r"""The known name closest to :obj:`name` (:mod:`difflib`), or
    :obj:`None` when none is close."""
    known = list(known)
    keys = {key(k): k for k in known}
    match = difflib.get_close_matches(key(name), list(keys), n=1, cutoff=0.6)
    return keys[match[0]] if match else None


def did_you_mean(name: str, known: Iterable[str],
                 key: Callable[[str], str] = str.lower) -> str:
    r"""``" (did you mean 'X'?)"`` for the known name closest to
    :obj:`name`, or ``""``."""
    match = nearest(name, known, key)
    return f" (did you mean '{match}'?)" if match else ''


# Parser --------------------------------------------------------------------
class LazySubParsers(argparse._SubParsersAction):
    r"""Sub-commands whose options are added only when the sub-command is
    used (or :meth:`populate` is called): ``graphcl train --help`` lists the
    methods without importing them, ``graphcl train dgi`` imports DGI's
    registration alone."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending: Dict[str, Callable[[argparse.ArgumentParser], None]] \
            = {}

    def add_lazy_parser(self, name: str,
                        populate: Callable[[argparse.ArgumentParser], None],
                        **kwargs) -> argparse.ArgumentParser:
        r"""Adds the sub-command :obj:`name`; ``populate(parser)`` adds its
        options when it is first used."""
        parser = self.add_parser(name, **kwargs)
        self._pending[name] = populate
        return parser

    def populate(self, name: Optional[str] = None):
        r"""Adds the options of sub-command :obj:`name` (all when
        :obj:`None`), and of their own sub-commands."""
        names = list(self._pending) if name is None else [name]
        for n in names:
            fill = self._pending.pop(n, None)
            if fill is not None:
                fill(self._name_parser_map[n])
        if name is None:
            for parser in self._name_parser_map.values():
                populate_all(parser)

    def __call__(self, parser, namespace, values, option_string=None):
        name = values[0]
        if name in self._pending:
            self.populate(name)
        sub = self._name_parser_map.get(name)
        if sub is not None and not hasattr(namespace, '_graphcl_parser'):
            # The deepest parser used wins (sub-parsers' namespaces are
            # copied over this one): the one unknown options belong to.
            setattr(namespace, '_graphcl_parser', sub)
        super().__call__(parser, namespace, values, option_string)


def populate_all(parser: argparse.ArgumentParser):
    r"""Adds every lazily defined option of :obj:`parser`'s sub-commands
    (for tests and documentation)."""
    for action in parser._actions:
        if isinstance(action, LazySubParsers):
            action.populate()
        elif isinstance(action, argparse._SubParsersAction):
            for sub in action._name_parser_map.values():
                populate_all(sub)


class GraphclParser(argparse.ArgumentParser):
    r"""An :class:`argparse.ArgumentParser` whose errors suggest the nearest
    known name: an unknown sub-command or choice (``invalid choice: 'dgx'
    ... (did you mean 'dgi'?)``) or option (``unrecognized arguments:
    --hiden (did you mean --hidden?)``)."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register('action', 'parsers', LazySubParsers)

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            choices = ', '.join(map(repr, action.choices))
            hint = did_you_mean(str(value), map(str, action.choices))
            raise argparse.ArgumentError(
                action, f'invalid choice: {value!r} (choose from {choices})'
                f'{hint}')

    def parse_args(self, args=None, namespace=None):
        argv = list(sys.argv[1:] if args is None else args)
        parsed, extras = self.parse_known_args(argv, namespace)
        # The deepest sub-command parser used: the one whose options an
        # unknown option is compared with.
        where = getattr(parsed, '_graphcl_parser', self)
        if hasattr(parsed, '_graphcl_parser'):
            delattr(parsed, '_graphcl_parser')
        if extras:
            where.error(f"unrecognized arguments: {' '.join(extras)}"
                        f"{_unknown_hint(where, extras, argv)}")
        return parsed


def _option_strings(parser: argparse.ArgumentParser) -> List[str]:
    return [s for a in parser._actions if a.help != argparse.SUPPRESS
            for s in a.option_strings if s.startswith('--')]


def _unknown_hint(parser: argparse.ArgumentParser, extras: Sequence[str],
                  argv: Sequence[str]) -> str:
    if '--seeds' in argv and all(e.isdigit() for e in extras):
        return ('; --seeds takes a count (--seeds 3: seeds 0, 1, 2) or a '
                'comma-separated list (--seeds 0,1,2)')
    hints = []
    for e in extras:
        if e.startswith('--'):
            match = nearest(e.split('=', 1)[0], _option_strings(parser))
            if match:
                hints.append(f'{match} for {e.split("=", 1)[0]}')
    return f" (did you mean {', '.join(hints)}?)" if hints else ''


# Shared options -------------------------------------------------------------
def parse_seeds(value: str) -> List[int]:
    r"""``--seeds``: a count ``N`` (the seeds ``0..N-1``) or a
    comma-separated list of seeds (``0,2,5``; one seed alone: ``5,``)."""
    text = value.strip()
    try:
        if ',' not in text:
            n = int(text)
            if n < 1:
                raise argparse.ArgumentTypeError(
                    f"'seeds' must be at least 1, got {n}: --seeds takes a "
                    f"count (--seeds 3: seeds 0, 1, 2) or a comma-separated "
                    f"list (--seeds 0,1,2)")
            return list(range(n))
        seeds = [int(s) for s in text.split(',') if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is neither a count nor a comma-separated list of "
            f"seeds; e.g. --seeds 3 or --seeds 0,2,5") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != \
            len(seeds):
        raise argparse.ArgumentTypeError(
            f"'seeds' must list distinct non-negative seeds, got '{value}'")
    return seeds


def positive_int(value: str) -> int:
    r"""An integer >= 1 (``--threads``)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got '{value}'") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def add_seeds(p, help: str = 'pretraining seeds'):
    p.add_argument('--seeds', type=parse_seeds, default='1', metavar='N|LIST',
                   help=f'{help}: a count N (seeds 0..N-1) or a '
                   f'comma-separated list such as 0,2,5 (default: 1)')


def add_device(p):
    p.add_argument('--device', default='cpu', choices=DEVICES,
                   help='where to compute (default: cpu)')


def add_threads(p):
    p.add_argument('--threads', type=positive_int, default=None,
                   metavar='N',
                   help="PyTorch CPU threads (default: PyTorch's own, one "
                   "per core); on a busy or shared machine use 1")


def add_quiet(p):
    p.add_argument('--quiet', action='store_true',
                   help='no progress bar or progress lines (notes and '
                   'errors still go to stderr)')


def add_out(p, help: str, metavar: str = 'DIR', required: bool = False):
    p.add_argument('--out', default=None, metavar=metavar, help=help,
                   required=required)


def add_common(p, device: bool = True):
    r"""``--threads``, ``--quiet`` and (unless :obj:`device` is false)
    ``--device``: the options of every subcommand."""
    if device:
        add_device(p)
    add_threads(p)
    add_quiet(p)


def apply_threads(args) -> None:
    r"""Applies ``--threads`` (imports PyTorch)."""
    if getattr(args, 'threads', None) is not None:
        from ..perf import set_threads
        set_threads(args.threads)


def say(message: str):
    r"""A note on stderr (progress and notes go to stderr, results to
    stdout)."""
    print(message, file=sys.stderr, flush=True)


# Inputs ---------------------------------------------------------------------
def check_suffix(path: str, known: Sequence[str], what: str,
                 allow_none: bool = False) -> str:
    r"""The suffix of :obj:`path` if it is one of :obj:`known` (or empty and
    :obj:`allow_none`); otherwise a :class:`ValueError` naming the nearest
    known suffix."""
    suffix = Path(path).suffix.lower()
    if suffix in known or (allow_none and not suffix):
        return suffix
    listed = ', '.join(known)
    if not suffix:
        raise ValueError(f"{what} '{path}' has no file suffix; use one of "
                         f"{listed}")
    raise ValueError(f"{what} '{path}': unknown file type '{suffix}'"
                     f"{did_you_mean(suffix, known)}; use one of {listed}")


def check_dataset_name(value: str) -> None:
    r"""Refuses an unknown dataset name with the nearest known one, before
    any loading; paths (existing files, ``.pt``/``.pth`` names) are left to
    :func:`graphcl.data.load_dataset`."""
    if os.path.exists(value) or value.lower().endswith(('.pt', '.pth')):
        return
    from ..data.registry import DATASETS, get_spec
    try:
        get_spec(value)
        return
    except ValueError:
        pass
    suffix = Path(value).suffix
    if suffix:
        raise ValueError(
            f"'{value}' is neither a known dataset nor a graph file graphcl "
            f"reads: unknown file type '{suffix}'"
            f"{did_you_mean(suffix, ['.pt', '.pth'])}; save a "
            f"torch_geometric.data.Data with torch.save(data, 'graph.pt')")
    if '/' in value or os.sep in value:
        raise ValueError(f"The graph file '{value}' does not exist")
    names = _dataset_names(DATASETS)
    match = nearest(value, names, key=_dataset_key)
    hint = f" (did you mean '{names[match]}'?)" if match else ''
    raise ValueError(f"Unknown dataset '{value}'{hint}; see `graphcl "
                     f"datasets` for the known ones, or pass a path to a "
                     f"saved torch_geometric.data.Data (.pt)")


def _dataset_key(name: str) -> str:
    return ''.join(c for c in name.lower() if c.isalnum())


def _dataset_names(datasets) -> Dict[str, str]:
    # Every accepted name and alias, to its canonical name.
    names: Dict[str, str] = {}
    for spec in datasets.values():
        for n in (spec.name, spec.pyg_name) + tuple(spec.aliases):
            names.setdefault(n, spec.name)
    return names


def describe_root(root: Optional[str]) -> Tuple[Any, str]:
    r"""The resolved data root and how it was chosen (``--root``,
    ``$GRAPHCL_DATA`` or ``./datasets``)."""
    from ..data.root import resolve_root, root_source
    source = root_source(root)
    if source == 'the root argument':
        source = '--root'
    return resolve_root(root), source
