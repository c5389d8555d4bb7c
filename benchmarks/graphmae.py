"""GraphMAE: its epoch on the fast path (the decoder aggregates before it
projects and computes the masked rows only, W_ED on the kept rows only)
against the plain path (every GAT layer PyG's GATConv on all rows), one
thread, alternating the two in one process; the memory estimate on
Coauthor-Physics; and the accuracy saved by the shared runner.

    python benchmarks/graphmae.py speed [--dataset Cora] [--blocks 3]
        [--epochs 3] [--force]
    python benchmarks/graphmae.py table

``speed`` saves benchmarks/results/graphmae/speed_DATASET.json (skipped when
saved, unless --force); ``table`` writes benchmarks/results/graphmae.md from
what is saved: the speed runs, the memory estimates (computed, not
measured) and the accuracy per seed of
``python benchmarks/methods.py run --method graphmae --dataset D`` (its
JSONs under benchmarks/results/methods/graphmae/D/; nothing here reads or
chooses anything by test accuracy: the table reports it)."""
import argparse
import json
import statistics
import sys
import time

from _common import RESULTS, data_root, machine, one_thread, write

OUT = RESULTS / 'graphmae'
RUNS = RESULTS / 'methods' / 'graphmae'
PUBLISHED = {'Cora': ('84.2 ± 0.4', 83.5), 'CiteSeer': ('73.4 ± 0.4', 72.8)}


def speed(dataset: str, blocks: int, epochs: int, force: bool):
    path = OUT / f'speed_{dataset}.json'
    if path.exists() and not force:
        print(f'{path} saved; --force to measure again')
        return
    tuned = one_thread()
    import torch
    from graphcl.data import load_dataset
    from graphcl.models import build_method, method_settings
    from graphcl.models.registry import TRAIN_DEFAULTS
    header = machine()
    data = load_dataset(dataset, root=data_root())
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    settings = method_settings('graphmae', dataset)
    options = {k: v for k, v in settings.items() if k not in TRAIN_DEFAULTS}
    models, optims = {}, {}
    for name in ('fast', 'plain'):
        torch.manual_seed(0)
        m = build_method('graphmae', data.num_features, seed=0, **options)
        m.encoder.fast_path = m.decoder.fast_path = name == 'fast'
        models[name] = m
        optims[name] = torch.optim.Adam(
            m.parameters(), lr=settings['lr'],
            weight_decay=settings['weight_decay'])
    # The first step from the same state and random state: the same loss.
    first = {}
    for name, m in models.items():
        torch.manual_seed(1)
        m.generator.manual_seed(1)
        first[name] = m.objective(data).item()
    times = {'fast': [], 'plain': []}
    for _ in range(blocks):
        for name in ('fast', 'plain'):
            m, opt = models[name], optims[name]
            t0 = time.perf_counter()
            for _ in range(epochs):
                opt.zero_grad()
                m.objective(data).backward()
                opt.step()
            times[name].append((time.perf_counter() - t0) / epochs)
    fast = statistics.median(times['fast'])
    plain = statistics.median(times['plain'])
    result = dict(dataset=dataset, blocks=blocks, epochs_per_block=epochs,
                  seconds_per_epoch=times, median_fast=fast,
                  median_plain=plain, plain_over_fast=plain / fast,
                  first_loss=first, allocator_tuned=tuned, machine=header,
                  load_after=machine())
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


def _load(header: str) -> str:
    return header.split('load average ')[1].split(' ')[0]


def memory_rows():
    from graphcl.memory import GraphStats, estimate_full_batch
    from graphcl.models import method_settings
    rows = []
    # Coauthor-Physics: PyG's sizes (34,493 nodes, 495,924 edges, 8,415
    # features); the estimate takes the features as dense.
    for name, stats in (('Coauthor-Physics',
                         GraphStats(34493, 495924, 8415,
                                    name='Coauthor-Physics')),
                        ('Cora', GraphStats(2708, 10556, 1433,
                                            name='Cora'))):
        est = estimate_full_batch(stats, 'graphmae',
                                  method_settings('graphmae', name))
        rows.append(f'| {name} | {est.total / 2 ** 30:.1f} GiB |')
    return rows


