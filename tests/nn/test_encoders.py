import pytest
import torch
from torch_geometric.utils import to_undirected

from graphcl.nn import (GATEncoder, GCNEncoder, GINEncoder, SAGEEncoder,
                        get_encoder)

N, F, D = 12, 5, 8


def inputs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N, F, generator=gen)
    edge_index = to_undirected(torch.randint(N, (2, 30), generator=gen),
                               num_nodes=N)
    return x, edge_index


ENCODERS = {
    'gcn': lambda **kw: GCNEncoder(F, D, **kw),
    'sage': lambda **kw: SAGEEncoder(F, D, **kw),
    'gat': lambda **kw: GATEncoder(F, D, heads=2, **kw),
    'gin': lambda **kw: GINEncoder(F, D, **kw),
}


def all_grads_nonzero(module):
    return all(p.grad is not None and p.grad.abs().sum() > 0
               for p in module.parameters())


@pytest.mark.parametrize('name', ENCODERS)
@pytest.mark.parametrize('layers', [1, 2])
def test_shapes(name, layers):
    enc = ENCODERS[name](num_layers=layers)
    x, edge_index = inputs()
    out = enc(x, edge_index)
    assert out.shape == (N, D)
    assert enc.hidden_channels == enc.out_channels == D
    assert len(enc.convs) == len(enc.acts) == layers


@pytest.mark.parametrize('name', ENCODERS)
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(0)
    enc = ENCODERS[name](num_layers=2)
    x, edge_index = inputs()
    # A loss that does not cancel: a random projection of the output.
    out = enc(x, edge_index)
    (out * torch.randn_like(out)).sum().backward()
    assert all_grads_nonzero(enc), [n for n, p in enc.named_parameters()
                                    if p.grad is None or
                                    p.grad.abs().sum() == 0]


@pytest.mark.parametrize('name', ENCODERS)
def test_reset_parameters_changes_weights(name):
    enc = ENCODERS[name](num_layers=2)
    with torch.no_grad():  # make every parameter (PReLU slopes too) differ
        for p in enc.parameters():
            p.add_(1.0)
    before = [p.detach().clone() for p in enc.parameters()]
    enc.reset_parameters()
    after = list(enc.parameters())
    assert all(not torch.equal(b, a) for b, a in zip(before, after))


def test_layer_by_layer_equals_forward():
    enc = GCNEncoder(F, D, num_layers=3)
    x, edge_index = inputs()
    h = x
    for i in range(enc.num_layers):
        h = enc.layer(i, h, edge_index)
    assert torch.allclose(h, enc(x, edge_index))


def test_gcn_matches_the_formula():
    # H = act(D^-1/2 (A + I) D^-1/2 X W + b) with act = identity.
    enc = GCNEncoder(F, D, act=None)
    x, edge_index = inputs()
    A = torch.zeros(N, N)
    A[edge_index[1], edge_index[0]] = 1.0
    A.fill_diagonal_(1.0)  # A + I (an existing self-loop is not doubled)
    deg = A.sum(dim=1)
    norm = deg.pow(-0.5)
    A_hat = norm[:, None] * A * norm[None, :]
    conv = enc.convs[0]
    expected = A_hat @ (x @ conv.lin.weight.t()) + conv.bias
    assert torch.allclose(enc(x, edge_index), expected, atol=1e-5)


def test_gcn_edge_weights():
    enc = GCNEncoder(F, D)
    x, edge_index = inputs()
    plain = enc(x, edge_index)
    ones = enc(x, edge_index, torch.ones(edge_index.size(1)))
    assert torch.allclose(plain, ones, atol=1e-6)
    w = torch.rand(edge_index.size(1), generator=torch.Generator()
                   .manual_seed(1)) + 0.1
    weighted = enc(x, edge_index, w)
    assert not torch.allclose(plain, weighted)
    # Edge weights get gradients through a GCN.
    w.requires_grad_()
    enc(x, edge_index, w).sum().backward()
    assert w.grad is not None and w.grad.abs().sum() > 0


