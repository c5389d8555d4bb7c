"""graphcl's DGI against PyG's DeepGraphInfomax, set up as in PyG's
examples/infomax_transductive.py (one GCNConv to 512 channels, cached
normalisation, PReLU, corruption x[randperm], summary sigmoid(mean), Adam lr
0.001, a fixed number of epochs), with the same hyperparameters, inputs and
number of epochs for both (early stopping off).

Each seed runs in its own subprocess that trains both implementations in
alternating blocks of epochs (``--block``, default 10: ten PyG epochs, ten
graphcl epochs, ...), so both see the same machine conditions while each
runs in its steady state as it would alone. ``--block 1`` alternates every
epoch (each epoch then starts with the other implementation's data in the
caches). Peak RSS comes from a separate short run of each
alone. Seconds per epoch: median over all timed epochs of all
seeds. Accuracy: graphcl's linear probe on both embeddings.

    python benchmarks/speed_vs_pyg.py
    python benchmarks/speed_vs_pyg.py --datasets Cora --seeds 10 --epochs 300
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

# dataset: (seeds for graphcl, seeds for PyG, epochs). PyG's dense X W
# costs seconds per epoch on the larger graphs (Coauthor-CS: 18k x 6805
# features), so fewer PyG seeds and epochs fit in a benchmark run there;
# both implementations always get the same number of epochs.
DEFAULT = {
    'Cora': (10, 10, 300),
    'CiteSeer': (10, 3, 300),
    'Amazon-Computers': (10, 1, 100),
    'Coauthor-CS': (3, 1, 30),
}
TARGET = {'Cora': 10.0}  # others: 5x


def setup(impl: str, data, seed: int):
    """(model, objective, embed, optimizer) of one implementation."""
    import torch
    from graphcl.perf import make_adam
    torch.manual_seed(seed)
    if impl == 'pyg':
        from torch_geometric.nn import DeepGraphInfomax, GCNConv

        class Encoder(torch.nn.Module):
            def __init__(self, in_channels, hidden_channels):
                super().__init__()
                self.conv = GCNConv(in_channels, hidden_channels, cached=True)
                self.prelu = torch.nn.PReLU(hidden_channels)

            def forward(self, x, edge_index):
                return self.prelu(self.conv(x, edge_index))

        model = DeepGraphInfomax(
            512, Encoder(data.num_features, 512),
            summary=lambda z, *args, **kwargs: torch.sigmoid(z.mean(dim=0)),
            corruption=lambda x, ei: (x[torch.randperm(x.size(0))], ei))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

        def objective():
            return model.loss(*model(data.x, data.edge_index))

        def embed():
            model.eval()
            with torch.no_grad():
                return model(data.x, data.edge_index)[0]
    else:
        from graphcl.models import build_method
        model = build_method('dgi', data.num_features, seed=seed)
        optimizer = make_adam(model.parameters(), lr=0.001)

        def objective():
            return model.objective(data)

        def embed():
            return model.embed(data)
    return model, objective, embed, optimizer


def worker(impls, dataset: str, seed: int, epochs: int, root: str,
           probe: bool, threads=None, block: int = 10, tune: bool = True,
           served: bool = False):
    """Trains the given implementations on one seed, their epochs
    interleaved (PyG epoch, graphcl epoch, ...) so that both see the same
    machine conditions; prints one JSON line. ``served``: one
    implementation, whose blocks of epochs are asked for on stdin by
    :func:`run_separate` ("run N" -> "done", then "end")."""
    import torch
    from graphcl.data import load_dataset
    from graphcl.eval import linear_probe
    from graphcl.experiment import peak_rss_mb
    from graphcl.perf import tune_cpu_allocator

    if threads:
        torch.set_num_threads(threads)
    if tune:
        tune_cpu_allocator()  # process-wide: helps PyG's run as much
    data = load_dataset(dataset, root=root, seed=seed)
    runs = {impl: setup(impl, data, seed) for impl in impls}
    times = {impl: [] for impl in impls}
    for model, *_ in runs.values():
        model.train()

    def train(impl, n):
        model, objective, embed, optimizer = runs[impl]
        for _ in range(n):
            t0 = time.perf_counter()
            optimizer.zero_grad()
            loss = objective()
            loss.backward()
            optimizer.step()
            loss.item()
            times[impl].append(time.perf_counter() - t0)

    if served:
        print('ready', flush=True)
        for line in sys.stdin:
            if line.strip() == 'end':
                break
            train(impls[0], int(line.split()[1]))
            print('done', flush=True)
    else:
        for start in range(0, epochs, block):
            for impl in runs:
                train(impl, min(block, epochs - start))
    out = dict(dataset=data.name, seed=seed, threads=torch.get_num_threads(),
               peak_rss_mb=peak_rss_mb(), runs={})
    for impl, (model, objective, embed, optimizer) in runs.items():
        acc = None
        if probe:
            acc = 100 * linear_probe(embed(), data.y, data.train_mask,
                                     data.val_mask, data.test_mask).test_acc
        out['runs'][impl] = dict(times=times[impl], test_acc=acc)
    print(json.dumps(out))


def worker_command(impls, dataset, seed, epochs, root, probe=True,
                   threads=None, block=10, tune=True, served=False):
    cmd = [sys.executable, '-W', 'ignore', __file__, '--worker',
           ','.join(impls), '--datasets', dataset, '--seed', str(seed),
           '--epochs', str(epochs), '--root', root, '--block', str(block)]
    if threads:
        cmd += ['--threads', str(threads)]
    if not probe:
        cmd.append('--no-probe')
    if not tune:
        cmd.append('--no-tune')
    if served:
        cmd.append('--served')
    return cmd


def run_separate(impls, dataset, seed, epochs, root, threads=None,
                 block=10):
    """Each implementation in its own process, as it runs on its own: PyG
    with glibc's default allocator settings (as its example runs), graphcl
    with ``tune_cpu_allocator()`` (as its CLI runs). The processes take
    turns, ``block`` epochs at a time, so both still see the same machine
    conditions; the waiting one sleeps on a pipe."""
    procs = {impl: subprocess.Popen(
        worker_command([impl], dataset, seed, epochs, root, True, threads,
                       block, tune=impl == 'graphcl', served=True),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for impl in impls}

    def expect(impl, word):
        line = procs[impl].stdout.readline().strip()
        if line != word:
            for p in procs.values():
                p.kill()
            raise RuntimeError(f'{impl} {dataset} seed {seed}: expected '
                               f'{word!r}, got {line!r}')

    for impl in impls:
        expect(impl, 'ready')
    for start in range(0, epochs, block):
        for impl in impls:
            procs[impl].stdin.write(f'run {min(block, epochs - start)}\n')
            procs[impl].stdin.flush()
            expect(impl, 'done')
    out = None
    for impl in impls:
        text, _ = procs[impl].communicate('end\n')
        if procs[impl].returncode != 0:
            raise RuntimeError(f'{impl} {dataset} seed {seed} failed')
        r = json.loads(text.strip().splitlines()[-1])
        if out is None:
            out = dict(r, runs={}, peak_rss_mb={})
        out['runs'].update(r['runs'])
        out['peak_rss_mb'][impl] = r['peak_rss_mb']
    return out


def run_worker(impls, dataset, seed, epochs, root, probe=True, threads=None,
               block=10, tune=True):
    cmd = worker_command(impls, dataset, seed, epochs, root, probe, threads,
                         block, tune)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f'{impls} {dataset} seed {seed} failed:\n'
                           f'{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--datasets', nargs='+', default=list(DEFAULT))
    p.add_argument('--seeds', type=int, default=None,
                   help='seeds for both (default: per dataset, see DEFAULT)')
    p.add_argument('--epochs', type=int, default=None,
                   help='epochs for both (default: per dataset)')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--no-probe', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads for both (default: torch default)')
    p.add_argument('--block', type=int, default=10,
                   help='epochs of one implementation before switching to '
                        'the other (1: alternate every epoch)')
    p.add_argument('--separate', action='store_true',
                   help='each implementation in its own process with its '
                        'own allocator settings (PyG: glibc defaults, as '
                        'its example runs; graphcl: tune_cpu_allocator, as '
                        'its CLI runs), still alternating blocks')
    p.add_argument('--no-tune', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--served', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--root', default=None)
    p.add_argument('--output', default='speed_vs_pyg.md')
    args = p.parse_args()
    if args.worker:
        return worker(args.worker.split(','), args.datasets[0], args.seed,
                      args.epochs or 300, args.root, not args.no_probe,
                      args.threads, args.block, not args.no_tune,
                      args.served)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import data_root, machine, write
    root = args.root or data_root()
    header = machine()
    rows = []
    for dataset in args.datasets:
        n_ours, n_pyg, epochs = DEFAULT.get(dataset, (10, 10, 300))
        if args.seeds is not None:
            n_ours = n_pyg = args.seeds
        epochs = args.epochs or epochs
        runs = {'pyg': [], 'graphcl': []}
        for seed in range(max(n_ours, n_pyg)):
            impls = [i for i, n in (('pyg', n_pyg), ('graphcl', n_ours))
                     if seed < n]
            if seed % 2:
                impls.reverse()  # alternate who goes first
            if args.separate:
                r = run_separate(impls, dataset, seed, epochs, root,
                                 threads=args.threads, block=args.block)
            else:
                r = run_worker(impls, dataset, seed, epochs, root,
                               threads=args.threads, block=args.block)
            for impl, run in r['runs'].items():
                runs[impl].append(run)
                print(f"{dataset} {impl} seed {seed}: "
                      f"{1000 * statistics.median(run['times']):.1f} "
                      f"ms/epoch, {run['test_acc']:.1f}%", flush=True)
        # Peak RSS of each alone (a few epochs, no probe), own process.
        rss = {impl: run_worker([impl], dataset, 0, min(epochs, 3), root,
                                probe=False, threads=args.threads,
                                tune=not args.separate or impl == 'graphcl'
                                )['peak_rss_mb']
               for impl in runs}
        summary = {}
        for impl, rs in runs.items():
            # the first epoch builds caches (normalisation, CSR): excluded
            # from the median, listed apart
            times = [t for r in rs for t in r['times'][1:]]
            accs = [r['test_acc'] for r in rs]
            per_seed = [statistics.median(r['times'][1:]) for r in rs]
            summary[impl] = dict(
                spe=statistics.median(times), lo=min(per_seed),
                hi=max(per_seed),
                first=statistics.median(r['times'][0] for r in rs),
                rss=rss[impl], acc=statistics.fmean(accs),
                std=statistics.pstdev(accs) if len(accs) > 1 else 0.0,
                n=len(rs), threads=r['threads'])
        rows.append((r['dataset'], summary, epochs))

    lines = [
        '# DGI speed: graphcl against PyG', '',
        f'Measured with `python benchmarks/speed_vs_pyg.py` on {header}.',
        'Both: one GCN layer to 512 channels with PReLU, feature-shuffle '
        'corruption, sigmoid-mean summary, bilinear discriminator, JSD '
        'loss, Adam lr 0.001, the same number of epochs (column "epochs"), '
        'early stopping off, the '
        'raw features of the dataset (as PyG\'s example loads them). PyG: '
        '`torch_geometric.nn.DeepGraphInfomax` exactly as in '
        '`examples/infomax_transductive.py` (GCNConv with `cached=True`). '
        'graphcl: `graphcl.models.build_method("dgi")` through '
        '`DeepGraphInfomax.objective` (fast path). ' + (
            'Each seed runs two processes, one per implementation, as each '
            'runs on its own: PyG with glibc\'s default allocator settings '
            '(as its example runs), graphcl with `tune_cpu_allocator()` (as '
            'its CLI runs); they take turns in blocks of '
            f'{args.block} epoch(s), the waiting one asleep, so both see the '
            'same machine conditions (`--separate`). '
            if args.separate else
            'Each seed is its own '
            f'process training both in alternating blocks of {args.block} '
            'epoch(s) (PyG and graphcl see the same machine conditions), '
            'with graphcl\'s allocator settings applied to the whole '
            'process, PyG included. ') +
        's/epoch: median over every epoch after the first (the first '
        'builds caches; its median is listed too). Accuracy: the same linear probe (validation-'
        'chosen L2) on both; mean ± std over the seeds run. Peak RSS: a '
        'separate 3-epoch run of each alone, whole process (Python + '
        'torch + data).', '',
        '| dataset | epochs | PyG s/epoch | graphcl s/epoch | speed-up (PyG / '
        'graphcl) | per-seed medians PyG / graphcl (s) | target | '
        'PyG first epoch s | graphcl first epoch s | '
        'PyG peak RSS MB | graphcl peak RSS MB | PyG acc (seeds) | graphcl '
        'acc (seeds) |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for name, s, epochs in rows:
        pyg, ours = s['pyg'], s['graphcl']
        ratio = pyg['spe'] / ours['spe']
        target = TARGET.get(name, 5.0)
        lines.append(
            f"| {name} | {epochs} | {pyg['spe']:.4f} | {ours['spe']:.4f} | "
            f"**{ratio:.1f}x** | {pyg['lo']:.4f}-{pyg['hi']:.4f} / "
            f"{ours['lo']:.4f}-{ours['hi']:.4f} | ≥ {target:.0f}x "
            f"({'met' if ratio >= target else 'not met'}) | "
            f"{pyg['first']:.3f} | {ours['first']:.3f} | {pyg['rss']:.0f} | "
            f"{ours['rss']:.0f} | {pyg['acc']:.2f} ± {pyg['std']:.2f} "
            f"({pyg['n']}) | {ours['acc']:.2f} ± {ours['std']:.2f} "
            f"({ours['n']}) |")
    lines += ['', f"Threads: {rows[0][1]['graphcl']['threads']} for both "
              f"({'set with --threads' if args.threads else 'PyTorch default'})"
              '.']
    write(args.output, '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
