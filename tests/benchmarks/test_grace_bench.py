r"""benchmarks/grace.py: the speed and memory setup builds both
implementations from the preset and trains an epoch of each."""
import pytest
import torch

from tests.benchmarks.conftest import benchmark_module


@pytest.fixture(scope='module')
def gb():
    with benchmark_module('grace') as module:
        yield module


def test_speed_setup_trains_both(gb, shared_root):
    threads = torch.get_num_threads()
    try:
        epochs, settings, data, _ = gb.speed_setup(str(shared_root), 'Cora')
        losses = {name: fn() for name, fn in epochs.items()}
    finally:
        torch.set_num_threads(threads)
    assert set(losses) == {'dense', 'graphcl'}
    # the same preset on both sides: each loss near log(2N - 1) at start
    for loss in losses.values():
        assert 0 < loss < 1.1 * torch.log(torch.tensor(2.0 * 2708 - 1))
    assert settings['epochs'] == 200 and data.num_nodes == 2708


def test_alternate_paths_start_both_paths_alike(gb, shared_root):
    # benchmarks/_common.alternate_paths (GRACE's and BGRL's step
    # benchmarks): each round, the fast and the plain path from the same
    # weights and views, so their losses agree.
    import sys
    common = sys.modules['_common']
    threads = torch.get_num_threads()
    try:
        data, model, opt, _ = common.method_setup('grace', 'Cora',
                                                  str(shared_root))
        times, losses = common.alternate_paths(
            data, model, opt, model.view1.corruptions[0].generator, 2)
    finally:
        torch.set_num_threads(threads)
    assert len(times[True]) == len(times[False]) == 2
    assert all(cpu >= 0 and wall > 0 for cpu, wall in times[True])
    assert losses[True] == pytest.approx(losses[False], abs=1e-4)
    assert losses[True][0] != losses[True][1]  # another view each round


def test_accuracy_table_keeps_gpu_timings_apart(gb, tmp_path, monkeypatch):
    import json
    from graphcl.eval import PROBE_PROTOCOL
    monkeypatch.setattr(gb, 'OUT', tmp_path)
    written = {}
    monkeypatch.setattr(gb, 'write',
                        lambda name, text: written.setdefault(name, text))
    for seed, device in enumerate(['cpu', 'cuda', 'cuda']):
        (tmp_path / f'Cora_seed{seed}.json').write_text(json.dumps(dict(
            dataset='Cora', seed=seed, test_acc=80.0 + seed,
            val_acc=79.0, l2_test_acc=80.0, epochs=200, device=device,
            probe_protocol=PROBE_PROTOCOL,
            seconds_per_epoch=2.0 if device == 'cpu' else 0.01,
            pretrain_seconds=400.0 if device == 'cpu' else 2.0,
            peak_rss_mb=1024.0 if device == 'cpu' else 4096.0)))
    gb.table()
    row = next(line for line in written['grace.md'].splitlines()
               if line.startswith('| Cora | 3/10'))
    assert '| 2.00 (CPU seeds 0) | 6.7 min (200 ep.) (CPU seeds 0) | ' \
        '1.00 GiB (CPU seeds 0) |' in row
    assert '81.00 ± 0.82' in row



