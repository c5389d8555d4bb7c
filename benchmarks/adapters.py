"""graphcl.adapters benchmark: SimCLR and Deep InfoMax on scikit-learn's
digits, CPC on MNIST-1D, 3 seeds each, every probe beside the same encoder
randomly initialised and the raw input; writes results/adapters.md.

    python benchmarks/adapters.py [--seeds 0 1 2] [--threads 1] [--only cpc]

MNIST-1D needs `pip install graphcl[demos]` (generated locally, no download).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, write  # noqa: E402

from graphcl.adapters import load_dataset, run_experiment  # noqa: E402

# (name, method, dataset, method kwargs, target text, target check)
RUNS = [
    ('simclr', 'simclr', 'digits', {}, 'linear-few >= 91',
     lambda p: p['trained']['linear_few']['mean'] >= 91),
    ('dim-jsd', 'dim', 'digits', {'estimator': 'jsd'},
     'linear-few >= random-init + 10',
     lambda p: p['trained']['linear_few']['mean'] >=
     p['random_init']['linear_few']['mean'] + 10),
    ('dim-infonce', 'dim', 'digits', {'estimator': 'infonce'},
     'linear-few >= random-init + 10',
     lambda p: p['trained']['linear_few']['mean'] >=
     p['random_init']['linear_few']['mean'] + 10),
    ('cpc', 'cpc', 'mnist1d', {}, 'linear-all >= 85',
     lambda p: p['trained']['linear_all']['mean'] >= 85),
]
PROBES = ('linear_all', 'linear_few', 'knn')
MODELS = (('trained', 'pre-trained'), ('random_init', 'random init'),
          ('raw', 'raw input'))


def cell(s: dict) -> str:
    return f"{s['mean']:.1f} ± {s['std']:.1f}"


def section(name: str, m: dict, target: str, ok: bool, wall: float) -> str:
    few = m['few_per_class']
    lines = [
        f"### {name}: {m['method']} on {m['dataset']}",
        '',
        f"{m['epochs']} epochs, seeds {m['seeds']}, pre-training "
        f"{m['pretrain_seconds']:.0f} s in all, {wall:.0f} s with probes. "
        f"Target: {target} — **{'met' if ok else 'not met'}**.",
        '',
        f'| encoder | linear, all labels | linear, {few} per class | '
        f'kNN (k=5) |',
        '|---|---|---|---|',
    ]
    for key, label in MODELS:
        lines.append(f'| {label} | ' + ' | '.join(
            cell(m['probe'][key][p]) for p in PROBES) + ' |')
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--only', nargs='+', default=None,
                    help='subset of ' + ' '.join(r[0] for r in RUNS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    header = [
        '# graphcl.adapters benchmark', '',
        'Produced by `python benchmarks/adapters.py` on ' + machine() + '.',
        '',
        'Accuracy in % on the test split, mean ± std over seeds. Each seed '
        'pre-trains once; the probes use the frozen encoder: logistic '
        'regression on all training labels and on a few labels per class '
        '(drawn with the seed; C picked on a validation split or by '
        'cross-validation), and cosine kNN. Baselines: the same encoder '
        'before training (random init, same seed) and the raw input. '
        'Datasets: scikit-learn digits (1437/360 stratified split, 8x8) and '
        'MNIST-1D (4000/1000, length 40, generated locally).', '']
    sections, summary = [], []
    for name, method, dataset, kwargs, target, check in RUNS:
        if args.only and name not in args.only:
            continue
        data = load_dataset(dataset)
        start = time.perf_counter()
        metrics, _ = run_experiment(method, data, args.seeds,
                                    method_kwargs=kwargs)
        wall = time.perf_counter() - start
        ok = check(metrics['probe'])
        sections.append(section(name, metrics, target, ok, wall))
        p = metrics['probe']
        summary.append(
            f"| {name} | {dataset} | {target} | "
            f"{cell(p['trained']['linear_all'])} | "
            f"{cell(p['trained']['linear_few'])} | "
            f"{cell(p['random_init']['linear_few'])} | "
            f"{cell(p['raw']['linear_few'])} | {'met' if ok else 'NOT met'} "
            f"| {wall:.0f} s |")
        (RESULTS / 'adapters').mkdir(parents=True, exist_ok=True)
        with open(RESULTS / 'adapters' / f'{name}.json', 'w') as f:
            json.dump(metrics, f, indent=1)
        print(sections[-1], flush=True)
    table = ['## Summary', '',
             '| run | data | target | linear-all | linear-few | '
             'linear-few random init | linear-few raw | result | time |',
             '|---|---|---|---|---|---|---|---|---|', *summary, '']
    name = 'adapters.md' if not args.only else \
        f"adapters-{'-'.join(args.only)}.md"
    write(name, '\n'.join(header + table + ['## Details', ''] + sections))


if __name__ == '__main__':
    main()
