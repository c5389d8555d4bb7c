"""GGD's official code for the citation graphs, run here, beside graphcl's
GGD on the same seeds, each scored by both probes: is a missed target
(CiteSeer) the port's or the method's?

    python benchmarks/ggd_reference.py --datasets CiteSeer --seeds 10
    python benchmarks/ggd_reference.py --table-only

One process per (dataset, seed), one thread. Each process

1. trains GGD's official model and loop (GGD-citation/execute.py of
   github.com/zyzisastudyreallyhardguy/Graph-Group-Discrimination, written
   out in :class:`OfficialGGD` and :func:`train_official`): a one-layer GCN
   (bias-free linear map with Xavier init, a bias, one shared PReLU slope),
   a linear projector with PyTorch's default init, each epoch exactly
   ``int(0.2 F)`` feature columns zeroed and the rows shuffled for the
   negative group (the shuffle applied to the rows of X W^T, which are the
   same rows), BCE on the channel-summed projections, Adam at 0.001
   for 500 epochs, the parameters of the lowest loss kept; embeddings
   H + Â^5 H of the unaugmented graph. Seeds: ``random``, NumPy and torch
   seeded with the seed (the code seeds nothing). The only change is the
   kernel: the masked feature matrix is multiplied in CSR form instead of
   dense (the same products);
2. trains graphcl's GGD with the dataset's preset
   (``run_experiment('ggd', DATASET, seeds=[seed])``, as
   benchmarks/methods.py does) and keeps its embeddings;
3. scores both embeddings with graphcl's probe (weight decay chosen on the
   validation nodes) and with the official code's probe (50 logistic
   regressions, Xavier init, Adam at 0.01 without weight decay, 100
   full-batch epochs on the training nodes; the mean test accuracy of the
   50).

Saved as benchmarks/results/ggd/reference/DATASET_seedK.json as each seed
ends (saved seeds are skipped); writes benchmarks/results/ggd_reference.md.
Nothing is chosen on the test split.
"""
import argparse
import copy
import json
import random
import statistics
import sys
import time
from pathlib import Path

from _common import (RESULTS, by_protocol, code_version, data_root,
                     engine_embeddings, is_current, machine, mean_std_text,
                     one_thread, run_subprocess, write)

OUT = RESULTS / 'ggd' / 'reference'
#: The official execute.py's settings (its argparse defaults; the embedding
#: power 5 is written into GGD.embed).
OFFICIAL = dict(hidden=512, lr=0.001, epochs=500, drop_percent=0.2, power=5,
                probe_runs=50, probe_epochs=100, probe_lr=0.01)
PUBLISHED = {'Cora': ('83.9 ± 0.4', 83.0), 'CiteSeer': ('73.0 ± 0.6', 72.0)}


def seed_file(dataset: str, seed: int) -> Path:
    return OUT / f'{dataset}_seed{seed}.json'


