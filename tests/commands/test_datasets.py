r"""``graphcl datasets``: which datasets are present under the resolved root,
and where that root came from."""
import pytest

from graphcl.cli import main
from graphcl.data.registry import DATASETS


def rows(out):
    return {line.split()[1]: line.split()[0] for line in out.splitlines()
            if line.split() and line.split()[0] in ('yes', 'no', 'partial')}


@pytest.fixture
def root(tmp_path):
    for f in DATASETS['Cora'].raw_files:  # complete
        (tmp_path / 'Cora' / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / 'Cora' / f).touch()
    first = DATASETS['CiteSeer'].raw_files[0]  # one file of eight
    (tmp_path / 'CiteSeer' / first).parent.mkdir(parents=True)
    (tmp_path / 'CiteSeer' / first).touch()
    bace = tmp_path / 'ogb' / 'ogbg_molbace'
    (bace / 'raw').mkdir(parents=True)
    (bace / 'RELEASE_v1.txt').touch()
    return tmp_path


def test_marks_present_datasets_and_names_the_root(root, monkeypatch,
                                                   capsys):
    monkeypatch.delenv('GRAPHCL_DATA', raising=False)
    assert main(['datasets', '--root', str(root)]) == 0
    out = capsys.readouterr().out
    assert f'data root: {root} (from --root)' in out
    state = rows(out)
    assert set(state) == set(DATASETS)
    assert state['Cora'] == 'yes' and state['CiteSeer'] == 'partial'
    assert state['ogbg-molbace'] == 'yes' and state['PubMed'] == 'no'
    assert f'2 of {len(DATASETS)} present' in out
    assert 'incomplete: CiteSeer' in out


def test_root_from_the_environment_and_the_default(root, monkeypatch,
                                                   tmp_path, capsys):
    monkeypatch.setenv('GRAPHCL_DATA', str(root))
    assert main(['datasets']) == 0
    out = capsys.readouterr().out
    assert 'from the GRAPHCL_DATA environment variable' in out
    assert rows(out)['Cora'] == 'yes'
    monkeypatch.delenv('GRAPHCL_DATA')
    monkeypatch.chdir(tmp_path)
    assert main(['datasets']) == 0
    out = capsys.readouterr().out
    assert 'from the default ./datasets' in out
    assert 'yes' not in rows(out).values()
