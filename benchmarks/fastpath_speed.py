"""DGI's Cora epoch before and after a change of the fast path, in one run.

Two checkouts of graphcl (``--base``, e.g. a ``git worktree`` of the commit
before the change, and this repository) each train the ``dgi`` recipe
(``graphcl.models.build_method('dgi', ...)``, features row-normalised as
``run_experiment`` does, Adam from that checkout's
``graphcl.perf.make_adam``, lr 0.001) in their own process, with
``graphcl.perf.tune_cpu_allocator()`` applied in both. The processes take
turns, ``--block`` epochs at a time (the waiting one asleep on a pipe), so
both see the same machine conditions; who goes first alternates by seed.
An epoch is what the engine's loop does: ``zero_grad``, ``objective``,
``backward``, ``step``, ``loss.item()``. Both start from the same weights
and draw the same permutations, so their losses must agree: the largest
difference is reported beside the times.

    git worktree add /tmp/base 73841e4
    python benchmarks/fastpath_speed.py --base /tmp/base --seeds 3 \\
        --epochs 300 --threads 1
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def worker(dataset: str, seed: int, root: str, threads: int):
    """Serves blocks of epochs asked for on stdin ("run N" -> "done", then
    "end" -> one JSON line with the epoch times and losses)."""
    import torch
    import graphcl
    from graphcl.data import load_dataset
    from graphcl.models import build_method
    from graphcl.perf import make_adam, tune_cpu_allocator

    torch.set_num_threads(threads)
    tuned = tune_cpu_allocator()
    data = load_dataset(dataset, root=root, seed=seed)
    x = data.x.float()
    data.x = x / x.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    torch.manual_seed(seed)
    model = build_method('dgi', data.num_features, seed=seed)
    optimizer = make_adam(model.parameters(), lr=0.001)
    model.train()
    times, losses = [], []
    print('ready', flush=True)
    for line in sys.stdin:
        if line.strip() == 'end':
            break
        for _ in range(int(line.split()[1])):
            t0 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = model.objective(data)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            times.append(time.perf_counter() - t0)
        print('done', flush=True)
    print(json.dumps(dict(times=times, losses=losses, tuned=tuned,
                          threads=torch.get_num_threads(),
                          graphcl=graphcl.__file__)))


def run_pair(roots: dict, dataset: str, seed: int, epochs: int, block: int,
             data_root: str, threads: int) -> dict:
    procs = {}
    for name, src in roots.items():
        env = dict(os.environ, PYTHONPATH=str(src),
                   OMP_NUM_THREADS=str(threads))
        procs[name] = subprocess.Popen(
            [sys.executable, '-W', 'ignore', __file__, '--worker',
             '--dataset', dataset, '--seed', str(seed), '--root', data_root,
             '--threads', str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env, cwd='/')

    def expect(name, word):
        line = procs[name].stdout.readline().strip()
        if line != word:
            for p in procs.values():
                p.kill()
            raise RuntimeError(f'{name} seed {seed}: expected {word!r}, got '
                               f'{line!r}')

    for name in procs:
        expect(name, 'ready')
    for start in range(0, epochs, block):
        for name in procs:
            procs[name].stdin.write(f'run {min(block, epochs - start)}\n')
            procs[name].stdin.flush()
            expect(name, 'done')
    out = {}
    for name, p in procs.items():
        text, _ = p.communicate('end\n')
        if p.returncode != 0:
            raise RuntimeError(f'{name} seed {seed} failed')
        out[name] = json.loads(text.strip().splitlines()[-1])
        if not out[name]['graphcl'].startswith(str(roots[name])):
            raise RuntimeError(f"{name} imported graphcl from "
                               f"{out[name]['graphcl']}, not {roots[name]}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--base', default='/tmp/base',
                   help='checkout of the code before the change')
    p.add_argument('--dataset', default='Cora')
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--epochs', type=int, default=300)
    p.add_argument('--block', type=int, default=10,
                   help='epochs of one before switching to the other')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--root', default=None)
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--output', default='fastpath_speed.md')
    args = p.parse_args()
    if args.worker:
        return worker(args.dataset, args.seed, args.root, args.threads)

    sys.path.insert(0, str(HERE))
    from _common import data_root, machine, write
    root = args.root or data_root()
    base = Path(args.base).resolve()
    if not (base / 'graphcl' / '__init__.py').exists():
        raise SystemExit(f'--base {base} holds no graphcl checkout; make one '
                         f'with: git worktree add {base} COMMIT')
    head = subprocess.run(['git', '-C', str(base), 'rev-parse', '--short',
                           'HEAD'], capture_output=True,
                          text=True).stdout.strip()
    now = subprocess.run(['git', '-C', str(REPO), 'rev-parse', '--short',
                          'HEAD'], capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run(['git', '-C', str(REPO), 'status', '--porcelain',
                            '--', 'graphcl'], capture_output=True,
                           text=True).stdout.strip()
    header = machine()
    runs = {'before': [], 'after': []}
    loss_diff = first_diff = 0.0
    for seed in range(args.seeds):
        order = ['before', 'after'] if seed % 2 == 0 else ['after', 'before']
        roots = {name: base if name == 'before' else REPO for name in order}
        r = run_pair(roots, args.dataset, seed, args.epochs, args.block,
                     root, args.threads)
        for name in order:
            runs[name].append(r[name])
        diffs = [abs(a - b) for a, b in zip(r['before']['losses'],
                                            r['after']['losses'])]
        loss_diff, first_diff = max(loss_diff, max(diffs)), max(first_diff,
                                                                diffs[0])
        msg = ', '.join(
            f"{n} {1000 * statistics.median(r[n]['times'][1:]):.2f} ms"
            for n in order)
        print(f'seed {seed}: {msg}', flush=True)

    def stats(name):
        # the first epoch builds the caches: left out
        per_seed = [statistics.median(r['times'][1:]) for r in runs[name]]
        times = [t for r in runs[name] for t in r['times'][1:]]
        return statistics.median(times), per_seed

    before, b_seed = stats('before')
    after, a_seed = stats('after')
    ratios = [a / b for a, b in zip(a_seed, b_seed)]
    # block-wise ratios: each block of "after" against the adjacent block
    # of "before" in the same seed (same machine conditions)
    block_ratios = []
    for rb, ra in zip(runs['before'], runs['after']):
        for s in range(1, args.epochs, args.block):
            tb = statistics.median(rb['times'][s:s + args.block])
            ta = statistics.median(ra['times'][s:s + args.block])
            block_ratios.append(ta / tb)
    q = statistics.quantiles(block_ratios, n=4) if len(block_ratios) > 1 \
        else [block_ratios[0]] * 3
    lines = [
        f'# DGI fast path: {args.dataset} epoch before and after', '',
        f'Measured with `python benchmarks/fastpath_speed.py --base '
        f'{args.base} --seeds {args.seeds} --epochs {args.epochs} --block '
        f'{args.block} --threads {args.threads}` on {header}.', '',
        f'Before: commit {head} (`{base}`). After: commit {now}'
        f"{' with uncommitted changes in graphcl/' if dirty else ''} "
        f'(this repository). Each seed runs one process per checkout, both '
        f'with `tune_cpu_allocator()` '
        f"(applied: {runs['before'][0]['tuned']} / "
        f"{runs['after'][0]['tuned']}) and {args.threads} thread(s); they "
        f'take turns in blocks of {args.block} epochs, the waiting one '
        f'asleep, the first alternating by seed. An epoch: `zero_grad`, '
        f'`model.objective(data)`, `backward`, `make_adam(...)` step, '
        f"`loss.item()`, for `build_method('dgi', F, seed=seed)` on "
        f'row-normalised features. Times: medians over every epoch but the '
        f'first (which builds the caches).', '',
        '| | before | after |', '|---|---|---|',
        f'| ms per epoch (median, all seeds) | {1000 * before:.2f} | '
        f'{1000 * after:.2f} |',
        '| per-seed medians (ms) | ' +
        ', '.join(f'{1000 * t:.2f}' for t in b_seed) + ' | ' +
        ', '.join(f'{1000 * t:.2f}' for t in a_seed) + ' |', '',
        f'**after / before: {q[1]:.3f}**, the median of the '
        f'{len(block_ratios)} ratios of a block of {args.block} epochs to '
        f'the neighbouring block of the other (quartiles {q[0]:.3f}-'
        f'{q[2]:.3f}); per seed (ratio of the medians) '
        + ', '.join(f'{r:.3f}' for r in ratios) +
        f'; all epochs pooled {after / before:.3f} (pooling mixes seeds '
        f'run under different load).', '',
        f'Both start from the same weights and draw the same permutations: '
        f'their first losses differ by at most {first_diff:.1e}, and over '
        f'{args.epochs} epochs by at most {loss_diff:.1e} (float rounding, '
        f'in another summation order, carried through the training).',
    ]
    write(args.output, '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
