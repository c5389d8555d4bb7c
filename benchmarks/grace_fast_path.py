"""GRACE's full-batch training step: the CSR fast path of
graphcl.models.gcn_views against PyG's message passing (the plain path),
with each dataset's GRACE preset (method_settings('grace', dataset)).

    python benchmarks/grace_fast_path.py                 # Photo, Computers
    python benchmarks/grace_fast_path.py --datasets Coauthor-CS
    python benchmarks/grace_fast_path.py --rerun         # measure again
    python benchmarks/grace_fast_path.py table           # rewrite the .md

Both paths run in one process on one thread, on the same data and model
(features row-normalised as the engine does), alternating step by step:
one warm-up step each, then ROUNDS rounds in which both paths start from
the same weights and the same views (the views' generator reseeded), in
alternating order. A step is what the engine's full-batch epoch does:
objective, backward, Adam step. Reported: medians of process (CPU) time,
which the other jobs of a busy machine inflate less than wall time, and
of wall time; the load average before and after; the largest difference
between the two paths' losses. Then, on the same views, where a step's
CPU time goes (drawing the views and normalising their graphs, the
encoder forward and backward, the loss forward and backward): the loss
is computed alike on both paths.

Per-dataset results are saved as results/grace_fast_path/<dataset>.json;
a dataset already saved is skipped (``--rerun`` measures it again), and
results/grace_fast_path.md is rewritten from every saved JSON.
"""
import argparse
import json
import math
import os
import statistics
import time

from _common import (RESULTS, alternate_paths, code_version, data_root,
                     machine, method_setup, one_thread, write)
from graphcl.models.grace_spec import GRACE_DEFAULTS

OUT = RESULTS / 'grace_fast_path'
DATASETS = ('Amazon-Photo', 'Amazon-Computers')
ROUNDS = 3
OPTIONS = tuple(GRACE_DEFAULTS)  # every registered option


def parts(data, model, fast: bool):
    """CPU seconds of each part of one step (no optimiser step), and the
    two views' embeddings."""
    import torch
    from graphcl.models.base import encoder_inputs
    from graphcl.models.gcn_views import draw_gcn_views
    model.fast_path = fast
    model.zero_grad(set_to_none=True)
    t = [time.process_time()]
    views, encode = draw_gcn_views(
        (model.view1, model.view2), encoder_inputs(data),
        model.fast_path_refusal, model.encoder,
        model._feature_rows if fast else None)
    t.append(time.process_time())
    z = [encode(model.encoder, v) for v in views]
    t.append(time.process_time())
    leaves = [h.detach().requires_grad_() for h in z]
    loss = model.loss(*leaves)
    t.append(time.process_time())
    loss.backward()
    t.append(time.process_time())
    torch.autograd.backward(z, [h.grad for h in leaves])
    t.append(time.process_time())
    names = ('views', 'encoder_forward', 'loss_forward', 'loss_backward',
             'encoder_backward')
    return {n: b - a for n, a, b in zip(names, t, t[1:])}, \
        torch.cat(z).detach()


def measure(dataset: str, root: str, rounds: int) -> dict:
    tuned = one_thread()
    header, load_before = machine(), os.getloadavg()
    t_start = time.perf_counter()
    data, model, opt, settings = method_setup('grace', dataset, root)
    gen = model.view1.corruptions[0].generator  # shared by both views
    csr = model._feature_rows(data.x) is not None
    view = model.view1(data.x, data.edge_index)
    assert model.fast_path_refusal(view) is None, \
        model.fast_path_refusal(view)
    times, losses = alternate_paths(data, model, opt, gen, rounds)
    split, z = {}, {}
    for fast in (True, False):
        gen.manual_seed(2000)
        split[fast], z[fast] = parts(data, model, fast)
    r = dict(
        dataset=dataset, nodes=data.num_nodes, edges=data.num_edges,
        features=data.num_features,
        feature_density=float((data.x != 0).float().mean()),
        csr_features=csr, settings={k: settings[k] for k in OPTIONS},
        rounds=rounds, machine=header, code=code_version(),
        allocator_tuned=tuned, load_before=list(load_before),
        load_after=list(os.getloadavg()),
        fast_cpu=statistics.median(t[0] for t in times[True]),
        plain_cpu=statistics.median(t[0] for t in times[False]),
        fast_wall=statistics.median(t[1] for t in times[True]),
        plain_wall=statistics.median(t[1] for t in times[False]),
        fast_cpu_all=[t[0] for t in times[True]],
        plain_cpu_all=[t[0] for t in times[False]],
        losses=losses[True], uniform_loss=math.log(2 * data.num_nodes - 1),
        max_loss_diff=max(abs(a - b) for a, b in
                          zip(losses[True], losses[False])),
        max_embedding_diff=float((z[True] - z[False]).abs().max()),
        max_embedding=float(z[False].abs().max()),
        parts=dict(fast=split[True], plain=split[False]),
        seconds=time.perf_counter() - t_start)
    r['cpu_ratio'] = r['plain_cpu'] / r['fast_cpu']
    r['wall_ratio'] = r['plain_wall'] / r['fast_wall']
    return r


