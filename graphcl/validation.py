r"""Checks of inputs shared across graphcl (parts, methods, data loaders,
the engine), with messages that say what was wrong and what is expected.
Methods import their checks from here, never from :mod:`graphcl.data`."""
import math
import numbers
from typing import List

import torch
from torch_geometric.data import Data

__all__ = ['check_int', 'check_prob', 'check_positive', 'check_node_data']


def check_int(value, name: str, minimum: int = 1, what: str = '') -> int:
    r"""Returns :obj:`value` if it is an ``int`` (not a ``bool``) of at least
    :obj:`minimum`, else raises a :class:`ValueError` naming :obj:`name`
    (and :obj:`what` it counts, when given)."""
    if isinstance(value, bool) or not isinstance(value, int) or \
            value < minimum:
        need = ('a positive integer' if minimum == 1 else
                f'an integer >= {minimum}')
        what = f' ({what})' if what else ''
        raise ValueError(f"{name} must be {need}{what}, got {value!r}")
    return value


def _is_real(value) -> bool:
    # A finite real number that is not a bool (True is an int in Python).
    return not isinstance(value, bool) and isinstance(value, numbers.Real) \
        and math.isfinite(float(value))


def check_prob(value, name: str, what: str = '') -> float:
    r"""Returns :obj:`value` as a ``float`` if it is a finite real number
    in :math:`[0, 1]` (not a ``bool``), else raises a :class:`ValueError`
    naming :obj:`name` (and :obj:`what` it is, when given), e.g.
    ``check_prob(p, "'edge_drop'")``."""
    if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
        what = f' ({what})' if what else ''
        raise ValueError(f"{name}{what} must be a probability in [0, 1], "
                         f"got {value!r}")
    return float(value)


def check_positive(value, name: str, what: str = '') -> float:
    r"""Returns :obj:`value` as a ``float`` if it is a finite real number
    :math:`> 0` (not a ``bool``), else raises a :class:`ValueError` naming
    :obj:`name` (and :obj:`what` it is, when given), e.g.
    ``check_positive(tau, "'tau'", 'the temperature')``."""
    if not _is_real(value) or not float(value) > 0:
        what = f' ({what})' if what else ''
        raise ValueError(f"{name}{what} must be a number > 0, got "
                         f"{value!r}")
    return float(value)


_SPLIT_FIX = ('add them with data = graphcl.data.random_node_split(data, '
              'train=0.1, val=0.1, seed=0)')


def _check_x(data: Data, problems: List[str]) -> None:
    x = data.x
    if x is None:
        problems.append(
            "data.x is missing: node features of shape [num_nodes, "
            "num_features] are needed. If the graph has none, use e.g. "
            "data.x = torch.ones(data.num_nodes, 1) or degree features "
            "(torch_geometric.transforms.OneHotDegree(max_degree))")
        return
    if not torch.is_tensor(x) or x.dim() != 2:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        problems.append(f"data.x must be a 2-D tensor [num_nodes, "
                        f"num_features], got {shape}; for one feature per "
                        f"node use data.x = data.x.view(-1, 1)")
        return
    if not x.is_floating_point():
        problems.append(f"data.x must be floating point, got {x.dtype}; "
                        f"convert it with data.x = data.x.float()")
        return
    if x.layout != torch.strided:  # sparse features: check stored values
        values = x.coalesce().values() if x.is_sparse else x.values()
        if not bool(torch.isfinite(values).all()):
            problems.append("data.x (sparse) stores NaN or infinite values; "
                            "impute or drop them")
        bad = None
    else:  # in row chunks: no N x F masks beside the features
        bad = ~torch.isfinite(x) if not _all_finite(x) else None
    if bad is not None and bool(bad.any()):
        rows = bad.any(dim=1).nonzero().view(-1)
        problems.append(
            f"data.x holds {int(torch.isnan(x).sum())} NaN and "
            f"{int(torch.isinf(x).sum())} infinite values (in "
            f"{rows.numel()} nodes, e.g. node {int(rows[0])}); impute or "
            f"drop them, e.g. data.x = torch.nan_to_num(data.x, nan=0.0, "
            f"posinf=0.0, neginf=0.0)")
    if 'num_nodes' in data and data.num_nodes != x.size(0):
        problems.append(
            f"data.x has {x.size(0)} rows but data.num_nodes was set to "
            f"{data.num_nodes}: there must be one feature row per node; fix "
            f"data.x or set data.num_nodes = data.x.size(0)")
    elif x.size(0) == 0:
        problems.append(
            f"the graph has no nodes (data.x has shape {tuple(x.shape)}): "
            f"there is nothing to embed, and losses over no nodes are NaN; "
            f"give a graph with at least one node")