def table() -> str:
    lines = ['# GraphMAE', '',
             'Written by `python benchmarks/graphmae.py table`. Settings: '
             "the presets of `graphcl/models/graphmae_spec.py` (GraphMAE's "
             'configs.yml).', '', '## Accuracy (linear probe, public split)',
             '', 'Each seed: `python benchmarks/methods.py run --method '
             'graphmae --dataset D` (one process, one thread, resumable; '
             'JSON under `benchmarks/results/methods/graphmae/D/`).', '',
             '| dataset | seeds done | test accuracy (mean ± std) | '
             'published | target | s/epoch (median) | load at start |',
             '|---|---|---|---|---|---|---|']
    notes = []
    for dataset, (published, target) in PUBLISHED.items():
        runs = sorted((json.loads(p.read_text()) for p in
                       (RUNS / dataset).glob('seed*.json')),
                      key=lambda r: r['seed']) if (RUNS / dataset).is_dir() \
            else []
        if not runs:
            lines.append(f'| {dataset} | 0 | none saved yet | {published} | '
                         f'{target} | | |')
            continue
        acc = [r['test_acc'] for r in runs]  # percent, as the runner saves
        std = statistics.pstdev(acc) if len(acc) > 1 else 0.0
        spe = statistics.median(r['seconds_per_epoch'] for r in runs)
        loads = [_load(r['machine']) for r in runs
                 if 'load average ' in r.get('machine', '')]
        lines.append(f'| {dataset} | {len(runs)} '
                     f'({", ".join(str(r["seed"]) for r in runs)}) | '
                     f'{statistics.mean(acc):.2f} ± {std:.2f} | {published}'
                     f' | {target} | {spe:.2f} | {", ".join(loads)} |')
        notes += [f'- {dataset} seed {r["seed"]}: test '
                  f'{r["test_acc"]:.2f}, validation '
                  f'{r["val_acc"]:.2f}, {r["epochs"]} epochs, '
                  f'{r["wall_seconds"] / 60:.0f} min'
                  for r in runs]
    lines += [''] + notes + ['', '## Epoch: fast path against plain path', '',
                             'One thread, the two alternating in one process '
                             '(blocks of epochs, median per epoch).', '',
                             '| dataset | fast s/epoch | plain s/epoch | '
                             'plain / fast | first loss fast, plain | '
                             'machine |', '|---|---|---|---|---|---|']
    for path in sorted(OUT.glob('speed_*.json')):
        r = json.loads(path.read_text())
        lines.append(f'| {r["dataset"]} | {r["median_fast"]:.3f} | '
                     f'{r["median_plain"]:.3f} | {r["plain_over_fast"]:.2f} |'
                     f' {r["first_loss"]["fast"]:.6f}, '
                     f'{r["first_loss"]["plain"]:.6f} | {r["machine"]}; '
                     f'load average at the end {_load(r["load_after"])} |')
    lines += ['', '## Memory estimate of full-batch training (computed by '
              '`graphcl.memory.estimate_full_batch`, not measured)', '',
              '| dataset | estimate |', '|---|---|'] + memory_rows()
    return '\n'.join(lines) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.
                                RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='command', required=True)
    s = sub.add_parser('speed')
    s.add_argument('--dataset', default='Cora')
    s.add_argument('--blocks', type=int, default=3)
    s.add_argument('--epochs', type=int, default=3)
    s.add_argument('--force', action='store_true')
    sub.add_parser('table')
    args = p.parse_args(argv)
    if args.command == 'speed':
        speed(args.dataset, args.blocks, args.epochs, args.force)
    write('graphmae.md', table())


if __name__ == '__main__':
    sys.exit(main())
