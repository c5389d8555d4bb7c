import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader

from graphcl.data import synthetic_sbm
from graphcl.sampling import (TorchNeighborSampler, neighbor_loader,
                              parse_fanout, pyg_sampler_available,
                              sample_neighbors)


@pytest.fixture(scope='module')
def graph():
    data = synthetic_sbm(600, avg_degree=8, num_features=8, seed=0)
    perm = torch.randperm(data.num_edges, generator=torch.Generator()
                          .manual_seed(0))
    data.edge_index = data.edge_index[:, perm]  # not sorted: CSC with perm
    data.edge_attr = torch.arange(data.num_edges).float()
    return data


def test_sample_without_replacement():
    torch.manual_seed(0)
    deg = torch.tensor([0, 2, 5, 30, 7])
    idx, off = sample_neighbors(deg, 5)
    counts = torch.bincount(idx, minlength=5)
    assert counts.tolist() == [0, 2, 5, 5, 5]
    for i in range(5):
        o = off[idx == i]
        assert o.unique().numel() == o.numel()  # distinct
        assert bool((o >= 0).all() and (o < deg[i]).all())
    assert sorted(off[idx == 2].tolist()) == [0, 1, 2, 3, 4]


def test_floyd_is_uniform():
    torch.manual_seed(0)
    deg = torch.full((4000, ), 10)
    idx, off = sample_neighbors(deg, 3)
    freq = torch.bincount(off, minlength=10).float() / 4000
    # Every slot is chosen with probability k / d = 0.3.
    assert torch.allclose(freq, torch.full((10, ), 0.3), atol=0.03)


def test_sample_with_replacement_and_all():
    torch.manual_seed(0)
    deg = torch.tensor([0, 1, 4])
    idx, off = sample_neighbors(deg, 6, replace=True)
    assert torch.bincount(idx, minlength=3).tolist() == [0, 6, 6]
    assert bool((off[idx == 1] == 0).all()) and int(off.max()) < 4
    idx, off = sample_neighbors(deg, -1)
    assert idx.tolist() == [1, 2, 2, 2, 2] and off.tolist() == [0, 0, 1, 2, 3]


def test_subgraph_follows_pyg_conventions(graph):
    torch.manual_seed(1)
    fanout = [4, 3]
    loader = neighbor_loader(graph, fanout, batch_size=32, shuffle=True,
                             backend='torch')
    assert isinstance(loader, NodeLoader)
    assert isinstance(loader.node_sampler, TorchNeighborSampler)
    edges = set(map(tuple, graph.edge_index.t().tolist()))
    seen = 0
    for batch in loader:
        n, bs = batch.num_nodes, batch.batch_size
        seen += bs
        assert batch.n_id.unique().numel() == n  # relabelled, no duplicates
        assert torch.equal(batch.x, graph.x[batch.n_id])
        # Sampled edges are real edges; e_id points at them in the input.
        glob = batch.n_id[batch.edge_index]
        assert all(tuple(e) in edges for e in glob.t().tolist())
        assert torch.equal(graph.edge_index[:, batch.e_id], glob)
        assert torch.equal(batch.edge_attr, graph.edge_attr[batch.e_id])
        # Hop structure: edges of hop h end in nodes first reached at h-1.
        assert sum(batch.num_sampled_nodes) == n
        assert sum(batch.num_sampled_edges) == batch.num_edges
        node_hop = torch.repeat_interleave(
            torch.arange(len(batch.num_sampled_nodes)),
            torch.tensor(batch.num_sampled_nodes))
        edge_hop = torch.repeat_interleave(
            torch.arange(len(fanout)), torch.tensor(batch.num_sampled_edges))
        dst, src = batch.edge_index[1], batch.edge_index[0]
        assert torch.equal(node_hop[dst], edge_hop)
        assert bool((node_hop[src] <= edge_hop + 1).all())
        # At most k in-edges per destination and hop, and all when deg <= k.
        deg = torch.bincount(graph.edge_index[1], minlength=graph.num_nodes)
        for h, k in enumerate(fanout):
            d = dst[edge_hop == h]
            got = torch.bincount(d, minlength=n)
            want = deg[batch.n_id].clamp(max=k)
            want[node_hop != h] = 0
            assert torch.equal(got, want)
    assert seen == graph.num_nodes


def test_input_nodes_and_reuse(graph):
    sampler = TorchNeighborSampler(graph, [2])
    seeds = torch.tensor([5, 9, 7])
    loader = neighbor_loader(graph, batch_size=2, input_nodes=seeds,
                             sampler=sampler)
    batches = list(loader)
    assert [b.batch_size for b in batches] == [2, 1]
    assert batches[0].n_id[:2].tolist() == [5, 9]
    assert batches[1].n_id[:1].tolist() == [7]
    # The relabelling map is clean after every batch.
    assert bool((sampler._node_map() == -1).all())
    mask = torch.zeros(graph.num_nodes, dtype=torch.bool)
    mask[[1, 2]] = True
    assert next(iter(neighbor_loader(graph, [2], 8, input_nodes=mask))
                ).batch_size == 2


def test_shuffle_reshuffles_every_epoch(graph):
    torch.manual_seed(0)
    loader = neighbor_loader(graph, [2], batch_size=256, shuffle=True)
    first = torch.cat([b.n_id[:b.batch_size] for b in loader])
    second = torch.cat([b.n_id[:b.batch_size] for b in loader])
    assert len(loader) == 3 and first.numel() == graph.num_nodes
    assert torch.equal(first.sort().values, torch.arange(graph.num_nodes))
    assert not torch.equal(first, second)
    assert sum(b.batch_size for b in neighbor_loader(
        graph, [2], 256, shuffle=True, drop_last=True)) == 512


def test_workers(graph):
    loader = neighbor_loader(graph, [3, 3], batch_size=200, num_workers=2)
    assert sum(b.batch_size for b in loader) == graph.num_nodes


def test_backend_choice(graph):
    loader = neighbor_loader(graph, [2], batch_size=8)
    if pyg_sampler_available():
        from torch_geometric.sampler import NeighborSampler
        assert isinstance(loader.node_sampler, NeighborSampler)
    else:
        assert isinstance(loader.node_sampler, TorchNeighborSampler)
        with pytest.raises(ImportError, match='pyg-lib'):
            neighbor_loader(graph, [2], batch_size=8, backend='pyg')
    with pytest.raises(ValueError, match='backend'):
        neighbor_loader(graph, [2], batch_size=8, backend='dgl')


def test_isolated_seed():
    data = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0], [1]]))
    batch = next(iter(neighbor_loader(data, [5], batch_size=3)))
    assert batch.num_sampled_nodes == [3, 0] and batch.num_edges == 1


@pytest.mark.parametrize('value,expected', [
    ('10,10,25', [10, 10, 25]), ('5', [5]), ('10, -1', [10, -1]),
    ([3, 2], [3, 2]),
])
def test_parse_fanout(value, expected):
    assert parse_fanout(value) == expected


@pytest.mark.parametrize('value', ['', '10,x', '0,5', '-2', [1.5], 5])
def test_bad_fanout(value):
    with pytest.raises(ValueError, match='fan-out|fanout'):
        parse_fanout(value)


def test_bad_batch_size(graph):
    for bs in (0, -3, 2.5):
        with pytest.raises(ValueError, match='batch size'):
            neighbor_loader(graph, [2], batch_size=bs)
    with pytest.raises(ValueError, match='num_workers'):
        neighbor_loader(graph, [2], batch_size=4, num_workers=-1)
