"""The linear probe against the scale of the embeddings, on the embeddings
that ``methods.py run`` keeps (runs/benchmarks/methods/M/D/embeddings/):
is a method's score the method's or the probe's?

    python benchmarks/probe_scale.py --cells ggd/Amazon-Computers \
        graphmae/Cora graphmae/CiteSeer

graphcl's probe used to meet the embeddings as they were, with weight
decays 0, 1e-5 ... 1e-1: its L2 penalty is not scale-free, so on
embeddings with a root-mean-square entry far below 1 every non-zero weight
decay was far too strong and the choice was left with 0. This study led
to the probe of today (``graphcl.eval.linear_probe``: the embeddings
divided by the rms entry of the training rows, weight decays 0, 1e-5 ...
1e3). Each kept seed is scored by

* ``protocol``: graphcl's probe as the protocol runs it now;
* ``raw``: the earlier probe (``rescale=False``, the absolute grid
  ``ABSOLUTE_WEIGHT_DECAYS``), as the earlier results were measured;
* ``rms``: the earlier grid on the embeddings divided by one number, the
  root-mean-square entry of the training rows (a global rescale: the
  geometry is unchanged, the grid is met at unit scale);
* ``standardized``: graphcl's probe with ``standardize=True`` (each
  dimension to zero mean and unit variance on the training rows);
* ``adam``: a linear layer trained by Adam without weight decay for a
  fixed number of full-batch epochs, scored at its last epoch, as
  GGD-amco's train_coauthor.py does (learning rate 0.05, 3,500 epochs for
  Amazon-Computers' README command).

Validation and test accuracy (%) are printed for every variant; nothing
is chosen here, and the table says which variant has the best mean
validation accuracy. Writes
benchmarks/results/probe_scale.md and probe_scale.json.
"""
import argparse
import json
import statistics
from pathlib import Path

from _common import RESULTS, adam_linear_probe, code_version, data_root, \
    machine, one_thread, write

EMBEDDINGS = RESULTS.parents[1] / 'runs' / 'benchmarks' / 'methods'
ADAM = dict(lr=0.05, epochs=3500)


def adam_probe(z, data, seed: int) -> dict:
    return adam_linear_probe(z, data, ADAM['lr'], ADAM['epochs'], seed=seed)


def score_seed(method: str, dataset: str, seed: int, path: Path) -> dict:
    import torch
    from graphcl.data import load_dataset
    from graphcl.eval import ABSOLUTE_WEIGHT_DECAYS, linear_probe
    data = load_dataset(dataset, root=data_root(), seed=seed)
    z = torch.load(path).float()
    rms = float(z[data.train_mask].pow(2).mean().sqrt())

    def probe(x, **kw):
        r = linear_probe(x, data.y, data.train_mask, data.val_mask,
                         data.test_mask, **kw)
        return dict(val=100 * r.val_acc, test=100 * r.test_acc,
                    weight_decay=r.weight_decay)
    earlier = dict(rescale=False, weight_decays=ABSOLUTE_WEIGHT_DECAYS)
    return dict(method=method, dataset=dataset, seed=seed, rms=rms,
                protocol=probe(z), raw=probe(z, **earlier),
                rms_scaled=probe(z / rms, **earlier),
                standardized=probe(z, standardize=True),
                adam=adam_probe(z, data, seed))


VARIANTS = (('protocol', "graphcl's probe (the protocol: z / rms, "
                         "weight decay 0, 1e-5 ... 1e3)"),
            ('raw', "the earlier probe (z as it is, weight decay 0, "
                    "1e-5 ... 1e-1)"),
            ('rms_scaled', 'the earlier probe on z / rms(z_train)'),
            ('standardized', "graphcl's probe, standardize=True"),
            ('adam', f"Adam, lr {ADAM['lr']}, {ADAM['epochs']} epochs, no "
                     "weight decay, last epoch"))


def table(record: dict) -> str:
    lines = [
        '# The linear probe against the scale of the embeddings', '',
        'Written by `python benchmarks/probe_scale.py` on the embeddings '
        'kept by `benchmarks/methods.py run`; see the script\'s docstring '
        'for the variants. Accuracy in %, mean ± population std over the '
        'kept seeds; nothing is chosen on the test nodes. '
        f"{record['machine']}; {record['code']}.", '',
        '| method | dataset | seeds | rms of the entries | variant | '
        'validation | test |', '|---|---|---|---|---|---|---|']
    for cell, runs in record['cells'].items():
        method, dataset = cell.split('/')
        seeds = ', '.join(str(r['seed']) for r in runs)
        rms = statistics.fmean(r['rms'] for r in runs)
        best = max(VARIANTS, key=lambda v: statistics.fmean(
            r[v[0]]['val'] for r in runs))[0]
        for key, name in VARIANTS:
            vals = [r[key]['val'] for r in runs]
            tests = [r[key]['test'] for r in runs]
            std = f' ± {statistics.pstdev(tests):.2f}' if len(tests) > 1 \
                else ''
            mark = ' (best validation)' if key == best else ''
            lines.append(f'| {method} | {dataset} | {seeds} | {rms:.4f} | '
                         f'{name}{mark} | {statistics.fmean(vals):.2f} | '
                         f'{statistics.fmean(tests):.2f}{std} |')
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--cells', nargs='+', required=True,
                   help='METHOD/DATASET with kept embeddings')
    args = p.parse_args()
    one_thread()
    record = dict(machine=machine(), code=code_version(), adam=ADAM,
                  cells={})
    for cell in args.cells:
        method, dataset = cell.split('/')
        paths = sorted((EMBEDDINGS / method / dataset / 'embeddings').glob(
            'seed*.pt'), key=lambda q: int(q.stem[4:]))
        if not paths:
            raise SystemExit(f'no kept embeddings for {cell} under '
                             f'{EMBEDDINGS}; run benchmarks/methods.py run '
                             f'--method {method} --dataset {dataset} first')
        record['cells'][cell] = [
            score_seed(method, dataset, int(q.stem[4:]), q) for q in paths]
        print(cell, 'done', flush=True)
    (RESULTS / 'probe_scale.json').write_text(json.dumps(record, indent=1))
    write('probe_scale.md', table(record))


if __name__ == '__main__':
    main()
