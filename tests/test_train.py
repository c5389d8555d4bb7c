import math

import pytest
import torch

from graphcl.train import EarlyStopping, PretrainResult, pretrain


class Scripted(torch.nn.Module):
    r"""A model whose loss follows a script and whose single parameter is
    set to the epoch number after each optimiser step, so the restored
    state tells which epoch's state was kept."""
    def __init__(self, losses):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.losses = list(losses)
        self.calls = 0

    def objective(self, *args):
        value = self.losses[min(self.calls, len(self.losses) - 1)]
        self.calls += 1
        return (self.w * 0).sum() + value

    def mark(self):  # on_step: parameter := number of steps taken
        with torch.no_grad():
            self.w.fill_(float(self.calls))


def run(losses, epochs, patience, **kwargs):
    model = Scripted(losses)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    result = pretrain(model, model.objective, opt, epochs=epochs,
                      patience=patience, on_step=model.mark, **kwargs)
    return model, result


def test_early_stopping_after_patience_and_restores_best():
    losses = [5.0, 4.0, 3.0, 3.5, 3.0, 4.0, 1.0, 0.5]
    model, result = run(losses, epochs=8, patience=3)
    # Best at epoch 3; epochs 4, 5 (equal is not better), 6 do not improve.
    assert result.epochs == 6
    assert result.losses == losses[:6]
    assert result.best_loss == 3.0 and result.best_epoch == 3
    # Full batch, as in DGI's reference code: the state kept is the one that
    # produced the best loss, i.e. before epoch 3's update (two steps taken).
    assert model.w.item() == 2.0
    assert not model.training


def test_patience_zero_runs_all_epochs():
    losses = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    model, result = run(losses, epochs=6, patience=0)
    assert result.epochs == 6 and result.losses == losses
    assert result.best_epoch == 1 and model.w.item() == 0.0


def test_restore_best_false_keeps_last_state():
    model, result = run([1.0, 2.0, 3.0], epochs=3, patience=0,
                        restore_best=False)
    assert model.w.item() == 3.0 and result.best_epoch == 1


def test_min_delta():
    model = Scripted([])
    stopper = EarlyStopping(model, patience=2, min_delta=0.1)
    assert not stopper.step(1.0, 1)
    assert not stopper.step(0.95, 2)  # not better by more than 0.1
    assert stopper.step(0.92, 3)
    assert stopper.best == 1.0 and stopper.best_epoch == 1


def test_nan_loss_raises():
    with pytest.raises(FloatingPointError, match='NaN at epoch 3'):
        run([1.0, 0.5, float('nan'), 0.1], epochs=5, patience=0)


def test_infinite_loss_raises():
    with pytest.raises(FloatingPointError, match='inf at epoch 2'):
        run([1.0, float('inf'), 0.1], epochs=5, patience=0)


def test_minibatch_batches():
    model = Scripted([4.0, 2.0, 1.0, 1.0, 3.0, 3.0])
    seen = []

    def objective(batch):
        seen.append(batch)
        return model.objective()

    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    result = pretrain(model, objective, opt, epochs=3, patience=0,
                      batches=lambda: ['a', 'b'], on_step=model.mark)
    assert seen == ['a', 'b'] * 3
    assert result.losses == [3.0, 1.0, 3.0]  # mean over each epoch's batches
    assert result.best_epoch == 2 and model.w.item() == 4.0  # 4 steps


def test_empty_loader_raises():
    model = Scripted([1.0])
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with pytest.raises(ValueError, match='no batches'):
        pretrain(model, lambda b: model.objective(), opt, epochs=2,
                 batches=lambda: [])