def official_model(in_channels: int, hidden: int):
    """GGD-citation's GGD: ``GCN(n_in, n_h, 'prelu')`` and
    ``nn.Linear(n_h, n_h)``."""
    import torch
    from torch import nn

    class OfficialGGD(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(in_channels, hidden, bias=False)
            nn.init.xavier_uniform_(self.fc.weight)  # GCN.weights_init
            self.bias = nn.Parameter(torch.zeros(hidden))
            self.act = nn.PReLU()  # one slope, 0.25
            self.lin = nn.Linear(hidden, hidden)

        def gcn(self, x_csr, adj, perm=None):
            h = torch.sparse.mm(x_csr, self.fc.weight.t())
            if perm is not None:  # (P X) W^T = P (X W^T), row for row
                h = h[perm]
            return self.act(torch.sparse.mm(adj, h) + self.bias)

        def logits(self, x_csr, perm, adj):
            return torch.cat([self.lin(self.gcn(x_csr, adj)).sum(1),
                              self.lin(self.gcn(x_csr, adj, perm)).sum(1)])

    return OfficialGGD()


def train_official(x, adj, seed: int):
    """execute.py's loop; returns the embeddings H + Â^5 H, the epochs
    run, the lowest loss and the seconds."""
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    n, f = x.shape
    x_csr = x.to_sparse_csr()
    model = official_model(f, OFFICIAL['hidden'])
    opt = torch.optim.Adam(model.parameters(), lr=OFFICIAL['lr'],
                           weight_decay=0.0)
    lbl = torch.cat([torch.ones(n), torch.zeros(n)])
    bce = torch.nn.BCEWithLogitsLoss()
    best, best_state = float('inf'), None
    start = time.time()
    for _ in range(OFFICIAL['epochs']):
        model.train()
        opt.zero_grad()
        # aug_feature_dropout: exactly int(F * 0.2) columns set to zero
        drop = random.sample(range(f), int(f * OFFICIAL['drop_percent']))
        keep = torch.ones(f)
        keep[drop] = 0
        aug = torch.sparse_csr_tensor(  # the dropped columns' entries zeroed
            x_csr.crow_indices(), x_csr.col_indices(),
            x_csr.values() * keep[x_csr.col_indices()], x_csr.shape)
        idx = torch.from_numpy(np.random.permutation(n))
        loss = bce(model.logits(aug, idx, adj), lbl)
        if loss.item() < best:  # saved before the step, as the code does
            best, best_state = loss.item(), copy.deepcopy(model.state_dict())
        loss.backward()
        opt.step()
    seconds = time.time() - start
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        h = model.gcn(x_csr, adj)
        z = h.clone()
        for _ in range(OFFICIAL['power']):
            z = torch.sparse.mm(adj, z)
    return h + z, OFFICIAL['epochs'], best, seconds


def official_probe(z, data, seed: int) -> float:
    """execute.py's evaluation: the mean test accuracy (%) of 50 logistic
    regressions (Xavier init, Adam at 0.01, no weight decay, 100 epochs on
    the training nodes)."""
    import torch
    torch.manual_seed(seed)
    z = z.detach()
    y = data.y
    train, test = data.train_mask, data.test_mask
    classes = int(y.max()) + 1
    accs = []
    for _ in range(OFFICIAL['probe_runs']):
        clf = torch.nn.Linear(z.size(1), classes)
        torch.nn.init.xavier_uniform_(clf.weight)
        torch.nn.init.zeros_(clf.bias)
        opt = torch.optim.Adam(clf.parameters(), lr=OFFICIAL['probe_lr'],
                               weight_decay=0.0)
        for _ in range(OFFICIAL['probe_epochs']):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(clf(z[train]), y[train]) \
                .backward()
            opt.step()
        with torch.no_grad():
            accs.append(float((clf(z[test]).argmax(1) == y[test])
                              .float().mean()))
    return 100 * statistics.fmean(accs)


def child(dataset: str, seed: int):
    one_thread()
    import torch
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from graphcl.atomic import atomic_write_json
    from graphcl.data import load_dataset
    from graphcl.eval import PROBE_PROTOCOL, linear_probe
    header = machine()
    data = load_dataset(dataset, root=data_root(), seed=seed)
    x = data.x.float()
    x = x / x.sum(1, keepdim=True)  # process.preprocess_features
    x = torch.nan_to_num(x, nan=0.0, posinf=0.0)  # r_inv[isinf] = 0
    n = x.size(0)
    ei, ew = gcn_norm(data.edge_index, None, n, add_self_loops=True)
    adj = torch.sparse_coo_tensor(ei.flip(0), ew, (n, n)).coalesce() \
        .to_sparse_csr()  # D^-1/2 (A + I) D^-1/2, out[i] = sum_j A_ij h_j

    def scores(z):
        probe = linear_probe(z, data.y, data.train_mask, data.val_mask,
                             data.test_mask)
        return dict(test_acc=100 * probe.test_acc,
                    val_acc=100 * probe.val_acc,
                    official_probe_test_acc=official_probe(z, data, seed))

    z_ref, epochs, best, seconds = train_official(x, adj, seed)
    reference = dict(scores(z_ref), epochs=epochs, lowest_loss=best,
                     seconds_per_epoch=seconds / epochs)
    z_ours, m = engine_embeddings('ggd', dataset, seed)
    ours = dict(scores(z_ours), engine_test_acc=m['test_acc'][0],
                epochs=m['epochs'][0],
                seconds_per_epoch=m['seconds_per_epoch'])
    result = dict(dataset=dataset, seed=seed, official=OFFICIAL,
                  reference=reference, graphcl=ours,
                  probe_protocol=PROBE_PROTOCOL, machine=header,
                  code=code_version())
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_json(seed_file(dataset, seed), result)
    print(f"{dataset} seed {seed}: official code {reference['test_acc']:.2f}"
          f" (its probe {reference['official_probe_test_acc']:.2f}), "
          f"graphcl {ours['test_acc']:.2f} (official probe "
          f"{ours['official_probe_test_acc']:.2f})", flush=True)


def table() -> str:
    lines = [
        "# GGD's official code, run here, beside graphcl's GGD", '',
        'Written by `python benchmarks/ggd_reference.py` (one process per '
        'seed, one thread). "Official code" is GGD-citation/execute.py '
        'written out (benchmarks/ggd_reference.py: its model, augmentation, '
        'loss, optimiser, lowest-loss state and H + Â^5 H; seeds set with '
        'the seed); "graphcl" is `run_experiment(\'ggd\', DATASET)` with '
        "the preset, as in methods.md. Each embedding is scored by "
        "graphcl's probe (weight decay chosen on the validation nodes) and "
        "by the official probe (the mean of 50 Adam-trained logistic "
        'regressions, 100 epochs, no weight decay, no model selection). '
        'Test accuracy in %, mean ± population std over seeds; public '
        "split; nothing is chosen on the test nodes. graphcl's probe "
        'rescales the embeddings to a root-mean-square entry of 1; rows '
        'marked "older probe" hold seeds scored before that rescaling '
        '(both implementations under that same probe).', '',
        '| dataset | implementation | seeds | graphcl probe | validation '
        '(graphcl probe) | official probe | published | target |',
        '|---|---|---|---|---|---|---|---|']
    notes = []
    for dataset in PUBLISHED:
        runs = [json.loads(p.read_text()) for p in
                sorted(OUT.glob(f'{dataset}_seed*.json'))]
        if not runs:
            continue
        runs.sort(key=lambda r: r['seed'])
        pub, target = PUBLISHED[dataset]
        for suffix, group in by_protocol(runs):
            for key, name in (('reference', 'official code, run here'),
                              ('graphcl', 'graphcl GGD (preset)')):
                rows = [r[key] for r in group]
                lines.append(
                    f"| {dataset}{suffix} | {name} | {len(rows)} | "
                    f"{mean_std_text([r['test_acc'] for r in rows])} | "
                    f"{statistics.fmean(r['val_acc'] for r in rows):.2f} | "
                    f"{mean_std_text([r['official_probe_test_acc'] for r in rows])}"  # noqa: E501
                    f" | {pub} | ≥ {target} |")
            notes.append(
                f"- {dataset}{suffix}, per seed (official code: graphcl "
                'probe / official probe; graphcl: graphcl probe / official '
                'probe): ' + ', '.join(
                    f"{r['seed']}: {r['reference']['test_acc']:.1f} / "
                    f"{r['reference']['official_probe_test_acc']:.1f}; "
                    f"{r['graphcl']['test_acc']:.1f} / "
                    f"{r['graphcl']['official_probe_test_acc']:.1f}"
                    for r in group) + f". s/epoch (median): official code "
                f"{statistics.median(r['reference']['seconds_per_epoch'] for r in group):.3f}, "  # noqa: E501
                f"graphcl {statistics.median(r['graphcl']['seconds_per_epoch'] for r in group):.3f}. "  # noqa: E501
                f"{group[-1]['machine']}; {group[-1]['code']}.")
    return '\n'.join(lines + [''] + notes) + '\n'


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--datasets', nargs='+', default=['CiteSeer'],
                   choices=sorted(PUBLISHED))
    p.add_argument('--seeds', type=int, default=10)
    p.add_argument('--table-only', action='store_true')
    p.add_argument('--one', nargs=2, metavar=('DATASET', 'SEED'),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        child(args.one[0], int(args.one[1]))
        return
    if not args.table_only:
        for dataset in args.datasets:
            for seed in range(args.seeds):
                path = seed_file(dataset, seed)
                if not path.exists() or \
                        not is_current(json.loads(path.read_text())):
                    run_subprocess([__file__, '--one', dataset, seed])
    write('ggd_reference.md', table())


if __name__ == '__main__':
    sys.exit(main())
