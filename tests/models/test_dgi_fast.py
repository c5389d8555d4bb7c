import copy
import types

import pytest
import torch
from torch_geometric.data import Data

from graphcl.corruptions import EdgeDrop, FeatureShuffle
from graphcl.losses import InfoNCELoss
from graphcl.models import DeepGraphInfomax
from graphcl.models.dgi_fast import (fast_path_refusal,
                                     fast_path_supported)
from graphcl.nn import GCNEncoder, SAGEEncoder, SigmoidMeanReadout
from graphs import sparse_feature_graph


def make_graph(n=60, f=40, density=0.05, undirected=True, weighted=False,
               seed=0):
    return sparse_feature_graph(n, f, density, undirected, weighted, seed)


# 'elu': the generic fast path (autograd through the head's modules);
# 'prelu': DGI's head, fused (dgi_head.py), and with one layer the whole
# objective fused (dgi_fused.py).
ACTS = ['elu', 'prelu']


def make_model(data, hidden=16, layers=1, seed=0, loss_fn=None, fast=True,
               act='prelu', bias=True):
    torch.manual_seed(seed)
    encoder = GCNEncoder(data.num_features, hidden, num_layers=layers,
                         act=act, bias=bias)
    if act == 'prelu':  # away from the initial 0.25, different per channel
        for a in encoder.acts:
            a.weight.data.uniform_(-0.5, 1.5)
    return DeepGraphInfomax(
        hidden, encoder, SigmoidMeanReadout(), FeatureShuffle(generator=123),
        loss_fn=loss_fn, fast=fast)


def loss_and_grads(model, data):
    model.zero_grad()
    loss = model.objective(data)
    loss.backward()
    return loss.detach(), {k: p.grad.clone()
                           for k, p in model.named_parameters()}


@pytest.mark.parametrize('density', [0.03, 0.5])
@pytest.mark.parametrize('undirected', [True, False])
@pytest.mark.parametrize('layers', [1, 2])
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('act', ACTS)
def test_fast_path_matches_plain_path(density, undirected, layers, weighted,
                                      act):
    data = make_graph(density=density, undirected=undirected,
                      weighted=weighted)
    fast = make_model(data, layers=layers, act=act)
    plain = copy.deepcopy(fast)
    plain.fast = False
    assert fast_path_supported(fast, fast.encoder_inputs(data))
    for _ in range(3):  # several steps: same permutations, same cache reuse
        l1, g1 = loss_and_grads(fast, data)
        l2, g2 = loss_and_grads(plain, data)
        assert torch.allclose(l1, l2, atol=1e-5), (l1, l2)
        assert g1.keys() == g2.keys()
        for k in g1:
            assert torch.allclose(g1[k], g2[k], atol=1e-5, rtol=1e-4), k
        assert all(g.abs().sum() > 0 for g in g1.values())


@pytest.mark.parametrize('loss_fn,act,bias', [
    (InfoNCELoss(0.5), 'elu', True), (None, 'prelu', True),
    (None, 'prelu', False)])
def test_fast_path_training_steps(loss_fn, act, bias):
    data = make_graph()
    fast = make_model(data, loss_fn=loss_fn, act=act, bias=bias)
    plain = copy.deepcopy(fast)
    plain.fast = False
    opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in (fast, plain)]
    for _ in range(5):
        for m, opt in zip((fast, plain), opts):
            opt.zero_grad()
            m.objective(data).backward()
            opt.step()
    for (k, p), (_, q) in zip(fast.named_parameters(),
                              plain.named_parameters()):
        assert torch.allclose(p, q, atol=1e-4), k


def plain_twin(model):
    plain = copy.deepcopy(model)  # same weights, same permutation stream
    plain.fast = False
    return plain


