"""The node-level methods of issue 12 beside their papers: one table,
benchmarks/results/methods.md, of method x dataset with graphcl's linear-probe
test accuracy (mean ± population std over seeds, graphcl.stats), the
published number, the issue's target, seconds per epoch, whole-run time
and peak memory.

    python benchmarks/methods.py            # the whole grid, then the table
    python benchmarks/methods.py run --method ggd --dataset Amazon-Photo \
        --seeds 10
    python benchmarks/methods.py run --method ggd --dataset Cora --seeds 3 \
        --set hidden=256
    python benchmarks/methods.py table

``run``: every missing seed of ``run_experiment(METHOD, DATASET,
seeds=[seed], **overrides)`` (the method's preset for the dataset unless
``--set key=value`` overrides an option or training setting) runs in its own
process on one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``,
``graphcl.perf.tune_cpu_allocator()``), so that its peak memory is its own,
and is saved as benchmarks/results/methods/METHOD/DATASET/seedN.json (with
overrides: .../DATASET/key=value,key=value/seedN.json, so runs with other
settings are never mixed). Saved seeds are skipped, and a seed in progress
trains in a run folder under runs/benchmarks/methods/ (ignored by git) with
a checkpoint every 30 s: an interrupted command continues where it stopped,
mid-seed included. A folder whose saved seeds were run with other
resolved settings (say, a preset changed since) is refused, not extended.

``reprobe``: seeds saved with an earlier probe protocol (graphcl's probe
before it rescaled the embeddings, see docs/evaluation) are scored again
from their kept embeddings (runs/benchmarks/methods/M/D/embeddings/), the
replaced numbers kept in the JSON under ``earlier_probes``. Seeds without
kept embeddings are listed: ``run`` trains them again.

``table``: benchmarks/results/methods.md from every saved seed of every
registered method (methods not registered yet are left out), plus graphcl's
earlier DGI runs of benchmarks/dgi_accuracy.py
(benchmarks/results/dgi_accuracy/DATASET.json, one process for all seeds)
where the runner has no DGI seeds of its own.

No arguments: the issue's grid (BGRL on Amazon-Computers, Amazon-Photo,
Coauthor-CS, Coauthor-Physics; GGD on Cora, CiteSeer, Amazon-Computers,
Amazon-Photo; MVGRL and GraphMAE on Cora and CiteSeer; DGI on every one of
those datasets that has no DGI result yet), registered methods only, then
the table.

Nothing is chosen on the test split: the probe's weight decay is chosen per
seed on the validation split; the settings are the methods' presets.
"""
import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from _common import RESULTS, is_current, reprobe, run_seed, \
    run_subprocess, seed_protocol, write

OUT = RESULTS / 'methods'
#: Run folders of the seeds in progress (checkpoints; git ignores runs/).
RUNS = RESULTS.parents[1] / 'runs' / 'benchmarks' / 'methods'
LEGACY_DGI = RESULTS / 'dgi_accuracy'
SEEDS = 10

#: The issue's grid: method -> datasets.
GRID: Dict[str, List[str]] = {
    'bgrl': ['Amazon-Computers', 'Amazon-Photo', 'Coauthor-CS',
             'Coauthor-Physics'],
    'ggd': ['Cora', 'CiteSeer', 'Amazon-Computers', 'Amazon-Photo'],
    'mvgrl': ['Cora', 'CiteSeer'],
    'graphmae': ['Cora', 'CiteSeer'],
    'cca_ssg': ['Cora', 'CiteSeer', 'Amazon-Computers', 'Amazon-Photo'],
}
#: DGI, graphcl's baseline on the same protocol, on every dataset above.
GRID['dgi'] = [d for d in ('Cora', 'CiteSeer', 'Amazon-Computers',
                           'Amazon-Photo', 'Coauthor-CS', 'Coauthor-Physics')
               if any(d in ds for ds in GRID.values())]

