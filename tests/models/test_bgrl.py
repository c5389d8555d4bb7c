r"""BGRL (graphcl.models.bgrl): the loss by hand, the target's moving
average and its cosine momentum, the learning-rate schedule, the target
outside autograd and the optimiser, mini-batches, checkpoint/resume, the
settings, bad input, and a short Cora run."""
import io
import json
import math

import numpy as np
import pytest
import torch

from graphcl import run_experiment
from graphcl.cli import main
from graphcl.corruptions import Compose, EdgeDrop, FeatureMask, NodeDrop
from graphcl.eval import linear_probe
from graphcl.models import build_method, get_method, method_settings
from graphcl.models.bgrl import (BGRL, BatchNormPReLU, BGRLEncoder,
                                 bootstrap_loss, cosine_momentum,
                                 warmup_cosine)
from graphcl.train import pretrain
from tests.conftest import make_graph

SMALL = dict(hidden=16, out_channels=8, pred_hidden=16)


@pytest.fixture
def small_graph():
    from graphcl.data import random_node_split
    return random_node_split(make_graph(40, 6), train=0.3, val=0.2, seed=0)


def small_bgrl(seed=0, **options):
    torch.manual_seed(seed)
    return build_method('bgrl', 6, seed=seed, **{**SMALL, **options})


def identity_bgrl():
    return BGRL(torch.nn.Identity(), torch.nn.Identity(), EdgeDrop(0.0),
                EdgeDrop(0.0))


# --- the loss ------------------------------------------------------------

def test_bootstrap_loss_hand_computed():
    # cos([1, 0], [1, 1]) = 1/sqrt(2), cos([0, 2], [0, -3]) = -1.
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([[1.0, 1.0], [0.0, -3.0]])
    expected = 1 - (1 / math.sqrt(2) - 1) / 2
    assert bootstrap_loss(q, y).item() == pytest.approx(expected, abs=1e-6)


def test_symmetric_loss_hand_computed():
    # The reference code's loss, 2 - cos(q1, y2).mean() - cos(q2, y1).mean(),
    # with an identity predictor: the cosines are computed by hand.
    h1 = torch.tensor([[1.0, 0.0], [3.0, 4.0]])
    h2 = torch.tensor([[0.0, 1.0], [4.0, 3.0]])
    y1 = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    y2 = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    # cos(h1, y2) = [1, 0.8]; cos(h2, y1) = [1/sqrt(2), 0.8]
    expected = 2 - (1 + 0.8) / 2 - (1 / math.sqrt(2) + 0.8) / 2
    loss = identity_bgrl().loss(h1, h2, y1, y2)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_loss_gives_the_target_side_no_gradient():
    h1, h2, y1, y2 = (torch.randn(5, 3, requires_grad=True)
                      for _ in range(4))
    identity_bgrl().loss(h1, h2, y1, y2).backward()
    assert h1.grad is not None and h2.grad is not None
    assert y1.grad is None and y2.grad is None


@pytest.mark.parametrize('shapes', [((3, 2), (3, 4)), ((0, 2), (0, 2)),
                                    ((3, ), (3, ))])
def test_bootstrap_loss_refuses_bad_shapes(shapes):
    with pytest.raises(ValueError, match='bootstrap_loss'):
        bootstrap_loss(torch.ones(shapes[0]), torch.ones(shapes[1]))


# --- the target: moving average, momentum schedule -------------------------

def test_cosine_momentum_formula():
    for k in range(11):
        expected = 1 - (1 - 0.99) * (math.cos(math.pi * k / 10) + 1) / 2
        assert cosine_momentum(k, 10, 0.99) == pytest.approx(expected)
    assert cosine_momentum(0, 10, 0.99) == pytest.approx(0.99)
    assert cosine_momentum(5, 10, 0.99) == pytest.approx(0.995)
    assert cosine_momentum(10, 10, 0.99) == pytest.approx(1.0)
    assert cosine_momentum(12, 10, 0.99) == pytest.approx(1.0)


def test_update_target_is_the_moving_average():
    m = small_bgrl()
    target_before = {k: v.clone() for k, v in
                     m.target_encoder.named_buffers()}
    online = dict(m.encoder.named_parameters())
    m.update_target(0.9)
    after = dict(m.target_encoder.named_buffers())
    for name, param in online.items():
        expected = 0.9 * target_before[name] + 0.1 * param.detach()
        assert torch.allclose(after[name], expected, atol=1e-7), name
    # Batch norm statistics are the target's own, not averaged.
    for name in after:
        if 'running' in name or 'num_batches' in name:
            assert torch.equal(after[name], target_before[name])


