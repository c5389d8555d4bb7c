r"""Loading a benchmark script (benchmarks/NAME.py) as a module, with
benchmarks/ on the path for its ``_common`` import."""
import importlib.util
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