def assert_same_step(fast, plain, data, atol=1e-5):
    l1, g1 = loss_and_grads(fast, data)
    l2, g2 = loss_and_grads(plain, data)
    assert torch.allclose(l1, l2, atol=atol), (l1, l2)
    for k in g1:
        assert torch.allclose(g1[k], g2[k], atol=atol, rtol=1e-4), k


def random_graph(n=60, f=40, e=240, seed=0, weighted=False):
    # same shapes for every seed: only the values and the edges change
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, f, generator=g) < 0.05) * torch.rand(n, f,
                                                            generator=g)
    data = Data(x=x, edge_index=torch.randint(0, n, (2, e), generator=g))
    if weighted:
        data.edge_weight = torch.rand(e, generator=g) + 0.5
    return data


@pytest.mark.parametrize('act,layers', [('prelu', 1), ('prelu', 2),
                                        ('elu', 1)])
@pytest.mark.parametrize('weighted', [False, True])
def test_stream_of_fresh_same_shape_graphs(act, layers, weighted):
    # A loop over freshly built graphs of one shape, each a temporary freed
    # after its step: the next graph's tensors take the freed addresses
    # (same shape, version 0). Keyed on addresses, the old cache served an
    # earlier graph's adjacency for most of them. Every loss and gradient
    # must be the new graph's.
    x = random_graph().x

    def graph(seed):  # resampled edges (and weights), the same features
        g = torch.Generator().manual_seed(seed)
        data = Data(x=x, edge_index=torch.randint(0, 60, (2, 240),
                                                  generator=g))
        if weighted:
            data.edge_weight = torch.rand(240, generator=g) + 0.5
        return data

    fast = make_model(random_graph(), act=act, layers=layers)
    plain = plain_twin(fast)
    assert fast_path_supported(fast, fast.encoder_inputs(graph(0)))
    fast_steps = [loss_and_grads(fast, graph(i)) for i in range(12)]
    plain_steps = [loss_and_grads(plain, graph(i)) for i in range(12)]
    for (l1, g1), (l2, g2) in zip(fast_steps, plain_steps):
        assert torch.allclose(l1, l2, atol=1e-5), (l1, l2)
        for k in g1:
            assert torch.allclose(g1[k], g2[k], atol=1e-5, rtol=1e-4), k
    # and graphs that change everything, fast and plain interleaved
    for seed in range(6):
        assert_same_step(fast, plain, random_graph(seed=seed,
                                                   weighted=weighted))


def test_stream_of_sparse_feature_graphs():
    fast = make_model(random_graph())
    plain = plain_twin(fast)
    for seed in range(6):
        data = random_graph(seed=seed)
        layout = data.x.to_sparse_csr() if seed % 2 else \
            data.x.to_sparse_coo()
        sparse = Data(x=layout, edge_index=data.edge_index)
        l1, g1 = loss_and_grads(fast, sparse)
        l2, g2 = loss_and_grads(plain, data)
        assert torch.allclose(l1, l2, atol=1e-5)
        for k in g1:
            assert torch.allclose(g1[k], g2[k], atol=1e-5, rtol=1e-4), k
        del data, sparse, layout


@pytest.mark.parametrize('act', ACTS)
def test_in_place_edits_are_seen(act):
    data = random_graph(weighted=True)
    fast = make_model(data, act=act)
    plain = plain_twin(fast)
    assert_same_step(fast, plain, data)
    edits = [
        lambda d: d.x.mul_(2.0),                       # features, dense
        lambda d: d.x[:, :5].zero_(),                  # through a view
        lambda d: d.edge_index[1].copy_(d.edge_index[1].flip(0)),  # edges
        lambda d: d.edge_index.__setitem__((0, slice(0, 20)), 3),
        lambda d: d.edge_weight.mul_(3.0),             # weights
        lambda d: d.x.__setitem__((0, 0), 7.0),        # one entry
    ]
    for edit in edits:
        edit(data)
        assert_same_step(fast, plain, data)


