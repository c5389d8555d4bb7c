import copy
import pickle

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import is_undirected, to_undirected

from graphcl.corruptions import (Compose, Corruption, EdgeDrop, FeatureMask,
                                 FeatureNoise, FeatureShuffle, Identity,
                                 NodeDrop, RandomChoice, get_corruption)

ALL = [
    lambda g=None: FeatureShuffle(generator=g),
    lambda g=None: EdgeDrop(0.3, generator=g),
    lambda g=None: EdgeDrop(0.3, force_undirected=True, generator=g),
    lambda g=None: FeatureMask(0.3, generator=g),
    lambda g=None: NodeDrop(0.3, generator=g),
    lambda g=None: NodeDrop(0.3, relabel=True, generator=g),
    lambda g=None: FeatureNoise(0.5, generator=g),
    lambda g=None: Compose([EdgeDrop(0.3, generator=g),
                            FeatureMask(0.3, generator=g)]),
    lambda g=None: RandomChoice(
        [NodeDrop(0.3, relabel=True, generator=g),
         EdgeDrop(0.3, generator=g)], generator=g),
]


def graph(num_nodes=30, num_edges=120, num_features=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(num_nodes, (2, num_edges), generator=gen)
    edge_index = to_undirected(edge_index, num_nodes=num_nodes)
    E = edge_index.size(1)
    return Data(
        x=torch.randn(num_nodes, num_features, generator=gen),
        edge_index=edge_index,
        edge_weight=torch.rand(E, generator=gen),
        edge_attr=torch.randn(E, 3, generator=gen),
        y=torch.arange(num_nodes),
        train_mask=torch.rand(num_nodes, generator=gen) > 0.5,
    )


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a.keys():
        va, vb = a[key], b[key]
        if isinstance(va, torch.Tensor):
            assert va.dtype == vb.dtype and torch.equal(va, vb), key
        else:
            assert va == vb, key


def test_feature_shuffle_is_row_permutation():
    data = graph()
    out = FeatureShuffle(generator=0)(data)
    assert out.x.shape == data.x.shape
    assert not torch.equal(out.x, data.x)
    # Same multiset of rows, and each output row is an input row.
    assert torch.equal(out.x.sort(0).values, data.x.sort(0).values)
    match = (out.x[:, None, :] == data.x[None, :, :]).all(-1)
    assert match.any(1).all()
    assert torch.equal(match.long().argmax(1).sort().values,
                       torch.arange(data.num_nodes))
    assert out.edge_index is data.edge_index
    assert out.edge_attr is data.edge_attr and out.y is data.y


def test_feature_shuffle_permutation_method():
    a, b = FeatureShuffle(generator=3), FeatureShuffle(generator=3)
    x = torch.randn(50, 4)
    perm = a.permutation(50)
    assert torch.equal(perm.sort().values, torch.arange(50))
    assert torch.equal(b(x, None)[0], x[perm])


@pytest.mark.parametrize('p', [0.0, 0.2, 0.7, 1.0])
def test_edge_drop_rate(p):
    edge_index = torch.randint(1000, (2, 100_000))
    ids = torch.arange(edge_index.size(1))
    _, out, kept = EdgeDrop(p, generator=1)(None, edge_index, ids,
                                            num_nodes=1000)
    rate = 1 - out.size(1) / edge_index.size(1)
    assert abs(rate - p) < 0.01
    assert torch.equal(out, edge_index[:, kept])
    assert torch.all(kept[1:] > kept[:-1])


def test_edge_drop_keeps_order_and_follows_weights():
    data = graph()
    out = EdgeDrop(0.5, generator=0)(data)
    assert 0 < out.num_edges < data.num_edges
    # Recover which edges survived from the unique edge weights.
    idx = (out.edge_weight[:, None] == data.edge_weight[None, :]).long()
    idx = idx.argmax(1)
    assert torch.all(idx[1:] > idx[:-1])  # order preserved
    assert torch.equal(out.edge_index, data.edge_index[:, idx])
    assert torch.equal(out.edge_attr, data.edge_attr[idx])
    assert torch.equal(out.x, data.x) and out.num_nodes == data.num_nodes


def test_edge_drop_force_undirected():
    edge_index = to_undirected(torch.randint(2000, (2, 20_000)))
    assert is_undirected(edge_index)
    weight = torch.rand(edge_index.size(1))
    _, plain = EdgeDrop(0.4, generator=0)(None, edge_index, num_nodes=2000)
    assert not is_undirected(plain, num_nodes=2000)
    _, out, w = EdgeDrop(0.4, force_undirected=True, generator=0)(
        None, edge_index, weight, num_nodes=2000)
    assert is_undirected(out, num_nodes=2000)
    assert abs(1 - out.size(1) / edge_index.size(1) - 0.4) < 0.02
    assert w.numel() == out.size(1)
    # Also with self-loops and without x/num_nodes.
    loops = torch.arange(10).repeat(2, 1)
    ei = torch.cat([edge_index[:, :100], loops], 1)
    ei = to_undirected(ei)
    _, out = EdgeDrop(0.5, force_undirected=True, generator=2)(None, ei)
    assert is_undirected(out)


@pytest.mark.parametrize('p', [0.0, 0.3, 1.0])
def test_feature_mask_columns(p):
    x = torch.rand(20, 20_000) + 0.5  # no natural zeros
    out, ei = FeatureMask(p, generator=0)(x, torch.empty(2, 0).long())
    zero_cols = (out == 0).all(0)
    assert torch.equal((out == 0).any(0), zero_cols)  # whole columns only
    assert abs(zero_cols.float().mean().item() - p) < 0.015
    kept = ~zero_cols
    assert torch.equal(out[:, kept], x[:, kept])
    assert ei.numel() == 0


def test_feature_mask_zeroes_nan():
    x = torch.full((3, 200), float('nan'))
    out, _ = FeatureMask(0.5, generator=0)(x, None)
    zero_cols = (out == 0).all(0)
    assert zero_cols.any() and torch.isnan(out[:, ~zero_cols]).all()


def test_node_drop_keep_ids():
    data = graph(num_nodes=200, num_edges=1000)
    out = NodeDrop(0.3, generator=0)(data)
    assert out.num_nodes == data.num_nodes and out.x.shape == data.x.shape
    dropped = (out.x == 0).all(1)
    assert 0.15 < dropped.float().mean() < 0.45
    assert torch.equal(out.x[~dropped], data.x[~dropped])
    # No edge touches a dropped node; all edges between kept nodes survive.
    assert not dropped[out.edge_index].any()
    keep = ~dropped[data.edge_index].any(0)
    assert torch.equal(out.edge_index, data.edge_index[:, keep])
    assert torch.equal(out.edge_attr, data.edge_attr[keep])
    assert torch.equal(out.edge_weight, data.edge_weight[keep])
    assert out.y is data.y and out.train_mask is data.train_mask


def test_node_drop_relabel():
    data = graph(num_nodes=200, num_edges=1000)
    data.y = torch.arange(200) * 10  # node id recoverable from y
    out = NodeDrop(0.3, relabel=True, generator=0)(data)
    subset = out.y // 10
    assert out.num_nodes == subset.numel() < data.num_nodes
    assert torch.all(subset[1:] > subset[:-1])
    assert torch.equal(out.x, data.x[subset])
    assert torch.equal(out.train_mask, data.train_mask[subset])
    # Edges: exactly those between kept nodes, relabelled.
    kept = torch.zeros(200, dtype=torch.bool)
    kept[subset] = True
    emask = kept[data.edge_index].all(0)
    assert torch.equal(subset[out.edge_index], data.edge_index[:, emask])
    assert torch.equal(out.edge_attr, data.edge_attr[emask])
    assert out.edge_index.max() < out.num_nodes


def test_node_drop_relabel_batch():
    batch = Batch.from_data_list([graph(seed=s) for s in range(3)])
    out = NodeDrop(0.4, relabel=True, generator=0)(batch)
    assert isinstance(out, Batch)
    assert out.batch.numel() == out.num_nodes == out.x.size(0)
    assert torch.equal(out.ptr[1:] - out.ptr[:-1],
                       torch.bincount(out.batch, minlength=3))
    assert (out.batch[out.edge_index[0]] == out.batch[out.edge_index[1]]).all()


@pytest.mark.filterwarnings('ignore:Unable to accurately infer')
def test_node_drop_without_features():
    data = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]), num_nodes=6)
    out = NodeDrop(0.5, generator=0)(data)
    assert out.num_nodes == 6 and 'x' not in out
    out = NodeDrop(0.5, relabel=True, generator=0)(data)
    assert out.num_nodes <= 6
    assert out.edge_index.numel() == 0 or out.edge_index.max() < out.num_nodes
    # A graph without explicit node count keeps it after edge dropping.
    data = Data(edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]))
    out = EdgeDrop(1.0)(data)
    assert out.num_nodes == 5 and out.num_edges == 0


