"""Graph-level methods beside their papers: one table,
benchmarks/results/graph_methods.md, of method x dataset with graphcl's
score (TU: SVM accuracy under 10-fold stratified CV, mean ± population std
over pretraining seeds; OGB: test ROC-AUC of the linear probe on the
scaffold split), the published number, the issue's target, the same
encoder's score at random initialisation, seconds per epoch, and where the
whole run's time goes (pretraining, evaluation, wall).

    python benchmarks/graph_methods.py                 # the grid, then the table
    python benchmarks/graph_methods.py run --method infograph \
        --dataset NCI1 --seeds 5
    python benchmarks/graph_methods.py run --method infograph \
        --dataset ogbg-molbace --seeds 5 --random-init
    python benchmarks/graph_methods.py table

``run``: every missing seed of ``run_experiment(METHOD, DATASET,
seeds=[seed])`` (the method's settings for the dataset; ``--random-init``:
the method's encoder evaluated untrained) runs in its own process on one
thread and is saved as
benchmarks/results/graph_methods/METHOD/DATASET[/random_init]/seedN.json.
Saved seeds are skipped; a seed in progress trains in a run folder under
runs/benchmarks/graph_methods/ (ignored by git) with a checkpoint every
30 s, so an interrupted command continues where it stopped. Any
registered method of ``level='graph'`` runs.

No arguments: every registered graph-level method on MUTAG, PROTEINS,
NCI1, IMDB-BINARY, ogbg-molbace and ogbg-molbbbp (5 seeds), the OGB sets'
random-initialised baselines, then the table.

Nothing is chosen on the test folds: the SVM's C is chosen by an inner
cross-validation on each fold's training graphs, the probe's weight decay
on OGB's validation split; the methods' settings are their papers' code's.
"""
import argparse
import json
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from _common import (RESULTS, code_version, data_root, exit_if_busy,
                     machine, one_thread, run_subprocess, write)

OUT = RESULTS / 'graph_methods'
RUNS = RESULTS.parents[1] / 'runs' / 'benchmarks' / 'graph_methods'
SEEDS = 5
TU = ['MUTAG', 'PROTEINS', 'NCI1', 'IMDB-BINARY']
OGB = ['ogbg-molbace', 'ogbg-molbbbp']

_IG = 'InfoGraph paper (Sun et al., ICLR 2020), Table 2'
_GCL = 'GraphCL paper (You et al., NeurIPS 2020), Table 4'
#: (method, dataset) -> (published, its source, the issue's target).
PUBLISHED: Dict[Tuple[str, str], Tuple[str, str, Optional[float]]] = {
    ('infograph', 'MUTAG'): ('89.01 ± 1.13', _IG, 88.0),
    ('infograph', 'PROTEINS'): ('74.44 ± 0.31', _IG, 74.0),
    ('infograph', 'NCI1'): ('76.20 ± 1.06', _IG, 75.2),
    ('infograph', 'IMDB-BINARY'): ('73.03 ± 0.87', _IG, 72.0),
    ('graphcl', 'MUTAG'): ('86.80 ± 1.34', _GCL, 85.5),
    ('graphcl', 'PROTEINS'): ('74.39 ± 0.45', _GCL, 74.0),
    ('graphcl', 'NCI1'): ('77.87 ± 0.41', _GCL, 77.4),
    ('graphcl', 'IMDB-BINARY'): ('71.14 ± 0.44', _GCL, 70.7),
}


def graph_methods() -> List[str]:
    from graphcl.models import get_method, list_methods
    return [m for m in list_methods() if get_method(m).level == 'graph']


def folder(method: str, dataset: str, random_init: bool,
           out: Optional[Path] = None) -> Path:
    path = (OUT if out is None else out) / method / dataset
    return path / 'random_init' if random_init else path


