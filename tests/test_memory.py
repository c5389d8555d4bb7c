import argparse
import resource

import pytest
import torch
from torch_geometric.data import Data

from graphcl.memory import (BASELINE_BYTES, GraphStats, MethodMemory,
                            OutOfMemoryEstimate, check_fits, csr_bytes,
                            dgi_memory, estimate_full_batch,
                            estimate_minibatch, format_bytes, generic_memory,
                            grace_memory, memory_hook, parse_memory)
from graphcl.models import METHODS, MethodSpec, get_method, register_method
from graphcl.models.dgi_builder import build_dgi

CORA = GraphStats(2708, 10556, 1433, 49216, name='Cora')
BIG = GraphStats(2_000_000, 20_000_000, 128, name='big')


@pytest.fixture(autouse=True)
def untuned_allocator(monkeypatch):
    # Estimates follow whether graphcl.perf.tune_cpu_allocator ran in this
    # process (CLI tests run it): make them independent of test order.
    import graphcl.perf
    monkeypatch.setattr(graphcl.perf, '_tuned', False)


def stats(n=10_000, e=100_000, f=128, **kw):
    return GraphStats(n, e, f, **kw)


def total(s, method='dgi', **options):
    return estimate_full_batch(s, method, options).total


def test_grows_with_nodes_edges_features_width_and_layers():
    base = total(stats())
    assert total(stats(n=20_000)) > base
    assert total(stats(e=400_000)) > base
    assert total(stats(f=512)) > base
    assert total(stats(), hidden=1024) > base
    assert total(stats(), layers=2) > base
    # The per-node parts scale linearly: doubling N (and E with it)
    # doubles everything but the baseline and the parameters.
    a = estimate_full_batch(stats(), 'dgi', {})
    b = estimate_full_batch(stats(n=20_000, e=200_000), 'dgi', {})
    grow = (b.total - b.baseline - sum(b.parameters.values()))
    base_part = (a.total - a.baseline - sum(a.parameters.values()))
    assert grow == pytest.approx(2 * base_part, rel=0.01)


def test_width_scales_activations_and_quadratic_parameters():
    a = estimate_full_batch(stats(), 'dgi', dict(hidden=256))
    b = estimate_full_batch(stats(), 'dgi', dict(hidden=512))
    assert sum(b.training.values()) > 1.9 * sum(a.training.values())
    # The bilinear critic is D x D: parameters grow faster than linearly.
    assert b.parameters['parameters'] > 2 * a.parameters['parameters']


def test_parameters_counted_exactly_without_allocating():
    est = estimate_full_batch(CORA, 'dgi', dict(hidden=64))
    model = build_dgi(1433, **{**get_method('dgi').defaults, 'hidden': 64})
    p = sum(t.numel() * 4 for t in model.parameters())
    assert est.parameters['parameters'] == p
    assert sum(est.parameters.values()) == 5 * p  # + grad, Adam, best copy
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    huge = estimate_full_batch(CORA, 'dgi', dict(hidden=100_000))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert (after - before) * 1024 < 200 * 2**20  # 40 GB never allocated
    assert huge.parameters['parameters'] > 40 * 10**9


def test_breakdown_adds_up_and_prints():
    est = estimate_full_batch(CORA, 'dgi', {})
    p = est.parts
    assert est.total == (p['baseline'] + p['data'] + p['parameters']
                         + p['constants'] + max(p['first step'],
                                                p['training'],
                                                p['embedding']))
    assert est.baseline == BASELINE_BYTES
    text = str(est)
    for word in ('features (dense)', 'input check',
                 'edge_index', 'Adam moments', 'best state',
                 'normalised adjacency', 'work buffers', 'encoder forward',
                 format_bytes(est.total)):
        assert word in text
    assert format_bytes(est.total) in est.summary()


