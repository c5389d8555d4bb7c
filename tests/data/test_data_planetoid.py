import pickle
import pickletools
import warnings

import numpy as np
import pytest
import torch

from graphcl.data import DataFileError, load_dataset
from graphcl.data.planetoid import (
    PLANETOID_GLOBALS,
    read_planetoid_data,
    read_planetoid_file,
)

# The globals the files of the original Planetoid release refer to (checked
# with pickletools on Cora and CiteSeer).
ORIGINAL_GLOBALS = {
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('scipy.sparse.csr', 'csr_matrix'),
    ('__builtin__', 'list'),
    ('collections', 'defaultdict'),
}


def _globals(path):
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(path.read_bytes()):
        if op.name == 'GLOBAL':
            found.add(tuple(arg.split(' ', 1)))
        elif op.name == 'STACK_GLOBAL':
            found.add(tuple(strings[-2:]))
        elif isinstance(arg, str):
            strings.append(arg)
    return found


@pytest.mark.parametrize('name', ['Cora', 'CiteSeer'])
def test_real_files_need_exactly_the_original_globals(shared_root, name):
    found = set()
    for path in (shared_root / name / 'raw').glob('ind.*'):
        if not path.name.endswith('test.index'):
            found |= _globals(path)
    assert found == ORIGINAL_GLOBALS
    assert ORIGINAL_GLOBALS <= set(PLANETOID_GLOBALS)


@pytest.mark.parametrize('name', ['Cora', 'CiteSeer'])
def test_same_data_as_pyg_reader(shared_root, name):
    from torch_geometric.io import read_planetoid_data as pyg_reader
    raw = shared_root / name / 'raw'
    with warnings.catch_warnings():
        # No NumPy/SciPy deprecation warnings from the unpickler either.
        warnings.simplefilter('error', DeprecationWarning)
        ours = read_planetoid_data(raw, name)
    theirs = pyg_reader(str(raw), name)
    assert set(ours.keys()) == set(theirs.keys())
    for key in theirs.keys():
        assert torch.equal(ours[key], theirs[key]), key


def test_plain_pickle_is_never_used(pubmed, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError('plain pickle.load was used')

    monkeypatch.setattr(pickle, 'load', refuse)
    monkeypatch.setattr(pickle, 'loads', refuse)
    data = load_dataset('pubmed', root=pubmed.root)
    assert torch.equal(data.y, pubmed.labels)


def test_malicious_raw_file_is_refused(pubmed, payload, one_line):
    path = payload.pickle(pubmed.root / 'PubMed' / 'raw' / 'ind.pubmed.x')
    with pytest.raises(DataFileError) as info:
        load_dataset('pubmed', root=pubmed.root)
    msg = one_line(info.value)
    assert str(path) in msg and "'io.open'" in msg
    assert 'Planetoid release' in msg
    assert info.value.kind == 'unsafe' and info.value.path == path
    assert not payload.marker.exists()
    assert not (pubmed.root / 'PubMed' / 'processed' / 'data.pt').exists()
    # The same file through plain pickle would have run the payload.
    with open(path, 'rb') as f:
        pickle.load(f, encoding='latin1').close()
    assert payload.marker.exists()


def test_malicious_graph_in_real_cora(copy_dataset, payload, one_line):
    root = copy_dataset('Cora')
    payload.pickle(root / 'Cora' / 'raw' / 'ind.cora.graph')
    with pytest.raises(DataFileError, match='ind.cora.graph'):
        load_dataset('cora', root=root)
    assert not payload.marker.exists()


def test_allowed_globals_cannot_be_misused(tmp_path):
    # ``_codecs.encode`` is allowed only as encode(str, 'latin1').
    raw = tmp_path / 'raw'
    raw.mkdir()
    data = (b'\x80\x02c_codecs\nencode\nq\x00X\x03\x00\x00\x00abcq\x01X'
            b'\x05\x00\x00\x00rot13q\x02\x86q\x03Rq\x04.')
    (raw / 'ind.toy.x').write_bytes(data)
    with pytest.raises(DataFileError, match='corrupt.*encode'):
        read_planetoid_file(raw, 'toy', 'x')


@pytest.mark.parametrize('file,content,problem', [
    ('ind.pubmed.allx', 'truncate', 'truncated or corrupt'),
    ('ind.pubmed.ty', b'', 'empty'),
    ('ind.pubmed.graph', b'not a pickle at all', 'truncated or corrupt'),
    ('ind.pubmed.tx', pickle.dumps('a string', protocol=2), 'holds str'),
    ('ind.pubmed.graph', pickle.dumps([1, 2], protocol=2), 'holds a list'),
    ('ind.pubmed.test.index', b'1\nfoo\n', 'node indices'),
])
def test_corrupt_raw_file_is_named(pubmed, one_line, file, content, problem):
    path = pubmed.root / 'PubMed' / 'raw' / file
    if content == 'truncate':
        content = path.read_bytes()[:len(path.read_bytes()) // 2]
    path.write_bytes(content)
    with pytest.raises(DataFileError) as info:
        load_dataset('PubMed', root=pubmed.root)
    msg = one_line(info.value)
    assert msg.startswith(f"Raw file '{path}'") and problem in msg
    assert 'replace it' in msg


def test_object_arrays_are_refused(tmp_path):
    raw = tmp_path / 'raw'
    raw.mkdir()
    with open(raw / 'ind.toy.y', 'wb') as f:
        pickle.dump(np.array([[1, 'a']], dtype=object), f, protocol=2)
    with pytest.raises(DataFileError, match='dtype object'):
        read_planetoid_file(raw, 'toy', 'y')


def test_files_that_do_not_fit_together(pubmed, one_line):
    raw = pubmed.root / 'PubMed' / 'raw'
    # allx from another dataset: fewer rows than the labels.
    with open(raw / 'ind.pubmed.allx', 'rb') as f:
        allx = pickle.load(f)
    with open(raw / 'ind.pubmed.allx', 'wb') as f:
        pickle.dump(allx[:10], f, protocol=2)
    with pytest.raises(DataFileError) as info:
        read_planetoid_data(raw, 'PubMed')
    msg = one_line(info.value)
    assert str(raw) in msg and 'do not fit together' in msg
