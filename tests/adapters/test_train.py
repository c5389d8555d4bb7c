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