def _check_edge_index(data: Data, problems: List[str]) -> None:
    edge_index = data.edge_index
    if edge_index is None:
        problems.append(
            "data.edge_index is missing: give the edges as a [2, num_edges] "
            "long tensor (data.edge_index = torch.empty(2, 0, "
            "dtype=torch.long) for a graph without edges)")
        return
    if not torch.is_tensor(edge_index):
        problems.append(f"data.edge_index must be a tensor, got "
                        f"{type(edge_index).__name__}")
        return
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        fix = ('transpose it with data.edge_index = '
               'data.edge_index.t().contiguous()' if edge_index.dim() == 2
               and edge_index.size(-1) == 2 else 'one column per edge')
        problems.append(f"data.edge_index must have shape [2, num_edges], "
                        f"got {tuple(edge_index.shape)}; {fix}")
        return
    if edge_index.dtype != torch.long:
        problems.append(f"data.edge_index must be int64 (torch.long), got "
                        f"{edge_index.dtype}; convert it with "
                        f"data.edge_index = data.edge_index.long()")
        return
    num_nodes = data.num_nodes
    if edge_index.numel() > 0 and num_nodes is not None:
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0 or high >= num_nodes:
            problems.append(
                f"data.edge_index refers to nodes in [{low}, {high}] but "
                f"node indices must lie in [0, {num_nodes}) for "
                f"{num_nodes} nodes; relabel the nodes to 0..N-1 (e.g. "
                f"with torch.unique(..., return_inverse=True)) or fix "
                f"data.x / data.num_nodes")


def _check_edge_weight(data: Data, problems: List[str]) -> None:
    weight = data.get('edge_weight')
    if weight is None:
        return
    edge_index = data.edge_index
    num_edges = (edge_index.size(1) if torch.is_tensor(edge_index)
                 and edge_index.dim() == 2 else None)
    if not torch.is_tensor(weight) or weight.dim() != 1 or (
            num_edges is not None and weight.numel() != num_edges):
        shape = (f'shape {tuple(weight.shape)}' if torch.is_tensor(weight)
                 else type(weight).__name__)
        problems.append(f"data.edge_weight must hold one weight per edge, "
                        f"shape [num_edges={num_edges}], got {shape}; "
                        f"several values per edge belong in data.edge_attr")
        return
    if not weight.is_floating_point():
        problems.append(f"data.edge_weight must be floating point, got "
                        f"{weight.dtype}; convert it with data.edge_weight "
                        f"= data.edge_weight.float()")
        return
    bad = (~torch.isfinite(weight)).nonzero().view(-1)
    if bad.numel():
        problems.append(
            f"data.edge_weight holds {int(torch.isnan(weight).sum())} NaN "
            f"and {int(torch.isinf(weight).sum())} infinite values (e.g. "
            f"edge {int(bad[0])}); impute or drop them, or drop "
            f"data.edge_weight")
    negative = (weight < 0).nonzero().view(-1)
    if negative.numel():
        problems.append(
            f"data.edge_weight holds {negative.numel()} negative weights "
            f"(e.g. edge {int(negative[0])}: {float(weight[negative[0]])}),"
            f" but GCN normalisation divides by the square root of each "
            f"node's weighted degree: give weights >= 0, or drop "
            f"data.edge_weight")


