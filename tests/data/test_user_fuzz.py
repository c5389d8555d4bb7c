r"""Property tests of users' graphs through :func:`graphcl.data.load_dataset`
(a :class:`~torch_geometric.data.Data`, a networkx graph through
:func:`~graphcl.data.from_networkx`, or a ``.pt`` file saved with
:func:`torch.save`, intact, truncated or with flipped bytes): each either
raises a :class:`ValueError` naming what is wrong or returns a valid graph
with the user's features and edges, and split masks where labels came
without them."""
import itertools

import networkx as nx
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from graphcl.data import DataFileError, load_dataset
from strategies import graphs

#: Damage done to a graph, the attribute the error must name, and whether
#: the graph needs a node / an edge for the damage to exist.
DAMAGE = {
    'x 1-D': (lambda d: setattr(d, 'x', d.x[:, 0]), 'data.x', 0),
    'x int': (lambda d: setattr(d, 'x', d.x.long()), 'data.x', 0),
    'x missing': (lambda d: setattr(d, 'x', None), 'data.x', 0),
    'edge_index [E, 2]': (lambda d: setattr(d, 'edge_index', (
        d.edge_index[:, :1] if d.edge_index.size(1) == 2 else d.edge_index
    ).t()), 'edge_index', 1),
    'edge_index float': (lambda d: setattr(d, 'edge_index',
                                           d.edge_index.float()),
                         'edge_index', 0),
    'edge_index out of range': (lambda d: d.edge_index.view(-1)[0].fill_(
        d.num_nodes), 'edge_index', 1),
    'edge_index negative': (lambda d: d.edge_index.view(-1)[-1].fill_(-1),
                            'edge_index', 1),
    'y 0-dim': (lambda d: setattr(d, 'y', torch.tensor(1)), 'data.y', 0),
    'y too short': (lambda d: setattr(d, 'y', d.y[1:]), 'data.y', 1),
    'train_mask uint8': (lambda d: setattr(
        d, 'train_mask', torch.ones(d.num_nodes, dtype=torch.uint8)),
        'train_mask', 0),
    'train_mask too long': (lambda d: setattr(
        d, 'train_mask', torch.ones(d.num_nodes + 1, dtype=torch.bool)),
        'train_mask', 0),
    'num_nodes wrong': (lambda d: setattr(d, 'num_nodes', d.x.size(0) + 2),
                        'num_nodes', 0),
    'edge_weight NaN': (lambda d: setattr(d, 'edge_weight', torch.full(
        (d.edge_index.size(1), ), float('nan'))), 'edge_weight', 1),
    'edge_weight negative': (lambda d: setattr(d, 'edge_weight', -torch.ones(
        d.edge_index.size(1))), 'edge_weight', 1),
    'edge_weight too long': (lambda d: setattr(d, 'edge_weight', torch.ones(
        d.edge_index.size(1) + 1)), 'edge_weight', 0),
    'edge_weight int': (lambda d: setattr(d, 'edge_weight', torch.ones(
        d.edge_index.size(1), dtype=torch.long)), 'edge_weight', 0),
}


def refusal(data: Data) -> str:
    r"""Why :func:`load_dataset` must refuse an undamaged drawn graph, or
    ``''``."""
    if data.num_nodes == 0:
        return 'no nodes'
    if data.edge_index.dtype != torch.long:
        return 'int64'
    if not bool(torch.isfinite(data.x).all()):
        return 'NaN'
    if 'y' in data and 'train_mask' not in data and data.num_nodes < 3:
        return 'Cannot split'
    return ''


def assert_loaded(out: Data, data: Data):
    r"""``out`` is the user's graph, ready for graphcl."""
    assert isinstance(out, Data) and out is not data
    assert torch.equal(out.x, data.x)
    assert torch.equal(out.edge_index, data.edge_index)
    assert isinstance(out.name, str) and isinstance(out.split, str)
    n = data.num_nodes
    if 'y' in data:
        masks = [out[key] for key in ('train_mask', 'val_mask', 'test_mask')]
        for mask in masks:
            assert mask.dtype == torch.bool and mask.shape == (n, )
        if 'train_mask' not in data:  # drawn: disjoint, covering
            assert bool((sum(m.long() for m in masks) == 1).all())
            assert bool(masks[0].any())


def load_or_refuse(source, data: Data, reason: str):
    try:
        out = load_dataset(source)
    except ValueError as e:
        assert reason and reason in str(e), (reason, str(e))
        return None
    assert not reason, f'accepted a graph to refuse: {reason}'
    assert_loaded(out, data)
    return out


def variants(data: Data):
    r"""The drawn graph as is (labels, no masks), with given split masks,
    and without labels."""
    n = data.num_nodes
    with_masks = data.clone()
    for i, key in enumerate(('train_mask', 'val_mask', 'test_mask')):
        with_masks[key] = torch.arange(n) % 3 == i
    return st.sampled_from((data, with_masks,
                            Data(x=data.x, edge_index=data.edge_index)))


