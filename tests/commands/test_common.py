r"""The helpers every sub-command shares: nearest names and file types."""
import pytest

from graphcl.commands.common import (check_dataset_name, check_suffix,
                                     did_you_mean, nearest)


def test_nearest():
    assert nearest('dgx', ['dgi', 'grace']) == 'dgi'
    assert nearest('zzzz', ['dgi', 'grace']) is None
    assert did_you_mean('cora', ['Cora', 'CiteSeer']) == \
        " (did you mean 'Cora'?)"
    assert did_you_mean('zzzz', ['Cora']) == ''


def test_check_suffix():
    assert check_suffix('a/z.NPY', ('.pt', '.npy'), '--out') == '.npy'
    assert check_suffix('z', ('.pt', ), '--out', allow_none=True) == ''
    with pytest.raises(ValueError, match=r"did you mean '\.pt'\?"):
        check_suffix('z.pth', ('.pt', '.npy'), '--out')
    with pytest.raises(ValueError, match='has no file suffix'):
        check_suffix('z', ('.pt', ), '--out')


def test_check_dataset_name(tmp_path):
    check_dataset_name('cora')  # case and aliases as the loader has them
    check_dataset_name('Photo')
    check_dataset_name(str(tmp_path / 'missing.pt'))  # the loader says so
    existing = tmp_path / 'graph.bin'
    existing.touch()
    check_dataset_name(str(existing))  # the loader reads any file
    with pytest.raises(ValueError, match=r"did you mean 'CiteSeer'\?"):
        check_dataset_name('citeseerr')
    with pytest.raises(ValueError, match=r"unknown file type '\.csv'"):
        check_dataset_name('graph.csv')
    with pytest.raises(ValueError, match='does not exist'):
        check_dataset_name(str(tmp_path / 'no' / 'graph'))