def test_in_place_edits_of_sparse_features_are_seen():
    data = random_graph()
    fast = make_model(data)
    plain = plain_twin(fast)
    for layout in ('coo', 'csr'):
        x = data.x.to_sparse_coo().coalesce() if layout == 'coo' else \
            data.x.to_sparse_csr()
        sparse = Data(x=x, edge_index=data.edge_index)
        loss_and_grads(fast, sparse)
        loss_and_grads(plain, Data(x=x.to_dense(),  # same permutations
                                   edge_index=data.edge_index))
        x.values().mul_(3.0)  # in place, through the values tensor
        dense = Data(x=x.to_dense(), edge_index=data.edge_index)
        l1, g1 = loss_and_grads(fast, sparse)
        l2, g2 = loss_and_grads(plain, dense)
        assert torch.allclose(l1, l2, atol=1e-5)
        for k in g1:
            assert torch.allclose(g1[k], g2[k], atol=1e-5, rtol=1e-4), k


def test_cache_reused_only_for_the_same_tensors():
    data = random_graph()
    model = make_model(data)
    model.objective(data)
    adj = model._fast_cache.adj
    model.objective(data)
    assert model._fast_cache.adj is adj  # reused: same tensors, unchanged
    same_values = Data(x=data.x.clone(), edge_index=data.edge_index.clone())
    model.objective(same_values)
    assert model._fast_cache.adj is not adj  # other tensors: rebuilt
    assert model._fast_cache.stamp.tensors[0] is same_values.x  # held
    model.clear_cache()
    assert model._fast_cache.adj is None
    assert model._fast_cache.stamp.tensors == ()


def test_no_version_counter_means_no_reuse(monkeypatch):
    # A PyTorch without Tensor._version: nothing is reused, all is correct.
    import graphcl.models.stamp as stamp_module
    monkeypatch.setattr(stamp_module, '_tensor_version', lambda t: None)
    data = random_graph()
    fast = make_model(data)
    plain = plain_twin(fast)
    assert_same_step(fast, plain, data)
    adj = fast._fast_cache.adj
    assert_same_step(fast, plain, data)
    assert fast._fast_cache.adj is not adj


def test_copies_start_with_empty_caches():
    import pickle
    data = random_graph()
    model = make_model(data)
    model.objective(data)
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert other._fast_cache.adj is None
        assert other._fast_cache.stamp.tensors == ()
        assert other._input_stamp.tensors == ()
        assert torch.isfinite(other.objective(data))


def build(data, conv_kwargs=None, act='prelu', layers=1, encoder_cls=None,
          **model_kwargs):
    torch.manual_seed(0)
    cls = encoder_cls or GCNEncoder
    encoder = cls(data.num_features, 16, num_layers=layers, act=act,
                  **(conv_kwargs or {}))
    kwargs = dict(summary=SigmoidMeanReadout(),
                  corruption=FeatureShuffle(generator=123))
    kwargs.update(model_kwargs)
    return DeepGraphInfomax(16, encoder, **kwargs)


# Options that change the maths but that the fast path computes exactly:
# taken, and equal to the plain path.
@pytest.mark.parametrize('conv_kwargs,act,layers', [
    (dict(improved=True), 'prelu', 1),
    (dict(add_self_loops=False), 'prelu', 1),
    (dict(normalize=False, add_self_loops=False), 'prelu', 1),
    (dict(bias=False), 'prelu', 2),
    (dict(improved=True, add_self_loops=False), 'elu', 2),
    ({}, 'relu', 1), ({}, 'tanh', 2), ({}, None, 1),
    ({}, torch.nn.PReLU(16), 1),  # torch's PReLU: DGI's fused head too
])
@pytest.mark.parametrize('self_loops', [False, True])
def test_options_the_fast_path_computes(conv_kwargs, act, layers,
                                        self_loops):
    data = make_graph(weighted=True)
    if self_loops:  # existing self-loops: kept by add_remaining_self_loops
        loops = torch.arange(0, data.num_nodes, 4)
        data.edge_index = torch.cat([data.edge_index,
                                     torch.stack([loops, loops])], 1)
        data.edge_weight = torch.cat([data.edge_weight,
                                      torch.rand(loops.numel()) + 1])
    fast = build(data, conv_kwargs, act=act, layers=layers)
    assert fast_path_refusal(fast, fast.encoder_inputs(data)) is None
    plain = plain_twin(fast)
    for _ in range(2):
        assert_same_step(fast, plain, data)