_BGRL = 'BGRL paper (Thakoor et al., ICLR 2022), Table 1'
_GGD = 'GGD paper (Zheng et al., NeurIPS 2022)'
_MVGRL = ('MVGRL paper (Hassani & Khasahmadi, ICML 2020); Cora '
          "also as reproduced by DGL's MVGRL example")
_GRAPHMAE = 'GraphMAE paper (Hou et al., KDD 2022)'
_CCA_SSG = ('CCA-SSG paper (Zhang et al., NeurIPS 2021), Tables 2 and 3 '
            '(as recalled; not checked against the paper here)')
_DGI = 'DGI paper (Veličković et al., ICLR 2019), Table 2'
_DGI_BGRL = 'DGI as reported in ' + _BGRL

#: (method, dataset) -> (published test accuracy, its source, the issue's
#: target or None).
PUBLISHED: Dict[Tuple[str, str], Tuple[str, str, Optional[float]]] = {
    ('bgrl', 'Amazon-Computers'): ('90.34 ± 0.19', _BGRL, 89.8),
    ('bgrl', 'Amazon-Photo'): ('93.17 ± 0.30', _BGRL, 92.8),
    ('bgrl', 'Coauthor-CS'): ('93.31 ± 0.13', _BGRL, 92.9),
    ('bgrl', 'Coauthor-Physics'): ('95.73 ± 0.05', _BGRL, 95.3),
    ('ggd', 'Cora'): ('83.9 ± 0.4', _GGD, 83.0),
    ('ggd', 'CiteSeer'): ('73.0 ± 0.6', _GGD, 72.0),
    ('ggd', 'Amazon-Computers'): ('90.1 ± 0.9', _GGD, 89.0),
    ('ggd', 'Amazon-Photo'): ('92.5 ± 0.6', _GGD, 91.8),
    ('mvgrl', 'Cora'): ('86.8 (DGL reproduction 83.5)', _MVGRL, 82.5),
    ('mvgrl', 'CiteSeer'): ('73.3', _MVGRL, 72.0),
    ('graphmae', 'Cora'): ('84.2 ± 0.4', _GRAPHMAE, 83.5),
    ('graphmae', 'CiteSeer'): ('73.4 ± 0.4', _GRAPHMAE, 72.8),
    ('cca_ssg', 'Cora'): ('84.2 ± 0.4', _CCA_SSG, None),
    ('cca_ssg', 'CiteSeer'): ('73.1 ± 0.3', _CCA_SSG, None),
    ('cca_ssg', 'Amazon-Computers'): ('88.74 ± 0.28', _CCA_SSG, None),
    ('cca_ssg', 'Amazon-Photo'): ('93.14 ± 0.14', _CCA_SSG, None),
    ('dgi', 'Cora'): ('82.3 ± 0.6', _DGI, None),
    ('dgi', 'CiteSeer'): ('71.8 ± 0.7', _DGI, None),
    ('dgi', 'Amazon-Computers'): ('83.95 ± 0.47', _DGI_BGRL, None),
    ('dgi', 'Amazon-Photo'): ('91.61 ± 0.22', _DGI_BGRL, None),
    ('dgi', 'Coauthor-CS'): ('92.15 ± 0.63', _DGI_BGRL, None),
    ('dgi', 'Coauthor-Physics'): ('94.51 ± 0.52', _DGI_BGRL +
                                  ' (as recalled; not checked against the '
                                  'paper here)', None),
}


# ---------------------------------------------------------------- naming

def canonical_dataset(name: str) -> str:
    """The registered dataset's canonical name ('Photo' -> 'Amazon-Photo');
    refuses names graphcl does not know."""
    from graphcl.data.registry import get_spec
    try:
        return get_spec(name, level='node').name
    except ValueError as e:
        raise SystemExit(str(e)) from None


def registered() -> List[str]:
    from graphcl.models import list_methods
    return list_methods()


