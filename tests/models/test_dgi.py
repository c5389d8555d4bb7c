r"""graphcl's DeepGraphInfomax against PyG's, called exactly as PyG's
``examples/infomax_transductive.py`` calls it, plus the pluggable parts."""
import copy
import io

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv
from torch_geometric.nn.models import DeepGraphInfomax as PyGDeepGraphInfomax

from graphcl.corruptions import EdgeDrop, FeatureShuffle, get_corruption
from graphcl.losses import (InfoNCELoss, JSDLoss, TripletMarginLoss,
                            info_nce_loss, triplet_margin_loss)
from graphcl.models import DeepGraphInfomax, build_method
from graphcl.nn import (BilinearDiscriminator, DotDiscriminator, GCNEncoder,
                        SigmoidMeanReadout)

N, F, H = 30, 12, 16


# --- PyG's example, verbatim -------------------------------------------------

class Encoder(torch.nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.conv = GCNConv(in_channels, hidden_channels)
        self.prelu = torch.nn.PReLU(hidden_channels)

    def forward(self, x, edge_index):
        x = self.conv(x, edge_index)
        x = self.prelu(x)
        return x


def corruption(x, edge_index):
    return x[torch.randperm(x.size(0))], edge_index


def summary(z, *args, **kwargs):
    return z.mean(dim=0).sigmoid()


def graph(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(N, F, generator=gen)
    edge_index = torch.randint(N, (2, 90), generator=gen)
    y = torch.arange(N) % 3
    return x, edge_index, y


def pair(hidden=H):
    r"""PyG's model and graphcl's with identical weights."""
    torch.manual_seed(0)
    pyg = PyGDeepGraphInfomax(
        hidden_channels=hidden, encoder=Encoder(F, hidden),
        summary=lambda z, *args, **kwargs: z.mean(dim=0).sigmoid(),
        corruption=corruption)
    ours = DeepGraphInfomax(
        hidden_channels=hidden, encoder=Encoder(F, hidden),
        summary=lambda z, *args, **kwargs: z.mean(dim=0).sigmoid(),
        corruption=corruption)
    ours.encoder.load_state_dict(pyg.encoder.state_dict())
    with torch.no_grad():
        ours.discriminator.weight.copy_(pyg.weight)
    return pyg, ours


def test_forward_matches_pyg():
    pyg, ours = pair()
    x, edge_index, _ = graph()
    torch.manual_seed(1)
    a = pyg(x, edge_index)
    torch.manual_seed(1)
    b = ours(x, edge_index)
    assert len(a) == len(b) == 3
    for u, v in zip(a, b):
        assert u.shape == v.shape
        assert torch.allclose(u, v, atol=1e-6)
    assert b[0].shape == (N, H) and b[2].shape == (H, )


def test_keyword_arguments_like_pyg():
    # PyG's forward passes keyword arguments to encoder and corruption.
    pyg, ours = pair()
    x, edge_index, _ = graph()
    torch.manual_seed(2)
    a = pyg(x=x, edge_index=edge_index)
    torch.manual_seed(2)
    b = ours(x=x, edge_index=edge_index)
    for u, v in zip(a, b):
        assert torch.allclose(u, v, atol=1e-6)


@pytest.mark.parametrize('sigmoid', [True, False])
def test_discriminate_matches_pyg(sigmoid):
    pyg, ours = pair()
    x, edge_index, _ = graph()
    z = ours.encoder(x, edge_index)
    s = summary(z)
    a = pyg.discriminate(z, s, sigmoid=sigmoid)
    b = ours.discriminate(z, s, sigmoid=sigmoid)
    assert a.shape == b.shape == (N, )
    assert torch.allclose(a, b, atol=1e-5)
    if sigmoid:
        assert ((b > 0) & (b < 1)).all()
    # 2-D summaries [K, D]: one column of scores per summary (K == D too).
    for k in (3, H):
        S = torch.rand(k, H)
        a = pyg.discriminate(z, S, sigmoid=sigmoid)
        b = ours.discriminate(z, S, sigmoid=sigmoid)
        assert a.shape == b.shape == (N, k)
        assert torch.allclose(a, b, atol=1e-5)
    # Default: sigmoid=True, as in PyG.
    assert torch.allclose(ours.discriminate(z, s), pyg.discriminate(z, s),
                          atol=1e-6)


def test_loss_matches_pyg():
    pyg, ours = pair()
    x, edge_index, _ = graph()
    torch.manual_seed(3)
    pos_z, neg_z, s = ours(x, edge_index)
    a = pyg.loss(pos_z, neg_z, s)
    b = ours.loss(pos_z, neg_z, s)
    assert a.dim() == b.dim() == 0
    assert abs(a.item() - b.item()) < 1e-5


def test_training_trajectory_matches_pyg():
    # PyG's example loop: a few Adam steps give the same losses.
    pyg, ours = pair()
    x, edge_index, _ = graph()
    losses = []
    for model in (pyg, ours):
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        model.train()
        torch.manual_seed(4)
        run = []
        for _ in range(5):
            optimizer.zero_grad()
            pos_z, neg_z, s = model(x, edge_index)
            loss = model.loss(pos_z, neg_z, s)
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    assert losses[0] == pytest.approx(losses[1], abs=1e-4)
    assert losses[1][-1] < losses[1][0]


def test_test_method_matches_pyg():
    pyg, ours = pair()
    x, edge_index, y = graph()
    z = ours.encoder(x, edge_index)
    a = pyg.test(z[:20], y[:20], z[20:], y[20:], max_iter=150)
    b = ours.test(z[:20], y[:20], z[20:], y[20:], max_iter=150)
    assert isinstance(b, float) and 0.0 <= b <= 1.0
    assert a == b


def test_parameters_and_weight_like_pyg():
    pyg, ours = pair()
    assert ours.weight is ours.discriminator.weight
    assert ours.weight.shape == pyg.weight.shape == (H, H)
    assert sum(p.numel() for p in ours.parameters()) == \
        sum(p.numel() for p in pyg.parameters())


def test_reset_parameters():
    _, ours = pair()
    with torch.no_grad():
        ours.encoder.prelu.weight.fill_(0.9)
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    ours.reset_parameters()
    after = ours.state_dict()
    # Every tensor (conv weight, PReLU slopes, bilinear weight) is redrawn,
    # the conv bias and slopes back to their initial values.
    for key in ('encoder.conv.lin.weight', 'encoder.prelu.weight',
                'discriminator.weight'):
        assert not torch.equal(before[key], after[key]), key
    assert torch.allclose(after['encoder.prelu.weight'],
                          torch.full((H, ), 0.25))


def test_repr_matches_pyg():
    pyg = PyGDeepGraphInfomax(512, Encoder(F, 512), summary, corruption)
    ours = DeepGraphInfomax(512, Encoder(F, 512), summary, corruption)
    assert repr(ours) == repr(pyg) == 'DeepGraphInfomax(512)'


def test_state_dict_round_trip():
    _, ours = pair()
    buffer = io.BytesIO()
    torch.save(ours.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    fresh = DeepGraphInfomax(H, Encoder(F, H), summary, corruption)
    fresh.load_state_dict(state)
    x, edge_index, _ = graph()
    torch.manual_seed(5)
    a = ours(x, edge_index)
    torch.manual_seed(5)
    b = fresh(x, edge_index)
    for u, v in zip(a, b):
        assert torch.equal(u, v)
    assert set(state) == {'encoder.conv.bias', 'encoder.conv.lin.weight',
                          'encoder.prelu.weight', 'discriminator.weight'}


def test_deepcopy():
    _, ours = pair()
    clone = copy.deepcopy(ours)
    x, edge_index, _ = graph()
    assert torch.equal(clone.encoder(x, edge_index),
                       ours.encoder(x, edge_index))


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = DeepGraphInfomax(H, GCNEncoder(F, H), SigmoidMeanReadout(),
                             FeatureShuffle())
    x, edge_index, _ = graph()
    model.loss(*model(x, edge_index)).backward()
    bad = [n for n, p in model.named_parameters()
           if p.grad is None or p.grad.abs().sum() == 0]
    assert not bad


# --- graphcl's parts plugged in ----------------------------------------------

def make(discriminator=None, loss_fn=None, corruption=None, hidden=H):
    torch.manual_seed(0)
    return DeepGraphInfomax(hidden, GCNEncoder(F, hidden),
                            SigmoidMeanReadout(),
                            corruption or FeatureShuffle(),
                            discriminator=discriminator, loss_fn=loss_fn)


def test_defaults_are_bilinear_and_jsd():
    model = make()
    assert isinstance(model.discriminator, BilinearDiscriminator)
    assert isinstance(model.loss_fn, JSDLoss)


@pytest.mark.parametrize('disc,loss_fn,reference', [
    (DotDiscriminator(), JSDLoss(), None),
    (None, InfoNCELoss(0.5), lambda p, n: info_nce_loss(p, n, 0.5)),
    (None, TripletMarginLoss(1.0), triplet_margin_loss),
    (DotDiscriminator(), InfoNCELoss(), info_nce_loss),
])
def test_pluggable_discriminator_and_loss(disc, loss_fn, reference):
    model = make(discriminator=disc, loss_fn=loss_fn)
    x, edge_index, _ = graph()
    pos_z, neg_z, s = model(x, edge_index)
    loss = model.loss(pos_z, neg_z, s)
    assert torch.isfinite(loss)
    pos = model.discriminate(pos_z, s, sigmoid=False)
    neg = model.discriminate(neg_z, s, sigmoid=False)
    if isinstance(disc, DotDiscriminator):
        assert torch.allclose(pos, pos_z @ s, atol=1e-5)
    if reference is not None:
        assert torch.allclose(loss, reference(pos, neg), atol=1e-6)
    loss.backward()
    assert all(p.grad is not None for p in model.encoder.parameters())


def test_loss_with_batch_vector():
    model = make()
    x, edge_index, _ = graph()
    batch = torch.arange(N) // 10  # three graphs
    z = model.encoder(x, edge_index)
    neg_z = model.encoder(x[torch.randperm(N)], edge_index)
    s = SigmoidMeanReadout()(z, batch=batch)
    assert s.shape == (3, H)
    loss = model.loss(z, neg_z, s, batch=batch)
    W = model.weight
    pos = (z @ W * s[batch]).sum(-1)  # z_i^T W s_{g(i)}
    neg = (neg_z @ W * s[batch]).sum(-1)
    ref = torch.nn.functional.softplus(-pos).mean() + \
        torch.nn.functional.softplus(neg).mean()
    assert torch.allclose(loss, ref, atol=1e-6)


def test_objective_and_embed_on_data():
    model = make()
    x, edge_index, y = graph()
    data = Data(x=x, edge_index=edge_index, y=y)
    torch.manual_seed(6)
    a = model.objective(data)
    torch.manual_seed(6)
    b = model.loss(*model(x, edge_index))
    assert torch.allclose(a, b)
    model.train()
    z = model.embed(data)
    assert model.training  # mode restored
    assert not z.requires_grad and z.shape == (N, H)
    model.eval()  # the fast encoder: sparse products, the same embeddings
    assert torch.allclose(z, model.encoder(x, edge_index), atol=1e-6)


def test_objective_uses_edge_weight():
    model = make()
    x, edge_index, _ = graph()
    w = torch.rand(edge_index.size(1)) + 0.1
    data = Data(x=x, edge_index=edge_index, edge_weight=w)
    assert len(DeepGraphInfomax.encoder_inputs(data)) == 3
    z = model.embed(data)
    assert torch.allclose(z, model.encoder(x, edge_index, w))
    assert not torch.allclose(z, model.encoder(x, edge_index))


def test_built_by_name():
    model = build_method('dgi', F, hidden=H, corruption='edge_drop',
                         discriminator='dot', loss='infonce')
    assert isinstance(model, DeepGraphInfomax)
    assert isinstance(model.corruption, EdgeDrop)
    assert isinstance(model.discriminator, DotDiscriminator)
    assert isinstance(model.loss_fn, InfoNCELoss)
    x, edge_index, y = graph()
    assert torch.isfinite(model.objective(Data(x=x, edge_index=edge_index)))


# --- bad inputs --------------------------------------------------------------

def test_encoder_width_mismatch():
    model = DeepGraphInfomax(H + 1, GCNEncoder(F, H), SigmoidMeanReadout(),
                             FeatureShuffle())
    x, edge_index, _ = graph()
    with pytest.raises(ValueError, match='hidden_channels'):
        model(x, edge_index)
    with pytest.raises(ValueError, match=f'hidden_channels={H}'):
        model.objective(Data(x=x, edge_index=edge_index))


@pytest.mark.parametrize('hidden', [0, -3, 2.5, '16'])
def test_bad_hidden_channels(hidden):
    with pytest.raises(ValueError, match='hidden_channels'):
        DeepGraphInfomax(hidden, GCNEncoder(F, H), SigmoidMeanReadout(),
                         FeatureShuffle())


@pytest.mark.parametrize('p', [-0.1, 1.5, float('nan')])
def test_corruption_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        DeepGraphInfomax(H, GCNEncoder(F, H), SigmoidMeanReadout(),
                         EdgeDrop(p=p))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        get_corruption('edge_drop', p=p)


def test_unknown_names():
    for option, value in (('corruption', 'scramble'), ('encoder', 'mlp'),
                          ('discriminator', 'mlp'), ('loss', 'hinge'),
                          ('readout', 'median')):
        with pytest.raises(ValueError, match=f"Unknown {option} '{value}'"):
            build_method('dgi', F, **{option: value})
    with pytest.raises(ValueError, match="Unknown method 'grace2'"):
        build_method('grace2', F)
    with pytest.raises(ValueError, match='Unknown option'):
        build_method('dgi', F, hiden=8)


# Every bad input is refused with a clear ValueError before any training,
# through DeepGraphInfomax too (PyG's layers would fail deep inside with a
# RuntimeError/IndexError, or give a NaN loss silently).
def test_bad_data_through_objective(bad_case):
    case, data, needle = bad_case
    model = build_method('dgi', data.x.size(1), hidden=8)
    with pytest.raises(ValueError) as e:
        model.objective(data)
    assert needle in str(e.value)


def test_bad_data_through_forward(bad_case):
    case, data, needle = bad_case
    if case == 'x rows != num_nodes':
        pytest.skip('not expressible with (x, edge_index) alone')
    model = build_method('dgi', data.x.size(1), hidden=8)
    with pytest.raises(ValueError) as e:
        model(data.x, data.edge_index)
    assert needle in str(e.value)


def test_dgi_recipe_uses_the_reference_critic_init():
    assert build_method('dgi', 8).discriminator.init == 'xavier'
    assert build_method('dgi', 8, disc_init='pyg').discriminator.init == 'pyg'
    # built by hand it stays a PyG drop-in
    model = DeepGraphInfomax(16, GCNEncoder(8, 16), SigmoidMeanReadout(),
                             FeatureShuffle())
    assert model.discriminator.init == 'pyg'


def test_bad_data_through_embed(bad_case):
    case, data, needle = bad_case
    model = build_method('dgi', data.x.size(1), hidden=8)
    with pytest.raises(ValueError) as e:
        model.embed(data)
    assert needle in str(e.value)


def test_validation_follows_each_new_graph(graph_factory):
    # A stream of fresh graphs of one shape, each a temporary: their tensors
    # take the freed addresses of the previous ones. Each is checked.
    def graph(i):
        data = graph_factory(seed=i)
        if i % 3 == 2:
            data.x[i, 0] = float('nan')
        return data

    model = build_method('dgi', graph(0).x.size(1), hidden=8)
    for i in range(9):
        if i % 3 == 2:
            with pytest.raises(ValueError, match='NaN'):
                model.objective(graph(i))
            with pytest.raises(ValueError, match='NaN'):
                model.embed(graph(i))
        else:
            assert torch.isfinite(model.objective(graph(i)))
            assert torch.isfinite(model.embed(graph(i))).all()


def test_validation_sees_in_place_edits(graph_factory):
    data = graph_factory()
    model = build_method('dgi', data.x.size(1), hidden=8)
    model.objective(data)
    model.embed(data)
    data.x[2, 3] = float('inf')  # same tensor object, edited in place
    with pytest.raises(ValueError, match='infinite'):
        model.objective(data)
    with pytest.raises(ValueError, match='infinite'):
        model.embed(data)
    data.x[2, 3] = 0.0
    model.objective(data)
    data.edge_index[1, 0] = data.num_nodes  # out of range, in place
    with pytest.raises(ValueError, match=r'\[0, '):
        model.objective(data)
    with pytest.raises(ValueError, match=r'\[0, '):
        model.embed(data)


def test_validation_runs_once_per_input(graph_factory, monkeypatch):
    import graphcl.models.base as base_module
    calls = []
    check = base_module.check_node_data
    monkeypatch.setattr(base_module, 'check_node_data',
                        lambda data: calls.append(1) or check(data))
    data = graph_factory()
    model = build_method('dgi', data.x.size(1), hidden=8)
    for _ in range(3):
        model.objective(data)
    model.embed(data)
    assert len(calls) == 1
    data.edge_index = data.edge_index.clone()  # a new tensor: checked again
    model.objective(data)
    assert len(calls) == 2