def saved_seeds(path: Path) -> Dict[int, dict]:
    runs = {}
    for p in path.glob('seed*.json'):
        m = re.fullmatch(r'seed(\d+)', p.stem)
        if m:
            runs[int(m.group(1))] = json.loads(p.read_text())
    return dict(sorted(runs.items()))


def run_one(method: str, dataset: str, seed: int, random_init: bool,
            path: Path, rundir: Path) -> dict:
    """One seed on one thread, saved as the JSON at ``path``."""
    tuned = one_thread()
    from graphcl.atomic import atomic_write_json
    from graphcl.experiment_graph import run_graph_experiment
    from graphcl.models import get_method
    from graphcl.rundir import RunFolderError
    header = machine()
    resume = (rundir / 'run.json').exists()
    rundir.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        m = run_graph_experiment(get_method(method), dataset, seeds=[seed],
                                 root=data_root(), progress=False,
                                 verbose=False, out=str(rundir),
                                 resume=resume,
                                 pretrain_model=not random_init)
    except RunFolderError as e:
        exit_if_busy(e, seed)
        raise
    wall = time.perf_counter() - t0
    config = m['config']
    result = dict(
        method=method, dataset=m['dataset'], seed=seed,
        random_init=random_init, test=m['test_acc'][0],
        val=m['val_acc'][0], metric=m['metric'], protocol=m['protocol'],
        fold_scores=(m['fold_scores'] or [None])[0],
        svm_c=(m['svm_c'] or [None])[0], epochs=m['epochs'][0],
        seconds_per_epoch=m['seconds_per_epoch'],
        pretrain_seconds=m['pretrain_seconds'],
        eval_seconds=m['probe_seconds'], wall_seconds=wall,
        resumed=resume, peak_rss_mb=m['peak_rss_mb'],
        config={k: v for k, v in config.items()
                if k not in ('seeds', 'root', 'data_root')},
        allocator_tuned=tuned, machine=header, code=code_version())
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, result)
    shutil.rmtree(rundir, ignore_errors=True)
    print(f"{method}{' (random init)' if random_init else ''} "
          f"{m['dataset']} seed {seed}: {result['test']:.2f} "
          f"(pretrain {result['pretrain_seconds']:.0f} s, evaluation "
          f"{result['eval_seconds']:.0f} s)", flush=True)
    return result


def run(method: str, dataset: str, seeds: int, random_init: bool):
    if method not in graph_methods():
        raise SystemExit(f"'{method}' is not a registered graph-level "
                         f"method; registered: {', '.join(graph_methods())}")
    from graphcl.data.registry import get_spec
    dataset = get_spec(dataset, level='graph').name
    path = folder(method, dataset, random_init)
    done = saved_seeds(path)
    for seed in range(seeds):
        if seed in done:
            continue
        tag = 'random_init' if random_init else 'trained'
        run_subprocess([__file__, '_seed', method, dataset, str(seed), tag])


def _mean_std(values: List[float]) -> str:
    if not values:
        return '-'
    mean = statistics.fmean(values)
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f'{mean:.2f} ± {std:.2f}'


