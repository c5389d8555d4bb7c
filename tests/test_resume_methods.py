r"""Every registered node-level method survives an interruption: a run
stopped in the middle of training (checkpoint after every epoch) and
resumed with ``resume=True`` ends with the uninterrupted run's encoder,
embeddings and probe scores, bit for bit. The state a method keeps beside
its parameters (random views, moving-average targets, schedules, early
stopping) must all be in the checkpoint for this to hold."""
import pytest
import torch

from graphcl.experiment import run_experiment
from graphcl.models.registry import BUILTIN_METHODS, build_method, get_method

NODE_METHODS = sorted(m for m in BUILTIN_METHODS
                      if get_method(m).level == 'node')
EPOCHS = 6
# Full batch: one step per epoch, stopped in epoch 4; early stopping's
# counters and the best state travel too. Mini-batch: 40 nodes in batches
# of 16 (three steps per epoch, the last of 8 seeds), stopped in the
# middle of epoch 4, so the loader's shuffling must resume as well.
MODES = {
    'full': (dict(patience=0), 'objective', 1),
    'early-stopping': (dict(patience=2, keep='best'), 'objective', 1),
    'minibatch': (dict(patience=0, batch_size=16, fanout=[3, 3],
                       layers=2), 'minibatch_objective', 3),
}


def method_class(name):
    return type(build_method(name, 6, hidden=8))


def cases():
    for name in NODE_METHODS:
        for mode in MODES:
            if mode == 'minibatch' and not getattr(
                    build_method(name, 6, hidden=8), 'supports_minibatch'):
                continue
            yield pytest.param(name, mode, id=f'{name}-{mode}')


@pytest.mark.parametrize('name,mode', list(cases()))
def test_interrupted_then_resumed_equals_uninterrupted(name, mode,
                                                       small_graph,
                                                       tmp_path, monkeypatch):
    options, step, per_epoch = MODES[mode]
    # epoch 4's first step (full batch), its second one (mini-batch)
    stop_at = 3 * per_epoch + min(per_epoch, 2)

    def go(out, **kw):
        return run_experiment(name, small_graph, epochs=EPOCHS,
                              out=str(out), checkpoint_every=1,
                              progress=False, verbose=False, hidden=8,
                              **options, **kw)

    full = go(tmp_path / 'full')
    calls = []
    cls = method_class(name)
    original = getattr(cls, step)

    def stop_in_epoch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == stop_at:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, step, stop_in_epoch)
    with pytest.raises(KeyboardInterrupt):
        go(tmp_path / 'cut')
    assert len(calls) == stop_at, f'the engine did not call {step}'
    ckpt = torch.load(tmp_path / 'cut' / 'checkpoint.pt', weights_only=True)
    assert ckpt['epoch'] == 3

    calls.clear()
    monkeypatch.setattr(cls, step, lambda self, *a, **k: (
        calls.append(1), original(self, *a, **k))[1])
    resumed = go(tmp_path / 'cut', resume=True)
    if mode != 'early-stopping':  # only the missing steps ran
        assert len(calls) == (EPOCHS - 3) * per_epoch

    for key in ('test_acc', 'val_acc', 'epochs', 'probe_grid'):
        assert resumed[key] == full[key], key
    for file in ('encoder.pt', 'embeddings.pt'):
        a = torch.load(tmp_path / 'full' / file, weights_only=True)
        b = torch.load(tmp_path / 'cut' / file, weights_only=True)
        if torch.is_tensor(a):
            assert torch.equal(a, b), file
        else:
            assert a.keys() == b.keys()
            assert all(torch.equal(a[k], b[k]) for k in a), file
