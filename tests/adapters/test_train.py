import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from graphcl.adapters import ConvEncoder, DeepInfoMax, pretrain


def _model():
    torch.manual_seed(0)
    return DeepInfoMax(ConvEncoder(channels=(8, 8, 8), out_channels=8),
                       critic_channels=8)


def test_accepts_dataset_and_loader_and_skips_batches_of_one():
    x = torch.rand(9, 1, 8, 8)
    ds = TensorDataset(x, torch.zeros(9))
    res = pretrain(_model(), DataLoader(ds, batch_size=4), epochs=2,
                   progress=False)
    assert len(res.losses) == 2 and res.skipped_batches == 2
    res = pretrain(_model(), ds, epochs=1, batch_size=3, progress=False)
    assert res.skipped_batches == 0 and res.seconds > 0


def test_reproducible_from_seed():
    x = torch.rand(16, 1, 8, 8)
    a = pretrain(_model(), x, epochs=2, batch_size=8, seed=1, progress=False)
    b = pretrain(_model(), x, epochs=2, batch_size=8, seed=1, progress=False)
    assert a.losses == b.losses


def test_batch_size_one_loader_fails_before_training():
    loader = DataLoader(TensorDataset(torch.rand(4, 1, 8, 8)), batch_size=1)
    with pytest.raises(ValueError, match='at least 2'):
        pretrain(_model(), loader, epochs=1, progress=False)
    with pytest.raises(ValueError, match='empty'):
        pretrain(_model(), DataLoader(TensorDataset(torch.rand(0, 1, 8, 8)),
                                      batch_size=2), progress=False)


def test_trains_with_the_engine_loop(monkeypatch):
    # One loop: the adapters hand their batches to graphcl.train.pretrain,
    # with the method's clipping, its smallest batch and batch-size
    # weighted epoch losses.
    import graphcl.adapters.train as adapters_train
    from graphcl.train import PretrainResult
    from graphcl.train import pretrain as engine
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return engine(*args, **kwargs)

    monkeypatch.setattr(adapters_train, 'train_loop', spy)
    model = _model()
    model.default_grad_clip = 0.5
    res = pretrain(model, torch.rand(9, 1, 8, 8), epochs=2, batch_size=4,
                   progress=False)
    assert isinstance(res, PretrainResult) and res.epochs == 2
    kw = calls[0]
    assert kw['grad_clip'] == 0.5 and kw['min_batch_size'] == 2
    assert kw['patience'] == 0 and kw['restore_best'] is False
    assert kw['batch_size'](torch.rand(3, 1, 8, 8)) == 3
    assert res.skipped_batches == 2  # the batch of one, every epoch


def test_epoch_loss_is_the_mean_over_examples():
    class Counting(DeepInfoMax):
        def loss(self, x, generator=None):
            self.seen.append(x.size(0))
            return super().loss(x, generator) * 0 + x.size(0)

    torch.manual_seed(0)
    model = Counting(ConvEncoder(channels=(8, 8, 8), out_channels=8),
                     critic_channels=8)
    model.seen = []
    res = pretrain(model, torch.rand(10, 1, 8, 8), epochs=1, batch_size=4,
                   progress=False)
    assert sorted(model.seen) == [2, 4, 4]
    assert res.losses == [pytest.approx((4 * 4 + 4 * 4 + 2 * 2) / 10)]


def test_early_stopping_is_available():
    x = torch.rand(16, 1, 8, 8)
    res = pretrain(_model(), x, epochs=30, batch_size=8, lr=0.0, patience=2,
                   restore_best=True, progress=False)
    assert res.epochs < 30 and res.best_epoch >= 1