user_graphs = graphs(non_finite=True, with_labels=True).flatmap(variants)


@given(data=user_graphs)
def test_load_data(data):
    load_or_refuse(data, data, refusal(data))


@pytest.mark.parametrize('damage', sorted(DAMAGE))
@pytest.mark.filterwarnings('ignore:Unable to accurately infer')
@settings(max_examples=max(5, settings.default.max_examples // 5))
@given(data=graphs(min_nodes=1, index_dtypes=(torch.long, ),
                   with_labels=True))
def test_damaged_data_is_refused(damage, data):
    apply, needle, needs = DAMAGE[damage]
    if needs and data.edge_index.size(1) == 0:
        data.edge_index = torch.tensor([[0], [0]])
    apply(data)
    with pytest.raises(ValueError) as info:
        load_dataset(data)
    assert needle in str(info.value)


_files = itertools.count()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=user_graphs, cut=st.one_of(st.none(), st.floats(0, 1)),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                      max_size=3))
def test_saved_file(tmp_path, data, cut, flips):
    r"""A saved graph loads as the graph itself; a damaged file (cut short,
    or bytes flipped) is refused with a ValueError naming the file, or
    loads as a graph that is itself checked."""
    path = tmp_path / f'graph{next(_files)}.pt'
    torch.save(data, path)
    raw = bytearray(path.read_bytes())
    if cut is not None:
        raw = raw[:int(cut * len(raw))]
    for where, bits in flips:
        if raw:
            raw[min(int(where * len(raw)), len(raw) - 1)] ^= bits
    path.write_bytes(bytes(raw))
    intact = cut is None and not flips
    try:
        out = load_dataset(path)
    except DataFileError as e:
        assert not intact and str(path) in str(e), str(e)
        return
    except ValueError as e:  # a readable graph, refused by the checks
        reason = refusal(data)
        assert not intact or reason and reason in str(e), str(e)
        return
    if intact:
        assert not refusal(data)
        assert_loaded(out, data)
        assert out.name == path.stem
    else:  # loaded despite the damage: a valid graph all the same
        from graphcl.validation import check_node_data
        check_node_data(out)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=graphs(min_nodes=1, with_labels=True, edge_weight=True))
def test_every_truncation_is_refused(tmp_path, data):
    r"""A saved graph cut at any of 64 points is refused with a one-line
    DataFileError naming the file (the zip reader's OSError on a cut-off
    archive escaped before)."""
    path = tmp_path / f'graph{next(_files)}.pt'
    torch.save(data, path)
    raw = path.read_bytes()
    for i in range(64):
        path.write_bytes(raw[:i * len(raw) // 64])
        with pytest.raises(DataFileError) as info:
            load_dataset(path)
        assert str(path) in str(info.value)
        assert '\n' not in str(info.value)


@st.composite
def networkx_graphs(draw):
    r"""A networkx graph (directed or not, multi-edges or not, nodes named
    by strings), its drawn Data, and what :func:`load_dataset` must
    refuse."""
    data = draw(graphs(index_dtypes=(torch.long, ), edge_weight=False,
                       non_finite=True, with_labels=True))
    cls = draw(st.sampled_from((nx.Graph, nx.DiGraph, nx.MultiDiGraph)))
    G = cls()
    names = [f'v{i}' for i in draw(st.permutations(range(data.num_nodes)))]
    for i, name in enumerate(names):
        G.add_node(name, x=data.x[i].tolist(), y=int(data.y[i]))
    for u, v in data.edge_index.t().tolist():
        G.add_edge(names[u], names[v])
    reason = refusal(data)
    if data.num_nodes and draw(st.booleans()):  # one node lacks 'x'
        del G.nodes[names[draw(st.integers(0, data.num_nodes - 1))]]['x']
        if reason != 'NaN':  # (a single node: no node has features)
            reason = 'same attributes' if data.num_nodes > 1 else \
                'data.x is missing'
    return G, data, reason


@given(case=networkx_graphs())
def test_networkx(case):
    G, data, reason = case
    if reason == 'NaN':  # the checks or PyG's conversion refuse it
        with pytest.raises(ValueError):
            load_dataset(G)
        return
    try:
        out = load_dataset(G)
    except ValueError as e:
        assert reason and reason in str(e) or \
            reason == 'no nodes' and 'has no nodes' in str(e), str(e)
        return
    assert not reason, f'accepted a graph to refuse: {reason}'
    n = data.num_nodes
    assert out.x.dtype == torch.float32 and out.x.shape == data.x.shape
    assert out.y.dtype == torch.long and out.y.shape == (n, )
    ei = out.edge_index
    assert ei.dtype == torch.long and ei.size(0) == 2
    if ei.numel():
        assert 0 <= int(ei.min()) and int(ei.max()) < n
    # The same features, whatever the nodes' order.
    assert sorted(map(tuple, out.x.tolist())) == \
        sorted(map(tuple, data.x.tolist()))
