"""Helpers shared by the benchmark scripts (not part of the package)."""
import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import torch

RESULTS = Path(__file__).resolve().parent / 'results'


def data_root() -> str:
    """GRAPHCL_DATA, else the shared folder beside the repository."""
    env = os.environ.get('GRAPHCL_DATA')
    if env:
        return env
    shared = Path(__file__).resolve().parents[2] / 'shared' / 'datasets'
    if shared.is_dir():
        return str(shared)
    raise SystemExit('Set GRAPHCL_DATA to the folder holding the raw '
                     'datasets (see datasets/README.md)')


def machine() -> str:
    """One line describing where a benchmark ran."""
    try:
        cpu = subprocess.run(['sh', '-c', "grep -m1 'model name' "
                              "/proc/cpuinfo | cut -d: -f2"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        cpu = platform.processor()
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    return (f"{cpu or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"load average {load:.2f} at start, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def mean_std_text(values, empty: str = '–') -> str:
    """'mean ± population std' of a list with two decimals; one value
    alone, or :obj:`empty` for none."""
    import statistics
    if not values:
        return empty
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.fmean(values):.2f} ± {statistics.pstdev(values):.2f}'


def adam_linear_probe(z, data, lr: float, epochs: int,
                      weight_decay: float = 0.0, seed: int = 0,
                      best_val: bool = False) -> dict:
    """A linear layer (PyTorch's init, seeded) trained on the training
    nodes' embeddings by full-batch Adam for :obj:`epochs` epochs, as the
    reference codes' probes do; validation and test accuracy (%) at the
    last epoch, or with :obj:`best_val` at the first epoch of best
    validation accuracy."""
    torch.manual_seed(seed)
    y = data.y
    clf = torch.nn.Linear(z.size(1), int(y.max()) + 1)
    opt = torch.optim.Adam(clf.parameters(), lr=lr,
                           weight_decay=weight_decay)

    def acc(pred, mask):
        return 100 * float((pred[mask] == y[mask]).float().mean())
    best = None
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(clf(z[data.train_mask]),
                                          y[data.train_mask]).backward()
        opt.step()
        if best_val:
            with torch.no_grad():
                pred = clf(z).argmax(1)
            val = acc(pred, data.val_mask)
            if best is None or val > best['val']:
                best = dict(val=val, test=acc(pred, data.test_mask))
    if best is not None:
        return best
    with torch.no_grad():
        pred = clf(z).argmax(1)
    return dict(val=acc(pred, data.val_mask), test=acc(pred, data.test_mask))


def engine_embeddings(method: str, dataset: str, seed: int):
    """``(embeddings, metrics)`` of one seed of
    ``run_experiment(method, dataset, seeds=[seed])`` with the method's
    preset (as benchmarks/methods.py runs it), its run folder temporary."""
    import tempfile
    from graphcl.experiment import run_experiment
    with tempfile.TemporaryDirectory() as tmp:
        metrics = run_experiment(method, dataset, seeds=[seed],
                                 root=data_root(), progress=False,
                                 verbose=False, out=tmp)
        return torch.load(Path(tmp) / 'embeddings.pt'), metrics


def write(name: str, text: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(text)
    print(text)
    print(f'wrote {path}')
    return path


def embeddings(dataset, seed, root, cache: Path, recompute: bool):
    """DGI embeddings of one pretraining seed, pretrained by the library's
    experiment with its defaults (cached as embeddings.pt)."""
    from graphcl.experiment import run_experiment
    out = cache / dataset / f'seed{seed}'
    path = out / 'embeddings.pt'
    info = None
    if recompute or not path.exists():
        m = run_experiment('dgi', dataset, seeds=[seed], root=root,
                           out=str(out), progress=False, verbose=False)
        info = dict(epochs=m['epochs'][0], val=m['val_acc_mean'],
                    test=m['test_acc_mean'],
                    pretrain_s=m['pretrain_seconds'])
    z = torch.load(path)
    return z, info


def code_version() -> str:
    """Where graphcl was imported from, and its git commit and whether
    graphcl/ had uncommitted changes (when it is a git work tree)."""
    import graphcl
    src = Path(graphcl.__file__).resolve().parents[1]
    try:
        git = lambda *a: subprocess.run(  # noqa: E731
            ['git', '-C', str(src), *a], capture_output=True, text=True,
            check=True).stdout.strip()
        head = git('rev-parse', '--short', 'HEAD')
        dirty = git('status', '--porcelain', '--', 'graphcl')
        state = 'with uncommitted changes in graphcl/' if dirty else 'clean'
        return f'{src} (git {head}, {state})'
    except (OSError, subprocess.CalledProcessError):
        stamp = src / 'COMMIT'
        commit = stamp.read_text().strip() if stamp.exists() else 'unknown'
        return f'{src} (not a git work tree; COMMIT file: {commit})'


def embedding_study_parser(doc: str, seeds: int,
                           cache: str) -> argparse.ArgumentParser:
    """Options of the studies run on cached DGI embeddings (datasets,
    seeds, cache, recompute, no-write)."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--datasets', nargs='+', default=['Cora', 'CiteSeer'])
    p.add_argument('--seeds', type=int, default=seeds,
                   help=f'pretraining seeds 0..N-1 (default: {seeds})')
    p.add_argument('--cache', default=cache,
                   help='embedding cache, outside the repository')
    p.add_argument('--recompute', action='store_true',
                   help='pretrain again even when embeddings are cached')
    p.add_argument('--no-write', action='store_true',
                   help='print only; do not write the results file')
    return p


def start_study(args) -> SimpleNamespace:
    """Data root, cache folder, machine line, code version, start date and
    start time of a study on cached embeddings (the version is printed)."""
    version = code_version()
    print(f'graphcl: {version}', file=sys.stderr, flush=True)
    return SimpleNamespace(
        root=data_root(), cache=Path(args.cache), header=machine(),
        version=version,
        started=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        t_start=time.perf_counter())


def vm_hwm_mb() -> float:
    """VmHWM, the peak resident memory of this process's own address space
    (Linux; NaN elsewhere). Unlike ru_maxrss it does not start from the
    parent's resident memory at fork, which Linux carries into an exec'ed
    child's ru_maxrss: start memory-measuring children before the parent
    loads anything, and keep both numbers."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float('nan')


def one_thread() -> bool:
    """One PyTorch thread, graphcl's allocator tuning and subnormal floats
    flushed to zero, as ``graphcl train`` runs on the CPU and every timed
    benchmark run uses; returns whether the allocator was tuned."""
    torch.set_num_threads(1)
    from graphcl.perf import flush_denormals, tune_cpu_allocator
    flush_denormals()
    return tune_cpu_allocator()


#: Exit status of a seed's child process whose run folder another live
#: process holds (another command is running that seed): skipped, not a
#: failure.
BUSY_EXIT = 75


def exit_if_busy(error: Exception, seed: int) -> None:
    """In a seed's child process: for a run folder locked by another live
    process, print one line and exit with :data:`BUSY_EXIT`; any other
    error is for the caller to raise."""
    if 'is in use by process' in str(error):
        print(f'seed {seed}: skipped, {error}', flush=True)
        raise SystemExit(BUSY_EXIT)


def run_or_restart(run, folder: dict, seed: int):
    """``run(**folder)`` (``folder``: a run folder's ``out`` and
    ``resume``, or nothing); ``(metrics, restarted)``. A folder locked by
    another live process exits with :data:`BUSY_EXIT`
    (:func:`exit_if_busy`). A checkpoint of another config (the code or
    preset changed since it was saved; its lock was free, or the error
    would say so) is not mixed with this one: the seed starts again
    (``overwrite``), and ``restarted`` is the ``time.perf_counter()`` of
    that start (0 otherwise)."""
    from graphcl.rundir import RunFolderError
    try:
        return run(**folder), 0
    except RunFolderError as e:
        exit_if_busy(e, seed)
        if 'another config' not in str(e) or 'out' not in folder:
            raise
        print(f'{e}: starting seed {seed} again', flush=True)
        start = time.perf_counter()
        return run(out=folder['out'], overwrite=True), start


def method_setup(method: str, dataset: str, root: str, seed: int = 0):
    """``(data, model, optimizer, settings)`` for timing a method's
    full-batch training step: the dataset with row-normalised features,
    the method built with its preset (every registered option) under
    ``torch.manual_seed(seed)``, its own optimiser
    (``configure_optimizer``) told the run's length, in training mode."""
    import torch
    from graphcl.data import load_dataset
    from graphcl.models import build_method, get_method, method_settings
    data = load_dataset(dataset, root=root, seed=seed)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    settings = method_settings(method, dataset)
    torch.manual_seed(seed)
    model = build_method(method, data.num_features, seed=seed,
                         **{k: settings[k] for k in get_method(method)
                            .defaults})
    opt = model.configure_optimizer(lr=settings['lr'],
                                    weight_decay=settings['weight_decay'])
    model.begin_training(opt, settings['epochs'])
    model.train()
    return data, model, opt, settings


def path_step(data, model, opt, fast: bool) -> float:
    """One training step (objective, backward, optimiser step, the
    method's per-step hook) on the fast path or the plain one."""
    model.fast_path = fast
    opt.zero_grad(set_to_none=True)
    loss = model.objective(data)
    loss.backward()
    opt.step()
    model.on_step()
    return loss.item()


def alternate_paths(data, model, opt, gen, rounds: int):
    """``rounds`` timed training steps of each path (:func:`path_step`),
    alternating, each round in the opposite order, both paths of a round
    from the same weights and views (``gen``, the views' generator,
    reseeded to ``1000 + round``); after one warm-up step of each.
    Returns ``(times, losses)``, dicts keyed by ``fast``; a time is
    ``(CPU s, wall s)``."""
    import torch
    path_step(data, model, opt, True)  # warm-up (allocator, caches)
    path_step(data, model, opt, False)
    times = {True: [], False: []}
    losses = {True: [], False: []}
    for i in range(rounds):
        state = {k: v.clone() for k, v in model.state_dict().items()}
        for fast in ((True, False) if i % 2 == 0 else (False, True)):
            with torch.no_grad():
                model.load_state_dict(state)
            gen.manual_seed(1000 + i)
            c0, w0 = time.process_time(), time.perf_counter()
            losses[fast].append(path_step(data, model, opt, fast))
            times[fast].append((time.process_time() - c0,
                                time.perf_counter() - w0))
    return times, losses


def run_subprocess(args) -> bool:
    """``python ARGS`` in a child process with ``OMP_NUM_THREADS=1`` (so
    that each run's peak memory is its own). Returns False when the child
    skipped its seed because another command is running it
    (:data:`BUSY_EXIT`), True when it succeeded; fails when it failed."""
    done = subprocess.run([sys.executable, *map(str, args)],
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    if done.returncode == BUSY_EXIT:
        return False
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, done.args)
    return True


def _seconds_checkpointed(rundir: Path) -> float:
    # Training seconds an earlier, interrupted attempt saved in the run
    # folder's checkpoint (0 when there is none).
    ckpt = rundir / 'checkpoint.pt'
    if not ckpt.exists():
        return 0.0
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    if state.get('finished'):
        return float(state.get('result', {}).get('seconds', 0.0))
    return float(state.get('seconds', 0.0))


def peak_gpu_mb(device: str) -> Optional[float]:
    """The largest GPU memory PyTorch's allocator held in this process
    (MiB), or ``None`` for a CPU run."""
    if torch.device(device).type != 'cuda':
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def run_seed(method: str, dataset: str, seed: int, path: Path,
             rundir: Optional[Path] = None, device: str = 'cpu',
             **options) -> dict:
    """One ``run_experiment(method, dataset, seeds=[seed], **options)`` on
    one thread, saved atomically as the small JSON at ``path``: dataset,
    seed, test_acc, val_acc, epochs, seconds_per_epoch, pretrain_seconds,
    probe_seconds, wall_seconds, peak_rss_mb, probe_weight_decay, settings
    (every resolved option and training setting), config (the run's whole
    config), overrides (``options``), device, peak_gpu_mb (CUDA runs:
    the largest memory the PyTorch allocator held), allocator_tuned,
    machine (the load average as this attempt started), code (the commit
    this attempt imported; a resumed seed's earlier attempts may have run
    another).

    With ``rundir`` the seed trains in that run folder (checkpoints every
    30 s; SIGTERM saves one), so a seed interrupted mid-training continues
    from its checkpoint the next time (``--resume``, the same result); the
    folder is removed once the JSON is saved. A resumed seed's
    wall_seconds is this attempt's wall time plus the training seconds the
    checkpoint carried (earlier attempts' start-up is not counted), and
    ``resumed`` says so. The seed's embeddings are kept as
    ``embeddings/seed<seed>.pt`` beside the run folder."""
    tuned = one_thread()
    from graphcl.atomic import atomic_write_json
    from graphcl.perf import denormals_flushed
    from graphcl.experiment import run_experiment
    from graphcl.models.registry import TRAIN_DEFAULTS, get_method
    header = machine()  # the load average before this run adds to it
    code = code_version()  # what this attempt imported (runs span commits)
    before, run_options = 0.0, {}
    if rundir is not None:
        resume = (rundir / 'run.json').exists()
        before = _seconds_checkpointed(rundir) if resume else 0.0
        rundir.parent.mkdir(parents=True, exist_ok=True)
        run_options = dict(out=str(rundir), resume=resume)
    t0 = time.perf_counter()

    def run(**folder):
        return run_experiment(method, dataset, seeds=[seed],
                              root=data_root(), progress=False,
                              verbose=False, device=device, **folder,
                              **options)
    m, restarted = run_or_restart(run, run_options, seed)
    if restarted:
        before, t0 = 0.0, restarted
    wall = time.perf_counter() - t0 + before
    config = m['config']
    keys = list(TRAIN_DEFAULTS) + list(get_method(method).defaults)
    result = dict(
        method=config['method'], dataset=m['dataset'], seed=seed,
        test_acc=m['test_acc'][0], val_acc=m['val_acc'][0],
        epochs=m['epochs'][0], seconds_per_epoch=m['seconds_per_epoch'],
        pretrain_seconds=m['pretrain_seconds'],
        probe_seconds=m['probe_seconds'], wall_seconds=wall,
        peak_rss_mb=m['peak_rss_mb'],
        probe_weight_decay=m['probe_weight_decay'][0],
        probe_protocol=m['probe_protocol'],
        settings={k: config[k] for k in keys if k in config},
        config={k: v for k, v in config.items()
                if k not in ('seeds', 'root', 'data_root')},
        overrides=dict(options), device=device,
        denormals_flushed=denormals_flushed(),
        peak_gpu_mb=peak_gpu_mb(device), resumed=bool(before),
        allocator_tuned=tuned, machine=header, code=code)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, result)
    if rundir is not None:
        # The embeddings stay (git-ignored, beside the seeds' run folders)
        # for later studies of other probes on the same pretrained seeds.
        kept = rundir.parent / 'embeddings' / f'seed{seed}.pt'
        if (rundir / 'embeddings.pt').exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(rundir / 'embeddings.pt'), str(kept))
        shutil.rmtree(rundir, ignore_errors=True)
    print(f"{method} {m['dataset']} seed {seed}: test "
          f"{result['test_acc']:.2f}, val {result['val_acc']:.2f}, "
          f"{result['epochs']} epochs, {wall:.0f} s", flush=True)
    return result


def seed_protocol(result: dict) -> str:
    """The probe protocol of a saved per-seed result (saved before the
    probe named its protocol: graphcl's probe on the embeddings as they
    were, weight decay 0, 1e-5 ... 1e-1)."""
    from graphcl.eval.linear_probe import EARLIER_PROBE_PROTOCOL
    return result.get('probe_protocol', EARLIER_PROBE_PROTOCOL)


def is_current(result: dict) -> bool:
    """Whether a saved per-seed result was probed with graphcl's probe as
    it is now (:data:`graphcl.eval.PROBE_PROTOCOL`)."""
    from graphcl.eval import PROBE_PROTOCOL
    return seed_protocol(result) == PROBE_PROTOCOL


def by_protocol(runs: list) -> list:
    """Per-seed results split by the probe that scored them, never pooled
    across probes: ``[(suffix, runs), ...]``, the current probe's first
    with suffix ``''``, then each earlier protocol's with suffix
    ``' (older probe)'`` (a table appends it to the row's label and does
    not judge that row against a target). Groups keep ``runs``' order;
    empty groups are left out."""
    current = [r for r in runs if is_current(r)]
    groups = [('', current)] if current else []
    for protocol in sorted({seed_protocol(r) for r in runs
                            if not is_current(r)}):
        groups.append((' (older probe)',
                       [r for r in runs if seed_protocol(r) == protocol]))
    return groups


def reprobe(path: Path, embeddings: Path) -> dict:
    """Scores a saved seed's kept embeddings with graphcl's current probe
    and rewrites its JSON at ``path`` (atomically): ``test_acc``,
    ``val_acc``, ``probe_weight_decay``, ``probe_protocol`` and
    ``probe_scale`` become the current probe's, and the replaced values
    move to ``earlier_probes`` (with their protocol), so nothing measured
    is lost. The split is the seed's own (``load_dataset(dataset,
    seed=seed)``, as ``run_experiment`` drew it). Pretraining numbers
    (epochs, seconds, memory) are untouched; ``probe_seconds`` stays the
    first probe's."""
    import json
    from graphcl.atomic import atomic_write_json
    from graphcl.data import load_dataset
    from graphcl.eval import PROBE_PROTOCOL, linear_probe
    result = json.loads(Path(path).read_text())
    z = torch.load(embeddings, map_location='cpu', weights_only=True)
    data = load_dataset(result['dataset'], root=data_root(),
                        seed=result['seed'])
    if z.size(0) != data.num_nodes:
        raise SystemExit(f"{embeddings} holds {z.size(0)} rows but "
                         f"{result['dataset']} has {data.num_nodes} nodes")
    fit = linear_probe(z, data.y, data.train_mask, data.val_mask,
                       data.test_mask)
    earlier = dict(protocol=seed_protocol(result),
                   test_acc=result['test_acc'], val_acc=result['val_acc'],
                   probe_weight_decay=result.get('probe_weight_decay'))
    result['earlier_probes'] = result.get('earlier_probes', []) + [earlier]
    result.update(test_acc=100 * fit.test_acc, val_acc=100 * fit.val_acc,
                  probe_weight_decay=fit.weight_decay,
                  probe_scale=fit.scale, probe_protocol=PROBE_PROTOCOL,
                  reprobed=f'{machine()}; {code_version()}')
    atomic_write_json(path, result)
    return result
