import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphcl.data import from_networkx, load_data_file, load_dataset


def _graph():
    G = nx.karate_club_graph()
    for n in G.nodes:
        G.nodes[n].clear()
        G.nodes[n]['x'] = [float(n), 1.0]
        G.nodes[n]['y'] = n % 2
    for u, v in G.edges:
        G.edges[u, v].clear()
    return G


def test_from_networkx():
    data = from_networkx(_graph())
    assert data.x.dtype == torch.float and data.x.shape == (34, 2)
    assert data.y.dtype == torch.long and data.y.shape == (34, )
    assert data.edge_index.size(1) == 2 * 78


def test_from_networkx_scalar_features_and_errors():
    G = nx.path_graph(3)
    for n in G.nodes:
        G.nodes[n]['x'] = 1
    assert from_networkx(G).x.shape == (3, 1)
    G.nodes[0]['y'] = 0.5
    G.nodes[1]['y'] = G.nodes[2]['y'] = 1.0
    with pytest.raises(ValueError, match='integer class labels'):
        from_networkx(G)
    with pytest.raises(TypeError):
        from_networkx({'a': 1})


def test_load_dataset_networkx_gets_random_split():
    data = load_dataset(_graph(), seed=2)
    assert data.name == "Zachary's Karate Club"  # From G.graph['name'].
    assert data.split == 'random 10/10/80 (seed=2)'
    assert int(data.train_mask.sum()) == 3
    G = _graph()
    G.graph.clear()
    assert load_dataset(G).name == 'networkx'


def test_load_dataset_data_is_validated_shallow_copy():
    data = Data(x=torch.randn(5, 2), edge_index=torch.tensor([[0], [1]]))
    out = load_dataset(data)
    assert out is not data and out.x is data.x
    assert out.name == 'custom' and out.split == 'none'
    out.foo = 1
    assert 'foo' not in data
    bad = Data(x=torch.randn(5, 2), edge_index=torch.tensor([[0], [5]]))
    with pytest.raises(ValueError, match='node indices'):
        load_dataset(bad)


def test_data_file_round_trip(tmp_path):
    data = Data(x=torch.randn(4, 3), edge_index=torch.tensor([[0, 1],
                                                             [1, 2]]),
                y=torch.tensor([0, 1, 1, 0]))
    path = tmp_path / 'graph.pt'
    torch.save(data, path)
    loaded = load_data_file(path)
    assert torch.equal(loaded.x, data.x)
    out = load_dataset(str(path))
    assert out.name == 'graph' and out.split.startswith('random')
    # Masks saved with the graph are kept.
    data.train_mask = torch.tensor([True, False, False, False])
    data.val_mask = torch.tensor([False, True, False, False])
    data.test_mask = torch.tensor([False, False, True, True])
    torch.save(data, path)
    assert load_dataset(path).split == 'given'


class _Payload:
    pass


def test_data_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_data_file(tmp_path / 'missing.pt')
    torch.save({'x': torch.randn(2, 2)}, tmp_path / 'dict.pt')
    with pytest.raises(ValueError, match='holds a dict, not a'):
        load_dataset(tmp_path / 'dict.pt')
    torch.save(_Payload(), tmp_path / 'code.pt')
    with pytest.raises(ValueError, match='weights_only=True'):
        load_data_file(tmp_path / 'code.pt')


def test_unsupported_input():
    with pytest.raises(TypeError, match='networkx graph'):
        load_dataset(42)


def test_malicious_data_file_is_refused(tmp_path, payload, one_line):
    path = payload.pt(tmp_path / 'graph.pt')
    for load in (load_data_file, load_dataset):
        with pytest.raises(ValueError) as info:
            load(path)
        msg = one_line(info.value)
        assert f"'{path}'" in msg and "'io.open'" in msg
        assert 'weights_only=False' in msg and 're-save it safely' in msg
        assert 'torch.save(Data(' in msg
    assert not payload.marker.exists()


@pytest.mark.parametrize('kind,problem,fix', [
    ('empty', 'is empty (0 bytes)', 'save your graph again'),
    ('truncated', 'is truncated or corrupt', 'save your graph again'),
    ('text', 'is a text file', 'build a torch_geometric.data.Data'),
])
def test_damaged_data_file_errors(tmp_path, one_line, kind, problem, fix):
    path = tmp_path / 'graph.pt'
    if kind == 'empty':
        path.write_bytes(b'')
    elif kind == 'truncated':
        torch.save(Data(x=torch.randn(4, 3)), path)
        path.write_bytes(path.read_bytes()[:-50])
    else:
        path.write_text('0 1\n1 2\n')
    with pytest.raises(ValueError) as info:
        load_dataset(path)
    msg = one_line(info.value)
    assert msg.startswith(f"Cannot load graph file '{path}': it {problem}")
    assert fix in msg
