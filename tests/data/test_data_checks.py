import pytest
import torch
from torch_geometric.data import Data

from graphcl.data import check_node_data, random_node_split


def _valid():
    data = Data(x=torch.randn(4, 3), y=torch.tensor([0, 1, 0, 1]),
                edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]))
    return random_node_split(data, train=0.25, val=0.25)


def test_valid_data_passes():
    check_node_data(_valid(), require_labels=True, require_splits=True)
    check_node_data(Data(x=torch.randn(3, 2),
                         edge_index=torch.empty(2, 0, dtype=torch.long)))


def _error(data, **kwargs):
    with pytest.raises(ValueError) as info:
        check_node_data(data, **kwargs)
    return str(info.value)


def test_missing_x():
    data = _valid()
    del data.x
    data.num_nodes = 4
    assert 'data.x is missing' in _error(data)


def test_edge_index_dtype_shape_range():
    data = _valid()
    data.edge_index = data.edge_index.int()
    assert '.long()' in _error(data)
    data.edge_index = torch.tensor([[0, 1], [1, 2], [2, 3]])
    assert 'shape [2, num_edges]' in _error(data)
    assert '.t()' in _error(data)
    data.edge_index = torch.tensor([[0, 1], [1, 4]])
    msg = _error(data)
    assert '[0, 4)' in msg and '[0, 4]' in msg
    data.edge_index = torch.tensor([[-1], [0]])
    assert 'node indices must lie in' in _error(data)


def test_non_finite_features():
    data = _valid()
    data.x[1, 0] = float('nan')
    data.x[2, 1] = float('inf')
    msg = _error(data)
    assert '1 NaN' in msg and '1 infinite' in msg and 'nan_to_num' in msg


def test_num_nodes_mismatch():
    data = _valid()
    data.num_nodes = 5
    assert '4 rows' in _error(data) and 'num_nodes' in _error(data)


def test_integer_features():
    data = _valid()
    data.x = data.x.long()
    assert '.float()' in _error(data)


def test_labels_required():
    data = _valid()
    del data.y
    check_node_data(data)
    msg = _error(data, require_labels=True)
    assert 'data.y' in msg and 'without the probe' in msg
    data.y = torch.tensor([[0.], [1.], [0.], [1.]])
    assert '.view(-1).long()' in _error(data, require_labels=True)


def test_splits_required():
    data = Data(x=torch.randn(4, 3), edge_index=torch.empty(2, 0).long())
    check_node_data(data)
    msg = _error(data, require_splits=True)
    assert 'train_mask' in msg and 'graphcl.data.random_node_split' in msg
    data = _valid()
    data.train_mask = data.train_mask.long()
    assert 'bool' in _error(data)


def test_all_problems_reported_at_once():
    data = Data(edge_index=torch.tensor([[0.0], [1.0]]), num_nodes=2)
    msg = _error(data, require_labels=True, require_splits=True)
    assert msg.count('\n- ') == 4


def test_not_data():
    with pytest.raises(TypeError):
        check_node_data({'x': torch.randn(2, 2)})
