import builtins
import sys

import pytest
import torch

from graphcl.data import (
    DatasetNotFoundError,
    load_dataset,
    load_graph_dataset,
    ogb_graph_metric,
    ogb_node_metric,
)

pytest.importorskip('ogb')


@pytest.fixture(autouse=True)
def _stdin_must_not_be_read(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError('stdin was read')

    monkeypatch.setattr(sys.stdin, 'readline', fail, raising=False)
    monkeypatch.setattr(sys.stdin, 'read', fail, raising=False)


def test_ogbn_arxiv_synthetic(arxiv, read_only):
    read_only(arxiv.root)
    data = load_dataset('ogbn-arxiv', root=arxiv.root)
    assert data.name == data.ogb_name == 'ogbn-arxiv'
    assert data.split == 'ogb official'
    assert data.x.dtype == torch.float and data.x.shape == (60, 4)
    assert data.y.dtype == torch.long and data.y.shape == (60, )
    # The directed graph is made undirected.
    edges = set(map(tuple, arxiv.edges.tolist()))
    got = set(map(tuple, data.edge_index.t().tolist()))
    assert got == edges | {(v, u) for u, v in edges}
    perm = arxiv.perm
    assert torch.equal(data.split_idx['train'], perm[:36])
    assert torch.equal(data.train_mask.nonzero().view(-1),
                       perm[:36].sort().values)
    assert int(data.val_mask.sum()) == 12 and int(data.test_mask.sum()) == 12
    assert not (arxiv.folder / 'processed').exists()
    # Loading again reads ogb's processed file back with weights_only=True.
    again = load_dataset('arxiv', root=arxiv.root)
    assert torch.equal(again.x, data.x)


def test_ogbn_missing_release_marker_does_not_prompt(arxiv):
    (arxiv.folder / 'RELEASE_v1.txt').unlink()
    with pytest.raises(DatasetNotFoundError, match='RELEASE_v1.txt'):
        load_dataset('ogbn-arxiv', root=arxiv.root)


def test_ogbn_missing_raw_file(arxiv):
    (arxiv.folder / 'raw' / 'node_year.csv.gz').unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset('ogbn-arxiv', root=arxiv.root)
    msg = str(info.value)
    assert 'ogbn-arxiv' in msg and 'raw/node_year.csv.gz' in msg
    assert str(arxiv.folder) in msg


def test_ogbn_products_absent(tmp_path):
    with pytest.raises(DatasetNotFoundError, match='raw/edge.csv.gz'):
        load_dataset('ogbn-products', root=tmp_path)


def test_input_is_patched_during_ogb_calls():
    from graphcl.data.ogb import _ogb_call
    original = builtins.input
    with _ogb_call():
        with pytest.raises(RuntimeError, match='never waits for input'):
            input('Will you update the dataset now? (y/N)\n')
    assert builtins.input is original


def test_unknown_ogb_names():
    with pytest.raises(ValueError, match='Unknown dataset'):
        load_dataset('ogbn-foo')
    with pytest.raises(ValueError, match='not an OGB graph'):
        load_graph_dataset('ogbg-foo')
    with pytest.raises(ValueError):
        ogb_node_metric('ogbn-foo')
    with pytest.raises(ValueError, match='not an OGB graph'):
        ogb_graph_metric('MUTAG')


def test_ogb_missing_dependency(monkeypatch):
    monkeypatch.setitem(sys.modules, 'ogb', None)
    with pytest.raises(ImportError, match=r'pip install graphcl\[ogb\]'):
        ogb_node_metric('ogbn-arxiv')


def test_node_metric():
    metric = ogb_node_metric('arxiv')
    y = torch.tensor([0, 1, 2, 3])
    assert metric(y, y) == 1.0
    assert metric(y.view(-1, 1), torch.tensor([0, 1, 0, 0])) == 0.5
    logits = torch.nn.functional.one_hot(y, 40).float()
    assert metric(y, logits) == 1.0
    assert metric.__name__ == 'acc'


def test_graph_metric():
    metric = ogb_graph_metric('ogbg-molbace')
    y = torch.tensor([0, 1, 0, 1])
    assert metric(y, torch.tensor([0.1, 0.9, 0.2, 0.8])) == 1.0
    assert metric(y.view(-1, 1), torch.tensor([0.9, 0.1, 0.2, 0.8])) == 0.25
    logits = torch.tensor([[2., 0.], [0., 1.], [1., 0.], [0., 3.]])
    assert metric(y, logits) == 1.0
    assert metric.__name__ == 'rocauc'


@pytest.mark.parametrize('name,num_graphs', [('ogbg-molbace', 1513),
                                             ('bbbp', 2039)])
def test_ogbg_shared(shared_root, name, num_graphs):
    if not (shared_root / 'ogb').is_dir():
        pytest.skip('OGB datasets are not in the shared folder')
    dataset, split_idx = load_graph_dataset(name, root=shared_root)
    assert len(dataset) == num_graphs
    assert set(split_idx) == {'train', 'valid', 'test'}
    assert sum(len(v) for v in split_idx.values()) == num_graphs
    assert not (shared_root / 'ogb' / 'ogbg_molbace' / 'processed').exists()
    # Processed files are read back (second call) with weights_only=True.
    dataset, _ = load_graph_dataset(name, root=shared_root)
    y = dataset.y[split_idx['test']]
    score = ogb_graph_metric(name)(y, y.float())
    assert score == 1.0


def test_ogbn_papers100m_binary_format_unlabelled_nodes(tmp_path):
    # ogbn-papers100M uses ogb's binary raw format and has unlabelled nodes
    # (NaN labels), which become -1.
    import numpy as np
    folder = tmp_path / 'ogb' / 'ogbn_papers100M'
    (folder / 'raw').mkdir(parents=True)
    rng = np.random.default_rng(0)
    edge_index = rng.integers(0, 20, (2, 40))
    np.savez(folder / 'raw' / 'data.npz', edge_index=edge_index,
             num_nodes_list=np.array([20]), num_edges_list=np.array([40]),
             node_feat=rng.standard_normal((20, 3)).astype(np.float32),
             node_year=rng.integers(2000, 2020, (20, 1)))
    labels = np.full((20, 1), np.nan)
    labels[:12, 0] = rng.integers(0, 172, 12)
    np.savez(folder / 'raw' / 'node-label.npz', node_label=labels)
    for i, name in enumerate(('train', 'valid', 'test')):
        path = folder / 'split' / 'time' / f'{name}.csv.gz'
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(path, np.arange(4 * i, 4 * i + 4), fmt='%d')
    (folder / 'RELEASE_v1.txt').write_text('')

    data = load_dataset('papers100m', root=tmp_path)
    assert data.ogb_name == 'ogbn-papers100M'
    assert data.y.dtype == torch.long
    assert torch.equal(data.y[12:], torch.full((8, ), -1))
    assert torch.equal(data.y[:12], torch.from_numpy(labels[:12, 0]).long())
    assert int(data.train_mask.sum()) == 4


def test_ogbn_processed_file_is_loaded_safely(arxiv, payload):
    from graphcl.data import ReprocessWarning
    first = load_dataset('ogbn-arxiv', root=arxiv.root)
    processed = arxiv.folder / 'processed' / 'geometric_data_processed.pt'
    payload.pt(processed)
    payload.pt(arxiv.folder / 'processed' / 'pre_transform.pt')
    with pytest.warns(ReprocessWarning, match="'io.open'"):
        data = load_dataset('ogbn-arxiv', root=arxiv.root)
    assert not payload.marker.exists()
    assert torch.equal(data.x, first.x) and torch.equal(data.y, first.y)


def test_ogbn_raw_change_rebuilds(arxiv):
    import numpy as np
    import pandas as pd

    from graphcl.data import ReprocessWarning
    first = load_dataset('ogbn-arxiv', root=arxiv.root)
    labels = (first.y.numpy() + 1) % 5
    pd.DataFrame(labels[:, None]).to_csv(
        arxiv.folder / 'raw' / 'node-label.csv.gz', compression='gzip',
        header=False, index=False)
    with pytest.warns(ReprocessWarning, match='node-label.csv.gz changed'):
        data = load_dataset('ogbn-arxiv', root=arxiv.root)
    assert np.array_equal(data.y.numpy(), labels)


def test_ogbn_corrupt_raw_file_is_named(arxiv, one_line):
    from graphcl.data import DataFileError
    path = arxiv.folder / 'raw' / 'node-feat.csv.gz'
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataFileError) as info:
        load_dataset('ogbn-arxiv', root=arxiv.root)
    msg = one_line(info.value)
    assert msg.startswith(f"Raw file '{path}'") and 'ogbn-arxiv' in msg


def test_ogb_split_dict_is_loaded_safely(arxiv, payload, one_line):
    from graphcl.data import DataFileError
    split = arxiv.folder / 'split' / 'time' / 'split_dict.pt'
    perm = arxiv.perm
    torch.save({'train': perm[:30], 'valid': perm[30:45],
                'test': perm[45:]}, split)
    data = load_dataset('ogbn-arxiv', root=arxiv.root)
    assert torch.equal(data.split_idx['train'], perm[:30])
    payload.pt(split)
    with pytest.raises(DataFileError) as info:
        load_dataset('ogbn-arxiv', root=arxiv.root)
    msg = one_line(info.value)
    assert str(split) in msg and "'io.open'" in msg and 'delete it' in msg
    assert not payload.marker.exists()