def test_on_step_follows_the_cosine_schedule():
    # on_step after step k moves the target with tau_k of the run's K
    # steps; the online encoder is changed between steps by hand.
    m = small_bgrl()
    opt = torch.optim.SGD(m.parameters(), lr=0.0)
    m.begin_training(opt, epochs=4)
    gen = torch.Generator().manual_seed(0)
    for k in range(6):
        with torch.no_grad():
            for p in m.encoder.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        tau = 1 - (1 - 0.99) * (math.cos(math.pi * min(k, 4) / 4) + 1) / 2
        assert m.current_momentum() == pytest.approx(tau)
        before = {k_: v.clone() for k_, v in
                  m.target_encoder.named_buffers()}
        m.on_step()
        after = dict(m.target_encoder.named_buffers())
        for name, p in m.encoder.named_parameters():
            assert torch.allclose(after[name],
                                  tau * before[name] + (1 - tau) * p,
                                  atol=1e-6)
        assert int(m.num_steps) == k + 1


def test_momentum_is_constant_without_begin_training():
    m = small_bgrl(momentum=0.9)
    for _ in range(3):
        assert m.current_momentum() == 0.9
        m.on_step()


def test_target_starts_from_its_own_initialisation():
    m = small_bgrl()
    online = dict(m.encoder.named_parameters())
    target = dict(m.target_encoder.named_buffers())
    assert not torch.equal(online['convs.0.lin.weight'],
                           target['convs.0.lin.weight'])


# --- the learning rate -----------------------------------------------------

def reference_lr(step, lr, warmup, total):
    # The reference code's CosineDecayScheduler(lr, warmup, total).get(step).
    if step < warmup:
        return lr * step / warmup
    return lr * (1 + np.cos((step - warmup) * np.pi / (total - warmup))) / 2


def test_learning_rate_schedule_is_the_reference_codes():
    m = small_bgrl(lr_warmup=0.1)
    opt = torch.optim.Adam(m.parameters(), lr=5e-4)
    m.begin_training(opt, epochs=50, steps_per_epoch=2)  # K=100, W=10
    assert (m.total_steps, m.warmup_steps) == (100, 10)
    for step in range(100):
        assert opt.param_groups[0]['lr'] == pytest.approx(
            reference_lr(step, 5e-4, 10, 100), abs=1e-12)
        m.on_step()
    assert warmup_cosine(100, 100, 10) == pytest.approx(0.0)
    assert warmup_cosine(150, 100, 10) == 0.0


def test_constant_schedule_leaves_the_learning_rate():
    m = small_bgrl(lr_schedule='constant')
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m.begin_training(opt, epochs=10)
    for _ in range(3):
        m.on_step()
        assert opt.param_groups[0]['lr'] == 1e-3


# --- the target outside autograd and the optimiser -------------------------

def test_target_is_not_a_parameter_and_gets_no_gradient(small_graph):
    m = small_bgrl()
    params = {id(p) for p in m.parameters()}
    targets = list(m.target_encoder.buffers())
    assert not any(id(t) in params for t in targets)
    assert list(m.target_encoder.parameters()) == []
    m.objective(small_graph).backward()
    assert all(not t.requires_grad and t.grad is None for t in targets)
    assert all(p.grad is not None for p in m.encoder.parameters())
    assert all(p.grad is not None for p in m.predictor.parameters())


def test_engine_optimizer_holds_no_target_weight(small_graph, monkeypatch):
    # The optimiser the engine builds (and hands to begin_training) holds
    # the online encoder's and the predictor's parameters only.
    seen = {}
    original = BGRL.begin_training

    def spy(self, optimizer, epochs, steps_per_epoch=1):
        seen.update(model=self, optimizer=optimizer, epochs=epochs,
                    steps=steps_per_epoch)
        return original(self, optimizer, epochs, steps_per_epoch)

    monkeypatch.setattr(BGRL, 'begin_training', spy)
    run_experiment('bgrl', small_graph, epochs=3, progress=False,
                   verbose=False, **SMALL)
    m, opt = seen['model'], seen['optimizer']
    held = {id(p) for g in opt.param_groups for p in g['params']}
    assert held == {id(p) for p in m.parameters()}
    assert not held & {id(t) for t in m.target_encoder.buffers()}
    assert (seen['epochs'], seen['steps']) == (3, 1)
    assert int(m.num_steps) == 3  # on_step ran after every step
    # The reference code's AdamW (decoupled weight decay) by default.
    assert type(opt) is torch.optim.AdamW
    seen.clear()
    m = run_experiment('bgrl', small_graph, epochs=1, progress=False,
                       verbose=False, optimizer='adam', **SMALL)
    assert type(seen['optimizer']) is torch.optim.Adam
    assert m['config']['optimizer'] == 'adam'


