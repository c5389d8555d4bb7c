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

``--sparse-study DATASET`` instead times wide sparse features on a real
graph (Coauthor-Physics: 8,415 bag-of-words columns), one thread, in one
process with the variants alternated: the full-batch DGI epoch (the
default ``dgi`` recipe, ``model.objective``), and the mini-batch DGI epoch
(2-layer GraphSAGE, batch 1024, fan-outs 10,10) before sparse features
(the dense rows and ``encode_seeds`` of ``--before REV``; a fixed number of
batches, extrapolated to the epoch) and after (CSR rows; ``data.x`` given
dense and converted by the loader every epoch, as the engine does, and
given as CSR once). Results: ``benchmarks/results/minibatch_sparse.md``.

.. code-block:: bash

    GRAPHCL_DATA=... python benchmarks/scale_minibatch.py \
        --sparse-study Coauthor-Physics
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


# --- wide sparse features on a real graph (--sparse-study) -------------

def _old_encode_seeds(rev: str):
    # encode_seeds as it was at git revision rev (the "before" path).
    import importlib.util
    import tempfile
    src = subprocess.run(
        ['git', '-C', str(HERE.parent), 'show',
         f'{rev}:graphcl/models/minibatch.py'], capture_output=True,
        text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / 'minibatch_before.py'
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(
        'graphcl.models._minibatch_before', path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = 'graphcl.models'
    spec.loader.exec_module(module)
    return module.encode_seeds


def sparse_study(args) -> dict:
    import statistics
    from contextlib import contextmanager

    import torch

    import graphcl.models.minibatch as minibatch
    from graphcl.data import load_dataset
    from graphcl.models import build_method, method_settings
    from graphcl.models.minibatch import MiniBatchTrainer
    from graphcl.perf import make_adam
    from graphcl.sampling import (make_neighbor_sampler, neighbor_loader,
                                  to_sparse_rows)

    torch.set_num_threads(args.threads)
    fanout = [int(k) for k in args.fanout.split(',')]
    data = load_dataset(args.sparse_study, root=args.root)
    x = data.x.float()  # run_experiment's row normalisation
    data.x = x / x.sum(-1, keepdim=True).clamp_min(1e-12)
    t0 = time.perf_counter()
    x_csr = to_sparse_rows(data.x)
    convert_s = time.perf_counter() - t0
    data_csr = data.clone()
    data_csr.x = x_csr
    density = x_csr.values().numel() / data.x.numel()
    old_encode_seeds = _old_encode_seeds(args.before)

    @contextmanager
    def before():  # DGI's minibatch_objective imports it at call time
        new = minibatch.encode_seeds
        minibatch.encode_seeds = old_encode_seeds
        try:
            yield
        finally:
            minibatch.encode_seeds = new

    def minibatch_model():
        settings = method_settings('dgi', args.sparse_study, True,
                                   layers=len(fanout))
        train = {k: settings.pop(k) for k in ('epochs', 'patience', 'lr',
                                              'weight_decay')}
        torch.manual_seed(0)
        mb = MiniBatchTrainer(build_method('dgi', data.num_features,
                                           seed=0, **settings))
        return mb, make_adam(mb.parameters(), lr=train['lr'],
                             weight_decay=train['weight_decay']), settings

    sampler = make_neighbor_sampler(data, fanout)
    nodes = torch.arange(data.num_nodes)
    batches = -(-data.num_nodes // args.batch_size)

    def step(model, opt, batch):
        opt.zero_grad()
        loss = model(batch)
        loss.backward()
        opt.step()
        return float(loss)

    def minibatch_epoch(graph, **loader_kw):
        model, opt, _ = minibatch_model()
        t0 = time.perf_counter()
        loader = neighbor_loader(graph, batch_size=args.batch_size,
                                 input_nodes=nodes, sampler=sampler,
                                 shuffle=True, **loader_kw)
        first = time.perf_counter() - t0
        losses = [step(model, opt, batch) for batch in loader]
        return dict(seconds=time.perf_counter() - t0, loader_s=first,
                    batches=len(losses), loss=statistics.mean(losses),
                    x_layout=str(next(iter(loader)).x.layout))

    def dense_batches(count):
        model, opt, _ = minibatch_model()
        loader = iter(neighbor_loader(data, batch_size=args.batch_size,
                                      input_nodes=nodes, sampler=sampler,
                                      shuffle=True, sparse_features=False))
        times, sizes = [], []
        with before():
            for _ in range(count):
                t0 = time.perf_counter()
                batch = next(loader)
                step(model, opt, batch)
                times.append(time.perf_counter() - t0)
                sizes.append(batch.num_nodes)
        return dict(seconds_per_batch=times, sampled_nodes=sizes)

    def fullbatch_epochs(count):
        torch.manual_seed(0)
        model = build_method('dgi', data.num_features, seed=0)
        settings = method_settings('dgi', args.sparse_study)
        opt = make_adam(model.parameters(), lr=settings['lr'],
                        weight_decay=settings['weight_decay'])
        step_full = lambda: step(model.objective, opt, data)  # noqa: E731
        step_full()  # warm-up: the fast path's caches
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            step_full()
            times.append(time.perf_counter() - t0)
        return times

    # The same batch through both paths: the same loss.
    model, _, settings = minibatch_model()
    twin = minibatch_model()[0]
    torch.manual_seed(1)
    batch = next(iter(neighbor_loader(data_csr, batch_size=args.batch_size,
                                      sampler=sampler)))
    dense = batch.clone()
    dense.x = batch.x.to_dense()
    with torch.no_grad():
        loss_after = float(model(batch))
        with before():
            loss_before = float(twin(dense))
    del model, twin, batch, dense

    rounds = []
    for r in range(args.rounds):
        print(f'[round {r}] full batch', file=sys.stderr, flush=True)
        rec = dict(fullbatch=fullbatch_epochs(args.full_epochs))
        print(f'[round {r}] mini-batch, sparse, x as CSR', file=sys.stderr,
              flush=True)
        rec['sparse_csr_x'] = minibatch_epoch(data_csr)
        print(f'[round {r}] mini-batch, before: {args.dense_batches} '
              f'batches', file=sys.stderr, flush=True)
        rec['before'] = dense_batches(args.dense_batches)
        print(f'[round {r}] mini-batch, sparse, x dense (converted per '
              f'epoch)', file=sys.stderr, flush=True)
        rec['sparse_dense_x'] = minibatch_epoch(data)
        rounds.append(rec)
        print(f'[round {r}] {json.dumps(rec)}', file=sys.stderr, flush=True)
    return dict(dataset=args.sparse_study, nodes=data.num_nodes,
                edges=data.num_edges, features=data.num_features,
                density=density, convert_seconds=convert_s,
                threads=args.threads, batch_size=args.batch_size,
                fanout=fanout, batches_per_epoch=batches,
                minibatch_settings=settings, before=args.before,
                loss_same_batch=dict(before=loss_before, after=loss_after),
                machine=_machine(), rounds=rounds)


def _machine() -> str:
    sys.path.insert(0, str(HERE))
    from _common import code_version, machine
    return f'{machine()}; {code_version()}'


def write_sparse_markdown(rec: dict, path: Path):
    import statistics
    med = statistics.median
    rounds = rec['rounds']
    full = med([t for r in rounds for t in r['fullbatch']])
    per_batch = med([t for r in rounds
                     for t in r['before']['seconds_per_batch']])
    before = per_batch * rec['batches_per_epoch']
    after_csr = med([r['sparse_csr_x']['seconds'] for r in rounds])
    after_dense = med([r['sparse_dense_x']['seconds'] for r in rounds])
    n = rec['batches_per_epoch']
    lines = [
        f'# Mini-batch DGI with wide sparse features: {rec["dataset"]}',
        '',
        f'Measured by `python benchmarks/scale_minibatch.py --sparse-study '
        f'{rec["dataset"]}` on {rec["machine"]}. One process, '
        f'{rec["threads"]} thread(s), the variants alternated over '
        f'{len(rounds)} rounds; medians.',
        '',
        f'Graph: {rec["nodes"]:,} nodes, {rec["edges"]:,} edges, '
        f'{rec["features"]:,} features ({100 * rec["density"]:.2f} % '
        f'non-zero after row normalisation). Mini-batch: the engine\'s '
        f'defaults for `--batch-size {rec["batch_size"]} --fanout '
        f'{",".join(map(str, rec["fanout"]))}` (DGI, '
        f'{rec["minibatch_settings"]["layers"]}-layer '
        f'{rec["minibatch_settings"]["encoder"]}, hidden '
        f'{rec["minibatch_settings"]["hidden"]}, shuffle corruption, fused '
        f'Adam), {n} batches per epoch. Full batch: the default `dgi` '
        f'recipe (1-layer GCN, hidden 512) through `model.objective`.',
        '',
        '| path | s/epoch | s/batch | vs before | vs full batch |',
        '|---|---|---|---|---|',
        f'| full batch (`model.objective`) | {full:.2f} | – | – | 1 |',
        f'| mini-batch before: dense rows (`{rec["before"]}`), '
        f'{len(rounds) * len(rounds[0]["before"]["seconds_per_batch"])} '
        f'batches timed, x {n} | {before:,.0f} (extrapolated) | '
        f'{per_batch:.1f} | 1 | {before / full:,.0f}x |',
        f'| mini-batch after: CSR rows, `data.x` dense (converted by the '
        f'loader every epoch, as `graphcl train` does today) | '
        f'{after_dense:.1f} | {after_dense / n:.2f} | '
        f'{before / after_dense:.0f}x faster | {after_dense / full:.0f}x |',
        f'| mini-batch after: CSR rows, `data.x` given as CSR once | '
        f'{after_csr:.1f} | {after_csr / n:.2f} | '
        f'{before / after_csr:.0f}x faster | {after_csr / full:.0f}x |',
        '',
        f'Converting the dense features to CSR once: '
        f'{rec["convert_seconds"]:.1f} s. Loss of one batch through both '
        f'paths (same parameters, same corruption draw): before '
        f'{rec["loss_same_batch"]["before"]:.6f}, after '
        f'{rec["loss_same_batch"]["after"]:.6f}.',
        '',
        'Raw records (JSON):', '', '```json', json.dumps(rec, indent=1),
        '```', '']
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(lines))
    print('\n'.join(lines[:20]))
    print(f'wrote {path}', file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--run', action='store_true',
                   help='run one configuration in this process, print JSON')
    p.add_argument('--nodes', type=int, default=100_000)
    p.add_argument('--mode', choices=['minibatch', 'fullbatch'],
                   default='minibatch')
    p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--fanout', default=None,
                   help='default: 5,5 (10,10 with --sparse-study)')
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--features', type=int, default=128)
    p.add_argument('--degree', type=float, default=10.0)
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--inference-batch-size', type=int, default=4096)
    p.add_argument('--threads', type=int, default=None,
                   help='default: 2 (1 with --sparse-study)')
    p.add_argument('--max-batches', type=int, default=0,
                   help='smoke test: train on this many batches only')
    p.add_argument('--only', nargs='*', default=None,
                   help=f'configurations to run ({", ".join(CONFIGS)})')
    p.add_argument('--results', default=None)
    p.add_argument('--sparse-study', metavar='DATASET', default=None,
                   help='time mini-batch DGI with sparse features on '
                   'DATASET (see the module docstring)')
    p.add_argument('--root', default=None, help='data root (GRAPHCL_DATA)')
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--full-epochs', type=int, default=5)
    p.add_argument('--dense-batches', type=int, default=2,
                   help='batches timed per round on the before path')
    p.add_argument('--before', default='73841e4',
                   help='git revision of the before path')
    args = p.parse_args()
    if args.sparse_study:
        args.fanout = args.fanout or '10,10'
        args.threads = args.threads or 1
        write_sparse_markdown(sparse_study(args), Path(
            args.results or HERE / 'results' / 'minibatch_sparse.md'))
        return
    args.results = args.results or str(RESULTS)
    args.fanout = args.fanout or '5,5'
    args.threads = args.threads or 2
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
