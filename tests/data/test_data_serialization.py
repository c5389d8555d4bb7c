import pytest
import torch
from torch_geometric.data import Data

from graphcl.data import pyg_safe_globals


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