def test_adamw_decays_the_weights_apart_from_the_gradient():
    model = build_method('bgrl', 6, hidden=4, out_channels=4, pred_hidden=4)
    opt = model.configure_optimizer(lr=0.1, weight_decay=0.5)
    assert type(opt) is torch.optim.AdamW
    assert opt.defaults['lr'] == 0.1 and opt.defaults['weight_decay'] == 0.5
    before = [p.detach().clone() for p in model.parameters()]
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for b, p in zip(before, model.parameters()):
        assert torch.allclose(p.detach(), b * (1 - 0.1 * 0.5))
    adam = build_method('bgrl', 6, hidden=4, out_channels=4, pred_hidden=4,
                        optimizer='adam').configure_optimizer(lr=0.1)
    assert type(adam) is torch.optim.Adam


def test_on_step_is_where_the_target_moves(small_graph):
    # A step without on_step leaves the target; pretrain calls on_step.
    m = small_bgrl()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    before = {k: v.clone() for k, v in m.target_encoder.named_buffers()
              if 'running' not in k and 'num_batches' not in k}
    opt.zero_grad()
    m.objective(small_graph).backward()
    opt.step()
    now = dict(m.target_encoder.named_buffers())
    assert all(torch.equal(now[k], v) for k, v in before.items())
    pretrain(m, lambda: m.objective(small_graph), opt, epochs=2,
             patience=0, on_step=m.on_step, restore_best=False)
    now = dict(m.target_encoder.named_buffers())
    assert int(m.num_steps) == 2
    assert all(not torch.equal(now[k], v) for k, v in before.items())


def test_parameters_to_vector():
    m = small_bgrl()
    vec = torch.nn.utils.parameters_to_vector(m.parameters())
    assert vec.numel() == sum(p.numel() for p in m.parameters())
    online = sum(p.numel() for p in m.encoder.parameters())
    head = sum(p.numel() for p in m.predictor.parameters())
    assert vec.numel() == online + head


# --- the parts -------------------------------------------------------------

def test_built_from_the_parts():
    m = small_bgrl(layers=2, edge_drop_1=0.5, feature_mask_1=0.2,
                   edge_drop_2=0.4, feature_mask_2=0.1)
    assert isinstance(m.encoder, BGRLEncoder)
    widths = [(c.in_channels, c.out_channels) for c in m.encoder.convs]
    assert widths == [(6, 16), (16, 8)]
    assert all(isinstance(a, BatchNormPReLU) for a in m.encoder.acts)
    assert m.encoder.acts[0].norm.momentum == 0.99
    assert m.encoder.acts[0].act.weight.numel() == 1  # one PReLU slope
    assert m.predictor.lin1.out_features == 16
    assert m.predictor.lin2.out_features == 8
    for view, (e, f) in ((m.view1, (0.5, 0.2)), (m.view2, (0.4, 0.1))):
        assert isinstance(view, Compose)
        edge, feat = view.corruptions
        assert isinstance(edge, EdgeDrop) and edge.p == e
        assert isinstance(feat, FeatureMask) and feat.p == f


def test_layerwise_inference_equals_embed(small_graph):
    from graphcl.inference import layerwise_inference
    m = small_bgrl()
    m.objective(small_graph)  # batch norm statistics of a training pass
    z = m.embed(small_graph)
    z_lw = layerwise_inference(m.encoder.eval(), small_graph, batch_size=7)
    assert torch.allclose(z, z_lw, atol=1e-5)


def test_same_seed_same_loss(small_graph):
    losses = []
    for _ in range(2):
        m = small_bgrl(seed=3)
        losses.append([m.objective(small_graph).item() for _ in range(3)])
    assert losses[0] == losses[1]
    assert len(set(losses[0])) == 3  # fresh views every step