def check_method(method: str) -> str:
    known = registered()
    if method.lower() not in known:
        raise SystemExit(f"Method '{method}' is not registered; registered: "
                         f"{', '.join(known)}")
    return method.lower()


def _parse_value(key: str, text: str, default):
    if isinstance(default, bool):
        low = text.lower()
        if low in ('true', '1', 'yes'):
            return True
        if low in ('false', '0', 'no'):
            return False
        raise SystemExit(f"--set {key}={text}: {key} is true or false")
    if isinstance(default, (int, float)):
        try:
            return type(default)(text)
        except ValueError:
            raise SystemExit(f"--set {key}={text}: {key} takes a "
                             f"{type(default).__name__} (default "
                             f"{default!r})") from None
    if default is None:  # an optional option: a number if it reads as one
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text


def parse_overrides(method: str, dataset: str,
                    items: List[str]) -> Dict[str, object]:
    """``--set key=value`` items typed from the method's defaults (options
    and training settings), without those equal to what the preset already
    resolves to (so that they share the preset's folder)."""
    from graphcl.models.registry import get_method, method_settings
    spec = get_method(method)
    defaults = {**spec.train_defaults, **spec.defaults}
    preset = method_settings(method, dataset)
    out: Dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition('=')
        key = key.strip().replace('-', '_')
        if not sep or not key:
            raise SystemExit(f"--set takes key=value, got {item!r}")
        if key not in defaults:
            raise SystemExit(f"--set {item}: '{key}' is not an option or "
                             f"training setting of {method}; known: "
                             f"{', '.join(sorted(defaults))}")
        if any(c in text for c in '/,=\\') or not text:
            raise SystemExit(f"--set {item}: the value may not be empty nor "
                             f"hold '/', ',', '=' or '\\' (it names a "
                             f"folder)")
        value = _parse_value(key, text.strip(), defaults[key])
        if value != preset[key]:
            out[key] = value
    return out


def variant_name(overrides: Dict[str, object]) -> str:
    """The folder of a set of overrides: sorted ``key=value`` joined by
    commas ('' for the preset)."""
    return ','.join(f'{k}={v!r}' if isinstance(v, float) else f'{k}={v}'
                    for k, v in sorted(overrides.items()))


def folder(method: str, dataset: str, overrides: Dict[str, object],
           out: Optional[Path] = None) -> Path:
    path = (OUT if out is None else out) / method / dataset
    name = variant_name(overrides)
    return path / name if name else path


def saved_seeds(path: Path) -> Dict[int, dict]:
    """The seed JSONs directly in ``path``, by seed."""
    runs = {}
    for p in path.glob('seed*.json'):
        m = re.fullmatch(r'seed(\d+)', p.stem)
        if m:
            runs[int(m.group(1))] = json.loads(p.read_text())
    return dict(sorted(runs.items()))


def check_consistent(path: Path, settings: Dict[str, object]) -> None:
    """Refuses to add seeds to a folder whose saved seeds were run with
    other resolved settings than ``settings``."""
    for seed, run in saved_seeds(path).items():
        saved = run.get('settings', {})
        diff = {k: (saved[k], settings[k]) for k in saved
                if k in settings and saved[k] != settings[k]}
        # A setting the seed does not record was added to the method
        # since: what the seed ran with is unknown, so not the same.
        diff.update({k: ('(not recorded)', settings[k]) for k in settings
                     if k not in saved})
        if diff:
            raise SystemExit(
                f"{path} holds seed {seed} run with other settings "
                f"(saved vs now: {diff}); the seeds would be mixed. Move "
                f"that folder away (git mv) or reproduce its settings with "
                f"--set.")


# ---------------------------------------------------------------- running

