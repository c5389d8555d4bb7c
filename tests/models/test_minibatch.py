import copy

import pytest
import torch

from graphcl.corruptions import (Compose, EdgeDrop, FeatureMask,
                                 FeatureNoise, FeatureShuffle, Identity,
                                 RandomChoice)
from graphcl.data import synthetic_sbm
from graphcl.models import GraphMethod, build_method
from graphcl.models.minibatch import (MiniBatchTrainer, corrupt_subgraph,
                                      encode_seeds, sampled_hops,
                                      sparse_first_layer_supported,
                                      subgraph_views)
from graphcl.nn import GATEncoder, GCNEncoder, GINEncoder, SAGEEncoder
from graphcl.sampling import neighbor_loader

F = 150


@pytest.fixture(scope='module')
def graph():
    return synthetic_sbm(500, avg_degree=6, num_features=F,
                         sparse_features=True, density=0.03, seed=0)


def sample(graph, fanout=(5, 5), batch_size=64):
    batch = next(iter(neighbor_loader(graph, list(fanout),
                                      batch_size=batch_size)))
    assert batch.x.layout == torch.sparse_csr
    dense = copy.copy(batch)
    dense.x = batch.x.to_dense()
    return batch, dense


def grads(module):
    return [p.grad.clone() for p in module.parameters()]


def assert_same(a, b, atol=1e-6):
    assert a.shape == b.shape
    assert torch.allclose(a, b, rtol=1e-5, atol=atol), (a - b).abs().max()


@pytest.mark.parametrize('encoder,layers', [('sage', 2), ('sage', 1),
                                            ('gcn', 2), ('sage', 3)])
def test_sparse_path_equals_dense_path(graph, encoder, layers):
    # DGI's mini-batch loss and every gradient: CSR rows == dense rows
    torch.manual_seed(0)
    sparse_model = MiniBatchTrainer(build_method(
        'dgi', F, encoder=encoder, hidden=32, layers=layers, seed=0))
    dense_model = copy.deepcopy(sparse_model)  # same corruption draws
    batch, dense = sample(graph, [4] * layers)
    loss = sparse_model(batch)
    loss.backward()
    ref = dense_model(dense)
    ref.backward()
    assert_same(loss, ref)
    for g, r in zip(grads(sparse_model), grads(dense_model)):
        assert_same(g, r)


def plain(encoder, batch):
    # The reference: the plain encoder on the whole dense subgraph.
    x = batch.x.to_dense() if batch.x.layout != torch.strided else batch.x
    return encoder(x, batch.edge_index)[:batch.batch_size]


@pytest.mark.parametrize('make', [
    lambda: SAGEEncoder(F, 16, num_layers=2, normalize=True),
    lambda: SAGEEncoder(F, 16, num_layers=2, root_weight=False),
    lambda: SAGEEncoder(F, 16, num_layers=2, aggr='sum', bias=False),
    lambda: SAGEEncoder(F, 16, num_layers=2, aggr='max'),  # dense rows
    lambda: GCNEncoder(F, 16, num_layers=2, add_self_loops=False),
    lambda: GATEncoder(F, 16, num_layers=2, heads=2),  # dense rows
    lambda: GINEncoder(F, 16, num_layers=2),  # dense rows
])
@pytest.mark.parametrize('trim', [True, False])
def test_encode_seeds_sparse_equals_plain(graph, make, trim):
    torch.manual_seed(0)
    encoder = make()
    batch, dense = sample(graph)
    out = encode_seeds(encoder, batch.x, batch.edge_index, batch.batch_size,
                       sampled_hops(batch), trim=trim)
    out.square().sum().backward()
    got = grads(encoder)
    encoder.zero_grad()
    ref = plain(encoder, dense)
    ref.square().sum().backward()
    assert_same(out, ref)
    for g, r in zip(got, grads(encoder)):
        assert_same(g, r, atol=1e-5)


def test_dense_rows_trimmed_equal_plain(graph):
    # The dense path (trimming, bipartite SAGE layers) on dense features.
    torch.manual_seed(0)
    encoder = SAGEEncoder(F, 16, num_layers=3)
    _, dense = sample(graph, (3, 3, 3))
    out = encode_seeds(encoder, dense.x, dense.edge_index, dense.batch_size,
                       sampled_hops(dense))
    assert_same(out, plain(encoder, dense))


def test_which_first_layers_run_sparse(graph):
    batch, _ = sample(graph)
    x, ei = batch.x, batch.edge_index
    assert sparse_first_layer_supported(SAGEEncoder(F, 8), x, ei)
    assert sparse_first_layer_supported(GCNEncoder(F, 8), x, ei)
    assert not sparse_first_layer_supported(SAGEEncoder(F, 8), x.to_dense(),
                                            ei)
    assert not sparse_first_layer_supported(GATEncoder(F, 8, heads=2), x, ei)
    assert not sparse_first_layer_supported(
        SAGEEncoder(F, 8, aggr='max'), x, ei)
    assert not sparse_first_layer_supported(
        SAGEEncoder(F, 8, flow='target_to_source'), x, ei)
    assert not sparse_first_layer_supported(
        SAGEEncoder(F, 8, project=True), x, ei)
    dropout = SAGEEncoder(F, 8, dropout=0.5)
    assert not sparse_first_layer_supported(dropout, x, ei)
    assert sparse_first_layer_supported(dropout.eval(), x, ei)
    hooked = SAGEEncoder(F, 8)
    hooked.convs[0].register_forward_hook(lambda *args: None)
    assert not sparse_first_layer_supported(hooked, x, ei)


