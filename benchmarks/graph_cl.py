"""GraphCL (method 'graphcl') on the issue's datasets, beside the paper and
the same encoder at its random initialisation:
benchmarks/results/graphcl.md.

    python benchmarks/graph_cl.py        # every missing seed, then the table
    python benchmarks/graph_cl.py run --datasets MUTAG NCI1 --seeds 5
    python benchmarks/graph_cl.py table
    python benchmarks/graph_cl.py study --dataset IMDB-BINARY \
        --views random2 random3 random4 --seeds 3

The runs are benchmarks/graph_methods.py's (one seed of
``run_experiment('graphcl', DATASET, seeds=[seed])`` per one-thread
process, the method's preset for the dataset; ``random_init``: the encoder
evaluated untrained), saved per seed as
benchmarks/results/graph_methods/graphcl/DATASET[/random_init]/seedN.json;
saved seeds are skipped and a seed in progress resumes from its
checkpoint. This script only chooses GraphCL's grid (trained and
random-initialised runs on every dataset) and writes its own table, with
the per-seed scores and the second view each dataset used.

``study``: the second view chosen on validation only: for each named view
and seed, one ``run_experiment('graphcl', DATASET, seeds=[seed],
aug2=VIEW)`` (one thread, in a child process), saved as
benchmarks/results/graphcl/study/DATASET/aug2=VIEW/seedN.json; the table
ranks the views by the inner-CV accuracy of the chosen C (TU) or the
validation ROC-AUC (OGB), never by the test folds, and prints the test
score beside it only to report it.

Protocols (graphcl.experiment_graph): TU datasets, an SVM under 10-fold
stratified cross-validation with C chosen by an inner cross-validation on
each fold's training graphs (a seed's score is its mean fold accuracy);
OGB molecules, a linear probe on the official scaffold split, weight decay
chosen on the validation split, test ROC-AUC. Nothing is chosen on test
folds or the test split. Mean ± population std over pretraining seeds.
"""
import argparse
import json
import statistics
import sys
from typing import List, Optional

from _common import (RESULTS, code_version, data_root, machine, one_thread,
                     run_subprocess, write)
from graph_methods import PUBLISHED, folder, run, saved_seeds

STUDY = RESULTS / 'graphcl' / 'study'

SEEDS = 5
#: The issue's datasets, cheapest first.
DATASETS = ['MUTAG', 'PROTEINS', 'IMDB-BINARY', 'ogbg-molbace',
            'ogbg-molbbbp', 'NCI1']


def _mean_std(values: List[float]) -> str:
    if not values:
        return '-'
    return (f'{statistics.fmean(values):.2f} ± '
            f'{statistics.pstdev(values):.2f}')


