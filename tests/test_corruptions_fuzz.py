r"""Property tests of :mod:`graphcl.corruptions` on random small graphs
(empty ones, isolated nodes, self-loops, duplicate edges, int32 indices,
extreme features): every corruption, on a ``Data`` and on
``(x, edge_index[, edge_weight])``, gives valid output of the right shape
(no dangling edge index after dropping nodes, edge and node attributes
following their edges and nodes), leaves its input untouched, and is
reproducible from its seed."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

from graphcl.corruptions import (Compose, EdgeDrop, FeatureMask,
                                 FeatureNoise, FeatureShuffle, Identity,
                                 NodeDrop, RandomChoice, get_corruption)
from strategies import graphs

CORRUPTIONS = {
    'feature_shuffle': lambda p, g: FeatureShuffle(generator=g),
    'edge_drop': lambda p, g: EdgeDrop(p, generator=g),
    'edge_drop_undirected': lambda p, g: EdgeDrop(p, force_undirected=True,
                                                  generator=g),
    'feature_mask': lambda p, g: FeatureMask(p, generator=g),
    'node_drop': lambda p, g: NodeDrop(p, generator=g),
    'node_drop_relabel': lambda p, g: NodeDrop(p, relabel=True, generator=g),
    'feature_noise': lambda p, g: FeatureNoise(p, generator=g),
    'identity': lambda p, g: Identity(generator=g),
    'compose': lambda p, g: Compose([
        NodeDrop(p, relabel=True, generator=g), EdgeDrop(p, generator=g),
        FeatureMask(p, generator=g), FeatureShuffle(generator=g)]),
    'random_choice': lambda p, g: RandomChoice(
        [NodeDrop(p, relabel=True, generator=g), EdgeDrop(p, generator=g),
         FeatureNoise(p, generator=g)], generator=g),
    'by_name': lambda p, g: get_corruption(
        'drop_node,edge_drop,feature_mask', p=p, generator=g),
}
#: Corruptions whose output rows are the input's nodes, in order.
KEEPS_NODES = {'feature_shuffle', 'edge_drop', 'edge_drop_undirected',
               'feature_mask', 'node_drop', 'feature_noise', 'identity'}

probabilities = st.one_of(st.sampled_from((0.0, 1.0, 0.5)),
                          st.floats(0.0, 1.0))
seeds = st.integers(0, 2**31 - 1)
ids = pytest.mark.parametrize('name', sorted(CORRUPTIONS))


def with_ids(data: Data) -> Data:
    r"""``data`` with ``node_id`` ``[N]`` and ``edge_id`` ``[E]``: after a
    corruption they name the input node and edge of every output row and
    column."""
    data = data.clone()
    data.node_id = torch.arange(data.num_nodes)
    data.edge_id = torch.arange(data.edge_index.size(1))
    return data


def snapshot(data: Data) -> dict:
    return {k: v.clone() for k, v in data.items() if torch.is_tensor(v)}


def assert_valid(name: str, data: Data, out: Data):
    r"""The corrupted ``out`` is a valid graph whose nodes and edges are
    nodes and edges of ``data`` (as named by ``node_id``/``edge_id``)."""
    n, f = data.x.shape
    assert type(out) is Data and out is not data
    m = out.num_nodes
    assert out.x.dtype == data.x.dtype and out.x.shape == (m, f)
    assert bool(torch.isfinite(out.x).all())
    assert out.node_id.shape == (m, ) and out.y.shape == (m, )
    assert out.train_mask.dtype == torch.bool and out.train_mask.shape == (m, )
    if name in KEEPS_NODES:
        assert m == n and torch.equal(out.node_id, data.node_id)
    else:
        assert m <= n
        assert bool((out.node_id[1:] > out.node_id[:-1]).all())  # in order
    assert torch.equal(out.y, data.y[out.node_id])
    assert torch.equal(out.train_mask, data.train_mask[out.node_id])

    ei = out.edge_index
    assert ei.dim() == 2 and ei.size(0) == 2
    assert ei.dtype == data.edge_index.dtype, 'edge_index changed dtype'
    e = ei.size(1)
    assert e <= data.edge_index.size(1) and out.edge_id.shape == (e, )
    if e:
        assert 0 <= int(ei.min()) and int(ei.max()) < m, 'dangling edge'
    # Every output edge is its input edge, in the output's node numbering.
    assert torch.equal(out.node_id[ei.long()],
                       data.edge_index[:, out.edge_id].long())
    assert bool((out.edge_id[1:] > out.edge_id[:-1]).all())  # kept in order
    if 'edge_weight' in data:
        assert torch.equal(out.edge_weight, data.edge_weight[out.edge_id])


def graph_with_attrs():
    return graphs(with_labels=True, with_masks=True).map(with_ids)


@ids
@given(data=graph_with_attrs(), p=probabilities, seed=seeds)
def test_valid_reproducible_both_forms(name, data, p, seed):
    before = snapshot(data)
    out = CORRUPTIONS[name](p, seed)(data)
    for key, value in before.items():
        assert torch.equal(data[key], value), f'input {key} modified'
    assert_valid(name, data, out)
    # The same seed, the same output.
    again = CORRUPTIONS[name](p, seed)(data)
    assert again.keys() == out.keys()
    for key, value in out.items():
        if torch.is_tensor(value):
            assert torch.equal(again[key], value), key
    # The tuple form draws the same: (x, edge_index, edge_weight) ...
    x, edge_index, kept = CORRUPTIONS[name](p, seed)(
        data.x, data.edge_index, data.edge_id)
    assert torch.equal(x, out.x) and torch.equal(kept, out.edge_id)
    assert edge_index.dtype == data.edge_index.dtype
    assert torch.equal(edge_index, out.edge_index)
    # ... and without edge weights, a pair.
    pair = CORRUPTIONS[name](p, seed)(data.x, data.edge_index)
    assert len(pair) == 2 and torch.equal(pair[0], out.x)
    assert torch.equal(pair[1], out.edge_index)


@given(name=st.sampled_from(sorted(CORRUPTIONS)),
       data=graphs(edge_weight=False), p=probabilities, seed=seeds)
def test_edges_only(name, data, p, seed):
    r"""``x=None`` (edges only, node count given): the edge corruptions
    work, the feature ones refuse with a ValueError."""
    corruption = CORRUPTIONS[name](p, seed)
    try:
        x, edge_index = corruption(None, data.edge_index,
                                   num_nodes=data.num_nodes)
    except ValueError as e:
        assert "needs node features 'x'" in str(e)
        return
    assert x is None
    assert edge_index.dtype == data.edge_index.dtype
    assert edge_index.size(0) == 2
    assert edge_index.size(1) <= data.edge_index.size(1)
    if edge_index.numel():
        assert int(edge_index.min()) >= 0
        assert int(edge_index.max()) < data.num_nodes


@given(data=graphs(), p=probabilities, seed=seeds)
def test_edge_drop_undirected_keeps_pairs_together(data, p, seed):
    out = EdgeDrop(p, force_undirected=True, generator=seed)(with_ids(data))
    row, col = data.edge_index.long()
    pair = torch.minimum(row, col) * (data.num_nodes + 1) + \
        torch.maximum(row, col)
    kept = torch.zeros(pair.numel(), dtype=torch.bool)
    kept[out.edge_id] = True
    for key in pair.unique():
        assert kept[pair == key].unique().numel() == 1


@given(data=graphs(), p=probabilities, seed=seeds)
def test_feature_mask_zeroes_whole_columns(data, p, seed):
    x = FeatureMask(p, generator=seed)(data).x
    for k in range(x.size(1)):
        column = x[:, k]
        assert torch.equal(column, data.x[:, k]) or \
            not bool(column.ne(0).any())


@given(data=graphs(), p=probabilities, seed=seeds)
def test_node_drop_isolates_the_dropped_nodes(data, p, seed):
    out = NodeDrop(p, generator=seed)(with_ids(data))
    kept = NodeDrop(p, relabel=True, generator=seed)(with_ids(data))
    dropped = torch.ones(data.num_nodes, dtype=torch.bool)
    dropped[kept.node_id] = False
    assert not bool(out.x[dropped].ne(0).any())
    assert torch.equal(out.x[~dropped], data.x[~dropped])
    assert not bool(dropped[out.edge_index.long()].any())
    assert torch.equal(out.edge_id, kept.edge_id)


@given(data=graphs(), seed=seeds)
def test_feature_shuffle_permutes_rows(data, seed):
    out = FeatureShuffle(generator=seed)(data)
    assert out.edge_index is data.edge_index
    perm = FeatureShuffle(generator=seed).permutation(data.num_nodes)
    assert torch.equal(out.x, data.x[perm])
    assert torch.equal(perm.sort().values, torch.arange(data.num_nodes))


@pytest.mark.parametrize('name', sorted(set(CORRUPTIONS) - KEEPS_NODES))
@given(parts=st.lists(graphs(num_features=3, index_dtypes=(torch.long, ),
                             edge_weight=True, extreme=False),
                      min_size=1, max_size=3),
       p=probabilities, seed=seeds)
def test_batch(name, parts, p, seed):
    r"""On a :class:`~torch_geometric.data.Batch`, corruptions that remove
    nodes give a Batch whose ``batch`` and ``ptr`` follow the kept nodes,
    with edges within their graph."""
    batch = Batch.from_data_list(parts)
    out = CORRUPTIONS[name](p, seed)(batch)
    assert isinstance(out, Batch)
    n = out.num_nodes
    assert out.x.shape == (n, 3) and out.batch.shape == (n, )
    counts = torch.bincount(out.batch, minlength=len(parts))
    assert torch.equal(out.ptr, torch.cat([counts.new_zeros(1),
                                           counts.cumsum(0)]))
    assert bool((out.batch[1:] >= out.batch[:-1]).all())
    ei = out.edge_index
    assert out.edge_weight.shape == (ei.size(1), )
    if ei.numel():
        assert 0 <= int(ei.min()) and int(ei.max()) < n
        assert torch.equal(out.batch[ei[0]], out.batch[ei[1]])


@given(name=st.sampled_from(sorted(CORRUPTIONS)), data=graph_with_attrs(),
       p=probabilities, seed=seeds)
def test_int32_equals_int64(name, data, p, seed):
    r"""int32 indices give the int64 result, in int32."""
    data.edge_index = data.edge_index.long()
    ref = CORRUPTIONS[name](p, seed)(data)
    data.edge_index = data.edge_index.int()
    out = CORRUPTIONS[name](p, seed)(data)
    assert out.edge_index.dtype == torch.int32
    assert torch.equal(out.edge_index.long(), ref.edge_index)
    assert torch.equal(out.x, ref.x) and torch.equal(out.edge_id, ref.edge_id)


@given(name=st.sampled_from(('edge_drop', 'edge_drop_undirected',
                             'node_drop', 'node_drop_relabel')),
       num_nodes=st.one_of(st.sampled_from((50_000, 2**21)),
                           st.integers(1, 2**21)),
       seed=seeds, p=st.sampled_from((0.5, 0.2)),
       edges=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)),
                      min_size=2, max_size=20))
def test_large_node_ids_int32_equals_int64(name, num_nodes, seed, p, edges):
    r"""Edges between nodes with large ids (where products of two int32
    ids overflow): int32 indices give the int64 result."""
    edge_index = (torch.tensor(edges, dtype=torch.float64).view(-1, 2).t()
                  * (num_nodes - 1)).round().long()
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    ref = CORRUPTIONS[name](p, seed)(None, edge_index, num_nodes=num_nodes)
    out = CORRUPTIONS[name](p, seed)(None, edge_index.int(),
                                     num_nodes=num_nodes)
    assert out[1].dtype == torch.int32
    assert torch.equal(out[1].long(), ref[1])
