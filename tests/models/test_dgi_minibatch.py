import copy

import pytest
import torch

from graphcl.corruptions import NodeDrop
from graphcl.data import synthetic_sbm
from graphcl.models import DeepGraphInfomax, build_method
from graphcl.models.dgi_minibatch import MiniBatchDGI
from graphcl.models.minibatch import encode_seeds, sampled_hops
from graphcl.sampling import neighbor_loader
from graphcl.train import pretrain


@pytest.fixture(scope='module')
def graph():
    data = synthetic_sbm(1200, avg_degree=6, num_features=16, seed=0)
    data.x = data.x / data.x.sum(-1, keepdim=True).clamp_min(1e-12)
    return data


def make(hidden=32, layers=2, **kw):
    torch.manual_seed(0)
    dgi = build_method('dgi', 16, encoder='sage', hidden=hidden,
                       layers=layers, seed=0, **kw)
    return MiniBatchDGI(dgi, inference_batch_size=256)


def test_loss_falls_with_pretrain(graph):
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def batches():
        return neighbor_loader(graph, [5, 5], batch_size=200, shuffle=True)

    result = pretrain(model, model.objective, opt, epochs=8, patience=0,
                      batches=batches)
    assert result.epochs == 8
    assert result.losses[-1] < 0.7 * result.losses[0]
    z = model.embed(graph)
    assert z.shape == (1200, 32) and torch.isfinite(z).all()
    # Layer-wise inference equals the encoder on the full graph.
    full = model.dgi.embed(graph)
    assert torch.allclose(z, full, atol=1e-5)


def test_trimmed_encoding_equals_full_subgraph(graph):
    model = make(layers=3)
    batch = next(iter(neighbor_loader(graph, [4, 3, 2], batch_size=64)))
    assert len(batch.num_sampled_edges) == 3
    args = (model.encoder, batch.x, batch.edge_index, batch.batch_size,
            sampled_hops(batch))
    trimmed = encode_seeds(*args)
    full = encode_seeds(*args, trim=False)
    assert trimmed.shape == (64, 32)
    assert torch.allclose(trimmed, full, atol=1e-6)


def test_loss_uses_seed_nodes_and_shuffled_subgraph(graph):
    model = make()
    batch = next(iter(neighbor_loader(graph, [5, 5], batch_size=50)))
    torch.manual_seed(3)
    loss = model(batch)
    # The same computation by hand: shuffle all sampled rows, score seeds.
    dgi = make().dgi
    dgi.load_state_dict(model.dgi.state_dict())
    dgi.corruption = model.dgi.corruption = type(dgi.corruption)(
        generator=7)
    model.dgi.corruption = type(dgi.corruption)(generator=7)
    enc = dgi.encoder
    pos = enc(batch.x, batch.edge_index)[:50]
    perm = dgi.corruption.permutation(batch.num_nodes)
    neg = enc(batch.x[perm], batch.edge_index)[:50]
    expected = dgi.loss(pos, neg, torch.sigmoid(pos.mean(0)))
    assert torch.allclose(model(batch), expected, atol=1e-6)
    assert loss.dim() == 0 and loss.requires_grad


def test_rejects_node_dropping_corruption(graph):
    model = make()
    model.dgi.corruption = NodeDrop(0.5, relabel=True, generator=0)
    batch = next(iter(neighbor_loader(graph, [3, 3], batch_size=20)))
    with pytest.raises(ValueError, match='number of nodes'):
        model(batch)


def test_wraps_dgi_only():
    with pytest.raises(TypeError, match='DeepGraphInfomax'):
        MiniBatchDGI(torch.nn.Linear(2, 2))
    assert 'MiniBatchDGI(DeepGraphInfomax(32))' == repr(make())


def test_sparse_feature_rows_stay_sparse():
    # DGI takes CSR rows itself (corruption and first layer), with the loss
    # of dense rows.
    data = synthetic_sbm(400, avg_degree=6, num_features=120,
                         sparse_features=True, density=0.03, seed=0)
    assert DeepGraphInfomax.supports_sparse_features
    torch.manual_seed(0)
    dgi = build_method('dgi', 120, encoder='sage', hidden=16, layers=2,
                       seed=0)
    twin = copy.deepcopy(dgi)
    batch = next(iter(neighbor_loader(data, [4, 4], batch_size=40)))
    assert batch.x.layout == torch.sparse_csr
    dense = copy.copy(batch)
    dense.x = batch.x.to_dense()
    assert torch.allclose(dgi.minibatch_objective(batch),
                          twin.minibatch_objective(dense), atol=1e-6)
