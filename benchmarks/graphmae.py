"""GraphMAE: its epoch on the fast path (the decoder aggregates before it
projects and computes the masked rows only, W_ED on the kept rows only)
against the plain path (every GAT layer PyG's GATConv on all rows), one
thread, alternating the two in one process; the memory estimate on
Coauthor-Physics; and the accuracy saved by the shared runner.

    python benchmarks/graphmae.py speed [--dataset Cora] [--blocks 3]
        [--epochs 3] [--force]
    python benchmarks/graphmae.py probe [--dataset Cora]
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

from _common import (RESULTS, by_protocol, data_root, machine, one_thread,
                     write)

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


#: The official code's probe settings (configs.yml: lr_f, weight_decay_f,
#: max_epoch_f).
REFERENCE_PROBE = {'Cora': (0.01, 1e-4, 300), 'CiteSeer': (0.01, 0.01, 300)}
EMBEDDINGS = RESULTS.parents[1] / 'runs' / 'benchmarks' / 'methods' / \
    'graphmae'


def reference_probe(z, data, lr: float, weight_decay: float, epochs: int,
                    seed: int) -> dict:
    """GraphMAE's own probe (graphmae/evaluation.py,
    linear_probing_for_transductive_node_classiifcation): a linear layer
    trained with Adam on the training nodes, scored every epoch; the model
    of the best validation accuracy (the latest among ties) gives the
    early-stopped test accuracy, the last epoch the final one. In %."""
    import copy
    import torch
    torch.manual_seed(seed)
    y = data.y
    clf = torch.nn.Linear(z.size(1), int(y.max()) + 1)
    opt = torch.optim.Adam(clf.parameters(), lr=lr,
                           weight_decay=weight_decay)

    def acc(out, mask):
        return 100 * float((out[mask].argmax(1) == y[mask]).float().mean())

    best_val, best = -1.0, None
    for _ in range(epochs):
        clf.train()
        loss = torch.nn.functional.cross_entropy(clf(z)[data.train_mask],
                                                 y[data.train_mask])
        opt.zero_grad()
        loss.backward()
        opt.step()
        clf.eval()
        with torch.no_grad():
            out = clf(z)
        val = acc(out, data.val_mask)
        if val >= best_val:
            best_val, best = val, copy.deepcopy(clf)
    with torch.no_grad():
        return dict(final_test=acc(out, data.test_mask),
                    early_stopped_test=acc(best(z), data.test_mask),
                    best_val=best_val)


def probe(dataset: str):
    """The reference probe on every kept embedding of ``methods.py run``
    (runs/benchmarks/methods/graphmae/DATASET/embeddings/seedK.pt), saved
    as benchmarks/results/graphmae/reference_probe_DATASET.json."""
    one_thread()
    import torch
    from graphcl.data import load_dataset
    data = load_dataset(dataset, root=data_root())
    lr, wd, epochs = REFERENCE_PROBE[dataset]
    out = {}
    for path in sorted((EMBEDDINGS / dataset / 'embeddings').glob(
            'seed*.pt')):
        seed = int(path.stem[4:])
        z = torch.load(path)
        out[seed] = reference_probe(z, data, lr, wd, epochs, seed)
        print(dataset, seed, out[seed], flush=True)
    if out:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f'reference_probe_{dataset}.json').write_text(json.dumps(
            dict(dataset=dataset, lr=lr, weight_decay=wd, epochs=epochs,
                 seeds={str(k): v for k, v in sorted(out.items())},
                 machine=machine()), indent=1))


def probe_rows():
    rows = []
    for dataset in PUBLISHED:
        path = OUT / f'reference_probe_{dataset}.json'
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        seeds = sorted(int(k) for k in r['seeds'])
        ours = {}
        for k in seeds:
            p = RUNS / dataset / f'seed{k}.json'
            if p.exists():
                ours[k] = json.loads(p.read_text())['test_acc']
        both = [k for k in seeds if k in ours]

        def ms(v):
            return (f'{statistics.mean(v):.2f} ± {statistics.pstdev(v):.2f}'
                    if len(v) > 1 else f'{v[0]:.2f}')
        if not both:
            continue
        rows.append(
            f"| {dataset} | {', '.join(map(str, both))} | "
            f"{ms([ours[k] for k in both])} | "
            f"{ms([r['seeds'][str(k)]['early_stopped_test'] for k in both])}"
            f" | {ms([r['seeds'][str(k)]['final_test'] for k in both])} | "
            f"lr {r['lr']}, weight decay {r['weight_decay']}, "
            f"{r['epochs']} epochs |")
    if not rows:
        return []
    return ['', "## The same embeddings under GraphMAE's own probe", '',
            "`python benchmarks/graphmae.py probe --dataset D` scores the "
            "embeddings that `methods.py run` keeps (from this session on) "
            "with the official code's probe: a linear layer trained by Adam "
            "(configs.yml's lr_f, weight_decay_f, max_epoch_f), early-stopped "
            "on validation accuracy, and at its last epoch. Reported beside "
            "graphcl's probe on the same seeds; nothing is chosen by it.", '',
            "| dataset | seeds | graphcl's probe | official probe, "
            "early-stopped | official probe, last epoch | settings |",
            '|---|---|---|---|---|---|'] + rows


def table() -> str:
    lines = ['# GraphMAE', '',
             'Written by `python benchmarks/graphmae.py table`. Settings: '
             "the presets of `graphcl/models/graphmae_spec.py` (GraphMAE's "
             'configs.yml).', '', '## Accuracy (linear probe, public split)',
             '', 'Probe: `graphcl.eval.linear_probe` (the embeddings '
             'rescaled to a root-mean-square entry of 1, weight decay 0, '
             '1e-5 ... 1e3 chosen per seed on the validation nodes); rows '
             'marked "older probe" hold seeds scored before that rescaling, '
             'shown without a target. Each seed: '
             '`python benchmarks/methods.py run --method '
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
        for suffix, group in by_protocol(runs):
            acc = [r['test_acc'] for r in group]  # percent, as saved
            std = statistics.pstdev(acc) if len(acc) > 1 else 0.0
            spe = statistics.median(r['seconds_per_epoch'] for r in group)
            loads = [_load(r['machine']) for r in group
                     if 'load average ' in r.get('machine', '')]
            lines.append(f'| {dataset}{suffix} | {len(group)} '
                         f'({", ".join(str(r["seed"]) for r in group)}) | '
                         f'{statistics.mean(acc):.2f} ± {std:.2f} | '
                         f'{published} | {target if not suffix else "—"} | '
                         f'{spe:.2f} | {", ".join(loads)} |')
            notes += [f'- {dataset}{suffix} seed {r["seed"]}: test '
                      f'{r["test_acc"]:.2f}, validation '
                      f'{r["val_acc"]:.2f}, {r["epochs"]} epochs, '
                      f'{r["wall_seconds"] / 60:.0f} min'
                      for r in group]
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
    lines += probe_rows()
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
    pr = sub.add_parser('probe')
    pr.add_argument('--dataset', default='Cora', choices=list(PUBLISHED))
    args = p.parse_args(argv)
    if args.command == 'speed':
        speed(args.dataset, args.blocks, args.epochs, args.force)
    if args.command == 'probe':
        probe(args.dataset)
    write('graphmae.md', table())


if __name__ == '__main__':
    sys.exit(main())
