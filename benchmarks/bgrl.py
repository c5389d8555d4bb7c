"""BGRL on graphcl's engine: the speed of a training step (the CSR fast
path of graphcl.models.gcn_views against PyG's message passing), the peak
memory of one full-batch epoch on Coauthor-Physics, and the linear-probe
accuracy the shared runner (benchmarks/methods.py) has saved so far.

    python benchmarks/bgrl.py speed    # Amazon-Photo preset, both paths
    python benchmarks/bgrl.py memory   # Coauthor-Physics, one epoch each
    python benchmarks/bgrl.py table    # rewrite results/bgrl.md only

Accuracy runs go through the shared runner, which resumes per seed (and
mid-seed, from a checkpoint):

    python benchmarks/methods.py run --method bgrl --dataset Amazon-Photo \
        --seeds 10

Speed: both paths in one process on one thread, alternating step by step
on the same data and model (the preset's widths and view rates, with the
views' generator reseeded so that both paths see the same views); CPU time
per step (process time, which the other jobs of a busy machine do not
inflate as much as wall time) and wall time, medians. Memory: each path in
a process of its own started before this one loads anything, one
full-batch epoch (forward of both views through both encoders, backward,
Adam step, target update) and then the embedding pass the probe uses:
ru_maxrss and VmHWM, beside graphcl's memory estimate for the run.
Nothing here reads test labels.

Writes benchmarks/results/bgrl/*.json and benchmarks/results/bgrl.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from _common import (RESULTS, alternate_paths, by_protocol, data_root,
                     machine, method_setup, one_thread, path_step, vm_hwm_mb,
                     write)
from graphcl.models.bgrl_spec import BGRL_DEFAULTS

OUT = RESULTS / 'bgrl'
METHODS = RESULTS / 'methods' / 'bgrl'
RUNS = RESULTS.parents[1] / 'runs' / 'benchmarks' / 'methods' / 'bgrl'
OPTIONS = tuple(BGRL_DEFAULTS)  # every registered option


def run_speed(args):
    one_thread()
    data, model, opt, _ = method_setup('bgrl', args.dataset, args.root)
    gen = model.view1.corruptions[0].generator
    times, losses = alternate_paths(data, model, opt, gen, args.steps)
    result = dict(
        dataset=args.dataset, steps=args.steps, machine=machine(),
        load_after=os.getloadavg()[0],
        fast_cpu=statistics.median(t[0] for t in times[True]),
        plain_cpu=statistics.median(t[0] for t in times[False]),
        fast_wall=statistics.median(t[1] for t in times[True]),
        plain_wall=statistics.median(t[1] for t in times[False]),
        max_loss_diff=max(abs(a - b) for a, b in
                          zip(losses[True], losses[False])))
    result['cpu_ratio'] = result['plain_cpu'] / result['fast_cpu']
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f'speed_{args.dataset}.json').write_text(
        json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


def memory_child(args):
    one_thread()
    from graphcl.experiment import peak_rss_mb
    from graphcl.memory import estimate_full_batch
    from graphcl.models import get_method
    fast = args.path == 'fast'
    data, model, opt, settings = method_setup('bgrl', args.dataset,
                                              args.root)
    # The estimate graphcl prints before a run: it models the path the
    # model takes by default (the fast one).
    estimate = estimate_full_batch(
        data, get_method('bgrl'), {k: settings[k] for k in OPTIONS})
    rss_data = peak_rss_mb()
    t0 = time.perf_counter()
    path_step(data, model, opt, fast)
    step_seconds = time.perf_counter() - t0
    rss_step = peak_rss_mb()
    if not fast:
        assert model.fast_path_refusal(
            model.view1(data.x, data.edge_index)) == 'fast_path is off'
    model.embed(data)
    print(json.dumps(dict(
        path=args.path, dataset=args.dataset, nodes=data.num_nodes,
        edges=data.num_edges, features=data.num_features,
        step_seconds=step_seconds, peak_rss_after_data_mb=rss_data,
        peak_rss_after_step_mb=rss_step, peak_rss_mb=peak_rss_mb(),
        vm_hwm_mb=vm_hwm_mb(), estimate_mb=estimate.total / 2 ** 20,
        estimate=estimate.summary(), machine=machine())))


def run_memory(args):
    file = OUT / f'memory_{args.dataset}.json'
    result = dict(dataset=args.dataset, machine=machine(), paths={})
    if file.exists():  # paths not rerun keep their measurement
        result['paths'] = json.loads(file.read_text())['paths']
    for path in args.paths.split(','):
        proc = subprocess.run(
            [sys.executable, __file__, '_memory', path, '--dataset',
             args.dataset, '--root', args.root],
            capture_output=True, text=True, check=True,
            env=dict(os.environ, OMP_NUM_THREADS='1'))
        result['paths'][path] = json.loads(
            proc.stdout.strip().splitlines()[-1])
        print(path, result['paths'][path], flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(result, indent=2) + '\n')


def _checkpoint_epoch(runs_dir, seed: int):
    path = runs_dir / f'seed{seed}' / 'checkpoint.pt'
    if not path.exists():
        return None
    import torch
    return int(torch.load(path, map_location='cpu',
                          weights_only=True)['epoch'])


def table(args):
    lines = ['# BGRL on graphcl', '',
             'Produced by `benchmarks/bgrl.py` (speed, memory) and '
             '`benchmarks/methods.py` (accuracy, per-seed JSONs under '
             '`results/methods/bgrl/`). Settings: the presets of '
             '`graphcl/models/bgrl_spec.py` (nerdslab/bgrl configs: 10,000 '
             'epochs each).', '']
    lines += ['## Speed of a training step', '',
              'One thread, both paths alternating step by step in one '
              'process on the same views; medians.', '',
              '| dataset | fast path CPU s | plain (PyG) CPU s | ratio | '
              'fast wall s | plain wall s | largest loss difference | '
              'machine |', '|---|---|---|---|---|---|---|---|']
    for f in sorted(OUT.glob('speed_*.json')):
        r = json.loads(f.read_text())
        lines.append(
            f"| {r['dataset']} | {r['fast_cpu']:.3f} | {r['plain_cpu']:.3f}"
            f" | {r['cpu_ratio']:.2f}x | {r['fast_wall']:.3f} | "
            f"{r['plain_wall']:.3f} | {r['max_loss_diff']:.1e} | "
            f"{r['machine']}; {r['steps']} rounds; load {r['load_after']:.1f}"
            f" at the end |")
    lines += ['', '## Peak memory of one full-batch epoch', '',
              'Each path in its own process (started before the benchmark '
              'loads anything): data, one training step, then the '
              'embedding pass, on one thread. ru_maxrss and VmHWM include '
              'the Python and PyTorch process itself. (Rows measured before '
              'the child reported its own machine line show the parent\'s '
              'thread count.)', '',
              '| dataset | path | peak RSS after loading | after the step | '
              'whole epoch (ru_maxrss) | VmHWM | graphcl estimate | step s '
              '(wall) | machine |', '|---|---|---|---|---|---|---|---|---|']
    for f in sorted(OUT.glob('memory_*.json')):
        r = json.loads(f.read_text())
        for path, m in r['paths'].items():
            lines.append(
                f"| {m['dataset']} ({m['nodes']:,} nodes, {m['edges']:,} "
                f"edges, {m['features']:,} features) | {path} | "
                f"{m['peak_rss_after_data_mb'] / 1024:.2f} GiB | "
                f"{m['peak_rss_after_step_mb'] / 1024:.2f} GiB | "
                f"{m['peak_rss_mb'] / 1024:.2f} GiB | "
                f"{m['vm_hwm_mb'] / 1024:.2f} GiB | " +
                (f"{m['estimate_mb'] / 1024:.2f} GiB" if path == 'fast'
                 else '(models the fast path)') +
                f" | {m['step_seconds']:.1f} | {m.get('machine', '')} |")
    lines += ['', '## Accuracy (linear probe, 10/10/80 random splits)', '',
              'The preset (10,000 epochs), and any shortened schedule run '
              'with `--set` (its own folder; the learning-rate and momentum '
              'schedules follow the run\'s length). Probe: '
              '`graphcl.eval.linear_probe` (the embeddings rescaled to a '
              'root-mean-square entry of 1, weight decay chosen per seed on '
              'the validation split); "older probe": seeds scored before '
              'that rescaling, never pooled with the others.', '',
              '| dataset | settings | seeds saved | test accuracy | '
              'val accuracy | epochs | s/epoch (wall) | in progress |',
              '|---|---|---|---|---|---|---|---|']
    rows = []
    for d in ('Amazon-Computers', 'Amazon-Photo', 'Coauthor-CS',
              'Coauthor-Physics'):
        rows.append((d, 'preset', METHODS / d, RUNS / d))
        for sub in sorted(p for p in (METHODS / d).glob('*')
                          if p.is_dir()):
            rows.append((d, sub.name, sub, RUNS / d / sub.name))
    for d, variant, folder, runs_dir in rows:
        runs = [json.loads(f.read_text())
                for f in sorted(folder.glob('seed*.json'))]
        busy = [f'seed {s}: epoch {e}' for s in range(10)
                for e in [_checkpoint_epoch(runs_dir, s)] if e is not None]
        for suffix, group in by_protocol(runs) or [('', [])]:
            if group:
                test = [r['test_acc'] for r in group]
                acc = (f'{statistics.fmean(test):.2f} ± '
                       f'{statistics.pstdev(test):.2f}')
                val = f"{statistics.fmean(r['val_acc'] for r in group):.2f}"
                epochs = statistics.median(r['epochs'] for r in group)
                spe = statistics.median(r['seconds_per_epoch']
                                        for r in group)
                cells = [acc, val, f'{epochs}', f'{spe:.2f}']
            else:
                cells = ['—'] * 4
            lines.append(f"| {d} | {variant}{suffix} | {len(group)} | " +
                         ' | '.join(cells) +
                         f" | {', '.join(busy) or '—'} |")
    lines.append('')
    write('bgrl.md', '\n'.join(lines) + '\n')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('speed')
    s.add_argument('--dataset', default='Amazon-Photo')
    s.add_argument('--steps', type=int, default=6)
    m = sub.add_parser('memory')
    m.add_argument('--dataset', default='Coauthor-Physics')
    m.add_argument('--paths', default='fast,plain',
                   help='which paths to measure (fast, plain)')
    c = sub.add_parser('_memory')
    c.add_argument('path', choices=('fast', 'plain'))
    c.add_argument('--dataset', required=True)
    sub.add_parser('table')
    for q in (s, m, c):
        q.add_argument('--root', default=None)
    args = p.parse_args(argv)
    if getattr(args, 'root', 1) is None:
        args.root = data_root()
    {'speed': run_speed, 'memory': run_memory, '_memory': memory_child,
     'table': table}[args.cmd](args)
    if args.cmd in ('speed', 'memory'):
        table(args)


if __name__ == '__main__':
    main()