# --- mini-batches ----------------------------------------------------------

def test_run_experiment_minibatch(small_graph, monkeypatch):
    seen = {}
    original = BGRL.begin_training

    def spy(self, optimizer, epochs, steps_per_epoch=1):
        seen.update(model=self, epochs=epochs, steps=steps_per_epoch)
        return original(self, optimizer, epochs, steps_per_epoch)

    monkeypatch.setattr(BGRL, 'begin_training', spy)
    metrics = run_experiment('bgrl', small_graph, epochs=2, batch_size=16,
                             fanout=[3, 3], progress=False, verbose=False,
                             **SMALL)
    assert metrics['config']['fanout'] == [3, 3]
    assert 0 <= metrics['test_acc_mean'] <= 100
    assert seen['steps'] == 3  # ceil(40 / 16) batches per epoch
    assert int(seen['model'].num_steps) == 6


def test_minibatch_sparse_rows_equal_dense(small_graph):
    # The sampled subgraph's features as CSR rows or dense: same loss.
    from graphcl.sampling import make_neighbor_sampler, neighbor_loader
    from graphcl.sampling.features import to_sparse_rows
    data = small_graph.clone()
    data.x = data.x * (torch.rand(data.x.shape,
                                  generator=torch.Generator().manual_seed(0))
                       < 0.3)
    sampler = make_neighbor_sampler(data, [3, 3])
    batch = next(iter(neighbor_loader(data, batch_size=8, sampler=sampler,
                                      shuffle=False)))
    losses = []
    for sparse in (False, True):
        m = small_bgrl(seed=1, edge_drop_1=0.3, feature_mask_1=0.3)
        b = batch.clone()
        if sparse:
            b.x = to_sparse_rows(b.x)
        losses.append(m.minibatch_objective(b))
    assert torch.allclose(losses[0], losses[1], atol=1e-5)


@pytest.mark.parametrize('minibatch', [False, True])
def test_views_that_remove_nodes_are_refused(small_graph, minibatch):
    # The loss pairs row i of one view's prediction with row i of the other
    # view's target: a view that drops and relabels nodes would pair other
    # nodes (silently, when the counts agree).
    model = small_bgrl()
    model.view1 = NodeDrop(0.5, relabel=True)
    with pytest.raises(ValueError, match=r'View 1 has \d+ nodes.*'
                       r'NodeDrop\(relabel=False\)'):
        if minibatch:
            from graphcl.sampling import make_neighbor_sampler, \
                neighbor_loader
            sampler = make_neighbor_sampler(small_graph, [3, 3])
            batch = next(iter(neighbor_loader(
                small_graph, batch_size=8, sampler=sampler, shuffle=False)))
            model.minibatch_objective(batch)
        else:
            model.objective(small_graph)


# --- checkpoint and resume -------------------------------------------------

