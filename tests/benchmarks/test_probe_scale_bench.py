r"""benchmarks/probe_scale.py: every probe variant on kept embeddings, and
the table naming the best validation variant."""
import pytest
import torch

from tests.benchmarks.conftest import benchmark_module


@pytest.fixture(scope='module')
def ps():
    with benchmark_module('probe_scale') as module:
        yield module


def test_tiny_embeddings_defeat_the_raw_grid(ps, shared_root, tmp_path,
                                             monkeypatch):
    # Cora's labels one-hot in the first 7 of 32 dimensions plus noise,
    # scaled down to an rms near 1e-3: raw, every weight decay above 0 is
    # too strong; rescaled by the rms, the same grid works.
    monkeypatch.setenv('GRAPHCL_DATA', str(shared_root))
    monkeypatch.setitem(ps.ADAM, 'epochs', 50)
    from graphcl.data import load_dataset
    y = load_dataset('Cora', root=str(shared_root)).y
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(y.numel(), 32, generator=gen)
    z[:, :7] += 1.5 * torch.nn.functional.one_hot(y, 7)
    path = tmp_path / 'seed0.pt'
    torch.save(z * 1e-3, path)
    threads = torch.get_num_threads()
    try:
        run = ps.score_seed('m', 'Cora', 0, path)
    finally:
        torch.set_num_threads(threads)
    assert run['rms'] == pytest.approx(1.2e-3, rel=0.3)
    for key, _ in ps.VARIANTS:
        assert 0 <= run[key]['val'] <= 100 and 0 <= run[key]['test'] <= 100
    assert run['raw']['weight_decay'] == 0.0
    # the protocol now: the same as the earlier grid met at unit scale
    assert run['protocol']['weight_decay'] > 0.0
    assert run['protocol']['val'] >= run['raw']['val']
    text = ps.table(dict(machine='m', code='c', cells={'m/Cora': [run]}))
    assert 'm | Cora | 0 |' in text and '(best validation)' in text
