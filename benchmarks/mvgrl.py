"""MVGRL's benchmark: linear-probe accuracy on Cora and CiteSeer (10 seeds,
Planetoid public split, the presets) through the shared runner, the
memory check on Coauthor-Physics (the approximate diffusion), and
benchmarks/results/mvgrl.md from what is saved.

    python benchmarks/mvgrl.py            # run what is missing, then write
    python benchmarks/mvgrl.py --write    # write mvgrl.md from saved JSONs

Accuracy seeds are benchmarks/methods.py's (``run --method mvgrl --dataset
D --seeds 10``: one one-thread process per seed, saved as
results/methods/mvgrl/D/seedN.json, resumed from what is saved); the
memory check is benchmarks/mvgrl_memory.py
(results/mvgrl/memory_Coauthor-Physics.json). This script adds no runner
of its own: it calls those two and summarises.
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from _common import RESULTS, by_protocol, write

HERE = Path(__file__).resolve().parent
DATASETS = ('Cora', 'CiteSeer')
SEEDS = 10
MEMORY = RESULTS / 'mvgrl' / 'memory_Coauthor-Physics.json'
#: dataset -> (published, DGL's full-graph reproduction, the issue's target)
REFERENCE = {'Cora': ('86.8', '83.5', 82.5),
             'CiteSeer': ('73.3', '73.7', 72.0)}


def run_missing():
    for dataset in DATASETS:
        subprocess.run([sys.executable, str(HERE / 'methods.py'), 'run',
                        '--method', 'mvgrl', '--dataset', dataset,
                        '--seeds', str(SEEDS), '--no-table'], check=True)
    if not MEMORY.exists():
        subprocess.run([sys.executable, str(HERE / 'mvgrl_memory.py'),
                        '--dataset', 'Coauthor-Physics', '--epochs', '3'],
                       check=True)


def _load(text: str) -> float:
    # "..., load average 15.82 at start, ..." from the runner's header
    try:
        return float(text.split('load average ')[1].split()[0])
    except (IndexError, ValueError):
        return float('nan')


def summary() -> str:
    from graphcl.stats import mean_std
    lines = ['# MVGRL', '',
             'Linear-probe test accuracy (%), Planetoid public split, the '
             'presets (docs/methods.md), one seed per process on one thread '
             '(`python benchmarks/methods.py run --method mvgrl --dataset D '
             '--seeds 10`; per-seed JSONs in '
             '`results/methods/mvgrl/D/`). Mean ± population std over the '
             'seeds; the probe (`graphcl.eval.linear_probe`) rescales the '
             'embeddings to a root-mean-square entry of 1 and chooses its '
             'weight decay per seed on the validation split; rows marked '
             '"older probe" hold seeds scored before that rescaling, shown '
             'and not judged; nothing chosen on the test split.', '',
             '| dataset | seeds | graphcl MVGRL | per seed | validation '
             '(mean) | paper | DGL full graph | target | met | epochs '
             '(median) | s/epoch (median) | peak RSS MiB | load average |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for dataset in DATASETS:
        runs = [json.loads(p.read_text()) for p in sorted(
            (RESULTS / 'methods' / 'mvgrl' / dataset).glob('seed*.json'))]
        paper, dgl, target = REFERENCE[dataset]
        if not runs:
            lines.append(f'| {dataset} | 0 | — | — | — | {paper} | {dgl} | '
                         f'≥ {target} | not measured | | | | |')
            continue
        for suffix, group in by_protocol(runs):
            test = [r['test_acc'] for r in group]
            mean, std = mean_std(test)
            loads = [_load(r.get('machine', '')) for r in group]
            met = 'not judged' if suffix else \
                ('yes' if mean >= target else 'no') + \
                ('' if len(group) >= SEEDS else ' so far')
            lines.append(
                f"| {dataset}{suffix} | {len(group)} | {mean:.2f} ± "
                f"{std:.2f} | {', '.join(f'{t:.1f}' for t in test)} | "
                f"{statistics.fmean(r['val_acc'] for r in group):.2f} | "
                f"{paper} | {dgl} | ≥ {target} | {met} | "
                f"{statistics.median(r['epochs'] for r in group):g} | "
                f"{statistics.median(r['seconds_per_epoch'] for r in group):.2f}"  # noqa: E501
                f" | {max(r['peak_rss_mb'] for r in group):.0f} | "
                f"{min(loads):.1f}-{max(loads):.1f} |")
    lines += ['', 'Seconds per epoch were measured on a shared 2-core '
              'machine whose load average (from other jobs) is in the last '
              'column: they show the load more than the method.', '']
    lines += ['## Coauthor-Physics: the approximate diffusion', '']
    if MEMORY.exists():
        m = json.loads(MEMORY.read_text())
        d = m['diffusion'][0] if m['diffusion'] else {}
        lines += [
            f"`python benchmarks/mvgrl_memory.py` ({m['machine']}): "
            f"34,493 nodes, `diffusion='auto'` took the "
            f"{d.get('path', '?')} path ({d.get('stored', 0):,} stored "
            f"entries, {d.get('layout', '?')}) in "
            f"{m['diffusion_seconds']:.0f} s; {m['epochs']} epochs at "
            f"{m['seconds_per_epoch_after_diffusion']:.1f} s each after "
            f"it; peak resident memory {m['peak_rss_mib']:,.0f} MiB "
            f"(the engine's estimate before training: "
            f"{m['estimate_summary']}). No probe: nothing measured on any "
            f"split.", '']
    else:
        lines += ['Not measured yet (`python benchmarks/mvgrl_memory.py`); '
                  'the engine\'s estimate (tests/models/test_mvgrl.py): '
                  'under 5 GiB on the approximate diffusion.', '']
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--write', action='store_true',
                   help='only write mvgrl.md from the saved results')
    args = p.parse_args(argv)
    if not args.write:
        run_missing()
    write('mvgrl.md', summary())
    return 0


if __name__ == '__main__':
    sys.exit(main())
