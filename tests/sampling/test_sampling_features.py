import pytest
import torch

from graphcl.data import synthetic_sbm
from graphcl.sampling import (SparseRowsTransform, csr_rows, densify,
                              is_sparse_rows, mostly_zero, neighbor_loader,
                              to_sparse_rows)


def random_sparse(n=40, f=30, density=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, f, generator=g)
    x[torch.rand(n, f, generator=g) > density] = 0
    x[3] = 0  # an empty row
    return x


@pytest.fixture(scope='module')
def graph():
    return synthetic_sbm(400, avg_degree=5, num_features=120,
                         sparse_features=True, density=0.03, seed=0)


def test_to_sparse_rows_round_trip():
    x = random_sparse()
    for chunk in (1, 7, 4096):
        csr = to_sparse_rows(x, chunk=chunk)
        assert is_sparse_rows(csr)
        assert torch.equal(csr.to_dense(), x)
        assert csr.values().numel() == int((x != 0).sum())
    assert to_sparse_rows(csr) is csr
    assert torch.equal(to_sparse_rows(x.to_sparse_coo()).to_dense(), x)
    nan = x.clone()
    nan[0, 0] = float('nan')
    assert torch.isnan(to_sparse_rows(nan).to_dense()[0, 0])
    empty = to_sparse_rows(torch.zeros(0, 5))
    assert empty.shape == (0, 5)
    with pytest.raises(ValueError, match='2-D'):
        to_sparse_rows(torch.zeros(5))


def test_csr_rows_equals_dense_indexing():
    x = random_sparse()
    csr = to_sparse_rows(x)
    for index in (torch.tensor([5, 3, 3, 0, 39]), torch.randperm(40),
                  torch.zeros(0, dtype=torch.long)):
        rows = csr_rows(csr, index)
        assert is_sparse_rows(rows) and rows.shape == (index.numel(), 30)
        assert torch.equal(rows.to_dense(), x[index])
    assert torch.equal(densify(csr, 4), x[:4])
    assert densify(x) is x
    with pytest.raises(ValueError, match='sparse_csr'):
        csr_rows(x, torch.tensor([0]))


def test_mostly_zero():
    assert mostly_zero(random_sparse(density=0.05))
    assert not mostly_zero(torch.rand(50, 20) + 0.1)
    assert not mostly_zero(torch.zeros(0, 3))


def test_loader_keeps_sparse_features_sparse(graph):
    dense = graph.x.to_dense()
    for data in (graph, graph.clone().update(dict(x=dense))):
        batch = next(iter(neighbor_loader(data, [4, 4], batch_size=50)))
        assert batch.x.layout == torch.sparse_csr
        assert torch.equal(batch.x.to_dense(), dense[batch.n_id])
        assert batch.num_nodes == batch.n_id.numel()
        assert torch.equal(batch.y, data.y[batch.n_id])
    assert graph.x.layout == torch.sparse_csr  # the graph is not changed
    # dense rows on request, from sparse or dense features
    batch = next(iter(neighbor_loader(graph, [4, 4], batch_size=50,
                                      sparse_features=False)))
    assert batch.x.layout == torch.strided
    assert torch.equal(batch.x, dense[batch.n_id])


def test_loader_dense_features_stay_dense(graph):
    data = graph.clone().update(dict(x=torch.rand(graph.num_nodes, 8)))
    batch = next(iter(neighbor_loader(data, [3], batch_size=20)))
    assert batch.x.layout == torch.strided
    batch = next(iter(neighbor_loader(data, [3], batch_size=20,
                                      sparse_features=True)))
    assert batch.x.layout == torch.sparse_csr
    assert torch.equal(batch.x.to_dense(), data.x[batch.n_id])


def test_loader_sparse_features_with_workers_and_transform(graph):
    seen = []

    def mark(batch):
        seen.append(batch.x.layout)
        return batch

    loader = neighbor_loader(graph, [3, 3], batch_size=200, num_workers=1,
                             transform=mark)
    assert isinstance(loader.transform, SparseRowsTransform)
    dense = graph.x.to_dense()
    for batch in loader:
        assert torch.equal(batch.x.to_dense(), dense[batch.n_id])
    assert len(seen) <= 2  # per worker or in this process


def test_loader_sparse_features_errors(graph):
    with pytest.raises(ValueError, match='sparse_features'):
        neighbor_loader(graph, [3], batch_size=10, sparse_features='yes')
    data = graph.clone().update(dict(x=torch.ones(graph.num_nodes, 3,
                                                  dtype=torch.long)))
    with pytest.raises(ValueError, match='floating-point'):
        neighbor_loader(data, [3], batch_size=10, sparse_features=True)
