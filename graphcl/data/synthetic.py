r"""Large synthetic node-classification graphs for scale tests and benchmarks.

:func:`synthetic_sbm` draws a stochastic-block-model style graph with any
number of nodes (1M, 10M, ...) in a vectorised, chunked and memory-lean way:
the only full-size allocations are the outputs themselves.

.. code-block:: python

    from graphcl.data.synthetic import synthetic_sbm

    data = synthetic_sbm(1_000_000, avg_degree=10, num_features=128, seed=0)
    data = synthetic_sbm(100_000, num_features=500, sparse_features=True,
                         density=0.01)  # sparse bag-of-words features
"""
import warnings

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..validation import check_int, check_prob

__all__ = ['synthetic_sbm']


def _sparse_bag_of_words(y: Tensor, num_blocks: int, num_features: int,
                         density: float, p_topic: float, chunk: int,
                         gen: torch.Generator) -> Tensor:
    # Every node draws round(density * F) words (with replacement): with
    # probability `p_topic` from its block's topic (a contiguous range of
    # the vocabulary), otherwise from the whole vocabulary. Repeated words
    # are merged and their counts become the values (bag of words).
    n = y.numel()
    words = max(1, round(density * num_features))
    topic = max(1, num_features // num_blocks)
    crow_counts = torch.zeros(n, dtype=torch.long)
    cols, vals = [], []
    for start in range(0, n, chunk):
        end = min(start + chunk, n)
        m = end - start
        yb = y[start:end].unsqueeze(1)
        in_topic = torch.rand(m, words, generator=gen) < p_topic
        anywhere = torch.randint(num_features, (m, words), generator=gen)
        offset = (yb * topic) % num_features
        topical = (offset + torch.randint(topic, (m, words), generator=gen)
                   ) % num_features
        col = torch.where(in_topic, topical, anywhere)
        key = (torch.arange(m).unsqueeze(1) * num_features + col).view(-1)
        key, count = torch.unique(key, sorted=True, return_counts=True)
        row = key // num_features
        crow_counts[start:end] = torch.bincount(row, minlength=m)
        cols.append(key - row * num_features)
        vals.append(count.float())
    crow = torch.zeros(n + 1, dtype=torch.long)
    torch.cumsum(crow_counts, 0, out=crow[1:])
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        return torch.sparse_csr_tensor(crow, torch.cat(cols), torch.cat(vals),
                                       size=(n, num_features),
                                       check_invariants=False)


def synthetic_sbm(num_nodes: int, avg_degree: float = 10.0,
                  num_features: int = 128, num_classes: int = 10,
                  p_in: float = 0.8, signal: float = 1.0,
                  sparse_features: bool = False, density: float = 0.01,
                  undirected: bool = False, train: float = 0.1,
                  val: float = 0.1, seed: int = 0,
                  chunk_size: int = 1 << 20) -> Data:
    r"""A stochastic-block-model style graph with block labels and
    block-dependent features.

    Every node :math:`i` belongs to a block :math:`y_i` drawn uniformly from
    :obj:`num_classes` blocks and receives :math:`d_i \sim
    \mathrm{Poisson}(\bar d)` (at least one) incoming edges
    :math:`j \to i`; each source :math:`j` is drawn from :math:`i`'s block
    with probability :math:`p_\mathrm{in}` and from all nodes otherwise.
    Dense features are :math:`\mathbf{x}_i = \max(0, s\,
    \boldsymbol{\mu}_{y_i} + \boldsymbol{\varepsilon}_i)` with block
    centroids :math:`\boldsymbol{\mu}_b` and noise
    :math:`\boldsymbol{\varepsilon}_i`, both from
    :math:`\mathcal{N}(\mathbf{0}, \mathbf{I})`; they are non-negative
    like bag-of-words features, so DGI's row normalisation applies.

    The edges come out **sorted by destination** (CSC order), so
    :func:`graphcl.sampling.to_csc` uses :obj:`edge_index[0]` as its row
    array without copying it. Everything is generated in chunks of
    :obj:`chunk_size` nodes: peak memory is the output plus one chunk (a
    graph with 10M nodes, 10 neighbours per node and 128 features holds
    5.1 GB of features and 1.6 GB of edges).

    Args:
        num_nodes (int): Number of nodes :math:`N`.
        avg_degree (float, optional): Mean in-degree :math:`\bar d`.
            (default: ``10.0``)
        num_features (int, optional): Feature width :math:`F`.
            (default: ``128``)
        num_classes (int, optional): Number of blocks (= classes).
            (default: ``10``)
        p_in (float, optional): Probability that an edge stays inside its
            destination's block. (default: ``0.8``)
        signal (float, optional): Scale :math:`s` of the block centroid in
            the dense features. (default: ``1.0``)
        sparse_features (bool, optional): Sparse bag-of-words features
            instead of dense Gaussian ones: :obj:`x` is a
            ``torch.sparse_csr`` tensor ``[N, F]`` holding word counts; each
            node draws ``round(density * F)`` words, a fraction
            :obj:`p_in` of them from its block's topic (a contiguous slice
            of the vocabulary). Call ``x.to_dense()`` (small graphs) or
            index rows for models that need dense input. (default:
            :obj:`False`)
        density (float, optional): Fraction of non-zero features per node
            with :obj:`sparse_features`. (default: ``0.01``)
        undirected (bool, optional): Add the reverse of every edge (about
            :obj:`avg_degree` neighbours per node in total, since each node
            then draws :obj:`avg_degree / 2` edges) and coalesce. Needs a
            sort of all edges: several times the edge memory at once.
            (default: :obj:`False`)
        train, val (float, optional): Fractions of nodes in the random
            training and validation masks; the rest is the test mask.
            (default: ``0.1``, ``0.1``)
        seed (int, optional): Seed of the private random generator; the same
            arguments give the same graph. (default: ``0``)
        chunk_size (int, optional): Nodes generated at once.

    Returns:
        :class:`~torch_geometric.data.Data` with ``x`` ``[N, F]``,
        ``edge_index`` ``[2, E]`` (:math:`E \approx N \bar d`, sorted by
        destination), ``y`` ``[N]``, ``train_mask``/``val_mask``/
        ``test_mask`` ``[N]`` and ``name``/``split`` strings.
    """
    check_int(num_nodes, "'num_nodes'", 2)
    check_int(num_features, "'num_features'")
    check_int(num_classes, "'num_classes'")
    check_int(chunk_size, "'chunk_size'")
    if not isinstance(avg_degree, (int, float)) or avg_degree <= 0:
        raise ValueError(f"'avg_degree' must be > 0, got {avg_degree!r}")
    check_prob(p_in, "'p_in'")
    check_prob(train, "'train'")
    check_prob(val, "'val'")
    if train + val > 1:
        raise ValueError(f"'train' + 'val' must be <= 1, got {train + val}")
    if sparse_features and not 0.0 < density <= 1.0:
        raise ValueError(f"'density' must be in (0, 1], got {density!r}")
    gen = torch.Generator().manual_seed(seed)
    n = num_nodes

    y = torch.randint(num_classes, (n, ), generator=gen)
    # Nodes grouped by block, to draw a random member of a given block:
    by_block = torch.argsort(y)
    block_size = torch.bincount(y, minlength=num_classes)
    block_start = torch.cumsum(block_size, 0) - block_size

    # Incoming edges j -> i, generated in destination order:
    mean = avg_degree / 2 if undirected else avg_degree
    deg = torch.poisson(torch.full((n, ), float(mean)), generator=gen)
    deg = deg.clamp_(min=1).long()
    num_edges = int(deg.sum())
    edge_index = torch.empty(2, num_edges, dtype=torch.long)
    ptr = 0
    for start in range(0, n, chunk_size):
        end = min(start + chunk_size, n)
        d = deg[start:end]
        e = int(d.sum())
        dst = torch.repeat_interleave(torch.arange(start, end), d)
        b = y[dst]
        inside = torch.rand(e, generator=gen) < p_in
        r = torch.rand(e, generator=gen)
        local = (r * block_size[b]).long().clamp_(max=block_size[b] - 1)
        same = by_block[block_start[b] + local]
        other = torch.randint(n, (e, ), generator=gen)
        src = torch.where(inside, same, other)
        # No self-loops: send them to the next node instead.
        loop = src == dst
        src[loop] = (src[loop] + 1) % n
        edge_index[0, ptr:ptr + e] = src
        edge_index[1, ptr:ptr + e] = dst
        ptr += e
        del dst, b, inside, r, local, same, other, src, loop
    del by_block, deg
    if undirected:
        from torch_geometric.utils import to_undirected
        edge_index = to_undirected(edge_index, num_nodes=n)
        edge_index = edge_index[:, torch.argsort(edge_index[1], stable=True)]

    if sparse_features:
        x = _sparse_bag_of_words(y, num_classes, num_features, density, p_in,
                                 chunk_size, gen)
    else:
        centroids = torch.randn(num_classes, num_features, generator=gen)
        x = torch.empty(n, num_features)
        for start in range(0, n, chunk_size):
            end = min(start + chunk_size, n)
            torch.randn(end - start, num_features, generator=gen,
                        out=x[start:end])
            x[start:end].add_(centroids[y[start:end]], alpha=signal)
            x[start:end].clamp_(min=0)

    r = torch.rand(n, generator=gen)
    data = Data(x=x, edge_index=edge_index, y=y, train_mask=r < train,
                val_mask=(r >= train) & (r < train + val),
                test_mask=r >= train + val, num_nodes=n)
    data.name = f'SyntheticSBM-{_short(n)}'
    data.split = f'random {train:g}/{val:g}/{1 - train - val:g}'
    return data


def _short(n: int) -> str:
    for unit, size in (('M', 10**6), ('k', 10**3)):
        if n >= size and n % (size // 10) == 0:
            value = n / size
            return f'{value:g}{unit}'
    return str(n)
