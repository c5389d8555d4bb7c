import pytest
import torch

from graphcl.data import synthetic_sbm
from graphcl.inference import layerwise_inference
from graphcl.nn.encoders import get_encoder
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