class Doubled(SAGEEncoder):
    def forward(self, x, edge_index, edge_weight=None):
        return 2 * super().forward(x, edge_index, edge_weight)


def test_overridden_forward_is_not_bypassed(graph):
    torch.manual_seed(0)
    encoder = Doubled(F, 8, num_layers=2)
    batch, dense = sample(graph)
    assert not sparse_first_layer_supported(encoder, batch.x,
                                            batch.edge_index)
    for b in (batch, dense):
        out = encode_seeds(encoder, b.x, b.edge_index, b.batch_size,
                           sampled_hops(b))
        assert_same(out, plain(encoder, dense))


def test_hops_that_do_not_fit_the_edges_are_not_trusted(graph):
    torch.manual_seed(0)
    encoder = SAGEEncoder(F, 8, num_layers=2)
    batch, dense = sample(graph)
    perm = torch.randperm(batch.edge_index.size(1))
    for b in (batch, dense):
        ei = b.edge_index[:, perm]  # hops no longer grouped: no trimming
        out = encode_seeds(encoder, b.x, ei, b.batch_size, sampled_hops(b))
        ref = encoder(dense.x, ei)[:b.batch_size]
        assert_same(out, ref)


@pytest.mark.parametrize('make', [
    lambda: FeatureShuffle(generator=1),
    lambda: FeatureMask(0.4, generator=1),
    lambda: EdgeDrop(0.3, generator=1),
    lambda: Identity(),
    lambda: Compose([EdgeDrop(0.2, generator=2), FeatureMask(0.5,
                                                             generator=3),
                     FeatureShuffle(generator=4)]),
    lambda: FeatureNoise(0.1, generator=1),  # dense rows
    lambda: RandomChoice([FeatureShuffle(generator=5),
                          FeatureMask(0.3, generator=6)], generator=7),
])
@pytest.mark.parametrize('weighted', [False, True])
def test_corrupt_subgraph_equals_dense(graph, make, weighted):
    batch, dense = sample(graph)
    corruption = make()
    twin = copy.deepcopy(corruption)  # the same random draws
    args = (batch.edge_index, )
    if weighted:
        args += (torch.rand(batch.edge_index.size(1)), )
    out = corrupt_subgraph(corruption, batch.x, *args)
    ref = twin(dense.x, *args)
    assert len(out) == len(ref)
    kept_sparse = type(corruption) not in (FeatureNoise, RandomChoice)
    assert (out[0].layout == torch.sparse_csr) == kept_sparse
    got = out[0].to_dense() if kept_sparse else out[0]
    assert torch.equal(got, ref[0])
    for a, b in zip(out[1:], ref[1:]):
        assert torch.equal(a, b)


def test_corrupt_subgraph_passes_dense_rows_through(graph):
    _, dense = sample(graph)
    out = corrupt_subgraph(FeatureShuffle(generator=0), dense.x,
                           dense.edge_index)
    ref = FeatureShuffle(generator=0)(dense.x, dense.edge_index)
    assert torch.equal(out[0], ref[0])


@pytest.mark.parametrize('weighted', [False, True])
def test_subgraph_views(graph, weighted):
    # Each view is corrupt_subgraph's on the batch, in order, with the ids
    # of the kept edges (ascending) and their weights.
    batch, dense = sample(graph)
    if weighted:
        batch.edge_weight = torch.rand(batch.edge_index.size(1))
    views = [Compose([EdgeDrop(0.3, generator=g), FeatureMask(0.2,
                                                              generator=g)])
             for g in (1, 2)]
    twins = copy.deepcopy(views)
    got = subgraph_views(views, batch)
    assert len(got) == 2
    for (x, edge_index, ew, kept), twin in zip(got, twins):
        assert bool((kept[1:] > kept[:-1]).all())
        assert torch.equal(edge_index, batch.edge_index[:, kept])
        ref = twin(dense.x, batch.edge_index)
        assert torch.equal(x.to_dense(), ref[0])
        assert torch.equal(edge_index, ref[1])
        if weighted:
            assert torch.equal(ew, batch.edge_weight[kept])
        else:
            assert ew is None


class DenseOnly(GraphMethod):
    # A method that has not declared supports_sparse_features.
    supports_minibatch = True

    def __init__(self):
        super().__init__()
        self.encoder = SAGEEncoder(F, 8, num_layers=2)

    def minibatch_objective(self, batch):
        assert batch.x.layout == torch.strided
        return encode_seeds(self.encoder, batch.x, batch.edge_index,
                            batch.batch_size, sampled_hops(batch)).sum()


def test_trainer_gives_dense_rows_to_methods_without_sparse_support(graph):
    torch.manual_seed(0)
    trainer = MiniBatchTrainer(DenseOnly())
    batch, dense = sample(graph)
    assert_same(trainer(batch), trainer(dense))
    assert batch.x.layout == torch.sparse_csr  # the batch is not changed
