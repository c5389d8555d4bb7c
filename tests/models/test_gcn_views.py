r"""graphcl.models.gcn_views.gcn_embed and GCNViewsEmbed: GRACE's and BGRL's
embeddings as sparse products equal the plain encoder's, or the plain
encoder runs (refusals, fast_path off)."""
import types

import pytest
import torch

from graphcl.models import build_method
from graphcl.models.base import encoder_inputs
from graphcl.models.gcn_views import gcn_embed
from graphcl.nn import GCNEncoder
from graphs import two_view_graph


graph = two_view_graph


def method(name, in_channels, **options):
    torch.manual_seed(0)
    small = dict(grace=dict(hidden=8, proj_hidden=8, layers=2),
                 bgrl=dict(hidden=16, out_channels=8, pred_hidden=16))
    return build_method(name, in_channels, seed=0,
                        **{**small[name], **options})


def plain(model, data):
    with torch.no_grad():
        model.eval()
        z = model.encoder(*encoder_inputs(data))
        model.train()
    return z


@pytest.fixture
def calls(monkeypatch):
    import graphcl.models.gcn_views as views
    seen = []
    real = views.gcn_view_forward
    monkeypatch.setattr(views, 'gcn_view_forward',
                        lambda *a: seen.append(1) or real(*a))
    return seen


@pytest.mark.parametrize('name,options', [
    ('grace', dict(act='prelu')), ('grace', dict(act='rrelu')),
    ('grace', dict(act='relu', layers=1)), ('bgrl', {}),
    ('bgrl', dict(layers=3))])
@pytest.mark.parametrize('features', ['dense', 'sparse'])
@pytest.mark.parametrize('weighted', [False, True])
def test_embed_equals_the_plain_encoder(name, options, features, weighted,
                                        calls):
    data = graph(features, weighted)
    model = method(name, data.num_features, **options)
    for _ in range(2):  # train a little: PReLU slopes, BGRL's batch norms
        model.zero_grad()
        model.objective(data).backward()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(0.05 * p.grad) if p.grad is not None else None
        model.on_step()
    z = model.embed(data)
    assert calls, 'the sparse path was not taken'
    assert model.training  # the mode is restored
    assert not z.requires_grad
    assert torch.allclose(z, plain(model, data), atol=1e-5)
    model.fast_path = False
    n = len(calls)
    assert torch.equal(model.embed(data), plain(model, data))
    assert len(calls) == n


def test_fresh_graphs_and_in_place_edits(calls):
    model = method('grace', 200)
    for seed in range(3):
        data = graph('sparse', seed=seed)
        model.objective(data)  # the feature cache holds this graph's rows
        assert torch.allclose(model.embed(data), plain(model, data),
                              atol=1e-5)
        data.x.mul_(2)
        data.edge_index[0, :10] = (data.edge_index[0, :10] + 1) % 50
        assert torch.allclose(model.embed(data), plain(model, data),
                              atol=1e-5)


def _tripled(self, *args):
    return GCNEncoder.forward(self, *args) * 3


def _patched(model):
    model.encoder.forward = types.MethodType(_tripled, model.encoder)


def _no_edge_weight(model):
    model.encoder.supports_edge_weight = False


def _hook(model):
    model.encoder.convs[0].register_forward_hook(lambda m, a, out: out * 2)


def _flow(model):
    model.encoder.convs[0].flow = 'target_to_source'


@pytest.mark.parametrize('change,refused', [
    (_patched, True), (_hook, True), (_flow, True),
    (_no_edge_weight, False)])  # taken, without the weights
def test_refusals_run_the_plain_encoder(change, refused, calls):
    data = graph(weighted=True)
    data.edge_index = data.edge_index[:, ::2]  # not symmetric: flow matters
    data.edge_weight = data.edge_weight[::2]
    model = method('grace', data.num_features)
    change(model)
    z = model.embed(data)
    if refused:
        assert calls == []
        assert torch.equal(z, plain(model, data))
    else:
        assert calls
        assert torch.allclose(z, plain(model, data), atol=1e-5)


def test_gcn_embed_refuses_other_encoders():
    from graphcl.nn import SAGEEncoder
    data = graph()
    enc = SAGEEncoder(data.num_features, 8)
    assert gcn_embed(enc, (data.x, data.edge_index)) is None