def run(method: str, dataset: str, seeds: List[int],
        items: List[str], device: str = 'cpu') -> None:
    method = check_method(method)
    dataset = canonical_dataset(dataset)
    from graphcl.models.registry import method_settings
    overrides = parse_overrides(method, dataset, items)
    settings = method_settings(method, dataset, **overrides)
    path = folder(method, dataset, overrides)
    check_consistent(path, settings)
    from graphcl.runner import resolve_device
    device = str(resolve_device(device))  # CUDA missing: refused here
    reprobe_cell(path, folder(method, dataset, overrides, RUNS))
    done = {k: v for k, v in saved_seeds(path).items() if is_current(v)}
    todo = [s for s in seeds if s not in done]
    print(f'{method} {dataset} {variant_name(overrides) or "(preset)"}: '
          f'{len(seeds) - len(todo)} of {len(seeds)} seeds saved, running '
          f'{todo}', flush=True)
    for seed in todo:
        saved = path / f'seed{seed}.json'
        if saved.exists() and is_current(json.loads(saved.read_text())):
            continue  # saved meanwhile by another command
        run_subprocess([__file__, '_one', method, dataset, seed,
                        json.dumps(overrides), '--device', device])


def reprobe_cell(path: Path, runs: Path) -> List[int]:
    """Scores the seeds of ``path`` saved with an earlier probe protocol
    again from their embeddings kept under ``runs``; returns the seeds
    left with an earlier protocol (no embeddings kept)."""
    left = []
    for seed, result in saved_seeds(path).items():
        if is_current(result):
            continue
        kept = runs / 'embeddings' / f'seed{seed}.pt'
        if not kept.exists():
            left.append(seed)
            continue
        new = reprobe(path / f'seed{seed}.json', kept)
        old = new['earlier_probes'][-1]
        print(f"{path.relative_to(OUT)} seed {seed}: test "
              f"{old['test_acc']:.2f} -> {new['test_acc']:.2f}, val "
              f"{old['val_acc']:.2f} -> {new['val_acc']:.2f}", flush=True)
    return left


def reprobe_all() -> None:
    """``reprobe``: every cell and variant with saved seeds."""
    for cell in sorted({p.parent for p in OUT.rglob('seed*.json')}):
        left = reprobe_cell(cell, RUNS / cell.relative_to(OUT))
        if left:
            print(f"{cell.relative_to(OUT)}: seeds {left} have no kept "
                  f"embeddings; 'run' trains them again", flush=True)


def run_grid(seeds: List[int]) -> None:
    known = registered()
    for method, datasets in GRID.items():
        if method not in known:
            print(f'{method}: not registered, skipped', flush=True)
            continue
        for dataset in datasets:
            if method == 'dgi' and not saved_seeds(
                    folder(method, dataset, {})) and \
                    (LEGACY_DGI / f'{dataset}.json').exists():
                continue  # graphcl's DGI result exists (dgi_accuracy.py)
            run(method, dataset, seeds, [])


# ---------------------------------------------------------------- table

def _load(text: str) -> float:
    m = re.search(r'load average ([\d.]+)', text or '')
    return float(m.group(1)) if m else float('nan')


