r"""TU graph classification datasets (MUTAG, PROTEINS, NCI1, IMDB-BINARY)
through PyG's :class:`~torch_geometric.datasets.TUDataset`."""
from pathlib import Path
from typing import Any, Callable, Optional

from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.datasets import TUDataset
from torch_geometric.transforms import OneHotDegree
from torch_geometric.utils import degree

from .processed import SafeProcessingMixin
from .registry import DatasetSpec
from .root import PathLike, prepare_dataset_dir

__all__ = ['load_tu', 'max_degree', 'SafeTUDataset']


class SafeTUDataset(SafeProcessingMixin, TUDataset):
    r"""PyG's :class:`~torch_geometric.datasets.TUDataset` with processed
    files loaded with ``weights_only=True`` only (PyG's own ``__init__``
    retries with ``weights_only=False``) and rebuilt when the raw files
    changed (:class:`~graphcl.data.processed.SafeProcessingMixin`).

    Takes the arguments of :class:`~torch_geometric.datasets.TUDataset`.
    """
    processed_lengths = (3, 4)  # (data, slices, sizes[, data_cls])

    def __init__(
        self,
        root: str,
        name: str,
        transform: Optional[Callable] = None,
        pre_transform: Optional[Callable] = None,
        pre_filter: Optional[Callable] = None,
        force_reload: bool = False,
        use_node_attr: bool = False,
        use_edge_attr: bool = False,
        cleaned: bool = False,
    ) -> None:
        # As TUDataset.__init__ (PyG 2.4 - 2.8), with load_processed()
        # instead of fs.torch_load().
        self.name = name
        self.cleaned = cleaned
        InMemoryDataset.__init__(self, root, transform, pre_transform,
                                 pre_filter, force_reload=force_reload)
        out: Any = self.load_processed(self.processed_paths[0])
        if len(out) == 3:
            data, self.slices, self.sizes = out
            data_cls = Data
        else:
            data, self.slices, self.sizes, data_cls = out
        self.data = data_cls.from_dict(data) if isinstance(data,
                                                           dict) else data
        if self._data.x is not None and not use_node_attr:
            num_node_attributes = self.num_node_attributes
            self._data.x = self._data.x[:, num_node_attributes:]
        if self._data.edge_attr is not None and not use_edge_attr:
            num_edge_attrs = self.num_edge_attributes
            self._data.edge_attr = self._data.edge_attr[:, num_edge_attrs:]


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
    r"""Loads a TU dataset with ``TUDataset(<root>/TU, name)`` (as
    :class:`SafeTUDataset`).

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
    dataset = SafeTUDataset(str(Path(base) / spec.parent), spec.pyg_name)
    if dataset.num_node_features == 0:
        dataset.transform = OneHotDegree(max_degree(dataset))
    return dataset
