r"""Small random graphs shared by the tests of the fast paths (DGI, GGD)."""
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