def test_older_probe_seeds_are_reprobed_never_pooled(gb, shared_root,
                                                      tmp_path, monkeypatch):
    import json
    import torch.nn.functional as F
    from graphcl.data import load_dataset
    from graphcl.eval import PROBE_PROTOCOL, linear_probe
    monkeypatch.setenv('GRAPHCL_DATA', str(shared_root))
    out, runs = tmp_path / 'grace', tmp_path / 'runs'
    monkeypatch.setattr(gb, 'OUT', out)
    monkeypatch.setattr(gb, 'RUNS', runs)
    written = {}
    monkeypatch.setattr(gb, 'write',
                        lambda name, text: written.__setitem__(name, text))
    out.mkdir()
    for seed in (0, 1):  # saved before the probe named its protocol
        (out / f'Cora_seed{seed}.json').write_text(json.dumps(dict(
            dataset='Cora', seed=seed, test_acc=70.0 + seed, val_acc=69.0,
            probe_weight_decay=0.0, l2_test_acc=71.0, l2_val_acc=70.0,
            grace_eval_test_acc=72.0,
            epochs=200, seconds_per_epoch=1.0, pretrain_seconds=200.0,
            peak_rss_mb=500.0)))
    (out / 'reference').mkdir()
    (out / 'reference' / 'Cora_seed0.json').write_text(json.dumps(dict(
        dataset='Cora', seed=0, test_acc=75.0, val_acc=74.0,
        grace_eval_test_acc=76.0, machine='m', code='c')))
    gb.table()
    text = written['grace.md']
    assert '| Cora | 0/10 |' in text  # the older seeds are not pooled
    assert 'Cora seeds 0 (70.00), 1 (71.00): absolute L2 grid' in text
    z = 1e-2 * torch.randn(2708, 16, generator=torch.Generator()
                           .manual_seed(0))
    (runs / 'Cora' / 'seed0').mkdir(parents=True)
    torch.save(z, runs / 'Cora' / 'seed0' / 'embeddings.pt')
    gb.reprobe_seeds(['Cora'], str(shared_root))
    run = json.loads((out / 'Cora_seed0.json').read_text())
    data = load_dataset('Cora', root=str(shared_root))
    masks = data.train_mask, data.val_mask, data.test_mask
    fit = linear_probe(z, data.y, *masks)
    l2 = linear_probe(F.normalize(z), data.y, *masks)
    assert run['probe_protocol'] == PROBE_PROTOCOL
    assert run['test_acc'] == pytest.approx(100 * fit.test_acc)
    assert run['l2_test_acc'] == pytest.approx(100 * l2.test_acc)
    assert run['earlier_probes'][0]['test_acc'] == 70.0
    assert run['earlier_probes'][0]['l2_test_acc'] == 71.0
    gb.table()
    text = written['grace.md']
    assert f"| Cora | 1/10 | {100 * fit.test_acc:.2f} |" in text
    # The reference was scored by the older probe: graphcl's seed 0 is
    # shown beside it with the score the same probe gave it (70.00).
    ref = next(line for line in text.splitlines()
               if line.startswith('| graphcl GRACE, the same seeds'))
    assert '| 1 | 70.00 |' in ref


def test_reference_run_again_under_the_current_probe(gb, tmp_path,
                                                     monkeypatch):
    # The official code's seeds run again under the current probe beside
    # an earlier run kept in reference/earlier_probe/: the comparison is
    # made on the current probe alone, and the earlier run is named.
    import json
    from graphcl.eval import PROBE_PROTOCOL
    monkeypatch.setattr(gb, 'OUT', tmp_path)
    written = {}
    monkeypatch.setattr(gb, 'write',
                        lambda name, text: written.__setitem__(name, text))
    (tmp_path / 'Cora_seed0.json').write_text(json.dumps(dict(
        dataset='Cora', seed=0, test_acc=80.0, val_acc=79.0,
        probe_protocol=PROBE_PROTOCOL, l2_test_acc=80.0,
        grace_eval_test_acc=81.0, epochs=200, seconds_per_epoch=1.0,
        pretrain_seconds=200.0, peak_rss_mb=500.0)))
    ref = tmp_path / 'reference'
    (ref / 'earlier_probe').mkdir(parents=True)
    for folder, test, protocol in ((ref, 79.0, PROBE_PROTOCOL),
                                   (ref / 'earlier_probe', 75.0, None)):
        run = dict(dataset='Cora', seed=0, test_acc=test, val_acc=74.0,
                   grace_eval_test_acc=76.0, machine='m', code='c')
        if protocol:
            run['probe_protocol'] = protocol
        (folder / 'Cora_seed0.json').write_text(json.dumps(run))
    gb.table()
    text = written['grace.md']
    official = next(line for line in text.splitlines()
                    if line.startswith("| GRACE's official code"))
    ours = next(line for line in text.splitlines()
                if line.startswith('| graphcl GRACE, the same seeds'))
    assert '| 1 | 79.00 |' in official and '| 1 | 80.00 |' in ours
    assert f'graphcl probe: {PROBE_PROTOCOL}.' in text
    assert 'kept in `reference/earlier_probe/` (1 seed).' in text
