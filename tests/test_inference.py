import pytest
import torch

from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops

from graphcl.data import synthetic_sbm
from graphcl.inference import layerwise_inference
from graphcl.models.base import encoder_inputs
from graphcl.nn.encoders import GCNEncoder, get_encoder
from graphcl.sampling import to_csc


@pytest.fixture(scope='module')
def graph():
    data = synthetic_sbm(700, avg_degree=6, num_features=12, seed=0)
    perm = torch.randperm(data.num_edges,
                          generator=torch.Generator().manual_seed(0))
    data.edge_index = data.edge_index[:, perm]  # unsorted on purpose
    return data


@pytest.mark.parametrize('name', ['sage', 'gcn', 'gat', 'gin'])
def test_matches_full_batch(graph, name):
    torch.manual_seed(0)
    enc = get_encoder(name, 12, hidden_channels=16, num_layers=3)
    enc.train()
    full = enc.eval()(graph.x, graph.edge_index)
    enc.train()
    z = layerwise_inference(enc, graph, batch_size=97)
    assert z.shape == (700, 16)
    assert torch.allclose(z, full, atol=1e-5)
    assert enc.training  # mode restored
    if name == 'gcn':  # normalisation switched back on
        assert enc.convs[0].normalize


def messy_graph(n=240, seed=0):
    # self-loops on some nodes (one of them twice), duplicate edges, edges
    # in random order, isolated nodes
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n - 10, (2, 5 * n), generator=g)
    loops = torch.arange(0, n, 3)
    ei = torch.cat([ei, torch.stack([loops, loops]), ei[:, :n],
                    torch.tensor([[0], [0]])], dim=1)
    ei = ei[:, torch.randperm(ei.size(1), generator=g)]
    return Data(x=torch.randn(n, 12, generator=g), edge_index=ei,
                edge_weight=torch.rand(ei.size(1), generator=g) + 0.1)


@pytest.mark.parametrize('self_loops', [True, False])
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('options', [
    {}, dict(add_self_loops=False), dict(improved=True),
    dict(normalize=False, add_self_loops=False)])
def test_gcn_matches_full_graph_on_any_graph(self_loops, weighted, options):
    data = messy_graph()
    if not self_loops:
        data.edge_index, data.edge_weight = remove_self_loops(
            data.edge_index, data.edge_weight)
    if not weighted:
        del data.edge_weight
    torch.manual_seed(0)
    enc = GCNEncoder(12, 16, num_layers=3, **options).eval()
    full = enc(*encoder_inputs(data))
    z = layerwise_inference(enc, data, batch_size=37)
    assert torch.allclose(z, full, atol=1e-5), (z - full).abs().max()
    assert all(c.normalize == options.get('normalize', True)
               for c in enc.convs)  # switched back


@pytest.mark.parametrize('name', ['sage', 'gat', 'gin'])
def test_other_encoders_match_full_graph_with_self_loops(name):
    data = messy_graph()
    torch.manual_seed(0)
    enc = get_encoder(name, 12, hidden_channels=16, num_layers=2).eval()
    full = enc(data.x, data.edge_index)
    z = layerwise_inference(enc, data, batch_size=37)
    assert torch.allclose(z, full, atol=1e-5), (z - full).abs().max()


def test_refuses_target_to_source_flow(graph):
    enc = GCNEncoder(12, 8, flow='target_to_source')
    with pytest.raises(ValueError, match="flow='target_to_source'"):
        layerwise_inference(enc, graph)


def test_gcn_edge_weight_and_prebuilt_csc(graph):
    torch.manual_seed(0)
    data = graph.clone()
    data.edge_weight = torch.rand(data.num_edges)
    enc = get_encoder('gcn', 12, hidden_channels=8, num_layers=2).eval()
    full = enc(data.x, data.edge_index, data.edge_weight)
    z = layerwise_inference(enc, data, batch_size=50,
                            csc=to_csc(data.edge_index, data.num_nodes))
    assert torch.allclose(z, full, atol=1e-5)


def test_sparse_features():
    data = synthetic_sbm(300, num_features=40, sparse_features=True,
                         density=0.1, seed=1)
    enc = get_encoder('sage', 40, hidden_channels=8, num_layers=2).eval()
    full = enc(data.x.to_dense(), data.edge_index)
    assert torch.allclose(layerwise_inference(enc, data, 64), full,
                          atol=1e-5)


def test_errors(graph):
    with pytest.raises(ValueError, match='GNNEncoder'):
        layerwise_inference(torch.nn.Linear(12, 4), graph)
    enc = get_encoder('sage', 12, hidden_channels=8)
    with pytest.raises(ValueError, match='batch size'):
        layerwise_inference(enc, graph, batch_size=0)
    with pytest.raises(ValueError, match='CSC'):
        layerwise_inference(enc, graph, csc=to_csc(graph.edge_index, 900))
