import pytest
import torch

from graphcl.nn import (AttentionReadout, MaxReadout, MeanReadout,
                        SigmoidMeanReadout, SumReadout, get_readout)

D = 4


def data(seed=0):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(9, D, generator=gen)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    return z, batch


MANUAL = {
    MeanReadout: lambda z: z.mean(dim=0),
    SigmoidMeanReadout: lambda z: z.mean(dim=0).sigmoid(),
    SumReadout: lambda z: z.sum(dim=0),
    MaxReadout: lambda z: z.max(dim=0).values,
}


@pytest.mark.parametrize('cls', list(MANUAL))
def test_single_graph(cls):
    z, _ = data()
    out = cls()(z)
    assert out.shape == (D, )
    assert torch.allclose(out, MANUAL[cls](z), atol=1e-6)


@pytest.mark.parametrize('cls', list(MANUAL))
def test_batch_vector_matches_per_graph(cls):
    z, batch = data()
    out = cls()(z, batch=batch)
    assert out.shape == (3, D)
    for g in range(3):
        assert torch.allclose(out[g], MANUAL[cls](z[batch == g]), atol=1e-6)


def test_size_pads_empty_graphs():
    z, batch = data()
    out = SumReadout()(z, batch=batch, size=5)
    assert out.shape == (5, D)
    assert torch.equal(out[3:], torch.zeros(2, D))


def test_extra_arguments_are_ignored():
    # PyG's DeepGraphInfomax calls summary(z, *encoder_args, **kwargs).
    z, _ = data()
    edge_index = torch.tensor([[0, 1], [1, 0]])
    ref = SigmoidMeanReadout()(z)
    assert torch.equal(SigmoidMeanReadout()(z, z, edge_index), ref)
    assert torch.equal(SigmoidMeanReadout()(z, z, edge_weight=None), ref)


def test_attention_matches_manual():
    torch.manual_seed(0)
    readout = AttentionReadout(D)
    z, batch = data()
    gate = readout.aggr.gate_nn
    out = readout(z, batch=batch)
    assert out.shape == (3, D)
    for g in range(3):
        zg = z[batch == g]
        alpha = torch.softmax(gate(zg).view(-1), dim=0)
        assert torch.allclose(out[g], (alpha[:, None] * zg).sum(0),
                              atol=1e-6)
    single = readout(z)
    alpha = torch.softmax(gate(z).view(-1), dim=0)
    assert single.shape == (D, )
    assert torch.allclose(single, (alpha[:, None] * z).sum(0), atol=1e-6)


def test_attention_gradients_and_reset():
    torch.manual_seed(0)
    readout = AttentionReadout(D)
    z, batch = data()
    out = readout(z, batch=batch)
    (out * torch.randn_like(out)).sum().backward()
    gate = readout.aggr.gate_nn
    # The gate's bias shifts every score of a graph equally, which the
    # softmax cancels: it is the one parameter without a gradient.
    assert gate.bias.grad.abs().max() < 1e-6
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in readout.parameters() if p is not gate.bias)
    before = [p.detach().clone() for p in readout.parameters()]
    readout.reset_parameters()
    assert all(not torch.equal(b, a)
               for b, a in zip(before, readout.parameters()))


def test_gradients_flow_to_embeddings():
    for cls in MANUAL:
        z, batch = data()
        z.requires_grad_()
        cls()(z, batch=batch).sum().backward()
        assert z.grad is not None and z.grad.abs().sum() > 0


def test_repr():
    assert repr(SigmoidMeanReadout()) == 'SigmoidMeanReadout()'
    assert repr(AttentionReadout(D)) == f'AttentionReadout({D})'


def test_errors():
    z, batch = data()
    with pytest.raises(ValueError, match='num_nodes, channels'):
        MeanReadout()(z[0])
    with pytest.raises(ValueError, match="'batch' has 8 entries"):
        MeanReadout()(z, batch=batch[:-1])


@pytest.mark.parametrize('name,cls', [
    ('sigmoid_mean', SigmoidMeanReadout), ('sigmoid-mean', SigmoidMeanReadout),
    ('mean', MeanReadout), ('SUM', SumReadout), ('max', MaxReadout),
])
def test_get_readout(name, cls):
    assert type(get_readout(name)) is cls


def test_get_readout_attention_and_unknown():
    assert type(get_readout('attention', D)) is AttentionReadout
    with pytest.raises(ValueError, match='channels'):
        get_readout('attention')
    with pytest.raises(ValueError, match="Unknown readout 'median'"):
        get_readout('median')
