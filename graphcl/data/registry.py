r"""The dataset registry: canonical names, aliases and where the files live.

Each dataset has a :class:`DatasetSpec`. Names are matched case-insensitively
and ignoring ``-``, ``_`` and spaces, so ``'Amazon-Photo'``, ``'photo'`` and
``'amazon_photo'`` all name the same dataset.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

__all__ = ['DatasetSpec', 'DATASETS', 'get_spec', 'list_datasets']

PLANETOID_FILES = ('x', 'tx', 'allx', 'y', 'ty', 'ally', 'graph',
                   'test.index')


@dataclass(frozen=True)
class DatasetSpec:
    r"""Describes one registered dataset.

    Args:
        name (str): The canonical name, stored as ``data.name``.
        family (str): The loader family: :obj:`"planetoid"`,
            :obj:`"amazon"`, :obj:`"coauthor"`, :obj:`"wikics"`,
            :obj:`"ogbn"`, :obj:`"tu"` or :obj:`"ogbg"`.
        pyg_name (str): The name handed to the PyG/OGB loader.
        parent (str): The folder under the data root handed to the loader as
            its ``root`` (:obj:`""` for the data root itself).
        leaf (str): The dataset's own folder inside :obj:`parent`.
        description (str): One line for :func:`list_datasets`.
        raw_files (Tuple[str, ...]): Files the loader needs, relative to the
            dataset folder (empty for OGB, whose files are read from ogb's
            metadata).
        aliases (Tuple[str, ...]): Other accepted names.
    """
    name: str
    family: str
    pyg_name: str
    parent: str
    leaf: str
    description: str
    raw_files: Tuple[str, ...] = ()
    aliases: Tuple[str, ...] = field(default=())

    @property
    def level(self) -> str:
        r"""Either :obj:`"node"` or :obj:`"graph"`."""
        return 'graph' if self.family in ('tu', 'ogbg') else 'node'

    @property
    def folder(self) -> str:
        r"""The dataset folder relative to the data root."""
        return f'{self.parent}/{self.leaf}' if self.parent else self.leaf


def _planetoid(name: str, desc: str) -> DatasetSpec:
    files = tuple(f'raw/ind.{name.lower()}.{f}' for f in PLANETOID_FILES)
    return DatasetSpec(name, 'planetoid', name, '', name, desc, files)


def _npz(family: str, leaf: str, file: str, aliases: Tuple[str, ...],
         desc: str) -> DatasetSpec:
    parent = family.capitalize()
    return DatasetSpec(f'{parent}-{leaf}', family, leaf, parent, leaf, desc,
                       (f'raw/{file}', ), aliases)


def _ogbn(name: str, desc: str) -> DatasetSpec:
    short = name.split('-', 1)[1]
    return DatasetSpec(name, 'ogbn', name, 'ogb', name.replace('-', '_'),
                       desc, aliases=(short, ))


def _tu(name: str, desc: str, aliases: Tuple[str, ...] = ()) -> DatasetSpec:
    files = tuple(f'raw/{name}_{f}.txt'
                  for f in ('A', 'graph_indicator', 'graph_labels'))
    return DatasetSpec(name, 'tu', name, 'TU', name, desc, files, aliases)


def _ogbg(name: str, desc: str) -> DatasetSpec:
    short = name.split('-', 1)[1]
    return DatasetSpec(name, 'ogbg', name, 'ogb', name.replace('-', '_'),
                       desc, aliases=(short, short[3:]))


_SPECS = (
    _planetoid('Cora', 'Planetoid citation graph, 2,708 nodes, 7 classes, '
               'public split'),
    _planetoid('CiteSeer', 'Planetoid citation graph, 3,327 nodes, '
               '6 classes, public split'),
    _planetoid('PubMed', 'Planetoid citation graph, 19,717 nodes, '
               '3 classes, public split'),
    _npz('amazon', 'Photo', 'amazon_electronics_photo.npz', ('photo', ),
         'Amazon co-purchase graph, 7,650 nodes, 8 classes, random '
         '10/10/80 split'),
    _npz('amazon', 'Computers', 'amazon_electronics_computers.npz',
         ('computers', 'computer'), 'Amazon co-purchase graph, 13,752 '
         'nodes, 10 classes, random 10/10/80 split'),
    _npz('coauthor', 'CS', 'ms_academic_cs.npz', ('cs', ),
         'Coauthor co-authorship graph, 18,333 nodes, 15 classes, random '
         '10/10/80 split'),
    _npz('coauthor', 'Physics', 'ms_academic_phy.npz', ('physics', ),
         'Coauthor co-authorship graph, 34,493 nodes, 5 classes, random '
         '10/10/80 split'),
    DatasetSpec('WikiCS', 'wikics', 'WikiCS', '', 'WikiCS',
                'Wikipedia computer-science articles, 11,701 nodes, '
                '10 classes, official split (train/val split seed % 20 of '
                '20, fixed test set)', ('raw/data.json', ), ('wiki-cs', )),
    _ogbn('ogbn-arxiv', 'OGB citation graph, 169,343 nodes, 40 classes, '
          'official time split (needs ogb)'),
    _ogbn('ogbn-products', 'OGB co-purchase graph, 2.4M nodes, 47 classes, '
          'official sales-rank split (needs ogb)'),
    _ogbn('ogbn-papers100M', 'OGB citation graph, 111M nodes, 172 classes, '
          'official time split (needs ogb)'),
    _tu('MUTAG', 'TU molecules, 188 graphs, 2 classes'),
    _tu('PROTEINS', 'TU proteins, 1,113 graphs, 2 classes'),
    _tu('NCI1', 'TU molecules, 4,110 graphs, 2 classes'),
    _tu('IMDB-BINARY', 'TU ego-networks, 1,000 graphs, 2 classes, '
        'one-hot degree features', ('imdb', )),
    _ogbg('ogbg-molbace', 'OGB molecules, 1,513 graphs, scaffold split, '
          'ROC-AUC (needs ogb)'),
    _ogbg('ogbg-molbbbp', 'OGB molecules, 2,039 graphs, scaffold split, '
          'ROC-AUC (needs ogb)'),
)

DATASETS: Dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}
r"""Registered datasets by canonical name."""


def _key(name: str) -> str:
    return re.sub(r'[\s_\-]', '', name.lower())


_LOOKUP: Dict[str, DatasetSpec] = {}
for _spec in _SPECS:
    for _name in (_spec.name, _spec.pyg_name) + _spec.aliases:
        _LOOKUP[_key(_name)] = _spec


def get_spec(name: str, level: Optional[str] = None) -> DatasetSpec:
    r"""Returns the :class:`DatasetSpec` registered under :obj:`name`.

    Args:
        name (str): A dataset name or alias (case-insensitive).
        level (str, optional): If given (:obj:`"node"` or :obj:`"graph"`),
            the dataset must be of that level. (default: :obj:`None`)

    Raises:
        ValueError: If the name is unknown or of the wrong level.
    """
    spec = _LOOKUP.get(_key(name))
    if spec is None:
        known = ', '.join(DATASETS)
        raise ValueError(f"Unknown dataset '{name}'. Known datasets: "
                         f"{known} (names are case-insensitive; see "
                         f"graphcl.data.list_datasets()). For your own "
                         f"graph, pass a torch_geometric.data.Data, a "
                         f"networkx graph or a path to a saved .pt file.")
    if level is not None and spec.level != level:
        fix = {
            'node': 'graphcl.data.load_dataset',
            'graph': 'graphcl.data.load_graph_dataset'
        }[spec.level]
        raise ValueError(f"'{spec.name}' is a {spec.level}-level dataset "
                         f"but a {level}-level one was asked for; load it "
                         f"with {fix}('{spec.name}')")
    return spec


def list_datasets(level: Optional[str] = None) -> Dict[str, str]:
    r"""Returns the registered datasets as ``{name: description}``.

    Args:
        level (str, optional): Only list :obj:`"node"`- or
            :obj:`"graph"`-level datasets. (default: :obj:`None`)
    """
    if level not in (None, 'node', 'graph'):
        raise ValueError(f"'level' must be None, 'node' or 'graph' "
                         f"(got {level!r})")
    return {
        name: f'[{spec.level}] {spec.description}'
        for name, spec in DATASETS.items()
        if level is None or spec.level == level
    }
