"""How long `graphcl ... --help` takes, and what it imports: the command line
as it is (this checkout) against a baseline commit (default: the last one
before the lazy command line, 08f6e2e), each command run as a fresh process,
the two alternated in one run (a busy shared machine shifts both alike).

    python benchmarks/cli_startup.py [--repeats 5] [--baseline 08f6e2e]

Writes benchmarks/results/cli_startup.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COMMANDS = (['--help'], ['--version'], ['datasets', '--help'],
            ['train', '--help'], ['embed', '--help'], ['train', 'dgi',
                                                       '--help'])
PROBE = ("import runpy, sys\n"
         "sys.argv = ['graphcl'] + sys.argv[1:]\n"
         "try:\n"
         "    runpy.run_module('graphcl.cli', run_name='__main__')\n"
         "except SystemExit:\n"
         "    pass\n"
         "heavy = [m for m in ('torch', 'torch_geometric') if m in "
         "sys.modules]\n"
         "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n")


def run_once(src: Path, argv, cwd: str):
    # A fresh interpreter with `src` first on the path; cwd is neutral so
    # that `-m`/`-c` do not pick up this checkout for the baseline.
    env = dict(os.environ, PYTHONPATH=str(src))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, '-c', PROBE, *argv], env=env,
                         cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    heavy = [line for line in out.stderr.splitlines()
             if line.startswith('HEAVY=')]
    ok = 'usage:' in out.stdout or 'graphcl' in out.stdout
    return wall, (heavy[-1][6:] or 'nothing') if heavy else '?', ok


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--baseline', default='08f6e2e')
    args = p.parse_args()
    header = machine()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / 'baseline'
        base.mkdir()
        archive = subprocess.run(['git', 'archive', args.baseline, 'graphcl'],
                                 cwd=REPO, capture_output=True, check=True)
        subprocess.run(['tar', '-x', '-C', str(base)], input=archive.stdout,
                       check=True)
        times = {}
        imports = {}
        for argv in COMMANDS:
            for i in range(args.repeats):
                for name, src in (('now', REPO), ('baseline', base)):
                    wall, heavy, ok = run_once(src, argv, tmp)
                    key = (' '.join(argv), name)
                    times.setdefault(key, []).append(wall)
                    imports[key] = heavy if ok else 'error'
    load1 = os.getloadavg()
    rows = ['| command | now: median s (min) | imports | baseline '
            f'{args.baseline}: median s (min) | imports |',
            '|---|---|---|---|---|']
    for argv in COMMANDS:
        cmd = ' '.join(argv)
        now, old = times[(cmd, 'now')], times[(cmd, 'baseline')]
        rows.append(
            f"| `graphcl {cmd}` | {statistics.median(now):.2f} "
            f"({min(now):.2f}) | {imports[(cmd, 'now')]} | "
            f"{statistics.median(old):.2f} ({min(old):.2f}) | "
            f"{imports[(cmd, 'baseline')]} |")
    text = (
        "# `graphcl` start-up: --help and --version\n\n"
        f"{header}; load average (1/5/15 min) {load0[0]:.2f}/{load0[1]:.2f}/"
        f"{load0[2]:.2f} before, {load1[0]:.2f}/{load1[1]:.2f}/"
        f"{load1[2]:.2f} after.\n\n"
        f"Wall time of a fresh `python` process running the command "
        f"({args.repeats} runs each, this checkout and commit "
        f"{args.baseline} alternated), and which of torch / "
        f"torch_geometric it imported. Written by "
        f"`benchmarks/cli_startup.py`.\n\n" + '\n'.join(rows) + '\n\n'
        "`graphcl train METHOD --help` shows the method's registered options "
        "and defaults from its spec module (`graphcl/models/*_spec.py`), "
        "which names its builder as 'module:function' and so imports "
        "neither PyTorch nor PyG; the import column says what each command "
        "actually imported.\n")
    write('cli_startup.md', text)


if __name__ == '__main__':
    main()