def test_dgi_paths():
    fused = estimate_full_batch(CORA, 'dgi', {})
    assert any('bias column' in k for k in fused.constants)
    # Cora's features are 1.3 % non-zero: cached as CSR by the fast path.
    assert any('CSR cache' in k for k in fused.constants)
    fast = estimate_full_batch(CORA, 'dgi', dict(layers=2))
    assert not any('bias column' in k for k in fast.constants)
    assert sum(fast.training.values()) > sum(fused.training.values())
    plain = estimate_full_batch(CORA, 'dgi', dict(encoder='sage'))
    assert plain.constants == {}
    assert any('messages' in k for k in plain.training)
    dense = estimate_full_batch(GraphStats(2708, 10556, 1433), 'dgi', {})
    assert not any('CSR cache' in k for k in dense.constants)


def test_sparse_features_counted_as_sparse():
    n, f, nnz = 100_000, 5000, 500_000
    sparse = GraphStats(n, 10 * n, f, nnz, sparse_features=True)
    dense = GraphStats(n, 10 * n, f)
    est_s = estimate_full_batch(sparse, 'dgi', {})
    est_d = estimate_full_batch(dense, 'dgi', {})
    assert est_s.data['features (sparse CSR)'] == csr_bytes(n, nnz)
    assert est_d.data['features (dense)'] == n * f * 4
    # At the first step the dense features are checked for NaN in chunks
    # (7 bytes per entry of one chunk) and DGI's cache gathers their
    # non-zeros (20 bytes each); the row-normalisation holds both copies
    # of the features for a moment, which is the larger here.
    from graphcl.validation import FINITE_CHECK_CHUNK
    assert est_d.parts['first step'] == max(n * f * 4,
                                            7 * FINITE_CHECK_CHUNK)
    assert est_d.first_step == {
        'row-normalisation: the features before and after': n * f * 4}
    d_low = estimate_full_batch(dense, 'dgi', {}, normalize_features=False)
    assert sum(d_low.first_step.values()) == 7 * FINITE_CHECK_CHUNK
    assert est_s.parts['first step'] == csr_bytes(n, nnz)  # normalising
    # Sparse pays its CSR rows and DGI's cache of them and their
    # transpose, not N x F.
    assert est_s.total < est_d.total - n * f * 4 + 3 * csr_bytes(n, nnz)
    # from_data reads a sparse x as sparse, and counts dense non-zeros.
    x = torch.zeros(50, 30)
    x[::7, 3] = 1.0
    data = Data(x=x.to_sparse_csr(), edge_index=torch.tensor([[0, 1],
                                                              [1, 0]]))
    s = GraphStats.from_data(data)
    assert s.sparse_features and s.feature_nnz == 8
    assert s.feature_bytes() == csr_bytes(50, 8)
    s = GraphStats.from_data(Data(x=x, edge_index=data.edge_index))
    assert not s.sparse_features and s.feature_nnz == 8
    assert s.num_edges == 2 and s.num_nodes == 50
    coo = GraphStats.from_data(Data(x=x.to_sparse(), edge_index=data.
                                    edge_index))
    assert coo.sparse_features and coo.feature_nnz == 8


def test_graph_stats_refuses_bad_values():
    with pytest.raises(ValueError, match='num_nodes'):
        GraphStats(-1, 0, 3)
    with pytest.raises(ValueError, match='feature_nnz'):
        GraphStats(2, 0, 3, feature_nnz=7)
    with pytest.raises(ValueError, match='feature_nnz'):
        GraphStats(2, 0, 3, sparse_features=True)
    with pytest.raises(ValueError, match='data.x'):
        GraphStats.from_data(Data(edge_index=torch.zeros(2, 0).long(),
                                  num_nodes=3))


def test_unknown_option_refused():
    with pytest.raises(ValueError, match='hiden'):
        estimate_full_batch(CORA, 'dgi', dict(hiden=3))
    # Training settings among the options are ignored.
    estimate_full_batch(CORA, 'dgi', dict(lr=0.1, epochs=3))


