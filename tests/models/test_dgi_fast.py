import copy

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphcl.corruptions import EdgeDrop, FeatureShuffle
from graphcl.losses import InfoNCELoss
from graphcl.models import DeepGraphInfomax
from graphcl.models.dgi_fast import fast_path_supported
from graphcl.nn import GCNEncoder, SAGEEncoder, SigmoidMeanReadout


def make_graph(n=60, f=40, density=0.05, undirected=True, weighted=False,
               seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, f, generator=g) < density).float()
    x = x * torch.rand(n, f, generator=g)
    ei = torch.randint(0, n, (2, 4 * n), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    if undirected:
        ei = to_undirected(ei, num_nodes=n)
    data = Data(x=x, edge_index=ei)
    if weighted:
        data.edge_weight = torch.rand(ei.size(1), generator=g) + 0.5
    return data


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


def test_cache_follows_data_changes():
    data = make_graph()
    model = make_model(data)
    model.objective(data)
    key = model._fast_cache.key
    model.objective(data)
    assert model._fast_cache.key == key  # reused
    other = make_graph(seed=1)
    plain = copy.deepcopy(model)
    plain.fast = False
    assert torch.allclose(model.objective(other), plain.objective(other),
                          atol=1e-5)
    assert model._fast_cache.key != key


def test_fast_path_not_taken_when_it_would_differ():
    data = make_graph()
    model = make_model(data)
    inputs = model.encoder_inputs(data)
    model.corruption = EdgeDrop(0.2)
    assert not fast_path_supported(model, inputs)
    model = DeepGraphInfomax(16, SAGEEncoder(data.num_features, 16),
                             SigmoidMeanReadout(), FeatureShuffle())
    assert not fast_path_supported(model, inputs)
    model = DeepGraphInfomax(
        16, GCNEncoder(data.num_features, 16, dropout=0.5),
        SigmoidMeanReadout(), FeatureShuffle())
    assert not fast_path_supported(model, inputs)
    model.eval()
    assert fast_path_supported(model, inputs)


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
