r"""Node datasets through PyG's own loaders: Planetoid (Cora, CiteSeer,
PubMed; public split), Amazon (Photo, Computers) and Coauthor (CS, Physics;
random 10/10/80 split from a seed, as in GRACE/BGRL)."""
from pathlib import Path
from typing import Optional

from torch_geometric.data import Data

from .registry import DatasetSpec
from .root import PathLike, prepare_dataset_dir
from .splits import random_node_split

__all__ = ['load_pyg_node']


def _pyg_class(family: str):
    from torch_geometric.datasets import Amazon, Coauthor, Planetoid
    return {'planetoid': Planetoid, 'amazon': Amazon,
            'coauthor': Coauthor}[family]


def load_pyg_node(
    spec: DatasetSpec,
    root: Optional[PathLike] = None,
    seed: int = 0,
    download: bool = False,
) -> Data:
    r"""Loads a Planetoid, Amazon or Coauthor dataset with its PyG loader.

    Planetoid datasets keep PyG's public split (``data.split == 'public'``);
    Amazon and Coauthor ones get :func:`random_node_split` with a 10/10/80
    split drawn from :obj:`seed`. Raw features are kept as PyG gives them.

    Args:
        spec (DatasetSpec): The registered dataset.
        root (str or os.PathLike, optional): The data root, see
            :func:`graphcl.data.resolve_root`. (default: :obj:`None`)
        seed (int, optional): Seed of the random split (Amazon, Coauthor).
            (default: :obj:`0`)
        download (bool, optional): Let PyG download missing raw files.
            (default: :obj:`False`)
    """
    base = prepare_dataset_dir(spec.name, spec.folder, spec.raw_files, root,
                               download=download)
    cls = _pyg_class(spec.family)
    dataset = cls(str(Path(base) / spec.parent), spec.pyg_name)
    data = dataset[0]
    data.x = data.x.float()
    data.y = data.y.view(-1).long()
    if spec.family == 'planetoid':
        data.split = 'public'
    else:
        data = random_node_split(data, train=0.1, val=0.1, seed=seed)
    data.name = spec.name
    return data
