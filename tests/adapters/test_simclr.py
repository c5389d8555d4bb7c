import copy
import math

import pytest
import torch

from graphcl.adapters import (ConvEncoder, SimCLR, default_augmentation,
                              load_digits, pretrain)
from graphcl.adapters.experiment import _frozen
from graphcl.adapters.probe import embed, few_label_indices, linear_probe
from graphcl.nn import ProjectionHead


def _identity_simclr(temperature=0.5):
    # Identity encoder and head: the loss is NT-Xent on the raw views.
    model = SimCLR(torch.nn.Identity(), lambda x, g: x, embedding_dim=2,
                   temperature=temperature)
    model.head = torch.nn.Identity()
    return model


def test_loss_matches_hand_computed_nt_xent():
    # Views z1 = [a, b], z2 = [a, b] with a = e1, b = e2; tau = 0.5.
    # Each view: positive cos = 1, negatives cos(a, b) = 0 twice, so
    # l = -log(e^2 / (e^2 + 2 e^0)).
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    expected = -math.log(math.exp(2) / (math.exp(2) + 2))
    loss = _identity_simclr(0.5).loss(x)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_batch_of_one_is_rejected():
    model = _identity_simclr()
    with pytest.raises(ValueError, match='at least 2'):
        model.check_input(torch.rand(1, 2, 4))
    with pytest.raises(ValueError, match='at least 2|batch of 1'):
        model.loss(torch.rand(1, 2))


def test_wrong_rank_is_rejected_before_training():
    model = SimCLR(ConvEncoder(), default_augmentation(torch.rand(2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r'unsqueeze\(1\)'):
        pretrain(model, torch.rand(16, 8, 8), epochs=1, progress=False)


def test_unknown_encoder_size_needs_embedding_dim():
    with pytest.raises(ValueError, match='embedding_dim'):
        SimCLR(torch.nn.Flatten(), lambda x, g: x)


def test_short_run_on_digits_beats_random_init_few_labels():
    data = load_digits()
    torch.manual_seed(0)
    model = SimCLR(ConvEncoder(), default_augmentation(data.x_train))
    random_encoder = _frozen(copy.deepcopy(model.encoder))
    pretrain(model, data.x_train, epochs=12, batch_size=256, lr=2e-3,
             progress=False)
    few = few_label_indices(data.y_train.numpy(), data.few_per_class, 0)

    def linear_few(fn):
        return linear_probe(embed(fn, data.x_train)[few],
                            data.y_train.numpy()[few],
                            embed(fn, data.x_test), data.y_test.numpy())

    assert linear_few(model.embed) > linear_few(random_encoder) + 3


def test_head_is_the_shared_projection_head():
    model = SimCLR(ConvEncoder(), lambda x, g: x, hidden_channels=32,
                   projection_dim=16)
    head = model.head
    assert type(head) is ProjectionHead
    assert isinstance(head.norm, torch.nn.BatchNorm1d)
    assert isinstance(head.act, torch.nn.ReLU)
    assert (head.lin1.in_features, head.lin1.out_features,
            head.lin2.out_features) == (ConvEncoder().out_channels, 32, 16)


@pytest.mark.slow
def test_simclr_on_digits_reaches_target():
    from graphcl.adapters import run_experiment
    metrics, _ = run_experiment('simclr', load_digits(), seeds=[0],
                                progress=False)
    assert metrics['probe']['trained']['linear_few']['mean'] >= 91