def test_check_fits_passes_and_refuses_with_estimate_and_batch_size():
    est = estimate_full_batch(BIG, 'dgi', dict(hidden=512))
    assert check_fits(est, est.total) is est
    assert check_fits(est, available=est.total + 2**30) is est
    with pytest.raises(OutOfMemoryEstimate) as info:
        check_fits(est, '12G')
    err = info.value
    assert isinstance(err, ValueError)
    msg = str(err)
    assert '\n' not in msg
    assert format_bytes(est.total) in msg and '12.0 GiB' in msg
    assert ('graphcl train dgi --dataset big --batch-size '
            in msg) and '--fanout 10' in msg
    assert err.suggestion is not None
    assert err.suggestion.total <= 12 * 2**30
    assert format_bytes(err.suggestion.total) in msg
    assert err.limit == 12 * 2**30 and err.estimate is est
    # The memory available (measured or given) is the default limit.
    with pytest.raises(OutOfMemoryEstimate, match='available'):
        check_fits(est, available=2**30)


def test_check_fits_without_a_fitting_batch_size():
    est = estimate_full_batch(CORA, 'dgi', dict(hidden=100_000))
    with pytest.raises(ValueError, match='reduce --hidden') as info:
        check_fits(est, '64G')
    assert info.value.suggestion is None
    assert 'no --batch-size run fits' in str(info.value)


def test_minibatch_estimate():
    small = estimate_minibatch(BIG, 'dgi', {}, batch_size=256,
                               fanout=[10, 10])
    large = estimate_minibatch(BIG, 'dgi', {}, batch_size=1024,
                               fanout=[10, 10])
    assert sum(small.training.values()) < sum(large.training.values())
    assert small.total <= large.total < total(BIG)
    assert large.command == ('graphcl train dgi --dataset big --batch-size '
                             '1024 --fanout 10,10')
    assert 'CSC adjacency of the sampler' in large.data
    assert 'mini-batch' in large.mode
    # DGI's mini-batch default is a GraphSAGE encoder, one layer per hop.
    assert large.parameters['parameters'] > small.parameters[
        'parameters'] // 2


@pytest.mark.parametrize('text,expected', [
    ('8G', 8 * 2**30), ('512M', 512 * 2**20), ('512m', 512 * 2**20),
    ('1.5G', int(1.5 * 2**30)), ('2048k', 2048 * 2**10), ('1T', 2**40),
    ('8GB', 8 * 2**30), ('8GiB', 8 * 2**30), (' 4 g ', 4 * 2**30),
    ('1073741824', 2**30), ('100b', 100), (1234, 1234)])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize('bad', ['', 'abc', '8X', '-1G', '0', '0.1', 'G',
                                 '1e3G', 'inf', '8 G B', 'iB', '8iB', 0, -5,
                                 True, 1.5, None])
def test_parse_memory_refuses(bad):
    with pytest.raises(ValueError, match='--max-memory'):
        parse_memory(bad)


def test_parse_memory_as_argparse_type(capsys):
    p = argparse.ArgumentParser(prog='graphcl')
    p.add_argument('--max-memory', type=parse_memory)
    assert p.parse_args(['--max-memory', '2G']).max_memory == 2 * 2**30
    with pytest.raises(SystemExit):
        p.parse_args(['--max-memory', '8X'])
    err = capsys.readouterr().err
    assert 'is not a memory size' in err and 'e.g. 8G' in err