def table(out: Optional[Path] = None) -> str:
    root = OUT if out is None else out
    rows = []
    for method in sorted(p.name for p in root.iterdir() if p.is_dir()) \
            if root.is_dir() else []:
        for dataset in TU + OGB:
            trained = saved_seeds(folder(method, dataset, False, root))
            rand = saved_seeds(folder(method, dataset, True, root))
            if not trained and not rand:
                continue
            t = list(trained.values())
            pub, src, target = PUBLISHED.get((method, dataset),
                                             ('-', '', None))
            score = _mean_std([r['test'] for r in t])
            met = (target is not None and t and
                   statistics.fmean(r['test'] for r in t) >= target)
            rows.append(dict(
                method=method, dataset=dataset, n=len(t),
                metric=(t or list(rand.values()))[0]['metric'],
                score=score, val=_mean_std([r['val'] for r in t]),
                published=pub, target='-' if target is None else
                f"{target}{' (met)' if met else ' (not met)' if t else ''}",
                random=_mean_std([r['test'] for r in rand.values()]),
                n_random=len(rand),
                epoch_ms=(f"{1000 * statistics.median(r['seconds_per_epoch'] for r in t):.0f}"
                          if t else '-'),
                pretrain=sum(r['pretrain_seconds'] for r in t),
                evaluation=sum(r['eval_seconds'] for r in t),
                wall=sum(r['wall_seconds'] for r in t),
                load=sorted({r['machine'].split('load average ')[1]
                             .split(' ')[0] for r in t}),
                seeds=sorted(trained)))
    lines = [
        '# Graph-level methods beside their papers', '',
        'Written by `python benchmarks/graph_methods.py table` from the '
        'per-seed JSONs under `benchmarks/results/graph_methods/`. '
        'TU datasets: SVM accuracy (%) under 10-fold stratified '
        'cross-validation, C in {1e-3, ..., 1e3} chosen by a 5-fold inner '
        'cross-validation on the training folds; each seed is one '
        'pretraining seed (its folds shuffled with the same seed), mean ± '
        'population std over seeds. OGB: test ROC-AUC (x100) of the linear '
        'probe on the official scaffold split, weight decay chosen on the '
        'validation split (OGB Evaluator). "validation" is the inner-CV '
        'accuracy of the chosen C (TU) or the validation ROC-AUC (OGB). '
        '"random init" is the same encoder, untrained, evaluated the same '
        'way. Times: one thread per run, on a shared 2-core machine; '
        'pretrain, evaluation and wall are summed over the seeds shown.', '',
        '| method | dataset | metric | seeds | graphcl | validation | '
        'published | target | random init (seeds) | ms/epoch | pretrain s |'
        ' evaluation s | wall s | load avg at start |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['dataset']} | {r['metric']} | {r['n']} | "
            f"{r['score']} | {r['val']} | {r['published']} | {r['target']} |"
            f" {r['random']} ({r['n_random']}) | {r['epoch_ms']} | "
            f"{r['pretrain']:.0f} | {r['evaluation']:.0f} | {r['wall']:.0f} "
            f"| {', '.join(r['load']) or '-'} |")
    sources = sorted({PUBLISHED[(r['method'], r['dataset'])][1]
                      for r in rows if (r['method'], r['dataset'])
                      in PUBLISHED})
    if sources:
        lines += ['', 'Published numbers: ' + '; '.join(sources) + '.']
    text = '\n'.join(lines) + '\n'
    return text


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd')
    r = sub.add_parser('run', help='run the missing seeds of one cell')
    r.add_argument('--method', required=True)
    r.add_argument('--dataset', required=True)
    r.add_argument('--seeds', type=int, default=SEEDS)
    r.add_argument('--random-init', action='store_true',
                   help='evaluate the untrained encoder (the baseline)')
    sub.add_parser('table', help='write benchmarks/results/graph_methods.md')
    s = sub.add_parser('_seed')  # internal: one seed in this process
    s.add_argument('method')
    s.add_argument('dataset')
    s.add_argument('seed', type=int)
    s.add_argument('tag', choices=['trained', 'random_init'])
    args = p.parse_args(argv)
    if args.cmd == '_seed':
        random_init = args.tag == 'random_init'
        path = folder(args.method, args.dataset, random_init) / \
            f'seed{args.seed}.json'
        rundir = RUNS / args.method / args.dataset / args.tag / \
            f'seed{args.seed}'
        run_one(args.method, args.dataset, args.seed, random_init, path,
                rundir)
        return
    if args.cmd == 'run':
        run(args.method.lower(), args.dataset, args.seeds, args.random_init)
        return
    if args.cmd is None:
        for method in graph_methods():
            for dataset in TU + OGB:
                run(method, dataset, SEEDS, False)
            for dataset in OGB:
                run(method, dataset, SEEDS, True)
    write('graph_methods.md', table())


if __name__ == '__main__':
    sys.exit(main())
