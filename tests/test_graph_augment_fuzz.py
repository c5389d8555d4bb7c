r"""Property tests of the per-graph augmentations on random small batches
(self-loops, duplicate edges, isolated nodes and graphs without nodes
included)."""
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch_geometric.data import Batch

from graphcl.graph_augment import (AttributeMasking, EdgePerturbation,
                                   NodeDropping, Subgraph, augmented_count,
                                   get_graph_augmentation)
from strategies import graphs

probability = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def batches(draw):
    out = draw(st.lists(graphs(max_nodes=12, num_features=3,
                               index_dtypes=(torch.long, ),
                               edge_weight=False, extreme=False,
                               max_edges=30), min_size=1, max_size=5))
    for d in out:
        d.node_id = torch.arange(d.num_nodes)
        d.edge_id = torch.arange(d.edge_index.size(1))
    return Batch.from_data_list(out)


def pieces(out, batch):
    views, graphs_ = out.to_data_list(), batch.to_data_list()
    assert len(views) == len(graphs_) == batch.num_graphs
    for v, g in zip(views, graphs_):
        assert v.x.size(0) == v.node_id.numel() == v.num_nodes
        assert (v.num_nodes >= 1) == (g.num_nodes >= 1)
        if v.edge_index.numel():
            assert 0 <= int(v.edge_index.min())
            assert int(v.edge_index.max()) < v.num_nodes
        yield v, g


def follows(v, g):
    # Nodes carry their features; kept edges are the originals, mapped.
    assert torch.equal(v.x, g.x[v.node_id])
    assert torch.equal(v.node_id[v.edge_index], g.edge_index[:, v.edge_id])


@given(batches(), probability, st.integers(0, 2**16))
def test_node_dropping(batch, p, seed):
    out = NodeDropping(p, generator=seed)(batch)
    for v, g in pieces(out, batch):
        follows(v, g)
        n = g.num_nodes
        assert v.num_nodes == n - min(int(augmented_count(
            torch.tensor([n]), p)), max(n - 1, 0))
        kept = set(v.node_id.tolist())
        expected = sum(1 for s, t in g.edge_index.t().tolist()
                       if s in kept and t in kept)
        assert v.num_edges == expected


@given(batches(), probability, st.integers(0, 2**16))
def test_subgraph(batch, r, seed):
    out = Subgraph(r, generator=seed)(batch)
    for v, g in pieces(out, batch):
        follows(v, g)
        n = g.num_nodes
        target = min(n, int(augmented_count(torch.tensor([n]), r)) + 1)
        assert v.num_nodes <= target
        if 0 < v.num_nodes < target:  # stopped: no neighbour left
            kept = set(v.node_id.tolist())
            assert all(t in kept for s, t in g.edge_index.t().tolist()
                       if s in kept)


@given(batches(), probability, st.integers(0, 2**16))
def test_edge_perturbation(batch, p, seed):
    out = EdgePerturbation(p, add=False, generator=seed)(batch)
    for v, g in pieces(out, batch):
        follows(v, g)
        m = g.num_edges
        assert v.num_edges == m - int(augmented_count(torch.tensor([m]), p))
    del batch.edge_id
    out = EdgePerturbation(p, generator=seed)(batch)
    for v, g in pieces(out, batch):
        assert v.num_edges == g.num_edges and torch.equal(v.x, g.x)


@given(batches(), probability, st.integers(0, 2**16))
def test_attribute_masking(batch, p, seed):
    out = AttributeMasking(p, generator=seed)(batch)
    assert torch.equal(out.edge_index, batch.edge_index)
    for v, g in pieces(out, batch):
        k = int(augmented_count(torch.tensor([g.num_nodes]), p))
        changed = (v.x != g.x).any(dim=1)
        assert int(changed.sum()) <= k  # a noise row may equal the old


@given(batches(), st.sampled_from(['random2', 'random3', 'random4']),
       st.integers(0, 2**16))
def test_random_pools(batch, name, seed):
    del batch.edge_id  # random3/4 may add edges
    out = get_graph_augmentation(name, generator=seed)(batch)
    for v, g in pieces(out, batch):
        assert v.num_nodes <= g.num_nodes
