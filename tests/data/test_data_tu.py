import pytest
import torch

from graphcl.data import load_graph_dataset


@pytest.mark.parametrize('name,canonical,num_graphs,num_feats', [
    ('mutag', 'MUTAG', 188, 7),
    ('PROTEINS', 'PROTEINS', 1113, 3),
    ('nci1', 'NCI1', 4110, 37),
])
def test_tu(shared_root, name, canonical, num_graphs, num_feats):
    dataset, split_idx = load_graph_dataset(name, root=shared_root)
    assert split_idx is None
    assert dataset.name == canonical and len(dataset) == num_graphs
    assert dataset.num_features == num_feats
    assert dataset.num_classes == 2
    assert not (shared_root / 'TU' / canonical / 'processed').exists()


def test_imdb_binary_degree_features(shared_root):
    dataset, _ = load_graph_dataset('IMDB-BINARY', root=shared_root)
    assert len(dataset) == 1000
    num_feats = dataset.num_features
    assert num_feats > 1
    max_deg = 0
    for data in dataset[:50]:
        assert data.x.shape == (data.num_nodes, num_feats)
        assert torch.equal(data.x.sum(dim=1), torch.ones(data.num_nodes))
        deg = torch.bincount(data.edge_index[0], minlength=data.num_nodes)
        assert torch.equal(data.x.argmax(dim=1), deg)
        max_deg = max(max_deg, int(deg.max()))
    assert max_deg < num_feats


def test_node_level_name_rejected():
    with pytest.raises(ValueError, match='load_dataset'):
        load_graph_dataset('cora')
