"""Choosing the linear probe's weight decay: per seed, or once for all seeds
(pooled)? Judged on held-out validation nodes, never on the test split.

``linear_probe`` fits one logistic regression per weight decay of the grid.
Two rules pick one of them from the validation accuracies:

  per-seed   each pretraining seed keeps its own best weight decay
  pooled     one weight decay for a group of seeds: the best validation
             accuracy averaged over the group (``graphcl.eval.select_pooled``)

To compare the rules without the test split, the validation nodes of every
seed are split at random into halves A and B, many times (the graph's nodes
are halved, so a node is on the same side for every seed): each rule
chooses on A and is scored on B (mean accuracy over the seeds of a group).
The rule with the higher held-out score is the better way to choose.
Groups are consecutive blocks of ``--groups`` seeds (10: the benchmark's
protocol; several sizes may be given).

The test accuracy of each rule, choosing on the full validation split, is
printed beside it for information; it takes no part in the comparison.

    OMP_NUM_THREADS=1 python benchmarks/probe_selection.py
    OMP_NUM_THREADS=1 python benchmarks/probe_selection.py --datasets Cora \\
        --seeds 10 --no-write

Embeddings are pretrained with the library's defaults (as ``graphcl train``)
and cached under ``--cache``, outside the repository. Writes
benchmarks/results/probe_selection.md.
"""
import shlex
import statistics
import sys
import time

import torch

from _common import embedding_study_parser, embeddings, start_study, write

from graphcl.data import load_dataset
from graphcl.eval.linear_probe import DEFAULT_WEIGHT_DECAYS, LogisticRegression
from graphcl.experiment import _row_normalize


def fits(z, data):
    """For each weight decay of the grid: the correctness of each
    validation node ([W, V] floats) and the test accuracy ([W]); with the
    validation node indices ([V])."""
    y = data.y.view(-1)
    val = data.val_mask.nonzero().view(-1)
    test = data.test_mask.nonzero().view(-1)
    num_classes = int(y.max()) + 1
    correct, test_acc = [], []
    for wd in DEFAULT_WEIGHT_DECAYS:
        clf = LogisticRegression(z.size(1), num_classes, wd)
        pred = clf.fit(z[data.train_mask], y[data.train_mask]).predict(z)
        correct.append((pred[val] == y[val]).float())
        test_acc.append((pred[test] == y[test]).float().mean().item())
    return torch.stack(correct), torch.tensor(test_acc), val


def first_best(scores):
    """Index of the first maximum (the library's tie rule)."""
    return int((scores == scores.max()).nonzero()[0])


def choose(val_scores, rule):
    """val_scores: [seeds, weight decays]. Index chosen per seed."""
    if rule == 'per-seed':
        return [first_best(row) for row in val_scores]
    j = first_best(val_scores.mean(0))
    return [j] * val_scores.size(0)