def _check_y(data: Data, require_labels: bool, problems: List[str]) -> None:
    y = data.y
    if y is None:
        if require_labels:
            problems.append(
                "data.y is missing but the linear probe needs node labels: "
                "add data.y (shape [num_nodes], dtype long), or run without "
                "the probe")
        return
    num_nodes = data.num_nodes
    if not torch.is_tensor(y) or y.dim() == 0 or y.size(0) != num_nodes:
        size = (f'shape {tuple(y.shape)}' if torch.is_tensor(y) else
                type(y).__name__)
        problems.append(f"data.y must hold one label per node "
                        f"({num_nodes}), got {size}")
    elif require_labels and (y.dim() != 1 or y.is_floating_point()):
        problems.append(f"data.y must be class indices of shape [num_nodes] "
                        f"and dtype long for the probe, got shape "
                        f"{tuple(y.shape)} and {y.dtype}; use data.y = "
                        f"data.y.view(-1).long()")


def _check_splits(data: Data, require_splits: bool,
                  problems: List[str]) -> None:
    keys = ('train_mask', 'val_mask', 'test_mask')
    missing = [k for k in keys if data.get(k) is None]
    if missing and require_splits:
        problems.append(f"split masks {', '.join(missing)} are missing; "
                        f"{_SPLIT_FIX}")
    for key in keys:
        mask = data.get(key)
        if mask is None:
            continue
        if (not torch.is_tensor(mask) or mask.dtype != torch.bool
                or mask.dim() == 0 or mask.size(0) != data.num_nodes):
            desc = (f'{mask.dtype} of shape {tuple(mask.shape)}'
                    if torch.is_tensor(mask) else type(mask).__name__)
            problems.append(f"data.{key} must be a bool tensor of shape "
                            f"[num_nodes={data.num_nodes}], got {desc}; "
                            f"{_SPLIT_FIX}")
        elif require_splits and key == 'train_mask' and not bool(mask.any()):
            problems.append(f"data.train_mask selects no node; "
                            f"{_SPLIT_FIX}")


#: Feature entries per chunk of the finiteness check of dense features
#: (:func:`_all_finite`): its masks stay within 7 bytes per entry of one
#: chunk (28 MiB), whatever the size of the features.
FINITE_CHECK_CHUNK = 2 ** 22


def _all_finite(x: torch.Tensor) -> bool:
    # torch.isfinite of a whole N x F matrix allocates about 7 bytes per
    # entry (|x| and three bool masks): 1.9 GiB on Coauthor-Physics. Row
    # chunks give the same answer within one chunk's masks.
    rows = max(1, FINITE_CHECK_CHUNK // max(x.size(-1), 1))
    return all(bool(torch.isfinite(x[i:i + rows]).all())
               for i in range(0, x.size(0), rows))


def check_node_data(
    data: Data,
    require_labels: bool = False,
    require_splits: bool = False,
) -> None:
    r"""Checks that :obj:`data` is a valid node-level graph for graphcl,
    and raises a :class:`ValueError` listing every problem found and how to
    fix it.

    Checked: node features ``x`` (present, 2-D, floating point, finite, at
    least one row, one row per node when ``num_nodes`` is set separately),
    ``edge_index`` (int64, shape ``[2, num_edges]``, indices in
    ``[0, num_nodes)``), ``edge_weight`` when present (floating point, one
    finite weight :math:`\geq 0` per edge), labels ``y`` (one per node; 1-D
    long if :obj:`require_labels`) and the split masks
    ``train_mask``/``val_mask``/``test_mask`` (bool, one per node).

    Args:
        data (torch_geometric.data.Data): The graph.
        require_labels (bool, optional): If :obj:`True`, ``data.y`` must be
            present (as needed by the linear probe). (default: :obj:`False`)
        require_splits (bool, optional): If :obj:`True`, the three split
            masks must be present. (default: :obj:`False`)

    Raises:
        TypeError: If :obj:`data` is not a :class:`~torch_geometric.data.Data`.
        ValueError: If the graph is invalid.
    """
    if not isinstance(data, Data):
        raise TypeError(f"Expected a torch_geometric.data.Data, got "
                        f"{type(data).__name__}")
    problems: List[str] = []
    _check_x(data, problems)
    _check_edge_index(data, problems)
    _check_edge_weight(data, problems)
    _check_y(data, require_labels, problems)
    _check_splits(data, require_splits, problems)
    if problems:
        name = getattr(data, 'name', None)
        what = f"'{name}'" if isinstance(name, str) else 'the graph'
        raise ValueError(f"Invalid node data for {what}:\n- " +
                         '\n- '.join(problems))