def table():
    lines = [
        '# GRACE: the two-view GCN fast path', '',
        'Produced by `benchmarks/grace_fast_path.py` (per-dataset JSONs '
        'under `results/grace_fast_path/`). One full-batch training step '
        '(objective, backward, Adam step) with the dataset\'s GRACE preset, '
        'on one thread; the fast path (each view\'s graph normalised once '
        'into a CSR matrix, every GCN layer one sparse-dense product, '
        '`graphcl.models.gcn_views`) against the plain path (PyG '
        '`GCNConv` message passing), alternating in one process on the '
        'same weights and views. Medians of the rounds; the ratio is '
        'plain / fast.', '',
        '| dataset | features | fast CPU s | plain CPU s | CPU ratio | '
        'fast wall s | plain wall s | wall ratio | rounds | load average '
        '(1 min) before / after |',
        '|---|---|---|---|---|---|---|---|---|---|']
    results = [json.loads(f.read_text())
               for f in sorted(OUT.glob('*.json'))]
    for r in results:
        feats = (f"{r['features']} ({100 * r['feature_density']:.1f} % "
                 f"non-zero, {'CSR' if r['csr_features'] else 'dense'})")
        lines.append(
            f"| {r['dataset']} ({r['nodes']:,} nodes, {r['edges']:,} "
            f"edges) | {feats} | {r['fast_cpu']:.2f} | {r['plain_cpu']:.2f}"
            f" | {r['cpu_ratio']:.2f}x | {r['fast_wall']:.2f} | "
            f"{r['plain_wall']:.2f} | {r['wall_ratio']:.2f}x | "
            f"{r['rounds']} | "
            f"{r['load_before'][0]:.2f} / {r['load_after'][0]:.2f} |")
    lines += [
        '', '## The two paths agree', '',
        'Losses of the timed rounds (same weights and views on both '
        'paths), and the two views\' embeddings of the step below. Early '
        'in training GRACE\'s loss is close to its value for identical '
        'rows, log(2N - 1), so the loss alone says little; the '
        'embeddings and the tests (`tests/models/test_grace.py`: loss and '
        'every gradient) say more.', '',
        '| dataset | losses (fast path) | log(2N - 1) | largest loss '
        'difference | largest embedding difference | largest embedding '
        'entry |', '|---|---|---|---|---|---|']
    for r in results:
        if 'losses' not in r:
            continue
        lines.append(
            f"| {r['dataset']} | "
            f"{', '.join(f'{v:.5f}' for v in r['losses'])} | "
            f"{r['uniform_loss']:.5f} | {r['max_loss_diff']:.1e} | "
            f"{r['max_embedding_diff']:.1e} | {r['max_embedding']:.3g} |")
    lines += [
        '', '## Where a step\'s CPU time goes', '',
        'One more step of each path on the same views, split into parts '
        '(CPU s; no optimiser step). The loss (projection head and '
        'NT-Xent over the 2N rows, computed in blocks) is the same '
        'computation on both paths.', '',
        '| dataset | path | views and their graphs | encoder forward | '
        'encoder backward | loss forward | loss backward | total |',
        '|---|---|---|---|---|---|---|---|']
    for r in results:
        for path, p in r['parts'].items():
            lines.append(
                f"| {r['dataset']} | {path} | {p['views']:.2f} | "
                f"{p['encoder_forward']:.2f} | {p['encoder_backward']:.2f} "
                f"| {p['loss_forward']:.2f} | {p['loss_backward']:.2f} | "
                f"{sum(p.values()):.2f} |")
    lines += ['', '## Settings and machine', '']
    for r in results:
        lines.append(f"- {r['dataset']}: {r['settings']}; "
                     f"{r['machine']}; graphcl {r['code']}; "
                     f"{r['seconds']:.0f} s in all.")
    lines.append('')
    write('grace_fast_path.md', '\n'.join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('cmd', nargs='?', choices=('run', 'table'),
                   default='run')
    p.add_argument('--datasets', nargs='+', default=list(DATASETS))
    p.add_argument('--root', default=None,
                   help='data root (default: GRAPHCL_DATA)')
    p.add_argument('--rounds', type=int, default=ROUNDS,
                   help=f'timed rounds per dataset (default: {ROUNDS})')
    p.add_argument('--rerun', action='store_true',
                   help='measure datasets that already have a JSON again')
    args = p.parse_args(argv)
    if args.cmd == 'run':
        root = args.root or data_root()
        OUT.mkdir(parents=True, exist_ok=True)
        for dataset in args.datasets:
            path = OUT / f'{dataset}.json'
            if path.exists() and not args.rerun:
                print(f'{dataset}: saved, skipped ({path})', flush=True)
                continue
            r = measure(dataset, root, args.rounds)
            tmp = path.with_suffix('.tmp')
            tmp.write_text(json.dumps(r, indent=2) + '\n')
            tmp.replace(path)
            print(f"{dataset}: fast {r['fast_cpu']:.2f} s, plain "
                  f"{r['plain_cpu']:.2f} s CPU per step "
                  f"({r['cpu_ratio']:.2f}x)", flush=True)
    table()


if __name__ == '__main__':
    main()
