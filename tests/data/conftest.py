import pickle
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

# ``shared_root`` (the offline data folder, skipping when absent) comes from
# tests/conftest.py.


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    r"""Every test gets its own cache, and no test may reach the network."""
    monkeypatch.setenv('GRAPHCL_CACHE', str(tmp_path / 'cache'))

    def no_network(*args, **kwargs):
        raise AssertionError('graphcl.data tried to open a network connection')

    monkeypatch.setattr(socket, 'create_connection', no_network)
    monkeypatch.setattr(socket.socket, 'connect', no_network)


def _chmod_tree(path: Path, dir_mode: int, file_mode: int) -> None:
    for p in [path] + list(path.rglob('*')):
        p.chmod(dir_mode if p.is_dir() else file_mode)


@pytest.fixture
def read_only():
    r"""Marks folders read-only (r-x) for the test, restoring them after."""
    marked = []

    def mark(path: Path) -> Path:
        _chmod_tree(path, 0o555, 0o444)
        marked.append(path)
        return path

    yield mark
    for path in marked:
        _chmod_tree(path, 0o755, 0o644)


@pytest.fixture
def pubmed(tmp_path) -> SimpleNamespace:
    r"""A tiny PubMed in Planetoid's raw format: 3 classes, 6 training nodes,
    500 validation nodes, 20 test nodes stored out of order, a ring graph."""
    import scipy.sparse as sp
    rng = np.random.default_rng(0)
    num_classes, num_feats, num_train, num_all, num_test = 3, 8, 6, 530, 20
    num_nodes = num_all + num_test

    def onehot(labels):
        return np.eye(num_classes)[labels]

    labels = rng.integers(0, num_classes, num_nodes)
    labels[:num_train] = np.arange(num_train) % num_classes
    feats = (rng.random((num_nodes, num_feats)) < 0.3).astype(np.float32)
    test_index = rng.permutation(np.arange(num_all, num_nodes))
    items = {
        'x': sp.csr_matrix(feats[:num_train]),
        'allx': sp.csr_matrix(feats[:num_all]),
        'tx': sp.csr_matrix(feats[test_index]),
        'y': onehot(labels[:num_train]),
        'ally': onehot(labels[:num_all]),
        'ty': onehot(labels[test_index]),
        'graph': {
            i: [(i - 1) % num_nodes, (i + 1) % num_nodes]
            for i in range(num_nodes)
        },
    }
    raw = tmp_path / 'data' / 'PubMed' / 'raw'
    raw.mkdir(parents=True)
    for key, value in items.items():
        with open(raw / f'ind.pubmed.{key}', 'wb') as f:
            pickle.dump(value, f, protocol=2)
    (raw / 'ind.pubmed.test.index').write_text(
        '\n'.join(str(i) for i in test_index) + '\n')
    return SimpleNamespace(root=tmp_path / 'data',
                           labels=torch.from_numpy(labels))


def _write_csv(path: Path, array) -> None:
    import pandas as pd
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(np.asarray(array)).to_csv(path, compression='gzip',
                                           header=False, index=False)


@pytest.fixture
def arxiv(tmp_path) -> SimpleNamespace:
    r"""A tiny ``ogbn-arxiv`` in OGB's raw format under
    ``<root>/ogb/ogbn_arxiv``: 60 nodes, 150 directed edges, 5 classes, a
    36/12/12 "time" split and the release marker."""
    rng = np.random.default_rng(0)
    num_nodes, num_edges = 60, 150
    folder = tmp_path / 'data' / 'ogb' / 'ogbn_arxiv'
    raw = folder / 'raw'
    edges = rng.integers(0, num_nodes, (num_edges, 2))
    _write_csv(raw / 'edge.csv.gz', edges)
    _write_csv(raw / 'node-feat.csv.gz',
               rng.standard_normal((num_nodes, 4)).round(4))
    _write_csv(raw / 'node-label.csv.gz',
               rng.integers(0, 5, (num_nodes, 1)))
    _write_csv(raw / 'node_year.csv.gz',
               rng.integers(2000, 2020, (num_nodes, 1)))
    _write_csv(raw / 'num-node-list.csv.gz', [[num_nodes]])
    _write_csv(raw / 'num-edge-list.csv.gz', [[num_edges]])
    perm = rng.permutation(num_nodes)
    for name, idx in (('train', perm[:36]), ('valid', perm[36:48]),
                      ('test', perm[48:])):
        _write_csv(folder / 'split' / 'time' / f'{name}.csv.gz', idx[:, None])
    (folder / 'RELEASE_v1.txt').write_text('')
    return SimpleNamespace(root=tmp_path / 'data', folder=folder,
                           edges=torch.from_numpy(edges),
                           perm=torch.from_numpy(perm))


class Payload:
    r"""A malicious object: unpickling it calls ``open(marker, 'w')``, which
    creates the file :obj:`marker`. Loaders must refuse it, so the marker
    must never appear."""
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def payload(tmp_path) -> SimpleNamespace:
    r"""A :class:`Payload` (``obj``) and the marker file (``marker``) it
    would create; ``pt`` writes it with ``torch.save``, ``pickle`` with
    ``pickle.dump`` (protocol 2, as Planetoid's raw files)."""
    marker = tmp_path / 'PAYLOAD_RAN'
    obj = Payload(marker)

    def pt(path: Path) -> Path:
        torch.save(obj, path)
        return path

    def as_pickle(path: Path) -> Path:
        with open(path, 'wb') as f:
            pickle.dump(obj, f, protocol=2)
        return path

    return SimpleNamespace(obj=obj, marker=marker, pt=pt, pickle=as_pickle)


@pytest.fixture
def copy_dataset(shared_root, tmp_path):
    r"""Copies a dataset folder of the offline data root (*e.g.*,
    :obj:`"TU/MUTAG"`) to a writable ``tmp_path/data`` and returns that
    data root (skips when the shared folder is absent)."""
    def copy(folder: str) -> Path:
        src, root = shared_root / folder, tmp_path / 'data'
        for path in sorted(src.rglob('*')):
            if path.is_file() and 'processed' not in path.parts:
                target = root / folder / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
        return root

    return copy


@pytest.fixture
def one_line():
    r"""``one_line(error)``: the error's message, asserted to be a single
    line."""
    def check(error: BaseException) -> str:
        message = str(error)
        assert message and '\n' not in message, message
        return message

    return check
