r"""Loading a benchmark script (benchmarks/NAME.py) as a module, with
benchmarks/ on the path for its ``_common`` import; fake per-seed results
as the shared runner saves them."""
import importlib.util
import json
import sys
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / 'benchmarks'


@contextmanager
def benchmark_module(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(
            f'bench_{name}', BENCH / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


GGD_CORA = dict(epochs=500, patience=0, lr=1e-3, weight_decay=0.0,
                keep='best', encoder='gcn', hidden=512, layers=1, act='prelu',
                proj_layers=1, feature_mask=0.2, edge_drop=0.0, power=5)


def fake_seed(path: Path, seed: int, test: float, protocol='current',
              **settings):
    from graphcl.eval import PROBE_PROTOCOL
    path.mkdir(parents=True, exist_ok=True)
    run = dict(dataset='Cora', seed=seed, test_acc=test, val_acc=test - 1,
               probe_weight_decay=0.0,
               epochs=100 + seed, seconds_per_epoch=0.5 + seed,
               pretrain_seconds=50.0, probe_seconds=1.0,
               wall_seconds=60.0 + seed, peak_rss_mb=500.0 + seed,
               settings={**GGD_CORA, **settings},
               machine=f'cpu, load average {1.5 + seed:.2f} at start',
               code='/work/main (git abc1234, clean)')
    if protocol == 'current':
        run['probe_protocol'] = PROBE_PROTOCOL
    elif protocol is not None:
        run['probe_protocol'] = protocol
    (path / f'seed{seed}.json').write_text(json.dumps(run))
