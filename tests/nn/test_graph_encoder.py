import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINConv, global_add_pool

from graphcl.nn import GINEncoder, GraphEncoder, MaxReadout

F_IN, D, L = 5, 8, 3


def graphs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for n in (4, 1, 6, 3):  # one single-node graph, one without edges
        x = torch.randn(n, F_IN, generator=gen)
        if n in (1, 3):
            ei = torch.empty(2, 0, dtype=torch.long)
        else:
            ei = torch.randint(0, n, (2, 2 * n), generator=gen)
        out.append(Data(x=x, edge_index=ei))
    return out


@pytest.mark.parametrize('readout', ['sum', 'mean', 'max'])
@pytest.mark.parametrize('norm', ['mlp', 'after'])
def test_batched_readout_equals_per_graph_loop(readout, norm):
    torch.manual_seed(0)
    enc = GraphEncoder(GINEncoder(F_IN, D, num_layers=L, norm=norm),
                       readout).eval()  # eval: batch norm per node
    gs = graphs()
    batch = Batch.from_data_list(gs)
    g, h = enc(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    assert g.shape == (len(gs), L * D) and h.shape == (batch.num_nodes, L * D)
    pool = dict(sum=lambda t: t.sum(0), mean=lambda t: t.mean(0),
                max=lambda t: t.max(0).values)[readout]
    for i, data in enumerate(gs):
        gi, hi = enc(data.x, data.edge_index)  # batch=None: one graph
        assert torch.allclose(g[i], gi[0], atol=1e-5)
        assert torch.allclose(h[batch.batch == i], hi, atol=1e-5)
        # The graph embedding is every layer's pooled nodes, concatenated.
        per_layer = [pool(hi[:, l * D:(l + 1) * D]) for l in range(L)]
        assert torch.allclose(gi[0], torch.cat(per_layer), atol=1e-5)


def test_trailing_graph_without_nodes_counts_through_num_graphs():
    enc = GraphEncoder(GINEncoder(F_IN, D, num_layers=2), MaxReadout()).eval()
    gs = graphs()[:2]
    batch = Batch.from_data_list(gs)
    g, _ = enc(batch.x, batch.edge_index, batch.batch, 3)
    assert g.shape == (3, 2 * D) and bool((g[2] == 0).all())


def test_gin_after_norm_equals_the_reference_encoder():
    # InfoGraph's gin.py Encoder, transcribed: x = bn(relu(conv(x))), every
    # layer sum-pooled and concatenated.
    torch.manual_seed(0)
    ours = GraphEncoder(GINEncoder(F_IN, D, num_layers=L, norm='after'))
    convs = [GINConv(torch.nn.Sequential(
        torch.nn.Linear(F_IN if i == 0 else D, D), torch.nn.ReLU(),
        torch.nn.Linear(D, D))) for i in range(L)]
    bns = [torch.nn.BatchNorm1d(D) for _ in range(L)]
    for i in range(L):
        convs[i].load_state_dict(ours.gnn.convs[i].state_dict())
        bns[i].load_state_dict(ours.gnn.acts[i].norm.state_dict())
    batch = Batch.from_data_list(graphs())
    x, xs = batch.x, []
    for i in range(L):  # training mode: batch statistics, as in the loss
        x = bns[i](F.relu(convs[i](x, batch.edge_index)))
        xs.append(x)
    ref_g = torch.cat([global_add_pool(t, batch.batch) for t in xs], 1)
    g, h = ours(batch.x, batch.edge_index, batch.batch)
    assert torch.allclose(g, ref_g, atol=1e-5)
    assert torch.allclose(h, torch.cat(xs, 1), atol=1e-6)
    assert len(list(ours.parameters())) == sum(
        len(list(m.parameters())) for m in convs + bns)


def test_bad_input():
    with pytest.raises(ValueError, match="'norm'"):
        GINEncoder(F_IN, D, norm='before')
    with pytest.raises(TypeError, match='GNNEncoder'):
        GraphEncoder(torch.nn.Linear(3, 3))
    enc = GraphEncoder(GINEncoder(F_IN, D, num_layers=1))
    x = torch.randn(3, F_IN)
    ei = torch.empty(2, 0, dtype=torch.long)
    with pytest.raises(ValueError, match="'batch'"):
        enc(x, ei, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match='no graphs'):
        enc(x[:0], ei, torch.zeros(0, dtype=torch.long))
    assert 'SumReadout' in repr(enc)
    assert "norm='after'" in repr(GINEncoder(F_IN, D, norm='after'))