def test_resume_restores_the_target_network(small_graph):
    # Interrupted after 3 of 6 epochs, saved as the engine saves
    # checkpoints (torch.save, read back with weights_only=True) and
    # resumed into a fresh model: the same target, step count, learning
    # rate and losses as the uninterrupted run.
    def run(resume=None, stop_at=None):
        m = small_bgrl(seed=2)
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        m.begin_training(opt, epochs=6)
        saved = {}

        def on_epoch_end(epoch, state):
            if epoch == stop_at:
                buf = io.BytesIO()
                torch.save(state(), buf)
                buf.seek(0)
                saved['state'] = torch.load(buf, weights_only=True)
                raise KeyboardInterrupt

        try:
            result = pretrain(m, lambda: m.objective(small_graph), opt,
                              epochs=6, patience=0, on_step=m.on_step,
                              restore_best=False, resume=resume,
                              on_epoch_end=on_epoch_end)
        except KeyboardInterrupt:
            return m, opt, saved['state'], None
        return m, opt, None, result

    full, full_opt, _, full_result = run()
    _, _, state, _ = run(stop_at=3)
    assert any(k.startswith('target_encoder.') for k in state['model'])
    resumed, resumed_opt, _, result = run(resume=state)
    assert result.losses == full_result.losses
    assert int(resumed.num_steps) == int(full.num_steps) == 6
    assert resumed_opt.param_groups[0]['lr'] == full_opt.param_groups[0]['lr']
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if 'target' in k)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_run_folder_resume_equals_uninterrupted(small_graph, tmp_path,
                                                monkeypatch):
    # Through run_experiment: a run stopped during epoch 4 (checkpoint
    # after every epoch) and resumed ends with the uninterrupted run's
    # encoder and accuracy.
    def go(out, **kw):
        return run_experiment('bgrl', small_graph, epochs=6, out=str(out),
                              checkpoint_every=1, progress=False,
                              verbose=False, **SMALL, **kw)

    full = go(tmp_path / 'full')
    original = BGRL.on_step

    def stop_in_epoch_4(self):
        if int(self.num_steps) == 3:
            raise KeyboardInterrupt
        original(self)

    monkeypatch.setattr(BGRL, 'on_step', stop_in_epoch_4)
    with pytest.raises(KeyboardInterrupt):
        go(tmp_path / 'cut')
    ckpt = torch.load(tmp_path / 'cut' / 'checkpoint.pt', weights_only=True)
    assert ckpt['epoch'] == 3 and int(ckpt['model']['num_steps']) == 3
    assert any(k.startswith('target_encoder.') for k in ckpt['model'])
    monkeypatch.setattr(BGRL, 'on_step', original)
    steps = []
    monkeypatch.setattr(BGRL, 'on_step',
                        lambda self: steps.append(1) or original(self))
    resumed = go(tmp_path / 'cut', resume=True)
    assert len(steps) == 3  # epochs 4-6 only: it resumed
    assert resumed['test_acc'] == full['test_acc']
    enc_full = torch.load(tmp_path / 'full' / 'encoder.pt', weights_only=True)
    enc_cut = torch.load(tmp_path / 'cut' / 'encoder.pt', weights_only=True)
    assert all(torch.equal(enc_full[k], enc_cut[k]) for k in enc_full)


# --- settings and bad input ------------------------------------------------

def test_presets_name_their_source_and_flags_override():
    spec = get_method('bgrl')
    assert 'nerdslab/bgrl' in spec.source
    cs = method_settings('bgrl', 'Coauthor-CS')
    assert (cs['hidden'], cs['out_channels'], cs['lr']) == (512, 256, 1e-5)
    assert (cs['edge_drop_1'], cs['feature_mask_1'], cs['edge_drop_2'],
            cs['feature_mask_2']) == (0.3, 0.3, 0.2, 0.4)
    assert cs['epochs'] == 10000 and cs['patience'] == 0
    assert cs['keep'] == 'last'
    photo = method_settings('bgrl', 'Amazon-Photo', hidden=64, lr=0.01)
    assert (photo['hidden'], photo['lr']) == (64, 0.01)
    assert photo['edge_drop_1'] == 0.4 and photo['feature_mask_2'] == 0.2


@pytest.mark.parametrize('option,value', [
    ('edge_drop_1', 1.5), ('edge_drop_2', -0.1), ('feature_mask_1', 2.0),
    ('feature_mask_2', float('nan')), ('momentum', 1.01),
    ('bn_momentum', -1.0), ('lr_warmup', 1.0), ('lr_schedule', 'step'),
    ('hidden', 0), ('out_channels', 2.5), ('layers', 0),
    ('pred_hidden', -4), ('optimizer', 'sgd')])
def test_bad_option_names_the_option(option, value):
    with pytest.raises(ValueError, match=f"'{option}'"):
        build_method('bgrl', 6, **{option: value})


def test_bad_options_fail_before_training(small_graph, monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError('trained despite a bad option')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    for option, value in (('momentum', 2.0), ('lr_warmup', -0.5),
                          ('edge_drop_2', 3.0)):
        with pytest.raises(ValueError, match=f"'{option}'"):
            run_experiment('bgrl', small_graph, progress=False,
                           verbose=False, **{option: value})
    with pytest.raises(ValueError, match='Unknown option'):
        run_experiment('bgrl', small_graph, tau=0.5, progress=False,
                       verbose=False)


def test_target_must_match_the_encoder():
    from graphcl.nn import GCNEncoder
    with pytest.raises(ValueError, match="'target_encoder'"):
        BGRL(GCNEncoder(6, 8), torch.nn.Identity(), EdgeDrop(0.1),
             EdgeDrop(0.1), target_encoder=GCNEncoder(6, 4))


def test_cli_help_shows_bgrl_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'bgrl', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ('--hidden', '--out-channels', '--pred-hidden',
                   '--edge-drop-1', '--feature-mask-2', '--momentum',
                   '--lr-warmup', '--lr-schedule', '--bn-momentum',
                   '--epochs', '--batch-size'):
        assert option in out, option
    assert 'nerdslab/bgrl' in out


def test_cli_train(small_graph, tmp_path, capsys):
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code = main(['train', 'bgrl', '--dataset', str(path), '--epochs', '2',
                 '--hidden', '16', '--out-channels', '8', '--pred-hidden',
                 '16', '--momentum', '0.9', '--out', str(tmp_path / 'run'),
                 '--quiet'])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / 'run' / 'metrics.json') as f:
        config = json.load(f)['config']
    assert config['momentum'] == 0.9 and config['keep'] == 'last'


