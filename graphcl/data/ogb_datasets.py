r"""ogb's PyG datasets with safe processed files (needs ``ogb``).

ogb 1.3.6's :class:`~ogb.nodeproppred.PygNodePropPredDataset` and
:class:`~ogb.graphproppred.PygGraphPropPredDataset` read their processed
file and ``split/<type>/split_dict.pt`` with a bare :func:`torch.load`,
whose ``weights_only`` default depends on the PyTorch version and the
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` environment variable, and inherit
PyG's unsafe ``Dataset._process``. The subclasses here read both with
:func:`~graphcl.data.serialization.safe_torch_load` only, rebuild the
processed file when the raw files changed or it cannot be loaded safely
(:class:`~graphcl.data.processed.SafeProcessingMixin`), and never ask
questions on stdin: a folder without its ``RELEASE_v<version>.txt`` marker
raises a :class:`~graphcl.data.DatasetNotFoundError` instead.
"""
import os.path as osp
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import pandas as pd
from ogb.graphproppred import PygGraphPropPredDataset
from ogb.nodeproppred import PygNodePropPredDataset
from torch import Tensor
from torch_geometric.data import InMemoryDataset

from .processed import SafeProcessingMixin
from .root import DatasetNotFoundError
from .serialization import DataFileError, safe_torch_load

__all__ = ['SafeNodePropPredDataset', 'SafeGraphPropPredDataset']


def _setup(dataset: Any, name: str, root: str, level: str) -> None:
    # The attributes ogb 1.3.6's __init__ sets (without ``meta_dict``).
    import ogb.graphproppred
    import ogb.nodeproppred
    module = ogb.nodeproppred if level == 'node' else ogb.graphproppred
    dataset.name = name
    dataset.dir_name = '_'.join(name.split('-'))
    if osp.exists(osp.join(root, dataset.dir_name + '_pyg')):
        dataset.dir_name += '_pyg'
    dataset.original_root = root
    dataset.root = osp.join(root, dataset.dir_name)
    master = pd.read_csv(
        osp.join(osp.dirname(module.__file__), 'master.csv'), index_col=0,
        keep_default_na=False)
    if name not in master:
        raise ValueError(f"'{name}' is not an OGB {level} property "
                         f"prediction dataset")
    meta = master[name]
    dataset.meta_info = meta
    marker = osp.join(dataset.root, f"RELEASE_v{meta['version']}.txt")
    if osp.isdir(dataset.root) and not osp.exists(marker):
        raise DatasetNotFoundError(
            f"OGB dataset '{name}' in '{dataset.root}' lacks the release "
            f"marker '{osp.basename(marker)}'. If the files are from OGB "
            f"release v{meta['version']}, create the empty file '{marker}'; "
            f"otherwise replace the folder with the current release")
    dataset.download_name = meta['download_name']
    dataset.num_tasks = int(meta['num tasks'])
    dataset.eval_metric = meta['eval metric']
    dataset.task_type = meta['task type']
    dataset.__num_classes__ = int(meta['num classes'])
    dataset.binary = meta['binary'] == 'True'
    if level == 'node':
        dataset.is_hetero = meta['is hetero'] == 'True'


def _split_dict(dataset: Any, split_type: Optional[str],
                fallback: Callable) -> Dict[str, Tensor]:
    split_type = split_type or dataset.meta_info['split']
    path = Path(dataset.root) / 'split' / split_type / 'split_dict.pt'
    if not path.is_file():
        return fallback(split_type)  # ogb reads the csv files.
    try:
        return safe_torch_load(path)
    except DataFileError as e:
        raise DataFileError(
            f"{e}; delete it to read the split from the csv files next to "
            f"it, or replace it with the file of the OGB release", e.path,
            e.kind, e.problem) from None


class _SafeOGBDataset(SafeProcessingMixin):
    # What the node and graph datasets share: set up, process or load
    # safely, and the official split read safely. ``level``: 'node' or
    # 'graph'.
    numpy_scalars = True
    level: str

    def __init__(self, name: str, root: str = 'dataset',
                 transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None):
        _setup(self, name, root, self.level)
        InMemoryDataset.__init__(self, self.root, transform, pre_transform)
        self.load(self.processed_paths[0])

    def get_idx_split(self, split_type: Optional[str] = None) -> Dict:
        r"""ogb's official split, as in ogb, with ``split_dict.pt`` (if
        present) read with ``weights_only=True``."""
        return _split_dict(self, split_type, super().get_idx_split)


class SafeNodePropPredDataset(_SafeOGBDataset, PygNodePropPredDataset):
    r"""ogb's :class:`~ogb.nodeproppred.PygNodePropPredDataset` with
    processed and split files loaded with ``weights_only=True`` only and
    rebuilt when the raw files changed.

    Args:
        name (str): The OGB name, *e.g.*, :obj:`"ogbn-arxiv"`.
        root (str): The folder holding ``<name with _>/``.
        transform (callable, optional): As in PyG. (default: :obj:`None`)
        pre_transform (callable, optional): As in PyG.
            (default: :obj:`None`)
    """
    level = 'node'


class SafeGraphPropPredDataset(_SafeOGBDataset, PygGraphPropPredDataset):
    r"""ogb's :class:`~ogb.graphproppred.PygGraphPropPredDataset` with
    processed and split files loaded with ``weights_only=True`` only and
    rebuilt when the raw files changed.

    Args:
        name (str): The OGB name, *e.g.*, :obj:`"ogbg-molbace"`.
        root (str): The folder holding ``<name with _>/``.
        transform (callable, optional): As in PyG. (default: :obj:`None`)
        pre_transform (callable, optional): As in PyG.
            (default: :obj:`None`)
    """
    level = 'graph'
