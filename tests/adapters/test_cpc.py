import math

import pytest
import torch

from graphcl.adapters import CPC, ConvGRUEncoder, SequenceEncoder, pretrain


def _identity_cpc(negatives):
    # z = x, c = z and W_1 = I: the score of (n, t) vs. z is z . x[n, :, t].
    enc = SequenceEncoder(torch.nn.Identity(), torch.nn.Identity(), 2, 2)
    model = CPC(enc, steps=1, negatives=negatives)
    with torch.no_grad():
        model.predictors[0].weight.copy_(torch.eye(2))
        model.predictors[0].bias.zero_()
    return model


X = torch.tensor([[[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]],
                  [[0.5, -1.0, 0.0], [1.0, 0.0, 1.0]]])  # [N=2, D=2, T=3]


def _dot(n, t, m, u):
    return float(X[n, :, t] @ X[m, :, u])


def _nce(pos, negs):
    return -math.log(math.exp(pos) / (math.exp(pos) +
                                      sum(math.exp(v) for v in negs)))


def test_batch_negatives_match_hand_computed():
    terms = [_nce(_dot(n, t, n, t + 1), [_dot(n, t, 1 - n, t + 1)])
             for n in range(2) for t in range(2)]
    loss = _identity_cpc('batch').loss(X)
    assert loss.item() == pytest.approx(sum(terms) / len(terms))


def test_batch_and_time_negatives_match_hand_computed():
    terms = []
    for n in range(2):
        for t in range(2):
            negs = [_dot(n, t, m, u) for m in range(2) for u in range(3)
                    if (m, u) != (n, t + 1)]
            terms.append(_nce(_dot(n, t, n, t + 1), negs))
    loss = _identity_cpc('batch+time').loss(X)
    assert loss.item() == pytest.approx(sum(terms) / len(terms))


def test_default_encoder_shapes_and_training():
    torch.manual_seed(0)
    enc = ConvGRUEncoder()
    x = torch.randn(32, 1, 40)
    assert enc.forward_features(x).shape == (32, 64, 20)
    assert enc.num_steps(40) == 20
    assert enc(x).shape == (32, enc.out_channels)
    model = CPC(enc, steps=3, negatives='batch+time')
    result = pretrain(model, x, epochs=6, batch_size=16, progress=False)
    assert result.losses[-1] < result.losses[0]
    assert model.default_grad_clip == 1.0


def test_sequences_shorter_than_steps_are_rejected_before_training():
    model = CPC(ConvGRUEncoder(), steps=4)
    with pytest.raises(ValueError, match='only 4 latent steps'):
        pretrain(model, torch.randn(8, 1, 8), epochs=1, progress=False)
    custom = CPC(SequenceEncoder(torch.nn.Identity(), torch.nn.Identity(),
                                 2, 2), steps=3)
    with pytest.raises(ValueError, match='at least 4'):
        custom.check_input(torch.randn(4, 2, 3))


def test_bad_input():
    model = CPC(ConvGRUEncoder())
    with pytest.raises(ValueError, match=r'\[N, C, L\]'):
        model.check_input(torch.rand(4, 1, 8, 8))
    with pytest.raises(ValueError, match='at least 2'):
        model.check_input(torch.rand(1, 1, 40))
    with pytest.raises(ValueError, match='negatives'):
        CPC(ConvGRUEncoder(), negatives='time')
    with pytest.raises(TypeError, match='SequenceEncoder'):
        CPC(torch.nn.GRU(4, 4))


def test_reset_parameters_restores_a_fresh_model():
    torch.manual_seed(0)
    model = CPC(ConvGRUEncoder(), steps=2)
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.reset_parameters()
    after = list(model.parameters())
    assert all(not torch.equal(a, b + 1.0) for a, b in zip(after, before))
    assert 'steps=2' in repr(model)


@pytest.mark.slow
def test_cpc_on_mnist1d_reaches_target():
    pytest.importorskip('mnist1d')
    from graphcl.adapters import load_dataset, run_experiment
    metrics, _ = run_experiment('cpc', load_dataset('mnist1d'), seeds=[0],
                                progress=False)
    assert metrics['probe']['trained']['linear_all']['mean'] >= 85