def test_feature_noise():
    x = torch.randn(1000, 50)
    out, _ = FeatureNoise(0.5, generator=0)(x, None)
    assert abs((out - x).std().item() - 0.5) < 0.01
    with pytest.raises(ValueError, match='floating'):
        FeatureNoise()(torch.ones(3, 2, dtype=torch.long), None)
    with pytest.raises(ValueError, match='std'):
        FeatureNoise(-1.0)


@pytest.mark.parametrize('make', ALL)
def test_seeding(make):
    data = graph(num_nodes=100, num_edges=500)
    a, b, c = make(0), make(0), make(1)
    outs_a = [a(data) for _ in range(3)]
    outs_b = [b(data) for _ in range(3)]
    for oa, ob in zip(outs_a, outs_b):
        assert_same(oa, ob)  # same seed: identical, call by call
    differs = lambda o1, o2: (o1.x.shape != o2.x.shape  # noqa: E731
                              or not torch.equal(o1.x, o2.x)
                              or not torch.equal(o1.edge_index, o2.edge_index))
    assert any(differs(o, c(data)) for o in outs_a)  # different seed
    assert differs(outs_a[0], outs_a[1]) or differs(outs_a[1], outs_a[2])


@pytest.mark.parametrize('make', ALL)
def test_input_untouched_and_conventions_agree(make):
    data = graph()
    ref = data.clone()
    out = make(5)(data)
    assert_same(data, ref)
    assert type(out) is Data and out is not data
    # Tuple convention, with and without edge weights.
    x, ei = make(5)(data.x, data.edge_index)
    assert torch.equal(x, out.x) and torch.equal(ei, out.edge_index)
    x, ei, ew = make(5)(data.x, data.edge_index, data.edge_weight)
    assert torch.equal(x, out.x) and torch.equal(ei, out.edge_index)
    assert torch.equal(ew, out.edge_weight)
    x, ei, ea = make(5)(data.x, data.edge_index, data.edge_attr)
    assert torch.equal(ea, out.edge_attr)
    assert_same(data, ref)


