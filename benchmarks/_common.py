"""Helpers shared by the benchmark scripts (not part of the package)."""
import os
import platform
import subprocess
import time
from pathlib import Path

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
