import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from graphcl.data import (
    DatasetNotFoundError,
    cache_dir,
    get_spec,
    list_datasets,
    load_dataset,
)

NUM_NODES, NUM_FEATS, NUM_CLASSES, NUM_SPLITS = 40, 6, 3, 20


@pytest.fixture
def wikics(tmp_path) -> SimpleNamespace:
    r"""A tiny WikiCS in its raw ``data.json`` format (the keys PyG's
    ``WikiCS.process`` reads): 40 nodes, 3 classes, a ring plus a few chords
    as directed links, the last 20 nodes as the test set and 20 train/val/
    stopping splits of 5/5/5 nodes drawn from the first 20, stored as in
    the real file: one 0/1 list per split, ``[20][num_nodes]`` (PyG
    transposes them to ``[num_nodes, 20]``)."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_CLASSES, NUM_NODES)
    labels[:NUM_CLASSES] = np.arange(NUM_CLASSES)
    feats = rng.standard_normal((NUM_NODES, NUM_FEATS)).round(3)
    links = [[(i + 1) % NUM_NODES] for i in range(NUM_NODES)]
    for i in range(0, NUM_NODES, 4):
        links[i].append((i + 7) % NUM_NODES)
    test = np.zeros(NUM_NODES, dtype=bool)
    test[20:] = True
    train = np.zeros((NUM_SPLITS, NUM_NODES), dtype=bool)
    val = np.zeros_like(train)
    stop = np.zeros_like(train)
    for k in range(NUM_SPLITS):
        perm = rng.permutation(20)
        train[k, perm[:5]] = True
        val[k, perm[5:10]] = True
        stop[k, perm[10:15]] = True
    raw = tmp_path / 'data' / 'WikiCS' / 'raw'
    raw.mkdir(parents=True)
    doc = {
        'features': feats.tolist(),
        'labels': labels.tolist(),
        'links': links,
        'train_masks': train.astype(int).tolist(),
        'val_masks': val.astype(int).tolist(),
        'stopping_masks': stop.astype(int).tolist(),
        'test_mask': test.astype(int).tolist(),
    }
    (raw / 'data.json').write_text(json.dumps(doc))
    edges = {(i, j) for i, js in enumerate(links) for j in js}
    edges |= {(j, i) for i, j in edges}
    return SimpleNamespace(root=tmp_path / 'data',
                           labels=torch.from_numpy(labels),
                           feats=torch.from_numpy(feats).float(),
                           num_edges=len(edges), train=torch.from_numpy(train),
                           val=torch.from_numpy(val),
                           stop=torch.from_numpy(stop),
                           test=torch.from_numpy(test))


def test_names_and_aliases():
    for name in ('WikiCS', 'wikics', 'wiki-cs', 'Wiki_CS', 'WIKI-CS'):
        assert get_spec(name, level='node').name == 'WikiCS'
    spec = get_spec('wiki-cs')
    assert spec.folder == 'WikiCS'
    assert spec.raw_files == ('raw/data.json', )
    assert 'WikiCS' in list_datasets('node')


def test_wikics_synthetic_official_splits(wikics):
    data = load_dataset('wiki-cs', root=wikics.root, seed=3)
    assert data.name == 'WikiCS'
    assert data.split == 'wikics official split 3 of 20'
    assert data.x.shape == (NUM_NODES, NUM_FEATS)
    assert data.x.dtype == torch.float
    assert torch.allclose(data.x, wikics.feats)
    assert data.y.shape == (NUM_NODES, ) and data.y.dtype == torch.long
    assert torch.equal(data.y, wikics.labels)
    # is_undirected=True: every link in both directions, no duplicates.
    assert data.edge_index.dtype == torch.long
    assert data.edge_index.size(1) == wikics.num_edges
    for key in ('train_mask', 'val_mask', 'test_mask', 'stopping_mask'):
        assert data[key].dtype == torch.bool
        assert data[key].shape == (NUM_NODES, )
    assert torch.equal(data.train_mask, wikics.train[3])
    assert torch.equal(data.val_mask, wikics.val[3])
    assert torch.equal(data.stopping_mask, wikics.stop[3])
    assert torch.equal(data.test_mask, wikics.test)
    masks = [data.train_mask, data.val_mask, data.test_mask]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not bool((masks[i] & masks[j]).any())


def test_wikics_seeds_pick_official_splits(wikics):
    a = load_dataset('WikiCS', root=wikics.root, seed=0)
    b = load_dataset('WikiCS', root=wikics.root, seed=1)
    c = load_dataset('WikiCS', root=wikics.root, seed=20)
    assert a.split == 'wikics official split 0 of 20'
    assert b.split == 'wikics official split 1 of 20'
    assert c.split == 'wikics official split 0 of 20'
    assert torch.equal(a.train_mask, wikics.train[0])
    assert torch.equal(b.train_mask, wikics.train[1])
    assert not torch.equal(a.train_mask, b.train_mask)
    assert torch.equal(a.train_mask, c.train_mask)
    assert torch.equal(a.val_mask, c.val_mask)
    assert torch.equal(a.test_mask, b.test_mask)


def test_wikics_read_only_root_uses_cache(wikics, read_only):
    read_only(wikics.root)
    data = load_dataset('wikics', root=wikics.root, seed=5)
    assert data.split == 'wikics official split 5 of 20'
    assert torch.equal(data.train_mask, wikics.train[5])
    assert not (wikics.root / 'WikiCS' / 'processed').exists()
    assert (cache_dir(wikics.root) / 'WikiCS' / 'processed').is_dir()


def test_wikics_missing_raw_file(tmp_path):
    # data.json is not available offline: a clear error, no download (the
    # conftest fails any network connection).
    root = tmp_path / 'empty'
    root.mkdir()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset('WikiCS', root=root)
    msg = str(info.value)
    assert "'WikiCS'" in msg and 'raw/data.json' in msg
    assert str(root / 'WikiCS') in msg
    assert not (root / 'WikiCS').exists()


def test_wikics_absent_from_shared_root(shared_root):
    if (shared_root / 'WikiCS' / 'raw' / 'data.json').exists():
        pytest.skip('WikiCS is available here')
    with pytest.raises(DatasetNotFoundError, match='WikiCS'):
        load_dataset('wiki-cs', root=shared_root)


def test_wikics_raw_change_and_corrupt_file(wikics, one_line):
    from graphcl.data import DataFileError, ReprocessWarning
    load_dataset('WikiCS', root=wikics.root)
    path = wikics.root / 'WikiCS' / 'raw' / 'data.json'
    doc = json.loads(path.read_text())
    doc['labels'] = [(v + 1) % NUM_CLASSES for v in doc['labels']]
    path.write_text(json.dumps(doc))
    with pytest.warns(ReprocessWarning, match='data.json changed'):
        data = load_dataset('WikiCS', root=wikics.root)
    assert torch.equal(data.y, (wikics.labels + 1) % NUM_CLASSES)
    path.write_text(path.read_text()[:100])  # Truncated.
    with pytest.raises(DataFileError) as info, pytest.warns(ReprocessWarning):
        load_dataset('WikiCS', root=wikics.root)
    msg = one_line(info.value)
    assert msg.startswith(f"Raw file '{path}'") and 'WikiCS' in msg