# --- it learns -------------------------------------------------------------

def test_short_cora_run_beats_a_random_encoder(shared_root):
    # A short run at a small width: BGRL's embeddings must be clearly
    # better than the same encoder's at initialisation.
    from graphcl.data import load_dataset
    data = load_dataset('Cora', root=shared_root)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    options = dict(hidden=64, out_channels=32, pred_hidden=64)
    torch.manual_seed(0)
    random_model = build_method('bgrl', data.num_features, seed=0, **options)
    random_model.objective(data)  # batch norm statistics, as trained ones
    before = linear_probe(random_model.embed(data), data.y,
                          data.train_mask, data.val_mask, data.test_mask)
    metrics = run_experiment('bgrl', 'Cora', root=str(shared_root),
                             epochs=CORA_EPOCHS, lr=CORA_LR,
                             progress=False, verbose=False, **options)
    # Measured: 49.5 at initialisation, 67.1 after 30 epochs (seed 0).
    assert metrics['test_acc_mean'] > 100 * before.test_acc + 10
    assert metrics['test_acc_mean'] > 60


CORA_EPOCHS, CORA_LR = 30, 0.01


# --- the fast path (graphcl.models.gcn_views) ------------------------------

def _loss_and_grads(m, data, fast):
    m.fast_path = fast
    for v in (m.view1, m.view2):
        v.corruptions[0].generator.manual_seed(7)
    m.zero_grad()
    loss = m.objective(data)
    loss.backward()
    return loss, {n: p.grad.clone() for n, p in m.named_parameters()}


@pytest.mark.parametrize('weighted', [False, True])
def test_fast_path_equals_the_plain_path(small_graph, weighted):
    data = small_graph.clone()
    # A duplicate edge and a self-loop: summed and kept as PyG does.
    data.edge_index = torch.cat([data.edge_index,
                                 torch.tensor([[0, 3], [1, 3]])], dim=1)
    if weighted:
        data.edge_weight = torch.rand(data.edge_index.size(1),
                                      generator=torch.Generator()
                                      .manual_seed(0)) + 0.5
    m = small_bgrl(edge_drop_1=0.3, edge_drop_2=0.2, feature_mask_1=0.2)
    m.train()
    assert m.fast_path_refusal(m.view1(data.x, data.edge_index)) is None
    loss_fast, grads_fast = _loss_and_grads(m, data, True)
    loss_plain, grads_plain = _loss_and_grads(m, data, False)
    assert torch.allclose(loss_fast, loss_plain, atol=1e-6)
    for name in grads_plain:
        assert torch.allclose(grads_fast[name], grads_plain[name],
                              atol=1e-5, rtol=1e-4), name


