r"""``graphcl datasets``: the registered datasets, which of them are present
under the resolved data root, and where that root is."""
import argparse
from pathlib import Path

from .common import add_common, describe_root

__all__ = ['add_parser', 'run', 'presence']


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        'datasets', help='list the known datasets and which are present',
        description='List the registered datasets, mark those whose raw '
        'files are present under the data root, and say where that root is '
        '(--root, then $GRAPHCL_DATA, then ./datasets).')
    p.add_argument('--root', default=None,
                   help='data root (default: $GRAPHCL_DATA, then ./datasets)')
    add_common(p, device=False)
    p.set_defaults(func=run)
    return p


def presence(spec, root: Path) -> str:
    r"""``'yes'`` when the raw files :obj:`spec` needs are under
    :obj:`root`, ``'partial'`` when some are, ``'no'`` otherwise (OGB
    datasets: the ``raw/`` folder and the release marker ogb checks)."""
    folder = root / spec.folder
    if spec.family in ('ogbn', 'ogbg'):
        for leaf in (folder.with_name(folder.name + '_pyg'), folder):
            if (leaf / 'raw').is_dir():
                return 'yes' if any(leaf.glob('RELEASE_v*.txt')) \
                    else 'partial'
        return 'no'
    found = sum((folder / f).is_file() for f in spec.raw_files)
    if found == len(spec.raw_files):
        return 'yes'
    return 'partial' if found else 'no'


def run(args) -> int:
    from ..data.registry import DATASETS
    root, source = describe_root(args.root)
    state = {name: presence(spec, root) for name, spec in DATASETS.items()}
    print(f"data root: {root} (from {source})")
    print(f"{'present':8s} {'name':18s} description")
    for name, spec in DATASETS.items():
        print(f"{state[name]:8s} {name:18s} {spec.description}")
    n = sum(s == 'yes' for s in state.values())
    partial = [name for name, s in state.items() if s == 'partial']
    print(f"{n} of {len(state)} present" + (
        f"; incomplete: {', '.join(partial)} (missing raw files: loading "
        f"names them)" if partial else ''))
    return 0