def compare(group, num_nodes, halvings, gen):
    """group: list of (correct [W, V_s], test_acc [W], val nodes [V_s])
    per seed. Each halving splits the graph's nodes (not each seed's
    validation nodes on its own), so that a node is on the same side for
    every seed: a pooled choice made on side A then sees nothing of side B,
    whose nodes are the same for all seeds on Planetoid. Returns held-out
    scores per rule (lists over halvings) and full-validation test
    accuracies per rule."""
    held = {'per-seed': [], 'pooled': []}
    for _ in range(halvings):
        side_a = torch.zeros(num_nodes, dtype=torch.bool)
        side_a[torch.randperm(num_nodes, generator=gen)[:num_nodes // 2]] = 1
        a_scores, b_scores = [], []
        for correct, _, val in group:
            in_a = side_a[val]
            a_scores.append(correct[:, in_a].mean(1))
            b_scores.append(correct[:, ~in_a].mean(1))
        a_scores, b_scores = torch.stack(a_scores), torch.stack(b_scores)
        for rule in held:
            picks = choose(a_scores, rule)
            held[rule].append(statistics.fmean(
                b_scores[s, j].item() for s, j in enumerate(picks)))
    full = torch.stack([c.mean(1) for c, _, _ in group])
    tests = {}
    for rule in held:
        picks = choose(full, rule)
        tests[rule] = [group[s][1][j].item() for s, j in enumerate(picks)]
    return held, tests


def main():
    p = embedding_study_parser(__doc__, 30, '/tmp/gw_probe_selection')
    p.add_argument('--groups', type=int, nargs='+', default=[10],
                   help='seeds per group sharing a pooled choice, one or '
                   'more sizes (default: 10)')
    p.add_argument('--halvings', type=int, default=1000,
                   help='random A/B halvings of the validation nodes '
                   '(default: 1000)')
    args = p.parse_args()
    if any(args.seeds < g or g < 2 for g in args.groups):
        raise SystemExit('every --groups size must be >= 2 and <= --seeds')
    study = start_study(args)
    root, cache, header, version, started, t_start = (
        study.root, study.cache, study.header, study.version, study.started,
        study.t_start)

    rows = []
    grid_lines = ['| dataset | ' + ' | '.join(
        f'{wd:g}' for wd in DEFAULT_WEIGHT_DECAYS) + ' |',
        '|---|' + '---|' * len(DEFAULT_WEIGHT_DECAYS)]
    for dataset in args.datasets:
        per_seed = []
        for seed in range(args.seeds):
            data = load_dataset(dataset, root=root, seed=seed)
            data.x = _row_normalize(data.x.float())
            z, _ = embeddings(dataset, seed, root, cache, args.recompute)
            per_seed.append(fits(z, data))
            print(f'{dataset} seed {seed} done', file=sys.stderr, flush=True)
        val = torch.stack([c.mean(1) for c, _, _ in per_seed]).mean(0)
        test = torch.stack([t for _, t, _ in per_seed]).mean(0)
        grid_lines.append(f'| {dataset} | ' + ' | '.join(
            f'{100 * v:.2f} / {100 * t:.2f}' for v, t in zip(val, test)) +
            ' |')
        gen = torch.Generator().manual_seed(0)
        starts = [(size, start) for size in args.groups
                  for start in range(0, args.seeds - size + 1, size)]
        for size, start in starts:
            group = per_seed[start:start + size]
            held, tests = compare(group, data.num_nodes, args.halvings,
                                  gen)
            diff = [a - b for a, b in zip(held['pooled'], held['per-seed'])]
            rows.append(dict(
                dataset=dataset, size=size,
                seeds=f'{start}-{start + size - 1}',
                held={r: 100 * statistics.fmean(v) for r, v in held.items()},
                diff=100 * statistics.fmean(diff),
                wins=sum(d > 0 for d in diff) / len(diff),
                ties=sum(d == 0 for d in diff) / len(diff),
                test={r: 100 * statistics.fmean(v)
                      for r, v in tests.items()}))
    total = time.perf_counter() - t_start

    lines = [
        '| dataset | seeds | held-out val: per-seed | held-out val: pooled '
        '| pooled − per-seed | pooled higher / equal (share of halvings) '
        '| test: per-seed | test: pooled |',
        '|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['seeds']} | {r['held']['per-seed']:.2f} "
            f"| {r['held']['pooled']:.2f} | {r['diff']:+.2f} | "
            f"{100 * r['wins']:.0f} % / {100 * r['ties']:.0f} % | "
            f"{r['test']['per-seed']:.2f} | {r['test']['pooled']:.2f} |")
    reading = []
    for size in args.groups:
        of_size = [r for r in rows if r['size'] == size]
        diffs = [r['diff'] for r in of_size]
        reading.append(
            f'- Groups of {size} seeds: held-out validation accuracy, pooled '
            f'minus per-seed, averaged over the {len(of_size)} groups: '
            f'{statistics.fmean(diffs):+.2f} points; pooled higher in '
            f'{sum(d > 0 for d in diffs)} groups, lower in '
            f'{sum(d < 0 for d in diffs)}.')
    reading.append('- The test columns take no part in the comparison.')
    command = 'python ' + ' '.join(shlex.quote(a) for a in sys.argv)
    text = '\n'.join([
        '# Probe weight decay: chosen per seed or pooled over seeds', '',
        f'- Date: {started} (total {total:.0f} s, pretraining included '
        f'where not cached)',
        f'- Machine: {header}',
        f'- graphcl imported from: {version}',
        f'- Command: `{command}`',
        f'- Embeddings: DGI with the library defaults (as `graphcl train '
        f'dgi`), seeds 0-{args.seeds - 1}; groups of '
        f'{" and ".join(map(str, args.groups))} seeds; '
        f'{args.halvings} random halvings of the nodes, the same for every '
        f'seed (choose on the validation nodes of one half, score on those '
        f'of the other). Weight-decay grid: '
        f'{list(DEFAULT_WEIGHT_DECAYS)}. Accuracies in %, means over the '
        f'seeds of a group (held-out columns: also over halvings).',
        '', *lines, '',
        f'Mean validation / test accuracy (%) of each weight decay over the '
        f'{args.seeds} seeds (the fits both rules choose from):', '',
        *grid_lines, '', '## Reading', '', *reading, ''])
    if args.no_write:
        print(text)
    else:
        write('probe_selection.md', text)


if __name__ == '__main__':
    main()