def test_global_rng():
    data = graph()
    torch.manual_seed(7)
    a = EdgeDrop(0.5)(data)
    torch.manual_seed(7)
    b = EdgeDrop(0.5)(data)
    assert torch.equal(a.edge_index, b.edge_index)


def test_shared_generator_and_manual_seed():
    gen = torch.Generator().manual_seed(0)
    c = EdgeDrop(0.5, generator=gen)
    assert c.generator is gen
    edge_index = torch.randint(50, (2, 400))
    first = c(None, edge_index)[1]
    c.manual_seed(0)
    assert torch.equal(c(None, edge_index)[1], first)
    g = EdgeDrop(0.5).manual_seed(0)
    assert torch.equal(g(None, edge_index)[1], first)
    # deepcopy / pickle keep the generator state.
    d = copy.deepcopy(c)
    e = pickle.loads(pickle.dumps(c))
    ref = c(None, edge_index)[1]
    assert torch.equal(d(None, edge_index)[1], ref)
    assert torch.equal(e(None, edge_index)[1], ref)
    with pytest.raises(TypeError, match='generator'):
        EdgeDrop(0.5, generator='seed')


def test_compose_equals_sequential():
    data = graph(num_nodes=100, num_edges=500)
    comp = Compose([NodeDrop(0.3, relabel=True, generator=0),
                    EdgeDrop(0.3, generator=1),
                    NodeDrop(0.2, relabel=True, generator=2),
                    FeatureMask(0.5, generator=3)])
    out = comp(data)
    seq = data
    for c in [NodeDrop(0.3, relabel=True, generator=0),
              EdgeDrop(0.3, generator=1),
              NodeDrop(0.2, relabel=True, generator=2),
              FeatureMask(0.5, generator=3)]:
        seq = c(seq)
    assert_same(out, seq)
    # Tuple convention with weights agrees as well.
    comp = Compose([NodeDrop(0.3, relabel=True, generator=0),
                    EdgeDrop(0.3, generator=1),
                    NodeDrop(0.2, relabel=True, generator=2),
                    FeatureMask(0.5, generator=3)])
    x, ei, ew = comp(data.x, data.edge_index, data.edge_weight)
    assert torch.equal(x, seq.x) and torch.equal(ei, seq.edge_index)
    assert torch.equal(ew, seq.edge_weight)
    assert Compose([])(data).x is data.x


