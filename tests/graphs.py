r"""Graphs shared by several test files: small random graphs for the fast
paths (DGI, GGD, the two-view GCN path of GRACE and BGRL) and a held-out
split of MUTAG."""
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected


def sparse_feature_graph(n: int, f: int, density: float,
                         undirected: bool = True, weighted: bool = False,
                         seed: int = 0) -> Data:
    r"""``n`` nodes with mostly-zero features (``density`` of ``f``
    non-zero, random values), about ``4 n`` random edges without
    self-loops, optionally undirected and weighted in ``[0.5, 1.5)``."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, f, generator=g) < density).float()
    x = x * torch.rand(n, f, generator=g)
    ei = torch.randint(0, n, (2, 4 * n), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    if undirected:
        ei = to_undirected(ei, num_nodes=n)
    data = Data(x=x, edge_index=ei)
    if weighted:
        data.edge_weight = torch.rand(ei.size(1), generator=g) + 0.5
    return data


def two_view_graph(features: str = 'dense', weighted: bool = False,
                   seed: int = 0) -> Data:
    r"""50 nodes (:func:`tests.conftest.make_graph`'s ring with chords)
    with centred features, 6 dense or 200 about 6 % non-zero (multiplied
    as CSR), plus a duplicate edge and a self-loop (summed and kept as PyG
    does); optionally weighted in ``[0.5, 1.5)``. Centred features keep
    GRACE's untrained loss away from its value for identical rows,
    :math:`\log(2N - 1)`, and its gradients away from zero."""
    from tests.conftest import make_graph
    gen = torch.Generator().manual_seed(seed)
    data = make_graph(50, 6 if features == 'dense' else 200, seed=seed)
    data.x = 3 * torch.randn(data.x.shape, generator=gen)
    if features == 'sparse':
        data.x = data.x * (torch.rand(data.x.shape, generator=gen) < 0.06)
    data.edge_index = torch.cat([data.edge_index,
                                 torch.tensor([[0, 3], [1, 3]])], dim=1)
    if weighted:
        data.edge_weight = torch.rand(data.edge_index.size(1),
                                      generator=gen) + 0.5
    return data


def mutag_held_out(root, train_graphs: int = 150):
    r"""MUTAG (from the shared data under ``root``) split once, by a fixed
    permutation, into ``train_graphs`` graphs for a short pretraining and a
    PyG ``Batch`` of the other graphs held out: ``(data, train,
    held_out)``. Shared by the InfoGraph and GraphCL short-run tests."""
    from torch_geometric.data import Batch

    from graphcl.data.graphs import load_graphs
    data = load_graphs('MUTAG', root=root)
    perm = torch.randperm(len(data), generator=torch.Generator()
                          .manual_seed(0)).tolist()
    train = [data.graphs[i] for i in perm[:train_graphs]]
    held_out = Batch.from_data_list([data.graphs[i]
                                     for i in perm[train_graphs:]])
    return data, train, held_out