def rows(out: Optional[Path] = None,
         legacy: Optional[Path] = None) -> List[dict]:
    """One row per (registered method, dataset, settings) with saved seeds,
    plus the grid's cells without any, in the grid's order."""
    out = OUT if out is None else out
    legacy = LEGACY_DGI if legacy is None else legacy
    from graphcl.stats import mean_std
    known = registered()
    found: Dict[Tuple[str, str], List[Tuple[str, Dict[int, dict]]]] = {}
    for mdir in sorted(p for p in out.glob('*') if p.is_dir()):
        if mdir.name not in known:
            continue
        for ddir in sorted(p for p in mdir.glob('*') if p.is_dir()):
            variants = [('', saved_seeds(ddir))] + [
                (v.name, saved_seeds(v))
                for v in sorted(p for p in ddir.glob('*') if p.is_dir())]
            found[(mdir.name, ddir.name)] = [v for v in variants if v[1]]
    order = [(m, d) for m, ds in GRID.items() for d in ds if m in known]
    order += sorted(k for k in found if k not in order)
    result = []
    for method, dataset in order:
        pub, source, target = PUBLISHED.get((method, dataset),
                                            ('—', '—', None))
        base = dict(method=method, dataset=dataset, published=pub,
                    source=source, target=target)
        variants = found.get((method, dataset), [])
        if not variants and method == 'dgi' and \
                (legacy / f'{dataset}.json').exists():
            result.append({**base, **_legacy_dgi(legacy / f'{dataset}.json')})
            continue
        if not variants:
            result.append(dict(base, variant='', seeds=[], test=[]))
            continue
        split = []
        for name, runs in variants:
            current = [r for r in runs.values() if is_current(r)]
            older = [r for r in runs.values() if not is_current(r)]
            split += [(name, current, False)] if current else []
            split += [(name, older, True)] if older else []
        for name, runs, older in split:
            test = [r['test_acc'] for r in runs]
            mean, std = mean_std(test)
            # Timings and memory of one kind of device only: the CPU
            # seeds', or, where every seed ran on a GPU, theirs.
            cpu = [r for r in runs if r.get('device', 'cpu') == 'cpu']
            timed = cpu or runs
            loads = [_load(r.get('machine', '')) for r in timed]
            result.append({
                **base, 'variant': name, 'seeds': [r['seed'] for r in runs],
                'test': test, 'mean': mean, 'std': std,
                'val': statistics.fmean(r['val_acc'] for r in runs),
                'epochs': statistics.median(r['epochs'] for r in runs),
                'spe': statistics.median(r['seconds_per_epoch']
                                         for r in timed),
                'whole': sum(r['wall_seconds'] for r in timed),
                'peak': max(r['peak_rss_mb'] for r in timed),
                'timed': [r['seed'] for r in timed] if cpu else None,
                'devices': _devices(runs),
                'settings': runs[0].get('settings', {}),
                'loads': (min(loads), max(loads)),
                'code': _commits(runs), 'origin': 'per-seed JSONs',
                'older_probe': (sorted({seed_protocol(r) for r in runs})
                                if older else None)})
    return result


def _devices(runs) -> str:
    # '' when every seed ran on the CPU, else which seeds ran where.
    where: Dict[str, List[int]] = {}
    for r in runs:
        where.setdefault(r.get('device', 'cpu'), []).append(r['seed'])
    if set(where) == {'cpu'}:
        return ''
    return '; '.join(f"{d}: seeds {', '.join(map(str, s))}"
                     for d, s in sorted(where.items()))


def _commits(runs) -> List[str]:
    # The git commits the seeds ran at, and whether graphcl/ had local
    # changes then (from each JSON's code line).
    heads = sorted({m.group(1) for r in runs
                    for m in [re.search(r'git (\w+)', r.get('code', ''))]
                    if m})
    dirty = sum('uncommitted' in r.get('code', '') for r in runs)
    text = 'git ' + ', '.join(heads) if heads else 'commit unknown'
    if dirty:
        text += f' ({dirty} of {len(runs)} seeds with uncommitted changes ' \
            'in graphcl/)'
    return [text]


def _legacy_dgi(path: Path) -> dict:
    # One metrics.json of benchmarks/dgi_accuracy.py: all seeds in one
    # process; the per-seed probe rule derived from the saved grids.
    from dgi_accuracy import by_rule
    from graphcl.stats import mean_std
    m = json.loads(path.read_text())
    test = by_rule(m, 'per-seed')[0]
    mean, std = mean_std(test)
    load = _load(m.get('machine', ''))
    return dict(
        variant='', seeds=list(m['seeds']), test=test, mean=mean, std=std,
        val=m['val_acc_mean'], epochs=statistics.median(m['epochs']),
        spe=m['seconds_per_epoch'],
        whole=m['pretrain_seconds'] + m['probe_seconds'],
        peak=m['peak_rss_mb'], settings={}, loads=(load, load),
        older_probe=None if is_current(m) else [seed_protocol(m)],
        code=[m.get('command', '')],
        origin=f'benchmarks/dgi_accuracy.py ({path.name}; whole run = '
        'pretrain + probe s; peak RSS of the process that ran several '
        'datasets)')