class ScaledGCNEncoder(GCNEncoder):
    def forward(self, x, edge_index, edge_weight=None):
        return 2 * super().forward(x, edge_index, edge_weight)


class PlainSubclass(GCNEncoder):
    pass


class MyPReLU(torch.nn.PReLU):
    def forward(self, x):
        return super().forward(x) + 1


class MyShuffle(FeatureShuffle):
    pass


class MyReadout(SigmoidMeanReadout):
    pass


def _hook(module, args, output):
    return output * 0.5


# (case, builder, needle): each must take the plain path, whose loss and
# gradients it then gives.
REFUSED = [
    ('subclass overriding forward',
     lambda d: build(d, encoder_cls=ScaledGCNEncoder), 'GCNEncoder'),
    ('subclass', lambda d: build(d, encoder_cls=PlainSubclass),
     'GCNEncoder'),
    ("flow='target_to_source'",
     lambda d: build(d, dict(flow='target_to_source')), 'target_to_source'),
    ("aggr='mean'", lambda d: build(d, dict(aggr='mean')), 'aggr'),
    ('cached=True', lambda d: build(d, dict(cached=True)), 'cached'),
    ('PReLU subclass', lambda d: build(d, act=MyPReLU(16)), 'MyPReLU'),
    ('corruption subclass',
     lambda d: build(d, corruption=MyShuffle(generator=123)),
     'FeatureShuffle'),
]


