import pytest
import torch

from graphcl.data import synthetic_sbm
from graphcl.sampling import to_csc


def test_shapes_and_masks():
    data = synthetic_sbm(2000, avg_degree=8, num_features=16, num_classes=4,
                         seed=1)
    assert data.x.shape == (2000, 16) and data.x.dtype == torch.float
    assert bool((data.x >= 0).all())  # row normalisation applies
    assert data.y.shape == (2000, ) and int(data.y.max()) < 4
    assert 7 < data.num_edges / 2000 < 9
    masks = data.train_mask.long() + data.val_mask.long() + \
        data.test_mask.long()
    assert bool((masks == 1).all())
    assert 100 < int(data.train_mask.sum()) < 300
    assert data.name == 'SyntheticSBM-2k'
    assert not bool((data.edge_index[0] == data.edge_index[1]).any())


def test_sorted_by_destination_and_csc_view():
    data = synthetic_sbm(1000, seed=0)
    col = data.edge_index[1]
    assert bool((col[1:] >= col[:-1]).all())
    csc = to_csc(data.edge_index, data.num_nodes)
    assert csc.perm is None  # no copy of the edges
    assert csc.row.data_ptr() == data.edge_index[0].data_ptr()


def test_deterministic_and_homophilous():
    a = synthetic_sbm(1500, seed=3, chunk_size=100)
    b = synthetic_sbm(1500, seed=3)
    c = synthetic_sbm(1500, seed=4)
    assert torch.equal(a.y, b.y)
    assert not torch.equal(a.y, c.y)
    d = synthetic_sbm(1500, seed=3, chunk_size=100)
    assert torch.equal(a.edge_index, d.edge_index) and torch.equal(a.x, d.x)
    same = (a.y[a.edge_index[0]] == a.y[a.edge_index[1]]).float().mean()
    assert 0.75 < float(same) < 0.9  # p_in = 0.8 plus chance hits


def test_sparse_features():
    data = synthetic_sbm(3000, num_features=500, sparse_features=True,
                         density=0.02, seed=0)
    x = data.x
    assert x.layout == torch.sparse_csr and x.shape == (3000, 500)
    per_row = x.crow_indices().diff().float()
    assert float(per_row.max()) <= 10 and 8 < float(per_row.mean()) <= 10
    dense = x.to_dense()
    assert float(dense.sum()) == 3000 * 10  # counts of 10 words per node
    # Words concentrate on the block's topic:
    topic = 500 // 10
    y = data.y
    in_topic = dense.view(3000, 10, topic)[torch.arange(3000), y].sum()
    assert float(in_topic) / float(dense.sum()) > 0.7


def test_undirected():
    data = synthetic_sbm(800, avg_degree=10, seed=0, undirected=True)
    assert data.is_undirected()
    col = data.edge_index[1]
    assert bool((col[1:] >= col[:-1]).all())
    assert 7 < data.num_edges / 800 < 11


@pytest.mark.parametrize('kwargs,needle', [
    (dict(num_nodes=1), 'num_nodes'),
    (dict(num_nodes=10, avg_degree=0), 'avg_degree'),
    (dict(num_nodes=10, p_in=1.5), 'p_in'),
    (dict(num_nodes=10, train=0.6, val=0.6), r"'train' \+ 'val'"),
    (dict(num_nodes=10, sparse_features=True, density=0), 'density'),
])
def test_errors(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        synthetic_sbm(**kwargs)
