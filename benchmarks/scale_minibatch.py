r"""Memory and time of mini-batch DGI at scale, with full-batch DGI for
contrast.

Synthetic graphs from :func:`graphcl.data.synthetic_sbm` (about 10
neighbours per node, 128 dense features). Every configuration runs in its own
process so that peak memory is its own. Within a run the peak RSS is
measured per phase (graph generation, one training epoch, full-graph
inference) by resetting the kernel's high-water mark (``VmHWM``, via
``/proc/self/clear_refs``) before each phase; the *working set* of a phase
is its peak minus the RSS held when it started (the graph itself).

.. code-block:: bash

    python benchmarks/scale_minibatch.py                 # all, writes results
    python benchmarks/scale_minibatch.py --only 1M-mb-1024
    python benchmarks/scale_minibatch.py --run --nodes 100000 --mode minibatch

Results: ``benchmarks/results/scale_minibatch.md``.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / 'results' / 'scale_minibatch.md'

# name: (nodes, mode, batch size)
CONFIGS = {
    '1M-mb-1024': (1_000_000, 'minibatch', 1024),
    '1M-mb-4096': (1_000_000, 'minibatch', 4096),
    '1M-full': (1_000_000, 'fullbatch', None),
    '10M-mb-1024': (10_000_000, 'minibatch', 1024),
}


def _status(key: str) -> float:
    # VmRSS / VmHWM of this process in MiB.
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    return float('nan')


def _reset_peak() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


class Phase:
    r"""Times a phase and records its RSS at start and its peak RSS."""
    def __init__(self, name: str, record: dict):
        self.name, self.record = name, record

    def __enter__(self):
        import gc
        gc.collect()
        self.start_rss = _status('VmRSS')
        self.reset = _reset_peak()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        seconds = time.perf_counter() - self.t0
        peak = _status('VmHWM')
        self.record[self.name] = dict(
            seconds=seconds, start_rss_mb=self.start_rss, peak_rss_mb=peak,
            working_set_mb=peak - self.start_rss if self.reset else None)


def run_one(args) -> dict:
    import torch

    from graphcl.data import synthetic_sbm
    from graphcl.models import build_method
    from graphcl.train import pretrain

    torch.set_num_threads(args.threads)
    fanout = [int(k) for k in args.fanout.split(',')]
    rec = dict(nodes=args.nodes, mode=args.mode, threads=args.threads,
               hidden=args.hidden, layers=len(fanout),
               features=args.features, avg_degree=args.degree)
    with Phase('generate', rec):
        data = synthetic_sbm(args.nodes, avg_degree=args.degree,
                             num_features=args.features, seed=0)
        # DGI's row normalisation, in place (features are non-negative).
        data.x.div_(data.x.sum(-1, keepdim=True).clamp_min(1e-12))
    rec['edges'] = data.num_edges
    rec['graph_mb'] = sum(t.numel() * t.element_size() for t in (
        data.x, data.edge_index, data.y, data.train_mask, data.val_mask,
        data.test_mask)) / 2**20

    torch.manual_seed(0)
    dgi = build_method('dgi', args.features, encoder='sage',
                       hidden=args.hidden, layers=len(fanout), seed=0)
    if args.mode == 'minibatch':
        from graphcl.models.dgi_minibatch import MiniBatchDGI
        from graphcl.sampling import make_neighbor_sampler, neighbor_loader
        rec.update(batch_size=args.batch_size, fanout=fanout,
                   inference_batch_size=args.inference_batch_size)
        model = MiniBatchDGI(dgi, inference_batch_size=args.
                             inference_batch_size)
        with Phase('sampler', rec):
            sampler = make_neighbor_sampler(data, fanout)
        rec['sampler'] = type(sampler).__name__
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        nodes = torch.arange(data.num_nodes)
        if args.max_batches:
            nodes = nodes[torch.randperm(data.num_nodes)[
                :args.max_batches * args.batch_size]]
        count = [0]

        def batches():
            loader = neighbor_loader(data, batch_size=args.batch_size,
                                     input_nodes=nodes, sampler=sampler,
                                     shuffle=True)
            for batch in loader:
                count[0] += 1
                yield batch

        with Phase('train', rec):
            result = pretrain(model, model.objective, optimizer,
                              epochs=args.epochs, patience=0,
                              batches=batches, restore_best=False)
        rec['batches_per_epoch'] = count[0] // args.epochs
        rec['full_epoch'] = not args.max_batches
        with Phase('inference', rec):
            z = model.embed(data, csc=getattr(sampler, 'csc', None))
    else:
        model = dgi
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        with Phase('train', rec):
            result = pretrain(model, lambda: model.objective(data),
                              optimizer, epochs=args.epochs, patience=0,
                              restore_best=False)
        rec['full_epoch'] = True
        with Phase('inference', rec):
            z = model.embed(data)
    rec['epochs'] = result.epochs
    rec['seconds_per_epoch'] = result.seconds_per_epoch
    rec['losses'] = result.losses
    rec['embeddings'] = list(z.shape)
    rec['embeddings_finite'] = bool(torch.isfinite(z).all())
    # Resetting VmHWM also resets ru_maxrss: the process peak is the
    # largest phase peak.
    rec['process_peak_rss_mb'] = max(
        ph['peak_rss_mb'] for ph in rec.values()
        if isinstance(ph, dict) and 'peak_rss_mb' in ph)
    return rec


def _fmt(v, digits=0):
    return '–' if v is None else f'{v:,.{digits}f}'


def write_markdown(records, path: Path):
    import torch
    lines = [
        '# Mini-batch DGI at scale',
        '',
        'Measured by `python benchmarks/scale_minibatch.py` on '
        f'{platform.node() and "this machine"}: {os.cpu_count()} CPU cores '
        f'(shared with other jobs, timings are noisy), torch '
        f'{torch.__version__}, `OMP_WAIT_POLICY=PASSIVE`, one process per '
        f'configuration, {time.strftime("%Y-%m-%d")}.',
        '',
        'Graphs: `synthetic_sbm(N, avg_degree=10, num_features=128)` '
        '(Poisson in-degrees, 10 blocks, row-normalised features). Model: DGI '
        'with a 2-layer GraphSAGE encoder, hidden 64, PReLU, bilinear '
        'discriminator, JSD loss, Adam. Mini-batch: fan-outs 5,5, '
        'corruption = shuffle of the sampled subgraph\'s features, summary '
        'over the batch\'s seeds, one epoch = every node once as a seed; '
        'embeddings of all nodes by layer-wise inference (chunks of 4096 '
        'nodes, two N x 64 float32 buffers). Full batch: the same model on '
        'the whole graph.',
        '',
        '*Graph* = memory of x, edge_index, y and masks. *Base RSS* = RSS '
        'when the phase starts (graph, CSC, model). *Working set* = peak '
        'RSS of the phase minus base RSS: what the phase itself needs.',
        '',
        '| config | nodes | edges | graph (MiB) | batch | batches/epoch | '
        's/epoch | train base RSS (MiB) | train peak RSS (MiB) | '
        'train working set (MiB) | inference s | inference peak RSS (MiB) | '
        'inference working set (MiB) | process peak RSS (MiB) |',
        '|' + '---|' * 14,
    ]
    order = sorted(records, key=lambda n: list(CONFIGS).index(n)
                   if n in CONFIGS else len(CONFIGS))
    records = {n: records[n] for n in order}
    for name, r in records.items():
        if 'error' in r:
            lines.append(f'| {name} | {r.get("nodes")} | failed: '
                         f'{r["error"]} |' + ' |' * 11)
            continue
        t, i = r['train'], r['inference']
        lines.append(
            f'| {name} | {r["nodes"]:,} | {r["edges"]:,} | '
            f'{_fmt(r["graph_mb"])} | {r.get("batch_size") or "full"} | '
            f'{r.get("batches_per_epoch", 1)} | '
            f'{_fmt(r["seconds_per_epoch"], 1)} | {_fmt(t["start_rss_mb"])} |'
            f' {_fmt(t["peak_rss_mb"])} | {_fmt(t["working_set_mb"])} | '
            f'{_fmt(i["seconds"], 1)} | {_fmt(i["peak_rss_mb"])} | '
            f'{_fmt(i["working_set_mb"])} | '
            f'{_fmt(r["process_peak_rss_mb"])} |')
    lines += ['', 'Graph generation (seconds, peak RSS MiB): ' + ', '.join(
        f'{n}: {r["generate"]["seconds"]:.0f} s, '
        f'{r["generate"]["peak_rss_mb"]:,.0f}'
        for n, r in records.items() if 'generate' in r) + '.', '',
        'Raw records (JSON):', '', '```json',
        json.dumps(records, indent=1), '```', '']
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(lines))


def _previous_records(path: Path) -> dict:
    # Records of configurations not rerun are kept (--only).
    if not path.exists():
        return {}
    text = path.read_text()
    start = text.find('```json\n')
    end = text.find('```', start + 8)
    if start < 0 or end < 0:
        return {}
    records = json.loads(text[start + 8:end])
    for r in records.values():  # older records: process peak from phases
        phases = [ph['peak_rss_mb'] for ph in r.values()
                  if isinstance(ph, dict) and 'peak_rss_mb' in ph]
        if phases:
            r['process_peak_rss_mb'] = max(phases)
    return records


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--run', action='store_true',
                   help='run one configuration in this process, print JSON')
    p.add_argument('--nodes', type=int, default=100_000)
    p.add_argument('--mode', choices=['minibatch', 'fullbatch'],
                   default='minibatch')
    p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--fanout', default='5,5')
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--features', type=int, default=128)
    p.add_argument('--degree', type=float, default=10.0)
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--inference-batch-size', type=int, default=4096)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--max-batches', type=int, default=0,
                   help='smoke test: train on this many batches only')
    p.add_argument('--only', nargs='*', default=None,
                   help=f'configurations to run ({", ".join(CONFIGS)})')
    p.add_argument('--results', default=str(RESULTS))
    args = p.parse_args()
    if args.run:
        print(json.dumps(run_one(args)))
        return

    out = Path(args.results)
    records = _previous_records(out) if args.only else {}
    for name in args.only or CONFIGS:
        nodes, mode, batch_size = CONFIGS[name]
        epochs = 2 if mode == 'fullbatch' else 1
        cmd = [sys.executable, __file__, '--run', '--nodes', str(nodes),
               '--mode', mode, '--batch-size', str(batch_size or 0),
               '--epochs', str(epochs), '--fanout', args.fanout,
               '--hidden', str(args.hidden), '--threads', str(args.threads),
               '--max-batches', str(args.max_batches)]
        env = dict(os.environ, OMP_WAIT_POLICY='PASSIVE')
        print(f'[{name}] {" ".join(cmd[2:])}', file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            records[name] = dict(nodes=nodes, error=f'exit code '
                                 f'{proc.returncode}: '
                                 f'{proc.stderr.strip()[-300:]}')
        else:
            records[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f'[{name}] {json.dumps(records[name])[:600]}', file=sys.stderr,
              flush=True)
        write_markdown(records, out)  # after every run: partial results
    print(f'wrote {out}', file=sys.stderr)


if __name__ == '__main__':
    main()