def _fmt_target(row) -> Tuple[str, str]:
    if row['target'] is None or not row['test']:
        return ('—' if row['target'] is None else f"≥ {row['target']}"), '—'
    if row.get('older_probe'):  # not judged: the probe has changed since
        return f"≥ {row['target']}", 'not judged (older probe)'
    met = 'yes' if row['mean'] >= row['target'] else 'no'
    if len(row['test']) < SEEDS:
        met += f" ({len(row['test'])} of {SEEDS} seeds)"
    return f"≥ {row['target']}", met


#: Issue 12: at least one method reaches this on Cora's public split.
CORA_CLAIM = 84.0


def cora_claim(data: List[dict]) -> str:
    """One line: the best mean over 10 seeds on Cora's public split
    against :data:`CORA_CLAIM`."""
    cora = [r for r in data if r['dataset'] == 'Cora' and
            len(r['test']) >= SEEDS and not r.get('older_probe')]
    if not cora:
        return f'Cora (public split): no method has {SEEDS} seeds yet.'
    best = max(cora, key=lambda r: r['mean'])
    met = 'met' if best['mean'] >= CORA_CLAIM else 'not met'
    name = best['method'] + (f" ({best['variant']})" if best['variant']
                             else '')
    return (f"Cora (public split): the best mean over {SEEDS} seeds is "
            f"{name}'s {best['mean']:.2f} ± {best['std']:.2f}; at least one "
            f"method ≥ {CORA_CLAIM}: {met}.")


