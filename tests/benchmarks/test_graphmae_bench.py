r"""benchmarks/graphmae.py: the official code's probe, reported beside
graphcl's on the same kept embeddings."""
from types import SimpleNamespace

import pytest
import torch

from tests.benchmarks.conftest import benchmark_module

@pytest.fixture(scope='module')
def gb():
    with benchmark_module('graphmae') as module:
        yield module


def split(n, gen):
    perm = torch.randperm(n, generator=gen)
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    for mask, idx in zip(masks, (perm[:60], perm[60:120], perm[120:])):
        mask[idx] = True
    return masks


def test_reference_probe_separable_and_noise(gb):
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(300) % 3
    train, val, test = split(300, gen)
    # Embeddings that are the one-hot class plus small noise: separable.
    z = torch.nn.functional.one_hot(y, 3).float() * 4 + \
        0.1 * torch.randn(300, 3, generator=gen)
    data = SimpleNamespace(y=y, train_mask=train, val_mask=val,
                           test_mask=test)
    r = gb.reference_probe(z, data, lr=0.01, weight_decay=1e-4, epochs=300,
                           seed=0)
    assert r['early_stopped_test'] == 100.0 and r['best_val'] == 100.0
    assert r['final_test'] == 100.0
    # Pure noise: about chance (3 classes), and seeded.
    z = torch.randn(300, 16, generator=gen)
    a = gb.reference_probe(z, data, 0.01, 1e-4, 100, seed=1)
    assert a == gb.reference_probe(z, data, 0.01, 1e-4, 100, seed=1)
    assert a['early_stopped_test'] < 60
