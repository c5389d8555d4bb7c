r"""Node splits: random train/val/test masks and index-to-mask helpers."""
import copy
from typing import Dict, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import index_to_mask

__all__ = ['random_node_split', 'masks_from_index']


def random_node_split(
    data: Data,
    train: float = 0.1,
    val: float = 0.1,
    seed: int = 0,
) -> Data:
    r"""Returns a shallow copy of :obj:`data` with a random node split drawn
    from :obj:`seed`, as in GRACE/BGRL (10%/10%/80% by default): boolean
    ``train_mask``, ``val_mask`` and ``test_mask`` of shape ``[num_nodes]``,
    and ``data.split`` set to, *e.g.*, ``'random 10/10/80 (seed=0)'``.

    The same seed always gives the same split (the permutation is drawn from
    a private :class:`torch.Generator`, so the global RNG is untouched);
    different seeds give different splits. Every node not in the training or
    validation set is a test node.

    Args:
        data (torch_geometric.data.Data): The graph; only ``num_nodes`` is
            used.
        train (float, optional): Fraction of training nodes, in ``(0, 1)``.
            (default: :obj:`0.1`)
        val (float, optional): Fraction of validation nodes, in ``[0, 1)``.
            (default: :obj:`0.1`)
        seed (int, optional): The random seed. (default: :obj:`0`)
    """
    if not 0 < train < 1 or not 0 <= val < 1 or train + val >= 1:
        raise ValueError(f"Split fractions must satisfy 0 < train < 1, "
                         f"0 <= val < 1 and train + val < 1 so that test "
                         f"nodes remain (got train={train}, val={val})")
    num_nodes = data.num_nodes
    if num_nodes is None or num_nodes < 3:
        raise ValueError(f"Cannot split a graph with {num_nodes} nodes: at "
                         f"least 3 are needed (one per split)")
    num_train = max(1, round(train * num_nodes))
    num_val = round(val * num_nodes)
    if num_train + num_val >= num_nodes:
        raise ValueError(f"train={train} and val={val} leave no test nodes "
                         f"out of {num_nodes}; lower them")

    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(num_nodes, generator=gen)
    out = copy.copy(data)
    index = {
        'train': perm[:num_train],
        'valid': perm[num_train:num_train + num_val],
        'test': perm[num_train + num_val:],
    }
    out = masks_from_index(out, index)
    test = 100 - round(100 * train) - round(100 * val)
    out.split = (f'random {100 * train:g}/{100 * val:g}/{test:g} '
                 f'(seed={seed})')
    return out


def masks_from_index(
    data: Data,
    split_idx: Dict[str, Tensor],
    num_nodes: Optional[int] = None,
) -> Data:
    r"""Sets boolean ``train_mask``, ``val_mask`` and ``test_mask`` on
    :obj:`data` (in place) from an OGB-style index dictionary with keys
    :obj:`"train"`, :obj:`"valid"` and :obj:`"test"`, and returns it.

    Args:
        data (torch_geometric.data.Data): The graph.
        split_idx (Dict[str, torch.Tensor]): Node indices per split.
        num_nodes (int, optional): The mask length. (default:
            :obj:`data.num_nodes`)
    """
    num_nodes = data.num_nodes if num_nodes is None else num_nodes
    for key, attr in (('train', 'train_mask'), ('valid', 'val_mask'),
                      ('test', 'test_mask')):
        index = torch.as_tensor(split_idx[key], dtype=torch.long).view(-1)
        data[attr] = index_to_mask(index, size=num_nodes)
    return data
