"""CCA-SSG's official code, written out here with PyG parts, beside
graphcl's CCA-SSG on the same seeds, each scored by both probes: is a gap
to the paper the port's or the method's?

    python benchmarks/cca_ssg_reference.py --datasets Cora CiteSeer --seeds 10
    python benchmarks/cca_ssg_reference.py --table-only

For each (dataset, seed), in one process on one thread:

1. the reference: main.py of github.com/hengruizhang98/CCA-SSG with the
   README's command for the dataset (:data:`COMMANDS`), written out in
   :func:`train_reference`: DGL ``GraphConv(norm='both')`` layers (here
   PyG ``GCNConv(normalize=False)`` fed DGL's edge weights
   1/sqrt(out-degree(source) in-degree(destination)) after adding
   self-loops, :func:`dgl_both_norm`), ReLU between layers and none after
   the last, each epoch two views (every directed edge dropped with
   probability ``der``, feature columns zeroed with probability ``dfr``),
   the columns standardised, -tr(C) + lambda (|I - C1|^2 + |I - C2|^2),
   Adam (1e-3, no weight decay), the last state embedded on the whole
   graph. Seeds: torch seeded with the seed (the code seeds nothing);
2. graphcl's CCA-SSG with the dataset's preset
   (``run_experiment('cca_ssg', DATASET, seeds=[seed])``, as
   benchmarks/methods.py runs it);
3. both embeddings scored by graphcl's probe (weight decay chosen on the
   validation nodes) and by the reference code's (a linear layer trained
   by Adam with the README's ``--lr2``/``--wd2`` for 2,000 full-batch
   epochs; the test accuracy of its best validation epoch).

Saved as benchmarks/results/cca_ssg/reference/DATASET_seedK.json as each
seed ends (saved seeds are skipped); writes
benchmarks/results/cca_ssg_reference.md. Nothing is chosen on the test
split.
"""
import argparse
import json
import statistics
import time
from pathlib import Path

from _common import RESULTS, adam_linear_probe, by_protocol, code_version, \
    data_root, engine_embeddings, is_current, machine, mean_std_text, \
    one_thread, write

OUT = RESULTS / 'cca_ssg' / 'reference'
#: The README's commands (training: epochs, lambd, dfr, der, n_layers;
#: probe: lr2, wd2) and main.py's defaults (hid_dim = out_dim = 512,
#: lr1 1e-3, wd1 0).
COMMANDS = {
    'Cora': dict(epochs=50, lambd=1e-3, dfr=0.1, der=0.4, n_layers=2,
                 lr2=1e-2, wd2=1e-4),
    'CiteSeer': dict(epochs=20, lambd=5e-4, dfr=0.0, der=0.4, n_layers=1,
                     lr2=1e-2, wd2=1e-2),
}
HIDDEN, LR1, PROBE_EPOCHS = 512, 1e-3, 2000


def seed_file(dataset: str, seed: int) -> Path:
    return OUT / f'{dataset}_seed{seed}.json'


def dgl_both_norm(edge_index, n: int):
    """The edges (self-loops added) and DGL's ``norm='both'`` weights:
    1/sqrt(out-degree of the source x in-degree of the destination), the
    degrees counted with the self-loops and clamped at 1."""
    from torch_geometric.utils import add_self_loops, degree, \
        remove_self_loops
    edge_index, _ = remove_self_loops(edge_index)
    edge_index, _ = add_self_loops(edge_index, num_nodes=n)
    src, dst = edge_index
    out_deg = degree(src, n).clamp(min=1)
    in_deg = degree(dst, n).clamp(min=1)
    return edge_index, out_deg[src].pow(-0.5) * in_deg[dst].pow(-0.5)


def train_reference(x, edge_index, command: dict, seed: int):
    """main.py's model and loop; returns the embeddings of the whole graph
    and the seconds per epoch."""
    import torch
    from torch_geometric.nn import GCNConv
    torch.manual_seed(seed)
    n, layers = x.size(0), command['n_layers']
    convs = torch.nn.ModuleList(
        GCNConv(x.size(1) if i == 0 else HIDDEN, HIDDEN, normalize=False)
        for i in range(layers))

    def backbone(h, ei, w):
        for i, conv in enumerate(convs):
            h = conv(h, ei, w)
            if i < layers - 1:
                h = torch.relu(h)
        return h

    def view():
        keep = torch.bernoulli(torch.full((edge_index.size(1),),
                                          1 - command['der'])).bool()
        drop = torch.empty(x.size(1)).uniform_(0, 1) < command['dfr']
        xv = x.clone()
        xv[:, drop] = 0
        return (xv, ) + dgl_both_norm(edge_index[:, keep], n)

    opt = torch.optim.Adam(convs.parameters(), lr=LR1, weight_decay=0.0)
    eye = torch.eye(HIDDEN)
    start = time.perf_counter()
    for _ in range(command['epochs']):
        opt.zero_grad()
        h1, h2 = backbone(*view()), backbone(*view())
        z1 = (h1 - h1.mean(0)) / h1.std(0)
        z2 = (h2 - h2.mean(0)) / h2.std(0)
        c, c1, c2 = z1.T @ z2 / n, z1.T @ z1 / n, z2.T @ z2 / n
        loss = -torch.diagonal(c).sum() + command['lambd'] * (
            (eye - c1).pow(2).sum() + (eye - c2).pow(2).sum())
        loss.backward()
        opt.step()
    seconds = (time.perf_counter() - start) / command['epochs']
    with torch.no_grad():
        return backbone(x, *dgl_both_norm(edge_index, n)), seconds


