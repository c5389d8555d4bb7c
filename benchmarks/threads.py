"""Threads on a busy machine: DGI's ms/epoch on Cora with PyTorch's default
thread count against `--threads 1`, the two alternated in one run (each a
fresh `graphcl train` process; OMP_NUM_THREADS/MKL_NUM_THREADS unset so
that the default is PyTorch's own), with the load average around each run.

    python benchmarks/threads.py [--pairs 3] [--epochs 100]

Writes benchmarks/results/threads.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine, write  # noqa: E402


def train(threads, root: str, epochs: int, dataset: str):
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, '-W', 'ignore', '-m', 'graphcl.cli', 'train',
               'dgi', '--dataset', dataset, '--root', root, '--epochs',
               str(epochs), '--patience', '0', '--no-probe', '--quiet',
               '--out', out]
        if threads is not None:
            cmd += ['--threads', str(threads)]
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        wall = time.perf_counter() - t0
        m = json.loads((Path(out) / 'metrics.json').read_text())
    return 1000 * m['seconds_per_epoch'], wall, load


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--pairs', type=int, default=3)
    p.add_argument('--epochs', type=int, default=100)
    p.add_argument('--dataset', default='Cora')
    args = p.parse_args()
    root = data_root()
    header = machine()
    rows, ms = [], {None: [], 1: []}
    for i in range(args.pairs):
        for threads in ((None, 1) if i % 2 == 0 else (1, None)):
            per_epoch, wall, load = train(threads, root, args.epochs,
                                          args.dataset)
            ms[threads].append(per_epoch)
            rows.append(f"| {len(rows) + 1} | "
                        f"{'default' if threads is None else threads} | "
                        f"{per_epoch:.1f} | {wall:.1f} | {load:.2f} |")
    default, one = statistics.median(ms[None]), statistics.median(ms[1])
    text = (
        f"# Threads: PyTorch's default against `--threads 1`\n\n{header}.\n\n"
        f"`graphcl train dgi --dataset {args.dataset} --epochs "
        f"{args.epochs} --patience 0 --no-probe` (full batch, {args.epochs} "
        f"epochs), default threads (`{os.cpu_count()}` cores) and "
        f"`--threads 1` alternated, {args.pairs} runs each; ms/epoch from "
        f"metrics.json, load average (1 min) at each start. Written by "
        f"`benchmarks/threads.py`.\n\n"
        "| run | threads | ms/epoch | wall s | load |\n|---|---|---|---|---|\n"
        + '\n'.join(rows) +
        f"\n\nMedian: default {default:.1f} ms/epoch, `--threads 1` "
        f"{one:.1f} ms/epoch ({default / one:.2f}x).\n")
    write('threads.md', text)


if __name__ == '__main__':
    main()
