import os

import pytest
import torch

from graphcl.data import DatasetNotFoundError, cache_dir, load_dataset


def _check(data, name, num_nodes, num_feats, num_classes):
    assert data.name == name
    assert data.x.shape == (num_nodes, num_feats)
    assert data.x.dtype == torch.float
    assert data.edge_index.dtype == torch.long
    assert data.y.shape == (num_nodes, ) and data.y.dtype == torch.long
    assert int(data.y.max()) + 1 == num_classes
    for key in ('train_mask', 'val_mask', 'test_mask'):
        assert data[key].dtype == torch.bool and data[key].shape == (
            num_nodes, )


@pytest.mark.parametrize('name,canonical,shape', [
    ('cora', 'Cora', (2708, 1433, 7, 10556)),
    ('CiteSeer', 'CiteSeer', (3327, 3703, 6, 9104)),
])
def test_planetoid_public_split(shared_root, name, canonical, shape):
    data = load_dataset(name, root=shared_root)
    _check(data, canonical, *shape[:3])
    assert data.edge_index.size(1) == shape[3]
    assert data.split == 'public'
    assert int(data.train_mask.sum()) == 20 * shape[2]
    assert int(data.val_mask.sum()) == 500
    assert int(data.test_mask.sum()) == 1000
    # Raw features are not normalised: Cora/CiteSeer rows are binary.
    assert set(data.x.unique().tolist()) <= {0.0, 1.0}


def test_shared_folder_is_never_written(shared_root):
    load_dataset('cora', root=shared_root)
    assert not (shared_root / 'Cora' / 'processed').exists()
    assert (cache_dir(shared_root) / 'Cora' / 'processed').is_dir()


def test_root_from_environment(shared_root, monkeypatch):
    monkeypatch.setenv('GRAPHCL_DATA', str(shared_root))
    assert load_dataset('cora').name == 'Cora'


def test_amazon_random_split_seeds(shared_root):
    a = load_dataset('photo', root=shared_root, seed=0)
    b = load_dataset('amazon-photo', root=shared_root, seed=0)
    c = load_dataset('Photo', root=shared_root, seed=1)
    _check(a, 'Amazon-Photo', 7650, 745, 8)
    assert a.edge_index.size(1) == 238162
    assert a.split == 'random 10/10/80 (seed=0)'
    assert c.split == 'random 10/10/80 (seed=1)'
    assert [int(a[k].sum()) for k in ('train_mask', 'val_mask', 'test_mask')
            ] == [765, 765, 6120]
    assert torch.equal(a.train_mask, b.train_mask)
    assert torch.equal(a.test_mask, b.test_mask)
    assert not torch.equal(a.train_mask, c.train_mask)


@pytest.mark.parametrize('name,canonical,shape', [
    ('computers', 'Amazon-Computers', (13752, 767, 10)),
    ('coauthor-cs', 'Coauthor-CS', (18333, 6805, 15)),
    pytest.param('physics', 'Coauthor-Physics', (34493, 8415, 5),
                 marks=pytest.mark.slow),
])
def test_amazon_coauthor(shared_root, name, canonical, shape):
    data = load_dataset(name, root=shared_root, seed=0)
    _check(data, canonical, *shape)
    assert int(data.train_mask.sum()) == round(0.1 * shape[0])


def test_pubmed_synthetic_planetoid_format(pubmed, read_only):
    # PubMed's raw files are not available offline: a tiny dataset in the
    # same format runs through the real Planetoid loader, from a read-only
    # root to exercise the cache.
    read_only(pubmed.root)
    data = load_dataset('pubmed', root=pubmed.root)
    _check(data, 'PubMed', 550, 8, 3)
    assert data.split == 'public'
    assert int(data.train_mask.sum()) == 6
    assert int(data.val_mask.sum()) == 500
    assert int(data.test_mask.sum()) == 20
    assert torch.equal(data.y, pubmed.labels)
    assert data.edge_index.size(1) == 2 * 550
    assert not (pubmed.root / 'PubMed' / 'processed').exists()


def test_missing_raw_files_fail_fast(pubmed):
    os.remove(pubmed.root / 'PubMed' / 'raw' / 'ind.pubmed.graph')
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset('PubMed', root=pubmed.root)
    msg = str(info.value)
    assert "'PubMed'" in msg and 'raw/ind.pubmed.graph' in msg
    assert str(pubmed.root / 'PubMed') in msg


def test_pubmed_absent_from_shared_root(shared_root):
    if (shared_root / 'PubMed' / 'raw' / 'ind.pubmed.graph').exists():
        pytest.skip('PubMed is available here')
    with pytest.raises(FileNotFoundError, match='PubMed'):
        load_dataset('pubmed', root=shared_root)


def test_unknown_name():
    with pytest.raises(ValueError, match='Known datasets: Cora'):
        load_dataset('not-a-dataset')