def test_hooks_and_conservative_generic_default():
    spec = get_method('dgi')
    assert memory_hook(spec) is dgi_memory  # built-in, by its module
    assert memory_hook(get_method('grace')) is grace_memory
    calls = []

    def hook(s, options, model):
        calls.append((s.num_nodes, options['hidden']))
        return MethodMemory({'cache': 1}, {'acts': 2}, {'embed': 3})

    custom = register_method(MethodSpec('memhook', build_dgi, spec.defaults,
                                        memory=hook))
    try:
        est = estimate_full_batch(CORA, 'memhook', dict(hidden=32))
        assert calls == [(2708, 32)]
        assert est.constants == {'cache': 1}
        assert est.training == {'acts': 2}
        assert memory_hook(custom) is hook
    finally:
        METHODS.pop('memhook', None)
    # Without a hook, a generic estimate that errs on the high side of
    # every DGI path.
    from graphcl.memory import _shape_model
    for options in ({}, dict(layers=2), dict(encoder='sage')):
        opts = {**spec.defaults, **options}
        model = _shape_model(spec, CORA.num_features, options)
        for s in (CORA, BIG):
            exact = dgi_memory(s, opts, model)
            generic = generic_memory(s, opts, model)
            assert (sum(generic.training.values())
                    >= sum(exact.training.values())
                    + sum(exact.constants.values()))
            assert (sum(generic.embedding.values())
                    >= sum(exact.embedding.values()))


def test_grace_blocks_bound_the_loss():
    s = GraphStats(200_000, 2_000_000, 128)
    blocked = estimate_full_batch(s, 'grace', dict(block_size=512))
    dense = estimate_full_batch(s, 'grace', dict(block_size=0))
    assert dense.total > blocked.total + 3 * (2 * 200_000) ** 2 * 4 * 0.9
    assert any('similarity matrix' in k for k in dense.training)
    # With few edges the blocks are the step's largest transient.
    sparse = GraphStats(200_000, 200_000, 16)
    assert any('blocks of 512' in k for k in estimate_full_batch(
        sparse, 'grace', dict(block_size=512)).training)


def test_estimate_from_data_object():
    x = torch.rand(40, 6)
    ei = torch.randint(0, 40, (2, 120))
    data = Data(x=x, edge_index=ei)
    data.name = 'tiny'
    est = estimate_full_batch(data, 'dgi', dict(hidden=8), seeds=2)
    assert est.stats == GraphStats(40, 120, 6, 240, name='tiny')
    assert any('previous seed' in k for k in est.training)
    assert 'tiny' in str(est)


def test_tuned_allocator_keeps_small_blocks_through_embedding():
    s = GraphStats(13752, 491722, 767, name='Amazon-Computers')
    plain = estimate_full_batch(s, 'grace', {}, allocator_tuned=False)
    tuned = estimate_full_batch(s, 'grace', {}, allocator_tuned=True)
    assert plain.retained == 0 < tuned.retained <= 2**30
    assert tuned.parts['embedding'] == (plain.parts['embedding']
                                        + tuned.retained)
    assert tuned.total >= plain.total
    assert 'kept by the allocator' in str(tuned)
    # Activations in blocks over the mmap threshold are returned at once.
    big = estimate_full_batch(GraphStats(10**6, 10**7, 128), 'dgi',
                              dict(hidden=64), allocator_tuned=True)
    assert big.retained == 0


def test_engine_refuses_before_training(small_graph, capsys):
    from graphcl.experiment import run_experiment
    with pytest.raises(ValueError, match='--batch-size'):
        run_experiment('dgi', small_graph, epochs=2, hidden=8,
                       max_memory='1M', progress=False)
    assert 'memory estimate' in capsys.readouterr().err
    with pytest.raises(ValueError, match='max-memory|memory size'):
        run_experiment('dgi', small_graph, epochs=2, max_memory='lots',
                       progress=False, verbose=False)
    m = run_experiment('dgi', small_graph, epochs=2, hidden=8,
                       max_memory='16G', progress=False, verbose=False)
    assert m['epochs'] == [2]


