r"""Node datasets through PyG's own loaders: Planetoid (Cora, CiteSeer,
PubMed; public split), Amazon (Photo, Computers) and Coauthor (CS, Physics;
random 10/10/80 split from a seed, as in GRACE/BGRL) and WikiCS (one of its
20 official train/val splits, chosen by the seed, and its test set)."""
from pathlib import Path
from typing import Optional

from torch_geometric.data import Data
from torch_geometric.datasets import Amazon, Coauthor, WikiCS

from .planetoid import SafePlanetoid
from .processed import SafeProcessingMixin
from .registry import DatasetSpec
from .root import PathLike, prepare_dataset_dir
from .splits import random_node_split

__all__ = ['load_pyg_node', 'SafeAmazon', 'SafeCoauthor', 'SafeWikiCS']


class SafeAmazon(SafeProcessingMixin, Amazon):
    r"""PyG's :class:`~torch_geometric.datasets.Amazon` with processed files
    loaded safely and kept up to date
    (:class:`~graphcl.data.processed.SafeProcessingMixin`)."""


class SafeCoauthor(SafeProcessingMixin, Coauthor):
    r"""PyG's :class:`~torch_geometric.datasets.Coauthor` with processed
    files loaded safely and kept up to date
    (:class:`~graphcl.data.processed.SafeProcessingMixin`)."""


class SafeWikiCS(SafeProcessingMixin, WikiCS):
    r"""PyG's :class:`~torch_geometric.datasets.WikiCS` with processed files
    loaded safely and kept up to date
    (:class:`~graphcl.data.processed.SafeProcessingMixin`)."""
    name = 'WikiCS'


def _pyg_class(family: str):
    return {'planetoid': SafePlanetoid, 'amazon': SafeAmazon,
            'coauthor': SafeCoauthor}[family]


def _wikics_split(data: Data, seed: int) -> Data:
    r"""Keeps official split :obj:`seed % num_splits` of WikiCS's
    ``[num_nodes, num_splits]`` train/val/stopping masks (0-based)."""
    num_splits = data.train_mask.size(1) if data.train_mask.dim() == 2 else 1
    index = int(seed) % num_splits
    for key in ('train_mask', 'val_mask', 'stopping_mask'):
        mask = data.get(key)
        if mask is not None and mask.dim() == 2:
            data[key] = mask[:, index].contiguous()
    data.split = f'wikics official split {index} of {num_splits}'
    return data


def load_pyg_node(
    spec: DatasetSpec,
    root: Optional[PathLike] = None,
    seed: int = 0,
    download: bool = False,
) -> Data:
    r"""Loads a Planetoid, Amazon, Coauthor or WikiCS dataset with its PyG
    loader.

    Planetoid datasets keep PyG's public split (``data.split == 'public'``);
    Amazon and Coauthor ones get :func:`random_node_split` with a 10/10/80
    split drawn from :obj:`seed`. WikiCS (``WikiCS(root,
    is_undirected=True)``) ships 20 train/val splits and one test set: the
    train/val (and early-stopping ``stopping_mask``) masks of split
    ``seed % 20`` (0-based) are kept together with the test mask, and
    ``data.split`` says which, *e.g.*, ``'wikics official split 3 of 20'``.
    Raw features are kept as PyG gives them.

    The PyG loaders run through graphcl's safe subclasses: Planetoid's raw
    pickles are read by :func:`~graphcl.data.planetoid.read_planetoid_data`
    (only NumPy, SciPy-sparse and builtin types), processed files are
    loaded with ``weights_only=True`` only and rebuilt when the raw files
    changed (see :mod:`graphcl.data.processed`).

    Args:
        spec (DatasetSpec): The registered dataset.
        root (str or os.PathLike, optional): The data root, see
            :func:`graphcl.data.resolve_root`. (default: :obj:`None`)
        seed (int, optional): Seed of the random split (Amazon, Coauthor),
            or the official split ``seed % 20`` (WikiCS).
            (default: :obj:`0`)
        download (bool, optional): Let PyG download missing raw files.
            (default: :obj:`False`)
    """
    base = prepare_dataset_dir(spec.name, spec.folder, spec.raw_files, root,
                               download=download)
    if spec.family == 'wikics':
        dataset = SafeWikiCS(str(Path(base) / spec.folder),
                             is_undirected=True)
    else:
        cls = _pyg_class(spec.family)
        dataset = cls(str(Path(base) / spec.parent), spec.pyg_name)
    data = dataset[0]
    data.x = data.x.float()
    data.y = data.y.view(-1).long()
    if spec.family == 'planetoid':
        data.split = 'public'
    elif spec.family == 'wikics':
        data = _wikics_split(data, seed)
    else:
        data = random_node_split(data, train=0.1, val=0.1, seed=seed)
    data.name = spec.name
    return data
