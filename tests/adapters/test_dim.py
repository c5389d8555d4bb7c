import math

import pytest
import torch

from graphcl.adapters import ConvEncoder, DeepInfoMax, pretrain

# Fixed critic scores s[i, k, j] for N=2 examples and P=2 positions.
S = torch.tensor([[[1.0, 0.5], [0.0, -2.0]],
                  [[-1.0, 0.3], [2.0, 1.5]]])


def _sp(v):
    return math.log1p(math.exp(v))


def _model(estimator):
    model = DeepInfoMax(ConvEncoder(), estimator=estimator)
    model.scores = lambda x: S
    return model


def test_jsd_matches_hand_computed():
    pos, neg = [1.0, 0.5, 2.0, 1.5], [0.0, -2.0, -1.0, 0.3]
    expected = (sum(_sp(-p) for p in pos) / 4 +
                sum(_sp(n) for n in neg) / 4)
    assert _model('jsd').loss(None).item() == pytest.approx(expected)


def test_infonce_matches_hand_computed():
    # Row (i, j): positive s[i, i, j], negative s[i, k != i, j].
    terms = []
    for i in range(2):
        for j in range(2):
            p, n = S[i, i, j].item(), S[i, 1 - i, j].item()
            terms.append(-math.log(math.exp(p) / (math.exp(p) + math.exp(n))))
    expected = sum(terms) / 4
    assert _model('infonce').loss(None).item() == pytest.approx(expected)


def test_dv_matches_hand_computed():
    pos, neg = [1.0, 0.5, 2.0, 1.5], [0.0, -2.0, -1.0, 0.3]
    expected = -sum(pos) / 4 + math.log(sum(math.exp(n) for n in neg) / 4)
    assert _model('dv').loss(None).item() == pytest.approx(expected)


@pytest.mark.parametrize('estimator', ['jsd', 'infonce', 'dv'])
@pytest.mark.parametrize('shape,dim', [((4, 1, 8, 8), 2), ((4, 2, 40), 1)])
def test_scores_and_gradients_on_images_and_sequences(estimator, shape, dim):
    torch.manual_seed(0)
    model = DeepInfoMax(ConvEncoder(in_channels=shape[1], dim=dim),
                        estimator=estimator)
    x = torch.rand(shape)
    s = model.scores(x)
    positions = 8 * 8 if dim == 2 else 40
    assert s.shape == (4, 4, positions)
    loss = model.loss(x)
    loss.backward()
    assert torch.isfinite(loss)
    assert model.encoder.features[0].weight.grad is not None


def test_short_training_lowers_the_loss():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 8, 8)
    model = DeepInfoMax(ConvEncoder())
    result = pretrain(model, x, epochs=8, batch_size=32, progress=False)
    assert result.losses[-1] < result.losses[0]


def test_bad_encoder_and_input():
    with pytest.raises(TypeError, match='SplitEncoder'):
        DeepInfoMax(torch.nn.Linear(4, 4), global_dim=4, local_channels=4)
    with pytest.raises(ValueError, match='estimator'):
        DeepInfoMax(ConvEncoder(), estimator='mine')
    model = DeepInfoMax(ConvEncoder())
    with pytest.raises(ValueError, match='rank 2'):
        model.check_input(torch.rand(4, 64))
    with pytest.raises(ValueError, match='at least 2'):
        model.check_input(torch.rand(1, 1, 8, 8))
    assert 'estimator=jsd' in repr(model)


@pytest.mark.slow
def test_dim_on_digits_beats_random_init_by_10_points_few_labels():
    from graphcl.adapters import load_digits, run_experiment
    metrics, _ = run_experiment('dim', load_digits(), seeds=[0],
                                progress=False)
    probe = metrics['probe']
    assert (probe['trained']['linear_few']['mean'] >=
            probe['random_init']['linear_few']['mean'] + 10)