def test_fast_path_with_sparse_features_equals_the_plain_path():
    # Mostly-zero features: the views are drawn from CSR rows (the same
    # draws) and the first layer multiplies them as CSR.
    gen = torch.Generator().manual_seed(0)
    data = make_graph(60, 200)
    data.x = data.x * (torch.rand(data.x.shape, generator=gen) < 0.02)
    m = small_bgrl(feature_mask_1=0.3, feature_mask_2=0.2, edge_drop_1=0.2)
    m.encoder = BGRLEncoder(200, 16, 8)
    m.target_encoder = build_method('bgrl', 200, **SMALL).target_encoder
    assert m._feature_rows(data.x) is not None
    loss_fast, grads_fast = _loss_and_grads(m, data, True)
    loss_plain, grads_plain = _loss_and_grads(m, data, False)
    assert torch.allclose(loss_fast, loss_plain, atol=1e-6)
    # The GCN biases feed batch norm: their exact gradient is 0, and in
    # float32 both paths return cancellation noise amplified by the norm's
    # 1/sigma (about 2e-5 and 6e-6 on one CPU here, against 1e-14 in
    # float64), so they are held to that noise floor; every other gradient
    # to float32 agreement. Then the same comparison in float64, where both
    # paths must agree to 1e-10 on everything.
    zero = {f'encoder.convs.{i}.bias' for i in range(len(m.encoder.convs))}
    for name in grads_plain:
        if name in zero:
            assert grads_fast[name].abs().max() < 1e-4, name
            assert grads_plain[name].abs().max() < 1e-4, name
        else:
            assert torch.allclose(grads_fast[name], grads_plain[name],
                                  atol=1e-5, rtol=1e-4), name
    m64, data64 = m.double(), data.clone()
    data64.x = data64.x.double()
    m64.fast_path = True
    assert m64.fast_path_refusal((data64.x, data64.edge_index)) is None
    loss_fast, grads_fast = _loss_and_grads(m64, data64, True)
    loss_plain, grads_plain = _loss_and_grads(m64, data64, False)
    assert torch.allclose(loss_fast, loss_plain, atol=1e-12)
    for name in grads_plain:
        assert torch.allclose(grads_fast[name], grads_plain[name],
                              atol=1e-10, rtol=1e-8), name
    m.float()
    assert m._feature_rows(data.x) is m._feature_rows(data.x)  # cached
    data.x.mul_(2)  # an in-place change: rebuilt
    rows = m._feature_rows(data.x)
    assert torch.equal(rows.to_dense(), data.x)


def test_fast_path_refuses_what_it_does_not_compute(small_graph):
    from torch_geometric.nn import GCNConv
    m = small_bgrl()
    view = (small_graph.x, small_graph.edge_index)
    assert m.fast_path_refusal(view) is None
    m.encoder.convs[1] = GCNConv(16, 8, normalize=False)
    assert 'normalize' in m.fast_path_refusal(view)
    m = small_bgrl()
    m.encoder.convs[0].register_forward_hook(lambda *a: None)
    assert 'hook' in m.fast_path_refusal(view)
    m = small_bgrl()
    assert 'gradients' in m.fast_path_refusal(
        (small_graph.x.requires_grad_(), small_graph.edge_index))
    assert 'dense' in m.fast_path_refusal(
        (small_graph.x.detach().to_sparse(), small_graph.edge_index))
    m.fast_path = False
    assert m.fast_path_refusal(view) == 'fast_path is off'


# --- memory ------------------------------------------------------------------

def test_memory_estimate_fits_coauthor_physics_in_24_gib():
    # Coauthor-Physics' sizes with the preset (measured for one epoch:
    # 4.6 GiB peak, benchmarks/results/bgrl.md).
    from graphcl.memory import GraphStats, estimate_full_batch
    stats = GraphStats(34493, 495924, 8415, feature_nnz=34493 * 8415)
    options = method_settings('bgrl', 'Coauthor-Physics')
    fast = estimate_full_batch(stats, get_method('bgrl'), options)
    assert 'normalised adjacency and transpose per view' in str(fast)
    assert fast.total < 24 * 2 ** 30


def test_memory_hook_follows_the_path():
    from graphcl.memory import GraphStats
    from graphcl.models.bgrl_memory import bgrl_memory
    stats = GraphStats(1000, 8000, 50)
    options = method_settings('bgrl', None)
    m = small_bgrl()
    fast = bgrl_memory(stats, options, m)
    m.fast_path = False
    plain = bgrl_memory(stats, options, m)
    assert any('CSR' in k for k in fast.training)
    assert any('per-edge messages' in k or 'activations' in k
               for k in plain.training)
    assert not any('CSR' in k for k in plain.training)


def test_reset_parameters_resets_both_networks_and_the_step_count():
    m = small_bgrl()
    m.on_step()
    before = {k: v.clone() for k, v in m.target_encoder.named_buffers()}
    online = {k: v.clone() for k, v in m.encoder.named_parameters()}
    m.reset_parameters()
    assert int(m.num_steps) == 0
    assert list(m.target_encoder.parameters()) == []
    after = dict(m.target_encoder.named_buffers())
    assert not torch.equal(after['convs.0.lin.weight'],
                           before['convs.0.lin.weight'])
    assert not torch.equal(m.encoder.convs[0].lin.weight,
                           online['convs.0.lin.weight'])
