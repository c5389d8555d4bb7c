import math

import pytest
import torch

from graphcl.nn import (BilinearDiscriminator, DotDiscriminator,
                        get_discriminator)

N, D = 7, 5


def data(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(N, D, generator=gen), torch.randn(D, generator=gen)


def test_bilinear_is_z_W_s():
    torch.manual_seed(0)
    disc = BilinearDiscriminator(D)
    z, s = data()
    out = disc(z, s)
    assert out.shape == (N, )
    W = disc.weight
    assert torch.allclose(out, z @ W @ s, atol=1e-6)
    for i in range(N):
        assert torch.allclose(out[i], z[i] @ W @ s, atol=1e-6)


def test_bilinear_several_summaries_like_pyg():
    # PyG: summary [K, D] -> scores [N, K] = z @ W @ summary.t()
    disc = BilinearDiscriminator(D)
    z, _ = data()
    for K in (3, D):  # K == D would hide a transposition bug
        S = torch.randn(K, D)
        out = disc(z, S)
        assert out.shape == (N, K)
        assert torch.allclose(out, z @ disc.weight @ S.t(), atol=1e-5)
        for k in range(K):
            assert torch.allclose(out[:, k], disc(z, S[k]), atol=1e-5)


def test_bilinear_batch_vector():
    disc = BilinearDiscriminator(D)
    z, _ = data()
    batch = torch.tensor([0, 0, 1, 1, 1, 2, 2])
    S = torch.randn(3, D)
    out = disc(z, S, batch)
    assert out.shape == (N, )
    for i in range(N):
        assert torch.allclose(out[i], z[i] @ disc.weight @ S[batch[i]],
                              atol=1e-6)


def test_dot_discriminator():
    z, s = data()
    assert torch.allclose(DotDiscriminator()(z, s), z @ s)
    assert torch.allclose(DotDiscriminator(0.5)(z, s), z @ s / 0.5)
    S = torch.randn(3, D)
    assert torch.allclose(DotDiscriminator()(z, S), z @ S.t())
    batch = torch.tensor([0, 0, 1, 1, 1, 2, 2])
    assert torch.allclose(DotDiscriminator()(z, S, batch),
                          (z * S[batch]).sum(-1))
    assert list(DotDiscriminator().parameters()) == []


def test_gradients_reach_every_parameter():
    disc = BilinearDiscriminator(D)
    z, s = data()
    z.requires_grad_()
    disc(z, s).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in disc.parameters())
    assert z.grad.abs().sum() > 0


def test_init_and_reset_parameters():
    disc = BilinearDiscriminator(D)
    bound = 1.0 / math.sqrt(D)
    assert disc.weight.abs().max() <= bound
    before = disc.weight.detach().clone()
    disc.reset_parameters()
    assert not torch.equal(before, disc.weight)
    assert disc.weight.abs().max() <= bound


def test_xavier_init_as_dgi_reference():
    # nn.Bilinear(D, D, 1).weight has shape [1, D, D]: Xavier bound
    # sqrt(6 / (D * D + D)), far below PyG's 1 / sqrt(D)
    disc = BilinearDiscriminator(64, init='xavier')
    ref = torch.nn.Bilinear(64, 64, 1).weight
    torch.nn.init.xavier_uniform_(ref)
    bound = math.sqrt(6 / (64 * 64 + 64))
    assert disc.weight.abs().max() <= bound
    assert disc.weight.abs().max() > 0.9 * bound
    assert ref.abs().max() <= bound
    assert get_discriminator('bilinear', 64, 'xavier').init == 'xavier'
    with pytest.raises(ValueError, match="Unknown init 'normal'"):
        BilinearDiscriminator(D, init='normal')


def test_repr():
    assert repr(BilinearDiscriminator(D)) == f'BilinearDiscriminator({D})'
    assert (repr(BilinearDiscriminator(D, init='xavier')) ==
            f"BilinearDiscriminator({D}, init='xavier')")
    assert repr(DotDiscriminator(2.0)) == 'DotDiscriminator(temperature=2.0)'


def test_errors():
    z, s = data()
    with pytest.raises(ValueError, match='num_graphs, channels'):
        BilinearDiscriminator(D)(z, s, torch.zeros(N, dtype=torch.long))
    with pytest.raises(ValueError, match='temperature'):
        DotDiscriminator(0.0)


def test_get_discriminator():
    assert type(get_discriminator('bilinear', D)) is BilinearDiscriminator
    assert get_discriminator('Bilinear', D).weight.shape == (D, D)
    assert type(get_discriminator('dot', D)) is DotDiscriminator
    with pytest.raises(ValueError, match="Unknown discriminator 'mlp'"):
        get_discriminator('mlp', D)