def table(out: Optional[Path] = None,
          legacy: Optional[Path] = None) -> str:
    lines = [
        '# Node-level methods against their papers', '',
        'Written by `python benchmarks/methods.py table` from the per-seed '
        'JSONs under `benchmarks/results/methods/METHOD/DATASET/` (each '
        "seed one `run_experiment(METHOD, DATASET, seeds=[seed])` with the "
        "method's preset for the dataset, in its own process on one "
        'thread; a settings column other than "preset" names the `--set` '
        'overrides). Linear-probe test accuracy (%), mean ± population std '
        'across seeds (`graphcl.stats`); the probe (`graphcl.eval.'
        'linear_probe`) rescales the embeddings to a root-mean-square '
        'entry of 1 and chooses its weight decay (0, 1e-5 ... 1e3) per '
        'seed on the validation split. Rows marked "older probe" hold '
        'seeds scored before that rescaling (weight decay 0, 1e-5 ... 1e-1 '
        'on the embeddings as they were) whose embeddings were not kept: '
        'they are shown, not judged, until they are run again. Splits: Planetoid public '
        'split (Cora, CiteSeer); a random 10/10/80 train/val/test split '
        'drawn from each seed (Amazon, Coauthor). s/epoch is the median '
        'over seeds; whole run is the wall time of all seeds together '
        '(pretraining, probe, data loading); peak memory is the largest '
        'peak RSS of one seed\'s process. The machine is shared: the load '
        'average at each seed\'s start is listed below. A method appears '
        'once it is registered in graphcl.', '',
        '| method | dataset | settings | seeds | graphcl | val | '
        'published | target | met | epochs (median) | s/epoch | whole run '
        '(s, all seeds) | peak RSS (MiB) |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    notes = []
    sources = {}
    data = rows(out, legacy)
    for row in data:
        sources.setdefault(row['source'], len(sources) + 1)
        ref = f" [{sources[row['source']]}]" if row['source'] != '—' else ''
        target, met = _fmt_target(row)
        name = row['variant'] or 'preset'
        if row.get('older_probe'):
            name += ' (older probe)'
        if not row['test']:
            lines.append(f"| {row['method']} | {row['dataset']} | — | 0 | "
                         f"not run yet | — | {row['published']}{ref} | "
                         f"{target} | — | — | — | — | — |")
            continue
        timed = row.get('timed')
        kind = '' if not row.get('devices') else (
            f" (CPU seeds {', '.join(map(str, timed))})" if timed
            else ' (GPU)')
        lines.append(
            f"| {row['method']} | {row['dataset']} | {name} | "
            f"{len(row['test'])} | {row['mean']:.2f} ± {row['std']:.2f} | "
            f"{row['val']:.2f} | {row['published']}{ref} | {target} | "
            f"{met} | {row['epochs']:g} | {row['spe']:.4f}{kind} | "
            f"{row['whole']:.0f}{kind} | {row['peak']:.0f}{kind} |")
        lo, hi = row['loads']
        load = f'{lo:.2f}' if lo == hi else f'{lo:.2f}-{hi:.2f}'
        s = row['settings']
        settings = ', '.join(f'{k} {v}' for k, v in s.items())
        notes.append(
            f"- {row['method']} {row['dataset']} ({name}): seeds "
            f"{', '.join(map(str, row['seeds']))}: "
            f"{', '.join(f'{a:.1f}' for a in row['test'])}. "
            + (f"Devices: {row['devices']}. " if row.get('devices')
               else '')
            + (f"Probe: {', '.join(row['older_probe'])} (an earlier "
               f"protocol; not judged against the target). "
               if row.get('older_probe') else '')
            + f"Load average {load}; {row['origin']}; code "
            f"{'; '.join(row['code'])}"
            + (f'; settings: {settings}.' if settings else '.'))
    lines += ['', cora_claim(data)]
    lines += ['', 'Sources of the published numbers:', '']
    lines += [f'{i}. {src}' for src, i in sources.items() if src != '—']
    lines += ['', 'Per-seed test accuracies, load and settings:', ''] + notes
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------- CLI

def main(argv=None):
    from graphcl.commands.common import parse_seeds
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='command')
    r = sub.add_parser('run', help='run the missing seeds of one cell')
    r.add_argument('--method', required=True)
    r.add_argument('--dataset', required=True)
    r.add_argument('--seeds', type=parse_seeds, default=str(SEEDS),
                   help=f'a count N (seeds 0..N-1) or a list such as 7,8,9 '
                   f'(default: {SEEDS})')
    r.add_argument('--set', dest='overrides', action='append', default=[],
                   metavar='KEY=VALUE',
                   help='override an option or training setting of the '
                   'preset (repeatable; saved in a folder of its own)')
    r.add_argument('--no-table', action='store_true',
                   help='do not rewrite methods.md afterwards')
    r.add_argument('--device', default='cpu',
                   help="'cpu' (default) or 'cuda': accuracy pools with "
                   "the CPU seeds; timings and memory are kept apart")
    sub.add_parser('reprobe', help='score seeds saved with an earlier '
                   'probe again from their kept embeddings')
    sub.add_parser('table', help='write benchmarks/results/methods.md')
    one = sub.add_parser('_one')
    for name in ('method', 'dataset', 'seed', 'overrides'):
        one.add_argument(name)
    one.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
    if args.command == '_one':
        overrides = json.loads(args.overrides)
        name = f'seed{args.seed}'
        run_seed(args.method, args.dataset, int(args.seed),
                 folder(args.method, args.dataset, overrides) /
                 f'{name}.json',
                 rundir=folder(args.method, args.dataset, overrides,
                               RUNS) / name, device=args.device,
                 **overrides)
        return
    if args.command == 'run':
        run(args.method, args.dataset, args.seeds, args.overrides,
            args.device)
        if args.no_table:
            return
    elif args.command == 'reprobe':
        reprobe_all()
    elif args.command is None:
        run_grid(list(range(SEEDS)))
    write('methods.md', table())


if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
