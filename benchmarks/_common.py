"""Helpers shared by the benchmark scripts (not part of the package)."""
import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

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