def test_encoders_without_edge_weight_support_ignore_it():
    enc = SAGEEncoder(F, D)
    x, edge_index = inputs()
    w = torch.rand(edge_index.size(1))
    assert torch.allclose(enc(x, edge_index), enc(x, edge_index, w))


def test_dropout_only_in_training():
    enc = GCNEncoder(F, D, dropout=0.5)
    x, edge_index = inputs()
    enc.eval()
    assert torch.equal(enc(x, edge_index), enc(x, edge_index))
    enc.train()
    torch.manual_seed(0)
    a = enc(x, edge_index)
    b = enc(x, edge_index)
    assert not torch.equal(a, b)


def test_activations():
    assert isinstance(GCNEncoder(F, D).acts[0], torch.nn.PReLU)
    assert GCNEncoder(F, D).acts[0].weight.numel() == D  # one per channel
    assert isinstance(GCNEncoder(F, D, act='relu').acts[0], torch.nn.ReLU)
    assert isinstance(GCNEncoder(F, D, act=None).acts[0], torch.nn.Identity)
    assert isinstance(GATEncoder(F, D).acts[0], torch.nn.ELU)
    x, edge_index = inputs()
    assert (GCNEncoder(F, D, act='relu')(x, edge_index) >= 0).all()


def test_repr():
    assert repr(GCNEncoder(F, D)) == f'GCNEncoder({F}, {D}, num_layers=1)'
    assert repr(GINEncoder(F, D)) == f'GINEncoder({F}, {D}, num_layers=3)'
    assert repr(SAGEEncoder(F, D, num_layers=2)) == \
        f'SAGEEncoder({F}, {D}, num_layers=2)'


def test_defaults_are_dgi_transductive():
    enc = GCNEncoder(F)
    assert enc.hidden_channels == 512 and enc.num_layers == 1
    assert isinstance(enc.acts[0], torch.nn.PReLU)


@pytest.mark.parametrize('name,cls', [('gcn', GCNEncoder),
                                      ('GCN', GCNEncoder),
                                      ('sage', SAGEEncoder),
                                      ('graphsage', SAGEEncoder),
                                      ('gat', GATEncoder),
                                      ('gin', GINEncoder)])
def test_get_encoder(name, cls):
    enc = get_encoder(name, F, hidden_channels=D)
    assert type(enc) is cls and enc.in_channels == F
    assert enc(*inputs()).shape == (N, D)


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=0), 'in_channels'),
    (dict(hidden_channels=0), 'hidden_channels'),
    (dict(hidden_channels=8.0), 'hidden_channels'),
    (dict(num_layers=0), 'num_layers'),
    (dict(dropout=1.0), 'dropout'),
    (dict(dropout=-0.1), 'dropout'),
])
def test_bad_arguments(kwargs, match):
    args = dict(in_channels=F, hidden_channels=D)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        GCNEncoder(**args)


def test_gat_heads_must_divide_width():
    with pytest.raises(ValueError, match='divisible'):
        GATEncoder(F, 10, heads=4)


def test_unknown_encoder():
    with pytest.raises(ValueError, match="Unknown encoder 'mlp'"):
        get_encoder('mlp', F)


@pytest.mark.parametrize('name', ['gcn', 'sage', 'gat', 'gin'])
def test_parameters_are_plain_pyg_parameters(name):
    # PyG's layout: view-based utilities and any optimizer work
    enc = get_encoder(name, F, hidden_channels=D, num_layers=2)
    assert all(p.is_contiguous() for p in enc.parameters())
    vec = torch.nn.utils.parameters_to_vector(enc.parameters())
    torch.nn.utils.vector_to_parameters(vec * 2, enc.parameters())
    assert torch.equal(torch.nn.utils.parameters_to_vector(
        enc.parameters()), vec * 2)