@pytest.mark.parametrize('case,builder,needle', REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refused_options_take_the_plain_path(case, builder, needle):
    data = make_graph(weighted=True)
    fast = builder(data)
    reason = fast_path_refusal(fast, fast.encoder_inputs(data))
    assert reason is not None and needle in reason, reason
    plain = plain_twin(fast)
    assert_same_step(fast, plain, data)


def test_subclassed_encoder_is_really_used():
    data = make_graph()
    scaled = build(data, encoder_cls=ScaledGCNEncoder)
    base = build(data)
    base.load_state_dict(scaled.state_dict())
    # the override (embeddings doubled) changes the loss: it was run
    assert not torch.allclose(scaled.objective(data), base.objective(data))


def _layers_differ(d):
    m = build(d, layers=2)
    m.encoder.convs[1].add_self_loops = False
    return m


def _tripled(self, *args):
    return GCNEncoder.forward(self, *args) * 3


def _patched_forward(d):
    m = build(d)
    m.encoder.forward = types.MethodType(_tripled, m.encoder)
    return m


def _lin_replaced(d):
    m = build(d)
    m.encoder.convs[0].lin = torch.nn.Linear(d.num_features, 16, bias=False)
    return m


def _no_edge_weight(d):
    m = build(d)
    m.encoder.supports_edge_weight = False
    return m


def _encoder_hook(d):
    m = build(d)
    m.encoder.register_forward_hook(_hook)
    return m


def _conv_message_hook(d):
    m = build(d)
    m.encoder.convs[0].register_message_forward_hook(
        lambda module, inputs, out: out * 2)
    return m


class ForwardOverride(DeepGraphInfomax):
    def forward(self, *args, **kwargs):
        pos, neg, s = super().forward(*args, **kwargs)
        return pos, neg * 0, s


MORE_REFUSED = [
    ('layers normalise differently', _layers_differ, 'differently'),
    ('patched encoder forward', _patched_forward, 'GCNEncoder'),
    ('lin replaced', _lin_replaced, 'Linear'),
    ('encoder ignores edge weights', _no_edge_weight, 'edge weights'),
    ('encoder hook', _encoder_hook, 'hooks'),
    ('message hook', _conv_message_hook, 'hooks'),
    ('model overrides forward', lambda d: ForwardOverride(
        16, GCNEncoder(d.num_features, 16), SigmoidMeanReadout(),
        FeatureShuffle(generator=123)), 'forward'),
]


@pytest.mark.parametrize('case,builder,needle', MORE_REFUSED,
                         ids=[c[0] for c in MORE_REFUSED])
def test_more_refusals_take_the_plain_path(case, builder, needle):
    test_refused_options_take_the_plain_path(case, builder, needle)


def test_random_or_training_only_parts_are_refused():
    data = make_graph()
    inputs = (data.x, data.edge_index)
    model = build(data, act='rrelu')  # random slopes while training
    assert 'RReLU' in fast_path_refusal(model, inputs)
    model = DeepGraphInfomax(
        16, GCNEncoder(data.num_features, 16, dropout=0.5),
        SigmoidMeanReadout(), FeatureShuffle())
    assert 'dropout' in fast_path_refusal(model, inputs)
    model.eval()  # dropout is off in eval mode: the fast path is exact
    assert fast_path_refusal(model, inputs) is None
    model = build(data, corruption=EdgeDrop(0.2))
    assert 'FeatureShuffle' in fast_path_refusal(model, inputs)
    model = DeepGraphInfomax(16, SAGEEncoder(data.num_features, 16),
                             SigmoidMeanReadout(), FeatureShuffle())
    assert 'GCNEncoder' in fast_path_refusal(model, inputs)


def test_inputs_the_fast_path_would_treat_differently():
    data = make_graph(weighted=True)
    model = build(data)
    x, ei, w = data.x, data.edge_index, data.edge_weight
    assert fast_path_refusal(model, (x, ei, w)) is None
    refusal = fast_path_refusal
    assert 'gradients' in refusal(model, (x.requires_grad_(), ei, w))
    x.requires_grad_(False)
    assert 'gradients' in refusal(model, (x, ei, w.clone().requires_grad_()))
    assert 'edge_weight' in refusal(model, (x, ei, w.double()))
    assert 'edge_weight' in refusal(model, (x, ei, w[:-1]))
    assert 'dtype' in refusal(model, (x.double(), ei, w.double()))
    assert 'edge_index' in refusal(model, (x, ei.int(), w))
    assert 'width' in refusal(model, (x[:, :-1], ei, w))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert 'autocast' in refusal(model, (x, ei, w))
    # an input that requires grad gets its gradient (plain path)
    plain = plain_twin(model)
    xg = x.clone().requires_grad_()
    model.objective(Data(x=xg, edge_index=ei)).backward()
    xp = x.clone().requires_grad_()
    plain.objective(Data(x=xp, edge_index=ei)).backward()
    assert xg.grad is not None and torch.allclose(xg.grad, xp.grad)


def test_global_hooks_refused_and_unknown_torch_refused(monkeypatch):
    import graphcl.models.dgi_fast as fast_module
    data = make_graph()
    model = build(data)
    inputs = model.encoder_inputs(data)
    handle = torch.nn.modules.module.register_module_forward_hook(
        lambda module, args, out: out)
    try:
        assert 'global' in fast_path_refusal(model, inputs)
    finally:
        handle.remove()
    assert fast_path_refusal(model, inputs) is None
    # a PyTorch that keeps its global hooks elsewhere: cannot tell, refuse
    monkeypatch.setattr(fast_module, '_torch_module', types.SimpleNamespace(
        _global_forward_pre_hooks={}))
    assert 'cannot check' in fast_path_refusal(model, inputs)
    plain = plain_twin(model)
    assert_same_step(model, plain, data)


def test_other_readout_keeps_the_fast_encoder_only():
    from graphcl.models.dgi_head import fused_head_parts
    data = make_graph()
    model = build(data, summary=MyReadout())
    assert fast_path_refusal(model, model.encoder_inputs(data)) is None
    assert fused_head_parts(model) is None  # not DGI's exact head
    assert_same_step(model, plain_twin(model), data)


@pytest.mark.parametrize('layout', ['coo', 'csr'])
@pytest.mark.parametrize('act', ACTS)
def test_sparse_feature_tensor_matches_dense_plain_path(layout, act):
    data = make_graph()
    fast = make_model(data, act=act)
    plain = copy.deepcopy(fast)
    plain.fast = False
    x = data.x.to_sparse_coo() if layout == 'coo' else data.x.to_sparse_csr()
    sparse = Data(x=x, edge_index=data.edge_index)
    assert fast_path_supported(fast, fast.encoder_inputs(sparse))
    l1, g1 = loss_and_grads(fast, sparse)
    l2, g2 = loss_and_grads(plain, data)
    assert torch.allclose(l1, l2, atol=1e-5)
    for k in g1:
        assert torch.allclose(g1[k], g2[k], atol=1e-5, rtol=1e-4), k


def test_loads_pyg_checkpoint():
    from torch_geometric.nn import DeepGraphInfomax as PyGDGI
    data = make_graph()
    ours = make_model(data)
    theirs = PyGDGI(16, GCNEncoder(data.num_features, 16),
                    SigmoidMeanReadout(), FeatureShuffle())
    ours.load_state_dict(theirs.state_dict())
    assert torch.equal(ours.discriminator.weight, theirs.weight)
    assert torch.equal(ours.weight, theirs.weight)


# embed: the fast encoder (sparse products on the cached graph) must give
# the plain encoder's embeddings, or refuse and run the plain encoder.

def plain_embed(model, data):
    twin = plain_twin(model)
    return twin.embed(data)


@pytest.mark.parametrize('conv_kwargs,act,layers', [
    ({}, 'prelu', 1), ({}, 'elu', 2), (dict(improved=True), 'relu', 1),
    (dict(add_self_loops=False), 'prelu', 2),
    (dict(normalize=False, add_self_loops=False), 'tanh', 1),
    (dict(bias=False), None, 2)])
@pytest.mark.parametrize('density', [0.03, 0.5])
@pytest.mark.parametrize('self_loops', [False, True])
def test_embed_equals_the_plain_encoder(conv_kwargs, act, layers, density,
                                        self_loops):
    data = make_graph(density=density, weighted=True, undirected=False)
    if self_loops:  # self-loops and duplicate edges in the input graph
        loops = torch.arange(0, data.num_nodes, 3)
        data.edge_index = torch.cat([data.edge_index, data.edge_index[:, :9],
                                     torch.stack([loops, loops])], 1)
        data.edge_weight = torch.cat([data.edge_weight, data.edge_weight[:9],
                                      torch.rand(loops.numel()) + 1])
    model = build(data, dict(conv_kwargs, dropout=0.3), act=act,
                  layers=layers)
    assert model.encoder.dropout > 0  # inactive in eval mode: allowed
    z = model.embed(data)
    assert z.shape == (data.num_nodes, 16)
    assert torch.allclose(z, plain_embed(model, data), atol=1e-5)
    assert model.training  # the mode is restored


def test_embed_takes_the_sparse_products(monkeypatch):
    import graphcl.models.gcn_views as views
    data = make_graph()
    model = build(data)
    calls = []
    real = views.gcn_embed
    monkeypatch.setattr(views, 'gcn_embed',
                        lambda *a: calls.append(1) or real(*a))
    model.embed(data)
    assert calls
    model.fast = False
    model.embed(data)
    assert len(calls) == 1


def test_embed_of_a_stream_of_fresh_graphs():
    # fresh same-shape graphs, and in-place edits: never an old graph's
    model = build(random_graph())
    for seed in range(6):
        data = random_graph(seed=seed % 3, weighted=seed % 2 == 1)
        model.objective(data)  # the training cache holds this graph
        assert torch.allclose(model.embed(data), plain_embed(model, data),
                              atol=1e-5)
        data.edge_index[0, :30] = (data.edge_index[0, :30] + 1) % 60
        data.x.mul_(2)
        assert torch.allclose(model.embed(data), plain_embed(model, data),
                              atol=1e-5)


@pytest.mark.parametrize('case,builder,needle', REFUSED + MORE_REFUSED,
                         ids=[c[0] for c in REFUSED + MORE_REFUSED])
def test_embed_refusals_run_the_plain_encoder(case, builder, needle):
    data = make_graph(weighted=True)
    model = builder(data)
    z = model.embed(data)
    with torch.no_grad():
        model.eval()
        expected = model.encoder(*model.encoder_inputs(data))
    assert torch.allclose(z, expected, atol=1e-6)


@pytest.mark.parametrize('rows,cols', [(1 << 15, 1 << 16),  # 32-bit keys
                                       (1 << 15, (1 << 16) + 1),
                                       (1 << 20, 1 << 20)])  # 64-bit
def test_coalesced_with_32_and_64_bit_keys(rows, cols):
    # The sort runs on 32-bit keys where the largest linear index fits (up
    # to exactly 2**31 - 1, the first case's corner), else on 64-bit ones:
    # both give COO coalesce's entries, duplicates summed.
    from graphcl.models.dgi_fast import _coalesced
    g = torch.Generator().manual_seed(rows + cols)
    row = torch.randint(0, rows, (3000, ), generator=g)
    col = torch.randint(0, cols, (3000, ), generator=g)
    row[:5], col[:5] = rows - 1, cols - 1  # the largest index, repeated
    row[5:400], col[5:400] = row[400:795], col[400:795]  # duplicates
    val = torch.rand(3000, generator=g, dtype=torch.float64)
    r, c, v = _coalesced(row, col, val, cols)
    coo = torch.sparse_coo_tensor(torch.stack([row, col]), val,
                                  (rows, cols)).coalesce()
    assert r.dtype == c.dtype == torch.long
    assert torch.equal(r, coo.indices()[0]) and torch.equal(c,
                                                             coo.indices()[1])
    assert torch.allclose(v, coo.values())


@pytest.mark.parametrize('seed', range(4))
def test_csr_pair_equals_coo_coalesce(seed):
    # The CSR builder of every fast path (one stable sort, duplicates summed
    # in order) against PyTorch's COO coalesce: same structure and values,
    # square, rectangular, symmetric, empty.
    from graphcl.models.dgi_fast import _csr_pair
    g = torch.Generator().manual_seed(seed)
    for trial in range(40):
        n, m = torch.randint(1, 25, (2, ), generator=g).tolist()
        if trial % 3 == 0:
            m = n
        e = int(torch.randint(0, 100, (1, ), generator=g))
        row = torch.randint(0, n, (e, ), generator=g)
        col = torch.randint(0, m, (e, ), generator=g)
        if trial % 4 == 0 and n == m:  # symmetric: one shared object
            row, col = torch.cat([row, col]), torch.cat([col, row])
            val = torch.ones(row.numel())
        else:
            val = torch.rand(e, generator=g)
        a, a_t = _csr_pair(row, col, val, (n, m))
        coo = torch.sparse_coo_tensor(torch.stack([row, col]), val,
                                      (n, m)).coalesce()
        for got, want in ((a, coo), (a_t, coo.t().coalesce())):
            want = want.to_sparse_csr()
            assert torch.equal(got.crow_indices(), want.crow_indices())
            assert torch.equal(got.col_indices(), want.col_indices())
            assert torch.allclose(got.values(), want.values(), atol=1e-6)
        if trial % 4 == 0 and n == m:
            assert a_t is a
