"""How full-batch DGI's cost grows with the graph, and how close it gets to
the floor.

Synthetic stochastic-block-model graphs (graphcl.data.synthetic.synthetic_sbm)
with about 10 in-neighbours per node, 500 sparse bag-of-words features (1 %
non-zero, given as a sparse tensor) and labels from 10 blocks, at 10k, 100k
and 1M nodes. Each size runs in its own process: seconds per epoch (median
of the timed epochs after a warm-up epoch that builds the caches) and the
process's peak RSS.

The floor: the least memory traffic an epoch needs, divided by the memory
bandwidth measured in the same process (a large tensor copy). An epoch must
at least stream X (12 bytes per non-zero, CSR) twice (X W and X^T G), the
normalised adjacency (12 bytes per non-zero) four times (two branches,
forward and backward), the activations (N x D floats) about 16 times
(sparse-product inputs and outputs, bias, PReLU forward/backward, readout,
discriminator, loss), and the parameters (F x D) a few times for Adam.

    python benchmarks/scaling_fullbatch.py [--sizes 10000 100000 1000000]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HIDDEN = 128
FEATURES = 500
DENSITY = 0.01
DEGREE = 10
ACTIVATION_PASSES = 16
EPOCHS = 10


def bandwidth_gbs() -> float:
    import torch
    a = torch.ones(512 * 2**20 // 4)  # 512 MB: far beyond the L3 cache
    b = torch.empty_like(a)
    b.copy_(a)
    best = float('inf')
    for _ in range(5):
        t0 = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.numel() * 4 / best / 1e9  # read + write


def profile_epoch(model, opt, data, n: int) -> dict:
    """Share of one epoch's operator time spent in the feature products
    (X W, X^T G), the adjacency products (four per epoch) and everything
    else (head, PReLU, transposes, Adam), from torch.profiler."""
    from torch.profiler import profile
    with profile(record_shapes=True) as prof:
        opt.zero_grad()
        model.objective(data).backward()
        opt.step()
    parts = dict(features=0.0, adjacency=0.0, rest=0.0)
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key.startswith('aten::') and e.key not in ('aten::mm', ):
            shapes = [tuple(s) for s in e.input_shapes if s]
            if e.key.startswith('aten::addmm') and (
                    (n, n) in shapes or (n, n + 1) in shapes):  # [A | 1]
                parts['adjacency'] += e.self_cpu_time_total
            elif e.key.startswith('aten::addmm') and (
                    (n, FEATURES) in shapes or (FEATURES, n) in shapes):
                parts['features'] += e.self_cpu_time_total
            else:
                parts['rest'] += e.self_cpu_time_total
    total = sum(parts.values()) or 1.0
    return {k: v / total for k, v in parts.items()}


def worker(n: int, epochs: int):
    import torch
    from graphcl.data.synthetic import synthetic_sbm
    from graphcl.experiment import peak_rss_mb
    from graphcl.models import build_method
    from graphcl.perf import make_adam, tune_cpu_allocator

    tune_cpu_allocator()
    t0 = time.perf_counter()
    data = synthetic_sbm(n, avg_degree=DEGREE, num_features=FEATURES,
                         sparse_features=True, density=DENSITY, seed=0)
    gen_s = time.perf_counter() - t0
    rss_data = peak_rss_mb()
    model = build_method('dgi', FEATURES, hidden=HIDDEN, seed=0)
    opt = make_adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = model.objective(data)
        loss.backward()
        opt.step()
        loss.item()
        times.append(time.perf_counter() - t0)
    peak_rss = peak_rss_mb()  # before the bandwidth test's buffers
    shares = profile_epoch(model, opt, data, n)
    nnz_x = data.x._nnz() if data.x.layout != torch.strided else int(
        (data.x != 0).sum())
    e = data.edge_index.size(1)
    nnz_a = e + n  # with self-loops
    act = n * HIDDEN * 4
    floor_bytes = (2 * 12 * nnz_x + 4 * 12 * nnz_a + ACTIVATION_PASSES * act
                   + 8 * FEATURES * HIDDEN * 4)
    bw = bandwidth_gbs()
    print(json.dumps(dict(
        nodes=n, edges=e, nnz_x=nnz_x, first_epoch=times[0],
        seconds_per_epoch=statistics.median(times[1:]), generate_s=gen_s,
        rss_after_data_mb=rss_data, peak_rss_mb=peak_rss,
        floor_bytes=floor_bytes, bandwidth_gbs=bw,
        floor_s=floor_bytes / (bw * 1e9), shares=shares,
        threads=torch.get_num_threads())))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--sizes', nargs='+', type=int,
                   default=[10_000, 100_000, 1_000_000])
    p.add_argument('--epochs', type=int, default=EPOCHS)
    p.add_argument('--worker', type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.epochs)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import RESULTS, machine, write
    header = machine()
    rows = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, '-W', 'ignore', __file__,
                              '--worker', str(n), '--epochs',
                              str(args.epochs)], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(r, flush=True)

    lines = [
        '# Full-batch DGI: cost against graph size', '',
        f'Measured with `python benchmarks/scaling_fullbatch.py` on {header}.',
        f'Synthetic SBM graphs, ~{DEGREE} in-neighbours per node, '
        f'{FEATURES} sparse features ({DENSITY:.0%} non-zero, a sparse '
        f'tensor), 10 blocks; DGI with a one-layer GCN to {HIDDEN} channels '
        '(fast path), Adam. s/epoch: median of '
        f'{args.epochs} epochs after the first (the first builds the CSR '
        'caches and is listed apart). Peak RSS: whole process.', '',
        '| nodes | edges | feature non-zeros | s/epoch | first epoch s | '
        'µs per (node + edge) | RSS after data MB | peak RSS MB | '
        'floor s/epoch | measured / floor | time in X products / '
        'adjacency products / rest |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        per = 1e6 * r['seconds_per_epoch'] / (r['nodes'] + r['edges'])
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['nnz_x']:,} | "
            f"{r['seconds_per_epoch']:.4f} | {r['first_epoch']:.3f} | "
            f"{per:.3f} | {r['rss_after_data_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['floor_s']:.4f} | "
            f"{r['seconds_per_epoch'] / r['floor_s']:.1f}x | "
            f"{r['shares']['features']:.0%} / {r['shares']['adjacency']:.0%}"
            f" / {r['shares']['rest']:.0%} |")
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        growth_t = b['seconds_per_epoch'] / a['seconds_per_epoch']
        growth_e = (b['edges'] + b['nodes']) / (a['edges'] + a['nodes'])
        lines += ['', f"From {a['nodes']:,} to {b['nodes']:,} nodes the "
                  f"graph (nodes + edges) grows {growth_e:.0f}x and the "
                  f"epoch time {growth_t:.0f}x."]
    lines += ['', 'Time shares: operator self-time of one profiled epoch '
              '(torch.profiler): the sparse products with X (X W and '
              'X^T G), the four adjacency products, and the rest (PReLU, '
              'readout, critic, loss and their gradients, transposes, '
              'Adam).']
    lines += ['', 'Floor: bytes an epoch must move at least (X twice, the '
              'adjacency four times, the activations '
              f'{ACTIVATION_PASSES} times, the weights for Adam) over the '
              'copy bandwidth measured in the same process '
              f"({rows[-1]['bandwidth_gbs']:.1f} GB/s for the last size)."]
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        x = [r['nodes'] + r['edges'] for r in rows]
        ax[0].loglog(x, [r['seconds_per_epoch'] for r in rows], 'o-',
                     label='measured')
        ax[0].loglog(x, [r['floor_s'] for r in rows], 's--', label='floor')
        ax[0].set_xlabel('nodes + edges')
        ax[0].set_ylabel('s / epoch')
        ax[0].legend()
        ax[1].loglog(x, [r['peak_rss_mb'] for r in rows], 'o-')
        ax[1].set_xlabel('nodes + edges')
        ax[1].set_ylabel('peak RSS (MB)')
        fig.tight_layout()
        fig.savefig(RESULTS / 'scaling_fullbatch.png', dpi=80)
        lines += ['', '![scaling](scaling_fullbatch.png)']
    except ImportError:
        lines += ['', '(matplotlib not installed: no plot; '
                  "`pip install -e '.[plot]'`)"]
    write('scaling_fullbatch.md', '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
