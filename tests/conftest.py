r"""Fixtures shared by the whole test suite.

``tests/data/conftest.py`` adds, for the ``graphcl.data`` tests, a per-test
cache and a network guard.

Hypothesis (the fuzz tests, ``test_*_fuzz.py``) runs under a fixed profile:
``ci`` by default (derandomized, so every run draws the same examples; few
examples, no example database, no deadline), ``dev`` for a longer random
search with ``HYPOTHESIS_PROFILE=dev``. A failure prints the example and a
``@reproduce_failure`` blob.
"""
import os
import sys
from pathlib import Path
from typing import Optional

import pytest
import torch
from hypothesis import HealthCheck, settings
from torch_geometric.data import Data

REPO = Path(__file__).resolve().parents[1]

# The fuzz tests import their strategies as ``strategies`` (tests/strategies.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))

settings.register_profile(
    'ci', derandomize=True, max_examples=15, deadline=None, database=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    'dev', max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))
SHARED_FALLBACK = REPO.parent / 'shared' / 'datasets'


def find_shared_root() -> Optional[Path]:
    r"""The offline data folder: ``$GRAPHCL_DATA``, else
    ``<repo>/../shared/datasets``; :obj:`None` if neither holds Cora."""
    env = os.environ.get('GRAPHCL_DATA')
    for candidate in ([Path(env)] if env else []) + [SHARED_FALLBACK]:
        if (candidate / 'Cora' / 'raw').is_dir():
            return candidate.absolute()
    return None


@pytest.fixture(scope='session')
def _shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('shared-cache')


@pytest.fixture
def shared_root(monkeypatch, _shared_cache) -> Path:
    r"""The offline data folder, processed in a cache shared by the
    session's tests (never in place, never in ``~/.cache``); skips the test
    when the folder is absent."""
    root = find_shared_root()
    if root is None:
        pytest.skip('shared datasets not found: set GRAPHCL_DATA or provide '
                    f'{SHARED_FALLBACK}')
    monkeypatch.setenv('GRAPHCL_CACHE', str(_shared_cache))
    return root


def make_graph(num_nodes: int = 40, num_features: int = 6, num_classes: int = 2,
               seed: int = 0) -> Data:
    r"""A small labelled graph without split masks: a ring with chords,
    non-negative features whose mean depends on the class."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(num_nodes) % num_classes
    x = torch.rand(num_nodes, num_features, generator=gen)
    x[:, 0] += 2.0 * y.float()
    src = torch.arange(num_nodes)
    dst = torch.cat([(src + 1) % num_nodes, (src + num_classes) % num_nodes])
    src = torch.cat([src, src])
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])],
                           dim=1)
    return Data(x=x, edge_index=edge_index, y=y)


@pytest.fixture
def small_graph() -> Data:
    r"""See :func:`make_graph`."""
    return make_graph()


@pytest.fixture
def graph_factory():
    r""":func:`make_graph` itself, for tests that need several graphs."""
    return make_graph


def _bad(**changes) -> Data:
    data = make_graph()
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def bad_graphs():
    r"""Invalid variants of :func:`make_graph`: ``{case: (data, needle)}``,
    each of which must be refused with a :class:`ValueError` before any
    training; ``needle`` is a piece of the expected message."""
    good = make_graph()
    ei = good.edge_index
    nan_x = good.x.clone()
    nan_x[3, 1] = float('nan')
    inf_x = good.x.clone()
    inf_x[5, 0] = float('inf')
    return {
        'edge_index float': (_bad(edge_index=ei.float()), 'int64'),
        'edge_index int32': (_bad(edge_index=ei.int()), 'int64'),
        'edge_index [E, 2]': (_bad(edge_index=ei.t().contiguous()),
                              '[2, num_edges]'),
        'edge_index 3 rows': (_bad(edge_index=torch.zeros(3, 4,
                                                          dtype=torch.long)),
                              '[2, num_edges]'),
        'edge_index too large': (_bad(edge_index=torch.tensor([[0, 1],
                                                               [1, 40]])),
                                 '[0, 40)'),
        'edge_index negative': (_bad(edge_index=torch.tensor([[0, -1],
                                                              [1, 2]])),
                                '[0, 40)'),
        'x NaN': (_bad(x=nan_x), 'NaN'),
        'x inf': (_bad(x=inf_x), 'infinite'),
        'x rows != num_nodes': (_bad(num_nodes=45), '45'),
    }


def pytest_generate_tests(metafunc):
    r"""A test taking ``bad_case`` runs once per :func:`bad_graphs` case and
    gets ``(case_name, data, needle)``."""
    if 'bad_case' in metafunc.fixturenames:
        cases = bad_graphs()
        metafunc.parametrize('bad_case',
                             [(k, d, n) for k, (d, n) in cases.items()],
                             ids=list(cases))


@pytest.fixture(autouse=True)
def one_torch_thread():
    r"""Every test runs on one intra-op thread: the tensors are small, one
    thread was several times faster on these 2 cores, and it avoids OpenMP
    spin-waits that slow tests badly on shared, oversubscribed CPUs. The
    setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def ieee_denormals():
    r"""Every test starts with the CPU's IEEE handling of subnormal floats,
    and a test that flushes them (``graphcl train`` does, through
    :func:`graphcl.perf.flush_denormals`) leaves it as it found it."""
    from graphcl.perf import denormals_flushed, flush_denormals
    before = denormals_flushed()
    flush_denormals(False)
    yield
    flush_denormals(before)