def reference_probe(z, data, command: dict, seed: int) -> dict:
    """main.py's evaluation: Adam (lr2, wd2) on the training nodes for
    2,000 epochs; the test accuracy (%) at the first best validation
    epoch."""
    r = adam_linear_probe(z, data, command['lr2'], PROBE_EPOCHS,
                          weight_decay=command['wd2'], seed=seed,
                          best_val=True)
    return dict(val_acc=r['val'], test_acc=r['test'])


def run_seed(dataset: str, seed: int) -> dict:
    from graphcl.atomic import atomic_write_json
    from graphcl.data import load_dataset
    from graphcl.eval import PROBE_PROTOCOL, linear_probe
    header = machine()
    command = COMMANDS[dataset]
    data = load_dataset(dataset, root=data_root(), seed=seed)
    x = data.x.float()
    x = x / x.sum(1, keepdim=True).clamp_min(1e-12)  # DGL's row norm

    def scores(z):
        probe = linear_probe(z, data.y, data.train_mask, data.val_mask,
                             data.test_mask)
        return dict(test_acc=100 * probe.test_acc,
                    val_acc=100 * probe.val_acc,
                    reference_probe=reference_probe(z, data, command, seed))

    z_ref, seconds = train_reference(x, data.edge_index, command, seed)
    reference = dict(scores(z_ref), seconds_per_epoch=seconds)
    z_ours, m = engine_embeddings('cca_ssg', dataset, seed)
    ours = dict(scores(z_ours), engine_test_acc=m['test_acc'][0],
                seconds_per_epoch=m['seconds_per_epoch'])
    result = dict(dataset=dataset, seed=seed, command=command,
                  reference=reference, graphcl=ours,
                  probe_protocol=PROBE_PROTOCOL, machine=header,
                  code=code_version())
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_json(seed_file(dataset, seed), result)
    print(f"{dataset} seed {seed}: reference {reference['test_acc']:.2f} "
          f"(its probe {reference['reference_probe']['test_acc']:.2f}), "
          f"graphcl {ours['test_acc']:.2f} (reference probe "
          f"{ours['reference_probe']['test_acc']:.2f})", flush=True)
    return result


def table() -> str:
    lines = [
        "# CCA-SSG: the reference code run here, beside graphcl's", '',
        'Written by `python benchmarks/cca_ssg_reference.py` (see its '
        'docstring): the official main.py written out with PyG parts and '
        "DGL's `norm='both'` normalisation, and graphcl's CCA-SSG with the "
        "preset, on the same seeds; each embedding scored by graphcl's "
        'probe (weight decay chosen on the validation nodes) and by the '
        "reference code's (Adam with the README's lr2/wd2, 2,000 epochs, "
        'the test accuracy at the best validation epoch). Test accuracy in '
        '%, mean ± population std over seeds; validation in brackets. '
        "graphcl's probe rescales the embeddings to a root-mean-square "
        'entry of 1; rows marked "older probe" hold seeds scored before '
        'that rescaling (both implementations under that same probe).',
        '',
        "| dataset | implementation | seeds | graphcl's probe | the "
        "reference code's probe | s/epoch (median) |",
        '|---|---|---|---|---|---|']
    machines = []
    for dataset in COMMANDS:
        runs = [json.loads(p.read_text()) for p in sorted(
            OUT.glob(f'{dataset}_seed*.json'))]
        if not runs:
            continue
        machines.append(f"{dataset}: {runs[0]['machine']}; "
                        f"{runs[0]['code']}")
        for suffix, group in by_protocol(runs):
            for key, name in (
                    ('reference', "CCA-SSG's main.py, written out"),
                    ('graphcl', "graphcl's CCA-SSG (preset)")):
                ours = [r[key] for r in group]
                lines.append(
                    f"| {dataset}{suffix} | {name} | {len(group)} | "
                    f"{mean_std_text([o['test_acc'] for o in ours])} "
                    f"({statistics.fmean(o['val_acc'] for o in ours):.2f})"
                    f" | {mean_std_text([o['reference_probe']['test_acc'] for o in ours])}"  # noqa: E501
                    f" ({statistics.fmean(o['reference_probe']['val_acc'] for o in ours):.2f}) | "  # noqa: E501
                    f"{statistics.median(o['seconds_per_epoch'] for o in ours):.3f} |")  # noqa: E501
    lines += [''] + [f'- {m}' for m in machines]
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--datasets', nargs='+', default=list(COMMANDS),
                   choices=list(COMMANDS))
    p.add_argument('--seeds', type=int, default=10)
    p.add_argument('--table-only', action='store_true')
    args = p.parse_args()
    if not args.table_only:
        one_thread()
        for dataset in args.datasets:
            for seed in range(args.seeds):
                path = seed_file(dataset, seed)
                if not path.exists() or \
                        not is_current(json.loads(path.read_text())):
                    run_seed(dataset, seed)
    write('cca_ssg_reference.md', table())


if __name__ == '__main__':
    main()