def test_really_minimises():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x = torch.randn(32, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    result = pretrain(model, lambda: ((model(x) - y) ** 2).mean(), opt,
                      epochs=50, patience=0)
    assert isinstance(result, PretrainResult)
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert result.seconds > 0
    assert result.seconds_per_epoch == pytest.approx(result.seconds / 50)
    assert math.isfinite(result.best_loss)


@pytest.mark.parametrize('epochs', [0, -1, 2.5])
def test_bad_epochs(epochs):
    model = Scripted([1.0])
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with pytest.raises(ValueError, match='epochs'):
        pretrain(model, model.objective, opt, epochs=epochs)


def test_bad_patience():
    with pytest.raises(ValueError, match='patience'):
        EarlyStopping(Scripted([]), patience=-1)


def test_batch_size_weights_the_epoch_loss_and_skips_small_batches():
    model = Scripted([4.0, 1.0, 2.0, 3.0])
    seen = []

    def objective(batch):
        seen.append(batch)
        return model.objective()

    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    result = pretrain(model, objective, opt, epochs=2, patience=0,
                      batches=lambda: [[0] * 3, [0], [0] * 2],
                      batch_size=len, min_batch_size=2, on_step=model.mark)
    # The batch of one is never trained on: each epoch sees two batches.
    assert [len(b) for b in seen] == [3, 2] * 2
    assert result.losses == [(3 * 4.0 + 2 * 1.0) / 5, (3 * 2.0 + 2 * 3.0) / 5]
    # Four steps in all (none on the skipped batches).
    assert result.skipped_batches == 2 and model.w.item() == 4.0


def test_every_batch_too_small_raises():
    model = Scripted([1.0])
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with pytest.raises(ValueError, match='smaller than min_batch_size=2'):
        pretrain(model, lambda b: model.objective(), opt, epochs=1,
                 batches=lambda: [[0]], batch_size=len, min_batch_size=2)


def test_gradient_clipping():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1, bias=False)
    before = model.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    # A huge gradient, clipped to norm 0.5: one SGD step moves 0.5.
    pretrain(model, lambda: 1e6 * model.weight.sum(), opt, epochs=1,
             patience=0, grad_clip=0.5, restore_best=False)
    step = (model.weight.detach() - before).norm().item()
    assert step == pytest.approx(0.5, rel=1e-5)


def test_full_batch_unchanged_by_the_minibatch_options():
    # Full batch with clipping off: the same states and losses as before
    # the options existed (the loss is judged before its update).
    a, ra = run([3.0, 2.0, 1.0, 2.0], epochs=4, patience=0)
    assert ra.losses == [3.0, 2.0, 1.0, 2.0] and ra.skipped_batches == 0
    assert ra.best_epoch == 3 and a.w.item() == 2.0


@pytest.mark.parametrize('kwargs, match', [
    (dict(grad_clip=0.0), 'grad_clip'),
    (dict(grad_clip=-1.0), 'grad_clip'),
    (dict(min_batch_size=0), 'min_batch_size'),
    (dict(min_batch_size=2), "needs 'batch_size'"),
    (dict(batch_size=len), "pass 'batches'"),
])
def test_bad_minibatch_options(kwargs, match):
    model = Scripted([1.0])
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with pytest.raises(ValueError, match=match):
        pretrain(model, model.objective, opt, epochs=1, **kwargs)


def test_progress_without_a_terminal_writes_lines(capsys):
    # 120 epochs of falling loss, then 5 without a lower one: early stop.
    losses = [10.0 - 0.01 * i for i in range(120)] + [20.0] * 10
    model = Scripted(losses)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    result = pretrain(model, model.objective, opt, epochs=1000, patience=5,
                      progress='toy')
    assert result.epochs == 125
    err = capsys.readouterr().err
    assert '\r' not in err
    lines = err.strip().splitlines()
    assert [line.split(',')[0] for line in lines[:2]] == [
        'toy: epoch 50', 'toy: epoch 100']  # no fixed total: may stop early
    assert 'patience 0/5' in lines[0]
    assert lines[-1].startswith('toy: ended at epoch 125 (early stop: no '
                                'lower loss for 5 epochs)')
    assert 'best 8.81 at epoch 120' in lines[-1]
    assert len(lines) == 3


def test_progress_on_a_terminal_counts_epochs_with_patience():
    import io

    from graphcl.train import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stopper = EarlyStopping(Scripted([1.0]), patience=20)
    stream = Terminal()
    bar = Progress('toy', epochs=1000, patience=20, stream=stream)
    assert bar.bar is not None and bar.bar.total is None  # may stop early
    stopper.step(1.0, 1)
    stopper.step(2.0, 2)
    bar.update(1, 1.0, stopper)
    bar.update(2, 2.0, stopper)
    bar.bar.refresh()
    assert 'patience=1/20' in stream.getvalue()
    bar.close()
    fixed = Progress('toy', epochs=30, patience=0, stream=Terminal())
    assert fixed.bar.total == 30  # runs to the end: a total is shown
    fixed.close()
