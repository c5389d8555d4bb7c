r"""Audit of the two-view methods (GRACE, CCA-SSG on
:class:`~graphcl.models.two_view.TwoViewMethod`) for silently wrong results:
the CSR fast path against the plain path on awkward graphs and inputs,
the feature cache against stale features, views that lose the row-to-node
pairing, the mini-batch step against the plain encoder on the views, the
engine's handling of mini-batches below ``min_batch_size`` and CCA-SSG's
loss on degenerate inputs."""
import pytest
import torch
from torch_geometric.data import Data

from graphcl.corruptions import Compose, EdgeDrop, FeatureMask, NodeDrop
from graphcl.losses import cca_ssg_loss
from graphcl.models.cca_ssg import CCASSG, CCASSGEncoder
from graphcl.models.grace import GRACE, GRACEEncoder
from graphcl.models.minibatch import MiniBatchTrainer
from graphcl.nn import SAGEEncoder
from graphcl.nn.heads import ProjectionHead
from graphs import two_view_graph


def two_view(kind, num_features, edge_drop=0.3, feature_mask=0.2,
             encoder=None, views=None):
    r"""A small GRACE or CCA-SSG whose two views draw from one private
    generator (``model.gen``), reseeded by :func:`loss_and_grads`."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    if views is None:
        views = [Compose([EdgeDrop(edge_drop, generator=gen),
                          FeatureMask(feature_mask, generator=gen)])
                 for _ in range(2)]
    if kind == 'cca_ssg':
        model = CCASSG(encoder or CCASSGEncoder(num_features, 8, 2),
                       *views, lambd=1e-2)
    else:
        model = GRACE(encoder or GRACEEncoder(num_features, 8, 2,
                                              act='prelu'),
                      ProjectionHead(8, 8, 8), *views, tau=0.5,
                      block_size=16)
    model.gen = gen
    return model


def loss_and_grads(model, data, fast, seed=7):
    model.fast_path = fast
    model.gen.manual_seed(seed)
    model.zero_grad()
    loss = model.objective(data)
    loss.backward()
    return loss.detach(), {n: p.grad.clone()
                           for n, p in model.named_parameters()
                           if p.grad is not None}


def assert_same_step(a, b, tol=1e-5):
    r"""Same loss and gradients (CCA-SSG's last bias has a zero gradient
    up to rounding: compared to the largest gradient)."""
    (loss_a, grads_a), (loss_b, grads_b) = a, b
    assert torch.allclose(loss_a, loss_b, rtol=tol, atol=tol), \
        (loss_a, loss_b)
    assert grads_a.keys() == grads_b.keys()
    scale = max(float(g.abs().max()) for g in grads_b.values())
    assert scale > 0
    for name in grads_a:
        diff = float((grads_a[name] - grads_b[name]).abs().max())
        assert diff <= 10 * tol * scale, (name, diff, scale)


def plain_embeddings(model, data):
    was = model.training
    model.eval()
    with torch.no_grad():
        z = model.encoder(data.x, data.edge_index,
                          getattr(data, 'edge_weight', None))
    model.train(was)
    return z


def awkward_graph(seed=0):
    r"""50 nodes with mostly-zero features (multiplied as CSR), 5 isolated
    nodes, duplicate edges, self-loops, zero weights and some edges in
    one direction only."""
    gen = torch.Generator().manual_seed(seed)
    data = two_view_graph('sparse', True, seed=seed)
    n = data.num_nodes
    x = torch.cat([data.x, 3 * torch.randn(5, data.x.size(1), generator=gen)
                   * (torch.rand(5, data.x.size(1), generator=gen) < 0.06)])
    ei = torch.cat([data.edge_index, data.edge_index[:, :20],
                    torch.arange(10).repeat(2, 1),
                    torch.stack([torch.arange(10, 20),
                                 torch.arange(30, 40)])], dim=1)
    w = torch.rand(ei.size(1), generator=gen) + 0.5
    w[5:15] = 0
    return Data(x=x, edge_index=ei, edge_weight=w, num_nodes=n + 5)


# --- the feature cache after writes the version counter does not see -----

@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
@pytest.mark.parametrize('forget', ['forget_inputs', 'clear_cache'])
def test_forgetting_the_inputs_drops_the_cached_feature_rows(kind, forget):
    # A write through .data (or .numpy()) bypasses the version counter;
    # forget_inputs() is the documented remedy (clear_cache() in
    # docs/performance.md). It used to forget only which inputs were
    # validated: the fast path kept training on, and embed() kept
    # returning, the CSR copy of the old features (CCA-SSG's loss off by
    # 0.9, its gradients by more than their size).
    data = two_view_graph('sparse', True)
    model = two_view(kind, data.num_features)
    loss_and_grads(model, data, True)  # caches the CSR rows of data.x
    data.x.data.mul_(-1.5)
    data.x.data[:, :3] += 1.0
    getattr(model, forget)()
    assert_same_step(loss_and_grads(model, data, True),
                     loss_and_grads(model, data, False))
    model.fast_path = True
    assert torch.allclose(model.embed(data), plain_embeddings(model, data),
                          atol=1e-5)


@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
def test_in_place_edits_and_fresh_graphs_are_seen(kind):
    # Edits the version counter sees, and a fresh same-shape graph every
    # step: the fast path's loss, gradients and embeddings are always the
    # current graph's.
    data = two_view_graph('sparse', True)
    model = two_view(kind, data.num_features)
    loss_and_grads(model, data, True)
    with torch.no_grad():
        data.x[data.x != 0] *= 3.0
        data.x[:, :2] = 1.0
        data.edge_weight[:7] = 0.0
    assert_same_step(loss_and_grads(model, data, True),
                     loss_and_grads(model, data, False))
    model.fast_path = True
    assert torch.allclose(model.embed(data), plain_embeddings(model, data),
                          atol=1e-5)
    for seed in (1, 2, 3):
        fresh = two_view_graph('sparse', True, seed=seed)
        assert_same_step(loss_and_grads(model, fresh, True),
                         loss_and_grads(model, fresh, False))


# --- views must keep the row-to-node pairing -------------------------------

def relabelling_views(gen_seeds=(1, 2)):
    return [Compose([NodeDrop(0.2, relabel=True, generator=s),
                     FeatureMask(0.1, generator=s)]) for s in gen_seeds]


@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
def test_minibatch_views_that_remove_nodes_are_refused(kind):
    # On a sampled subgraph the seeds are the first rows of each view; a
    # view that removed nodes and relabelled the rest made those rows
    # other nodes: the loss was computed on unpaired rows, without an
    # error (CCA-SSG: -1.94 on 64 seeds), where the full-batch step failed.
    from graphcl.data import synthetic_sbm
    from graphcl.sampling import neighbor_loader
    graph = synthetic_sbm(300, avg_degree=6, num_features=20, seed=0)
    model = two_view(kind, 20, views=relabelling_views())
    batch = next(iter(neighbor_loader(graph, [4, 4], batch_size=64)))
    with pytest.raises(ValueError, match='must keep every node'):
        MiniBatchTrainer(model)(batch)


@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
@pytest.mark.parametrize('fast', [True, False])
def test_full_batch_views_that_remove_nodes_are_refused(kind, fast):
    data = two_view_graph('dense')
    model = two_view(kind, data.num_features, views=relabelling_views())
    model.fast_path = fast
    with pytest.raises(ValueError, match=r'View 1 has \d+ nodes, the graph '
                       r'50.*NodeDrop\(relabel=False\)'):
        model.objective(data)
    # Dropped nodes kept as isolated rows of zeros: the pairing holds.
    keep = two_view(kind, data.num_features, views=[
        NodeDrop(0.2, generator=s) for s in (1, 2)])
    assert torch.isfinite(keep.objective(data))


# --- the fast path against the plain path ---------------------------------

@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
@pytest.mark.parametrize('edge_drop,feature_mask', [(0.3, 0.2), (1.0, 0.2),
                                                    (0.3, 0.0), (0.0, 0.0)])
def test_fast_path_on_an_awkward_graph(kind, edge_drop, feature_mask):
    # Isolated nodes, duplicates, self-loops, zero weights, one-way edges,
    # CSR features; views that drop every edge or mask nothing.
    data = awkward_graph()
    model = two_view(kind, data.num_features, edge_drop, feature_mask)
    assert_same_step(loss_and_grads(model, data, True),
                     loss_and_grads(model, data, False))


@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
@pytest.mark.parametrize('features', ['dense', 'sparse'])
def test_fast_path_in_float64(kind, features):
    data = two_view_graph(features, True)
    data.x, data.edge_weight = data.x.double(), data.edge_weight.double()
    model = two_view(kind, data.num_features).double()
    assert_same_step(loss_and_grads(model, data, True),
                     loss_and_grads(model, data, False), tol=1e-10)


def test_encoders_that_override_forward_or_layer_run_as_they_are():
    class Squashed(CCASSGEncoder):
        def forward(self, x, edge_index, edge_weight=None):
            return 3 * super().forward(x, edge_index, edge_weight).tanh()

    class Scaled(GRACEEncoder):
        def layer(self, i, x, edge_index, edge_weight=None):
            return (i + 2) * super().layer(i, x, edge_index, edge_weight)

    data = two_view_graph('sparse', True)
    for kind, encoder in (('cca_ssg', Squashed(data.num_features, 8, 2)),
                          ('grace', Scaled(data.num_features, 8, 2))):
        model = two_view(kind, data.num_features, encoder=encoder)
        fast = loss_and_grads(model, data, True)
        assert_same_step(fast, loss_and_grads(model, data, False))
        model.fast_path = True
        assert torch.equal(model.embed(data), plain_embeddings(model, data))


# --- the mini-batch step -----------------------------------------------------

@pytest.mark.parametrize('kind', ['cca_ssg', 'grace'])
@pytest.mark.parametrize('encoder', ['gcn', 'sage'])
def test_minibatch_step_is_the_loss_of_the_views_seed_rows(kind, encoder):
    # CSR rows, edge weights, trimmed hops (SAGE): the step's loss and
    # gradients are the loss of the plain encoder's seed rows on the two
    # views drawn with the same draws.
    from graphcl.data import synthetic_sbm
    from graphcl.sampling import neighbor_loader
    f = 150
    graph = synthetic_sbm(300, avg_degree=6, num_features=f,
                          sparse_features=True, density=0.03, seed=0)
    graph.edge_weight = torch.rand(graph.edge_index.size(1)) + 0.5
    torch.manual_seed(0)
    enc = CCASSGEncoder(f, 16, 2) if encoder == 'gcn' else \
        SAGEEncoder(f, 16, num_layers=2, aggr='sum', act='tanh')
    model = two_view(kind, f, encoder=enc)
    if kind == 'grace':
        model.projector = ProjectionHead(16, 8, 8)
    batch = next(iter(neighbor_loader(graph, [4, 4], batch_size=64)))
    assert batch.x.layout == torch.sparse_csr

    def step(reference):
        model.gen.manual_seed(3)
        model.zero_grad()
        if reference:
            args = (batch.x.to_dense(), batch.edge_index, batch.edge_weight)
            z = [model.encoder(*view(*args)[:3])[:batch.batch_size]
                 for view in (model.view1, model.view2)]
            loss = model.loss(*z)
        else:
            loss = MiniBatchTrainer(model)(batch)
        loss.backward()
        return loss.detach(), {n: p.grad.clone()
                               for n, p in model.named_parameters()
                               if p.grad is not None}

    assert_same_step(step(False), step(True))


# --- the engine: mini-batches below min_batch_size -------------------------

def test_minibatch_epoch_loss_is_the_seed_weighted_mean_of_trained_batches(
        small_graph):
    # 40 nodes in batches of 13: 13, 13, 13 and a batch of one seed, which
    # is skipped and counted; the epoch loss weights the trained batches
    # by their seeds (lr 0: every epoch sees the same parameters).
    from graphcl.distributed import DistEnv
    from graphcl.experiment import _pretrain_minibatch
    model = two_view('cca_ssg', small_graph.num_features)
    trainer = MiniBatchTrainer(model)
    seen = []
    objective = model.minibatch_objective

    def recorded(batch):
        loss = objective(batch)
        seen.append((int(batch.batch_size), loss.item()))
        return loss

    model.minibatch_objective = recorded
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    result = _pretrain_minibatch(
        trainer, small_graph, optimizer, fanout=[3, 3], batch_size=13,
        num_workers=0, env=DistEnv(), seed=0, epochs=2, patience=0,
        desc=False)
    assert result.skipped_batches == 2
    assert [size for size, _ in seen] == [13, 13, 13] * 2
    for epoch in range(2):
        part = seen[3 * epoch:3 * epoch + 3]
        mean = sum(n * loss for n, loss in part) / 39
        assert result.losses[epoch] == pytest.approx(mean, rel=1e-6)


# --- CCA-SSG's loss on degenerate inputs ---------------------------------

def test_cca_ssg_loss_two_rows_by_hand():
    # N = 2: each standardised column is (1, -1) / sqrt(2); with equal
    # views C12 = C11 = C22 = [[1/2]] for one column: -1/2 + 2 lambda / 4.
    h = torch.tensor([[3.0], [-1.0]], dtype=torch.float64)
    assert cca_ssg_loss(h, h, 0.5).item() == pytest.approx(-0.25)
    assert cca_ssg_loss(h, -h, 0.0).item() == pytest.approx(0.5)


@pytest.mark.parametrize('value', [0.0, 0.1, 1.7, 123.456])
@pytest.mark.parametrize('n', [2, 7, 1000])
def test_cca_ssg_loss_constant_column_is_never_a_finite_number(value, n):
    # A constant column has no standard deviation: the loss must not come
    # out as a finite (garbage) number, whatever the rounding of the mean.
    gen = torch.Generator().manual_seed(n)
    h1 = torch.randn(n, 3, generator=gen)
    h2 = torch.randn(n, 3, generator=gen)
    h1[:, 1] = value
    for lambd in (0.0, 1e-3):
        assert not torch.isfinite(cca_ssg_loss(h1, h2, lambd))


@pytest.mark.parametrize('name', ['grace', 'cca_ssg', 'bgrl'])
@pytest.mark.parametrize('fast', [True, False])
def test_csr_features_give_the_dense_loss(name, fast):
    # data.x given as a CSR matrix: the views are drawn from its rows (the
    # same draws) on either path, and the loss and gradients are the dense
    # twin's (before, FeatureMask failed on the CSR tensor).
    from graphcl.models.registry import build_method
    from tests.conftest import make_graph
    dense = make_graph()
    sparse = dense.clone()
    sparse.x = dense.x.to_sparse_csr()
    out = []
    for data in (dense, sparse):
        torch.manual_seed(0)  # the weights (seed= seeds the views)
        model = build_method(name, 6, seed=0, hidden=8)
        model.fast_path = fast
        torch.manual_seed(3)
        loss = model.objective(data)
        loss.backward()
        out.append((loss.detach(), [p.grad.clone() for p in
                                    model.parameters() if p.grad is not None]))
    assert torch.allclose(out[0][0], out[1][0], atol=1e-6)
    assert len(out[0][1]) == len(out[1][1])
    for a, b in zip(out[0][1], out[1][1]):
        assert torch.allclose(a, b, atol=1e-5)