def table() -> str:
    lines = [
        '# GraphCL: graph-level results', '',
        'Written by `python benchmarks/graph_cl.py table` from the per-seed '
        'JSON files of `benchmarks/graph_methods.py` under '
        '`benchmarks/results/graph_methods/graphcl/`: each seed one '
        "`run_experiment('graphcl', DATASET, seeds=[seed])` in its own "
        'one-thread process, with the method\'s defaults and per-dataset '
        'preset (`graphcl/models/graph_cl_spec.py`); *random init* is the '
        'same encoder evaluated untrained. TU: SVM accuracy (%), 10-fold '
        'stratified CV, C chosen by inner CV on the training folds; OGB: '
        'test ROC-AUC (%) of a linear probe on the scaffold split, weight '
        'decay chosen on validation. Mean ± population std over the '
        'pretraining seeds; *val* is the inner-CV accuracy of the chosen C '
        '(TU) or the validation ROC-AUC (OGB).', '',
        '| dataset | view 2 | GraphCL | val | random init | paper | '
        'target | s/epoch | pretrain s | eval s | per-seed |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    where = []
    for dataset in DATASETS:
        runs = list(saved_seeds(folder('graphcl', dataset, False)).values())
        base = list(saved_seeds(folder('graphcl', dataset, True)).values())
        if not runs and not base:
            continue
        test = [r['test'] for r in runs]
        paper, _, target = PUBLISHED.get(('graphcl', dataset),
                                         ('-', '', None))
        met = ''
        if target is not None and test:
            met = ' met' if statistics.fmean(test) >= target else ' not met'
        view = runs[0]['config'].get('aug2', '?') if runs else '-'

        def avg(key):
            return (f"{statistics.fmean(r[key] for r in runs):.1f}"
                    if runs else '-')
        spe = (f"{statistics.fmean(r['seconds_per_epoch'] for r in runs):.3f}"
               if runs else '-')
        lines.append(
            f"| {dataset} | {view} | {_mean_std(test)} ({len(runs)} seeds) "
            f"| {_mean_std([r['val'] for r in runs])} | "
            f"{_mean_std([r['test'] for r in base])} ({len(base)} seeds) | "
            f"{paper} | {'-' if target is None else f'>= {target}{met}'} | "
            f"{spe} | {avg('pretrain_seconds')} | {avg('eval_seconds')} | "
            f"{', '.join(f'{t:.2f}' for t in test)} |")
        if runs:
            where.append(f"- {dataset}, seed {runs[0]['seed']}: "
                         f"{runs[0]['machine']}")
            if len(runs) > 1:
                where.append(f"- {dataset}, seed {runs[-1]['seed']}: "
                             f"{runs[-1]['machine']}")
    lines += ['', 'Load on the shared 2-core machine when the first and last '
              'seed of each dataset started (times depend on it):', ''] + \
        where + ['']
    return '\n'.join(lines)


def study_seed(dataset: str, view: str, seed: int) -> None:
    """One seed with the second view :obj:`view`, saved as JSON."""
    one_thread()
    from graphcl import run_experiment
    from graphcl.atomic import atomic_write_json
    header = machine()
    m = run_experiment('graphcl', dataset, seeds=[seed], aug2=view,
                       root=data_root(), progress=False, verbose=False)
    path = STUDY / dataset / f'aug2={view}' / f'seed{seed}.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, dict(
        dataset=m['dataset'], aug2=view, seed=seed, val=m['val_acc'][0],
        test=m['test_acc'][0], seconds_per_epoch=m['seconds_per_epoch'],
        config={k: v for k, v in m['config'].items()
                if k not in ('seeds', 'root', 'data_root')},
        machine=header, code=code_version()))
    print(f"graphcl {dataset} aug2={view} seed {seed}: val "
          f"{m['val_acc'][0]:.2f}, test {m['test_acc'][0]:.2f}", flush=True)


def study(dataset: str, views: List[str], seeds: int) -> str:
    for view in views:
        for seed in range(seeds):
            if not (STUDY / dataset / f'aug2={view}' /
                    f'seed{seed}.json').exists():
                run_subprocess([__file__, '_study', dataset, view,
                                str(seed)])
    rows = []
    for view in views:
        runs = [json.loads(p.read_text()) for p in sorted(
            (STUDY / dataset / f'aug2={view}').glob('seed*.json'))]
        rows.append((statistics.fmean(r['val'] for r in runs), view, runs))
    lines = [f'## Second view on {dataset}, chosen on validation', '',
             '| aug2 | seeds | val (inner CV / validation) | test |',
             '|---|---|---|---|']
    for _, view, runs in sorted(rows, reverse=True):
        lines.append(f"| {view} | {len(runs)} | "
                     f"{_mean_std([r['val'] for r in runs])} | "
                     f"{_mean_std([r['test'] for r in runs])} |")
    text = '\n'.join(lines + [''])
    print(text)
    return text


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='command')
    r = sub.add_parser('run', help='every missing seed, then the table')
    r.add_argument('--datasets', nargs='+', default=DATASETS)
    r.add_argument('--seeds', type=int, default=SEEDS)
    r.add_argument('--no-baseline', action='store_true',
                   help='skip the random-initialisation runs')
    sub.add_parser('table', help='write benchmarks/results/graphcl.md')
    st = sub.add_parser('study', help='the second view, chosen on '
                        'validation')
    st.add_argument('--dataset', required=True)
    st.add_argument('--views', nargs='+', required=True)
    st.add_argument('--seeds', type=int, default=3)
    one = sub.add_parser('_study')
    one.add_argument('dataset')
    one.add_argument('view')
    one.add_argument('seed', type=int)
    args = p.parse_args(argv)
    if args.command == '_study':
        study_seed(args.dataset, args.view, args.seed)
        return
    if args.command == 'study':
        text = study(args.dataset, args.views, args.seeds)
        path = STUDY / args.dataset / 'study.md'
        path.write_text(text)
        print(f'wrote {path}', file=sys.stderr)
        return
    if args.command in (None, 'run'):
        for dataset in getattr(args, 'datasets', DATASETS):
            for random_init in (False, True):
                if random_init and getattr(args, 'no_baseline', False):
                    continue
                run('graphcl', dataset, getattr(args, 'seeds', SEEDS),
                    random_init)
    write('graphcl.md', table())


if __name__ == '__main__':
    main()
