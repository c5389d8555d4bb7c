import pytest
import torch
from torch_geometric.data import Data

from graphcl.data import DataFileError, pyg_safe_globals, safe_torch_load


def test_data_round_trip_with_weights_only(tmp_path):
    data = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0], [1]]))
    torch.save(data, tmp_path / 'g.pt')
    with pytest.raises(Exception, match='weights_only'):
        torch.load(tmp_path / 'g.pt', weights_only=True)
    with pyg_safe_globals():
        out = torch.load(tmp_path / 'g.pt', weights_only=True)
    assert torch.equal(out.x, data.x)


def test_global_allow_list_is_restored():
    before = set(torch.serialization.get_safe_globals())
    with pyg_safe_globals(numpy_scalars=True):
        assert Data in set(torch.serialization.get_safe_globals())
    # PyG's own registrations (e.g. Data) must survive the context.
    assert set(torch.serialization.get_safe_globals()) == before


def _good(tmp_path, legacy=False):
    data = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0], [1]]))
    path = tmp_path / ('legacy.pt' if legacy else 'good.pt')
    torch.save(data, path, _use_new_zipfile_serialization=not legacy)
    return path


def test_safe_torch_load_reads_pyg_data(tmp_path):
    for legacy in (False, True):
        out = safe_torch_load(_good(tmp_path, legacy))
        assert isinstance(out, Data) and out.x.shape == (3, 2)


@pytest.mark.parametrize('kind,content,problem', [
    ('empty', b'', 'is empty (0 bytes)'),
    ('text', b'node,label\n0,1\n', 'is a text file'),
    ('corrupt', b'\x00\x01\x02garbage', 'is not a file written by torch.save'),
    ('truncated', 'zip', 'is truncated or corrupt'),
    ('truncated', 'legacy', 'is truncated or corrupt'),
])
def test_safe_torch_load_errors(tmp_path, one_line, kind, content, problem):
    path = tmp_path / 'bad.pt'
    if isinstance(content, str):
        good = _good(tmp_path, legacy=content == 'legacy').read_bytes()
        content = good[:len(good) - 20]
    path.write_bytes(content)
    with pytest.raises(DataFileError) as info:
        safe_torch_load(path)
    msg = one_line(info.value)
    assert msg.startswith(f"'{path}' {problem}")
    assert info.value.kind == kind and info.value.path == path
    assert isinstance(info.value, ValueError)


def test_safe_torch_load_never_runs_code(tmp_path, payload, one_line,
                                         monkeypatch):
    path = payload.pt(tmp_path / 'evil.pt')
    calls = []
    original = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', spy)
    with pytest.raises(DataFileError) as info:
        safe_torch_load(path)
    msg = one_line(info.value)
    assert info.value.kind == 'unsafe' and "'io.open'" in msg
    assert calls == [True]  # One safe attempt, no unsafe retry.
    assert not payload.marker.exists()
    # Proof that the payload is live: an unsafe load runs it.
    original(path, weights_only=False).close()
    assert payload.marker.exists()


def test_safe_torch_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        safe_torch_load(tmp_path / 'missing.pt')
