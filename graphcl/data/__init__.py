r"""Datasets for graphcl: a registry of benchmark graphs loaded through the
real PyG/OGB loaders from an offline data root, users' own graphs, splits
and validation.

.. code-block:: python

    from graphcl.data import load_dataset, load_graph_dataset

    data = load_dataset('cora')            # Data with public split masks
    data = load_dataset('photo', seed=1)   # random 10/10/80 split, seed 1
    dataset, split_idx = load_graph_dataset('ogbg-molbace')

The data root is the ``root`` argument, else ``$GRAPHCL_DATA``, else
``./datasets`` (see ``datasets/README.md`` and ``docs/datasets.md``).
OGB support needs ``pip install graphcl[ogb]``.

No code runs from a data file: Planetoid's raw pickles are read with a
restricted unpickler (:mod:`graphcl.data.planetoid`), every ``.pt`` file
with ``torch.load(..., weights_only=True)`` only
(:func:`safe_torch_load`), and processed files are rebuilt when their raw
files change (:mod:`graphcl.data.processed`).
"""
from .checks import check_node_data
from .load import load_dataset, load_graph_dataset
from .ogb import ogb_graph_metric, ogb_node_metric
from .registry import DATASETS, DatasetSpec, get_spec, list_datasets
from .processed import ReprocessWarning
from .root import (
    DatasetNotFoundError,
    NotWritableError,
    cache_dir,
    prepare_dataset_dir,
    resolve_root,
)
from .serialization import (
    PYG_SAFE_GLOBALS,
    DataFileError,
    pyg_safe_globals,
    safe_torch_load,
)
from .splits import masks_from_index, random_node_split
from .synthetic import synthetic_sbm
from .user import from_networkx, load_data_file


__all__ = [
    'load_dataset',
    'load_graph_dataset',
    'list_datasets',
    'resolve_root',
    'cache_dir',
    'prepare_dataset_dir',
    'check_node_data',
    'random_node_split',
    'masks_from_index',
    'from_networkx',
    'load_data_file',
    'ogb_node_metric',
    'ogb_graph_metric',
    'pyg_safe_globals',
    'safe_torch_load',
    'PYG_SAFE_GLOBALS',
    'get_spec',
    'DatasetSpec',
    'DATASETS',
    'DatasetNotFoundError',
    'DataFileError',
    'NotWritableError',
    'ReprocessWarning',
]
