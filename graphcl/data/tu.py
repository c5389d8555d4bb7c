r"""TU graph classification datasets (MUTAG, PROTEINS, NCI1, IMDB-BINARY)
through PyG's :class:`~torch_geometric.datasets.TUDataset`."""
from pathlib import Path
from typing import Optional

from torch_geometric.datasets import TUDataset
from torch_geometric.transforms import OneHotDegree
from torch_geometric.utils import degree

from .registry import DatasetSpec
from .root import PathLike, prepare_dataset_dir

__all__ = ['load_tu', 'max_degree']


def max_degree(dataset: TUDataset) -> int:
    r"""Returns the largest (out-)degree of any node in :obj:`dataset`."""
    out = 0
    for data in dataset:
        if data.edge_index.numel() > 0:
            deg = degree(data.edge_index[0], num_nodes=data.num_nodes)
            out = max(out, int(deg.max()))
    return out


def load_tu(
    spec: DatasetSpec,
    root: Optional[PathLike] = None,
    download: bool = False,
) -> TUDataset:
    r"""Loads a TU dataset with ``TUDataset(<root>/TU, name)``.

    Datasets without node features (IMDB-BINARY) get one-hot degree
    features through the standard
    :class:`~torch_geometric.transforms.OneHotDegree` transform with the
    dataset's maximum degree, so that every graph method can run on them.
    The dataset's ``name`` attribute is the canonical name.

    Args:
        spec (DatasetSpec): The registered dataset.
        root (str or os.PathLike, optional): The data root, see
            :func:`graphcl.data.resolve_root`. (default: :obj:`None`)
        download (bool, optional): Let PyG download missing raw files.
            (default: :obj:`False`)
    """
    base = prepare_dataset_dir(spec.name, spec.folder, spec.raw_files, root,
                               download=download)
    dataset = TUDataset(str(Path(base) / spec.parent), spec.pyg_name)
    if dataset.num_node_features == 0:
        dataset.transform = OneHotDegree(max_degree(dataset))
    return dataset