def test_random_choice():
    edge_index = torch.randint(100, (2, 1000))
    x = torch.randn(100, 5)
    rc = RandomChoice([Identity(), EdgeDrop(1.0)], generator=0)
    picks = [rc(x, edge_index)[1].size(1) == 0 for _ in range(200)]
    assert 60 < sum(picks) < 140
    rc2 = RandomChoice([Identity(), EdgeDrop(1.0)], generator=0)
    assert picks == [rc2(x, edge_index)[1].size(1) == 0 for _ in range(200)]
    rc = RandomChoice([Identity(), EdgeDrop(1.0)], weights=[0, 1],
                      generator=0)
    assert all(rc(x, edge_index)[1].numel() == 0 for _ in range(20))
    with pytest.raises(ValueError):
        RandomChoice([])
    with pytest.raises(ValueError, match='weights'):
        RandomChoice([Identity()], weights=[1, 2])
    with pytest.raises(TypeError):
        Compose([lambda d: d])


@pytest.mark.parametrize('p', [-0.1, 1.5, float('nan'), True, '0.2'])
@pytest.mark.parametrize('cls', [EdgeDrop, FeatureMask, NodeDrop])
def test_bad_probability(cls, p):
    with pytest.raises(ValueError, match=r"'p' must be a probability in "
                       r"\[0, 1\]"):
        cls(p)


def test_get_corruption():
    assert isinstance(get_corruption('shuffle'), FeatureShuffle)
    assert isinstance(get_corruption('feature_shuffle'), FeatureShuffle)
    assert isinstance(get_corruption('Drop-Edge'), EdgeDrop)
    c = get_corruption('edge_drop', p=0.4, force_undirected=True)
    assert repr(c) == 'EdgeDrop(p=0.4, force_undirected=True)'
    c = get_corruption('edge_drop, feature_mask', p=0.3, generator=0)
    assert isinstance(c, Compose)
    assert repr(c) == 'Compose([EdgeDrop(p=0.3), FeatureMask(p=0.3)])'
    gen = c.corruptions[0].generator
    assert isinstance(gen, torch.Generator) and c.corruptions[1].generator \
        is gen
    c2 = get_corruption('edge_drop,feature_mask', p=0.3, generator=0)
    data = graph()
    assert_same(c(data), c2(data))
    c = get_corruption('shuffle,node_drop', p=0.1)
    assert repr(c) == 'Compose([FeatureShuffle(), NodeDrop(p=0.1)])'
    inst = NodeDrop(0.1)
    assert get_corruption(inst) is inst


