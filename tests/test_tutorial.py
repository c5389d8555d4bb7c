r"""The tutorial page runs as written: its Python blocks, in order, in a
fresh folder (the docs build runs them the same way, docs/conf.py)."""
import csv
import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / 'docs'
PNG = b'\x89PNG\r\n\x1a\n'


def load_runner():
    spec = importlib.util.spec_from_file_location(
        'tutorial_runner', DOCS / 'tutorial_runner.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(importlib.util.find_spec('matplotlib') is None,
                    reason='the tutorial plots: pip install graphcl[plot]')
def test_tutorial_own_graph(tmp_path):
    runner = load_runner()
    page = DOCS / 'tutorial_own_graph.md'
    assert len(runner.python_blocks(page)) >= 4
    out = tmp_path / 'tutorial'
    ns = runner.run_tutorial(page, out, verbose=False)

    run = out / 'runs' / 'karate'
    assert (run / 'run.json').is_file() and (run / 'encoder.pt').is_file()
    for name in ('losses.png', 'probe.png', 'embeddings.png'):
        blob = (run / name).read_bytes()
        assert blob[:8] == PNG and len(blob) > 1000
    # The exported embeddings: one row per node with its networkx id.
    G, z = ns['G'], ns['z']
    with open(out / 'karate_embeddings.csv') as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == 'node' and len(rows[0]) == 1 + z.size(1)
    assert [int(r[0]) for r in rows[1:]] == list(G.nodes)
    assert float(rows[1][1]) == pytest.approx(float(z[0, 0]), rel=1e-5)
    assert ns['metrics']['test_acc_mean'] is not None


def test_runner_refuses_a_folder_it_did_not_write(tmp_path):
    runner = load_runner()
    (tmp_path / 'mine.txt').write_text('keep me')
    with pytest.raises(ValueError, match='did not write'):
        runner.run_tutorial(DOCS / 'tutorial_own_graph.md', tmp_path)
    assert (tmp_path / 'mine.txt').read_text() == 'keep me'


def test_python_blocks(tmp_path):
    page = tmp_path / 'p.md'
    page.write_text('text\n\n```python\na = 1\n```\n\n```bash\nexit 1\n```'
                    '\n\n````python\nb = a + 1\n````\n')
    runner = load_runner()
    assert runner.python_blocks(page) == ['a = 1\n', 'b = a + 1\n']
    ns = runner.run_tutorial(page, tmp_path / 'o', verbose=False)
    assert ns['b'] == 2