def test_cli_hidden_100000_refused_with_estimate(tmp_path, small_graph,
                                                 capsys):
    from graphcl.cli import main
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code = main(['train', 'dgi', '--dataset', str(path), '--hidden',
                 '100000', '--max-memory', '4G', '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and 'graphcl: error:' in err and 'GiB' in err
    assert 'Traceback' not in err


# --- the first step, the two-view fast path, GGD and GraphMAE --------------

def test_first_step_transients_and_one_copy_of_the_features():
    s = GraphStats(100, 10, 20)
    est = estimate_full_batch(s, 'grace', {})
    # The engine replaces x by its row-normalised copy: one copy held.
    assert est.data['features (dense)'] == 100 * 20 * 4
    assert not any('normalised' in k for k in est.data)
    # Before the first step, both copies; at it, the input check's |x|
    # and three bool masks (7 bytes per entry): the larger counts.
    assert est.first_step == {
        'input check: isfinite(x), |x| and three bool masks (7 bytes per '
        'feature entry checked at once)': 7 * 100 * 20}
    sparse = GraphStats(100, 10, 20, 50, sparse_features=True)
    est = estimate_full_batch(sparse, 'grace', {})
    assert est.first_step == {'row-normalisation: the features before '
                              'and after': csr_bytes(100, 50)}
    assert sum(estimate_full_batch(sparse, 'grace', {},
                                   normalize_features=False)
               .first_step.values()) == 7 * 50
    p = est.parts
    assert est.total == est.held + max(p['first step'], p['training'],
                                       p['embedding'])
    assert est.training_total == est.held + max(p['first step'],
                                                p['training'])


GRACE_SMALL = dict(hidden=8, proj_hidden=4, layers=2, act='relu',
                   edge_drop_1=0.5, edge_drop_2=0.25, feature_mask_1=0.3,
                   feature_mask_2=0.4, tau=0.5, block_size=16)


def _built(method, f, **options):
    from graphcl.models import build_method
    opts = {**get_method(method).defaults, **options}
    return build_method(method, f, seed=0, **opts), opts


def test_grace_memory_follows_the_path():
    s = GraphStats(1000, 8000, 50)
    model, opts = _built('grace', 50, **GRACE_SMALL)
    fast = grace_memory(s, opts, model)
    assert fast.constants == {}  # dense features: no CSR rows
    assert fast.training == {
        'corrupted copies of the features': 2 * 1000 * 50 * 4,
        'normalised adjacency and transpose per view (CSR)':
        2 * csr_bytes(1000, 4000 + 1000) + 2 * csr_bytes(1000, 6000 + 1000),
        'edges of the views': 2 * 4000 * 8 + 2 * 6000 * 8,
        # ReLU keeps its output only: one (N, c) per layer and view.
        'activations (1 x N x c per layer, 2 layers x 2 views)':
        2 * 1000 * (16 + 8) * 4,
        'projection head (2 views: 2 x N x P)': 2 * 1000 * 2 * 4 * 4,
        'NT-Xent rows, scaled and normalised (2 x 2N x D)':
        2 * 2000 * 8 * 4,
        # Two blocks of 16 x 2N and the rows' gradient, above the
        # gradients of one layer (4 x 1000 x 16 floats).
        'NT-Xent in blocks of 16 rows (backward: 2 x B x 2N and 2N x D)':
        (2 * 16 * 2000 + 2000 * 8) * 4}
    # Small blocks the tuned allocator keeps: all of the above, and what
    # the step allocates and frees: H W per layer and view, the gradients
    # of one layer.
    assert fast.training.small == (sum(fast.training.values())
                                   + 2 * 1000 * (16 + 8) * 4
                                   + 4 * 1000 * 16 * 4)
    model.fast_path = False
    plain = grace_memory(s, opts, model)
    assert any('per-edge messages' in k for k in plain.training)
    assert not any('CSR' in k for k in plain.training)
    # An encoder the path refuses (a cached GCNConv) takes the plain one.
    model.fast_path = True
    model.encoder.convs[0].cached = True
    assert grace_memory(s, opts, model).training == plain.training
    # The model built without memory for the estimate takes the fast path.
    est = estimate_full_batch(s, 'grace', GRACE_SMALL)
    assert 'normalised adjacency and transpose per view (CSR)' in \
        est.training


def test_cca_ssg_memory_shares_the_two_view_part():
    from graphcl.memory import cca_ssg_memory
    s = GraphStats(1000, 8000, 50)
    assert memory_hook(get_method('cca_ssg')) is cca_ssg_memory
    views = dict(edge_drop=0.25, feature_mask=0.4)
    cca, opts = _built('cca_ssg', 50, hidden=8, layers=2, **views)
    grace, gopts = _built('grace', 50, **{**GRACE_SMALL, 'edge_drop_1': 0.25,
                                           'edge_drop_2': 0.25})
    c, g = cca_ssg_memory(s, opts, cca), grace_memory(s, gopts, grace)
    for key in ('corrupted copies of the features',
                'normalised adjacency and transpose per view (CSR)',
                'edges of the views'):
        assert c.training[key] == g.training[key]
    # The encoder's last layer has no activation: the ReLU layer keeps its
    # output, the last one its propagated rows (one (N, c) each).
    assert c.training['activations (1 x N x c per layer, 2 layers x 2 '
                      'views)'] == 2 * 1000 * (8 + 8) * 4
    assert c.training['centred and standardised embeddings (2 views: 2 x '
                      'N x D)'] == 2 * 2 * 1000 * 8 * 4
    assert c.training['correlation matrices (3 x D x D)'] == 3 * 8 * 8 * 4
    # The loss's backward (2 x N x D) is below one layer's gradients.
    assert c.training['gradients of one layer (4 x N x c)'] == 4 * 1000 * 8 * 4
    assert not any('NT-Xent' in k or 'projection' in k for k in c.training)
    # The MLP encoder (Coauthor-CS) takes the plain path.
    mlp, mopts = _built('cca_ssg', 50, hidden=8, encoder='mlp', **views)
    assert not any('CSR' in k for k in cca_ssg_memory(s, mopts, mlp).training)


def test_two_view_fast_path_is_shared_by_grace_and_bgrl():
    from graphcl.memory import gcn_views_memory
    from graphcl.models.bgrl_memory import bgrl_memory
    s = GraphStats(1000, 8000, 50, 1000)  # 2 % non-zero: CSR rows
    constants, views = gcn_views_memory(s, [], [0.5, 0.75], masked=2)
    assert constants == {'features as CSR rows (cache)':
                         csr_bytes(1000, 1000)}
    assert views['masked copies of the CSR rows and their transposes '
                 '(first layer backward)'] == 4 * csr_bytes(1000, 1000)
    grace, opts = _built('grace', 50, **GRACE_SMALL)
    bgrl, bopts = _built('bgrl', 50, hidden=8, out_channels=4,
                         pred_hidden=8, edge_drop_1=0.5, edge_drop_2=0.25)
    g = grace_memory(s, opts, grace)
    b = bgrl_memory(s, bopts, bgrl)
    assert g.constants == b.constants == constants
    for key in ('masked copies of the CSR rows and their transposes '
                '(first layer backward)',
                'normalised adjacency and transpose per view (CSR)',
                'edges of the views'):
        assert g.training[key] == b.training[key]
    # BGRL's online layers keep three (N, c): rows, batch norm, PReLU.
    assert b.training['online activations (3 x N x c per layer, 2 layers '
                      'x 2 views)'] == 2 * 3 * 1000 * (8 + 4) * 4


def test_ggd_memory():
    from graphcl.memory import ggd_memory
    assert memory_hook(get_method('ggd')) is ggd_memory
    s = GraphStats(1000, 8000, 50)
    model, opts = _built('ggd', 50, hidden=8, power=3)
    fast = ggd_memory(s, opts, model)
    assert fast.constants == {'normalised adjacency and transpose (CSR)':
                              2 * csr_bytes(1000, 9000)}
    # Dense features: the cache counts their non-zeros without a mask and
    # keeps them dense, nothing more at the first step.
    assert fast.first_step == {}
    # Mostly-zero dense features: the cache gathers the non-zeros.
    rare = ggd_memory(GraphStats(1000, 8000, 50, 2000), opts, model)
    assert list(rare.first_step.values()) == [20 * 2000]
    assert fast.training == {
        # PReLU: the propagated rows and its output, in both branches.
        'activations (1 layers x 2 branches: the propagated rows and the '
        'activation\'s output)': 2 * 2 * 1000 * 8 * 4,
        'gradients of one layer (4 x N x c)': 4 * 1000 * 8 * 4}
    assert fast.embedding == {
        'propagation H + A^3 H (3 x N x D, the normalised edges and their '
        'CSR matrix)': 3 * 1000 * 8 * 4 + 9000 * 48}
    wide = GraphStats(1000, 8000, 500)
    est = estimate_full_batch(wide, 'ggd', dict(hidden=8, power=3))
    assert sum(est.first_step.values()) == 7 * 1000 * 500  # NaN check
    assert est.peak_phase == 'first step'
    # Sparse features: X and X^T cached as CSR, nothing gathered.
    sparse = ggd_memory(GraphStats(1000, 8000, 50, 1000,
                                   sparse_features=True), opts, model)
    assert sparse.first_step == {}
    assert 'features and transpose (CSR cache)' in sparse.constants
    # Another encoder: PyG's message passing, no cache.
    model, opts = _built('ggd', 50, hidden=8, encoder='sage')
    plain = ggd_memory(s, opts, model)
    assert plain.constants == {} and plain.first_step == {}
    assert any('per-edge messages' in k for k in plain.training)


def test_graphmae_memory_terms():
    from graphcl.models.graphmae import graphmae_memory
    s = GraphStats(1000, 8000, 300)
    model, opts = _built('graphmae', 300, hidden=64, heads=4)
    t = graphmae_memory(s, opts, model).training
    n, f, d, m, e = 1000, 300, 64, 500, 9000
    assert t == {
        'first layer input: dropped features and the dropout noise '
        '(2 x N x F)': 2 * n * f * 4,
        'later layers: dropped inputs and dropout noise (2 x N x c)':
        2 * n * d * 4,
        'encoder: projected rows and outputs (2 x N x c per layer, 2 '
        'layers)': 2 * 2 * n * d * 4,
        'encoder: gathered rows of every edge (9,000 x c per layer)':
        2 * e * d * 4,
        "encoder: attention per edge (4 x E' x heads per layer)":
        2 * 4 * e * 4 * 4,
        're-masked embeddings, kept rows ((N - M) x D)': (n - m) * d * 4,
        'decoder: dropped input and dropout noise (2 x N x D)':
        2 * n * d * 4,
        # The decoder aggregates first (D < F), the masked rows only.
        'decoder: gathered rows (4,500 x 64)': e * m // n * d * 4,
        'decoder: aggregated rows (M x D)': m * d * 4,
        'reconstruction of the masked rows and their normalised targets '
        '(2 x M x F)': 2 * m * f * 4,
        # The backward pass of a layer's messages: 3 x 9000 x 64 floats,
        # more than the loss's gradients, 4 x 500 x 300.
        "message gradients per edge, 3 x E' x c (encoder layer 2: 9,000 x "
        "64, backward)": 3 * e * d * 4}
    few_edges = graphmae_memory(GraphStats(1000, 1000, 3000), opts,
                                _built('graphmae', 3000, hidden=64,
                                       heads=4)[0]).training
    assert few_edges['loss gradients through the row normalisation (4 x M '
                     'x F, backward)'] == 4 * m * 3000 * 4
    model, opts = _built('graphmae', 300, hidden=64, heads=4, in_drop=0.0)
    t = graphmae_memory(s, opts, model).training
    assert t['first layer input: the masked features (N x F)'] == n * f * 4
    assert not any('dropout' in k for k in t)