def test_get_corruption_errors():
    with pytest.raises(ValueError, match='edge_drop.*feature_mask.*'
                       'feature_shuffle|known names'):
        get_corruption('edge_dorp')
    with pytest.raises(ValueError, match="Unknown corruption 'bogus'") as e:
        get_corruption('edge_drop,bogus')
    for name in ['feature_shuffle', 'edge_drop', 'feature_mask', 'node_drop']:
        assert name in str(e.value)
    with pytest.raises(ValueError, match='does not accept'):
        get_corruption('shuffle', p=0.2)
    with pytest.raises(ValueError, match="bad p|'p' must be"):
        get_corruption('edge_drop', p=1.5)


def test_input_validation():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match=r'\[2, E\]'):
        EdgeDrop()(x, torch.zeros(3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match='edge_weight'):
        EdgeDrop()(x, torch.zeros(2, 5, dtype=torch.long), torch.ones(4))
    with pytest.raises(ValueError, match="needs 'edge_index'"):
        EdgeDrop()(x, None)
    with pytest.raises(ValueError, match="needs node features"):
        FeatureShuffle()(Data(edge_index=torch.zeros(2, 1).long(),
                              num_nodes=1))
    with pytest.raises(ValueError, match='not both'):
        EdgeDrop()(graph(), torch.zeros(2, 1).long())


def test_repr():
    assert repr(EdgeDrop(0.2)) == 'EdgeDrop(p=0.2)'
    assert repr(FeatureMask(0.3)) == 'FeatureMask(p=0.3)'
    assert repr(NodeDrop(0.1, relabel=True)) == 'NodeDrop(p=0.1, relabel=True)'
    assert repr(FeatureShuffle()) == 'FeatureShuffle()'
    assert repr(FeatureNoise(0.5)) == 'FeatureNoise(std=0.5)'
    assert repr(RandomChoice([Identity()])) == 'RandomChoice([Identity()])'
    assert isinstance(EdgeDrop(), Corruption)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda():
    data = graph().to('cuda')
    for make in ALL:
        out = make(0)(data)
        ref = make(0)(data.cpu())
        assert out.x.is_cuda and out.edge_index.is_cuda
        assert_same(out.cpu(), ref)  # CPU generator: same draws everywhere
    out = EdgeDrop(0.5, generator=torch.Generator('cuda').manual_seed(0))(
        data)
    assert out.edge_index.is_cuda


def test_compose_base_is_shared_with_the_adapters():
    from graphcl.adapters.augment import Compose as AugmentCompose
    from graphcl.adapters.augment import GaussianNoise
    from graphcl.corruptions import ComposeBase
    graph_c = Compose([EdgeDrop(0.3), FeatureMask(0.3)])
    aug_c = AugmentCompose([GaussianNoise(0.1)])
    for c in (graph_c, aug_c):
        assert isinstance(c, ComposeBase)
        assert '__repr__' not in vars(type(c))  # one repr, the base's
    assert list(graph_c.parts) == list(graph_c.corruptions)
    assert list(aug_c.parts) == list(aug_c.transforms)
    assert repr(aug_c) == 'Compose([GaussianNoise(std=0.1, p=1.0)])'
    # Parts are registered sub-modules (state_dict, .to(), ...).
    assert len(list(graph_c.children())) == 1
    with pytest.raises(TypeError, match='list'):
        Compose(EdgeDrop(0.3))
    with pytest.raises(TypeError, match='Corruption modules'):
        Compose([GaussianNoise(0.1)])
