import pytest
import torch

from graphcl.sampling import to_csc


def test_unsorted_edges():
    edge_index = torch.tensor([[0, 2, 1, 3, 0], [1, 0, 2, 1, 3]])
    csc = to_csc(edge_index, 4)
    assert csc.colptr.tolist() == [0, 1, 3, 4, 5]
    assert csc.perm is not None
    assert torch.equal(csc.row, edge_index[0, csc.perm])
    assert torch.equal(edge_index[1, csc.perm], torch.tensor([0, 1, 1, 2, 3]))
    assert csc.degree().tolist() == [1, 2, 1, 1]
    assert csc.degree(torch.tensor([1, 3])).tolist() == [2, 1]
    # Stable: edges into node 1 keep their input order (0 -> 1, 3 -> 1).
    assert csc.row[1:3].tolist() == [0, 3]


def test_sorted_edges_are_not_copied():
    edge_index = torch.tensor([[1, 2, 0, 0], [0, 0, 1, 2]])
    csc = to_csc(edge_index)
    assert csc.perm is None and csc.num_nodes == 3 and csc.num_edges == 4
    assert csc.row.data_ptr() == edge_index[0].data_ptr()


def test_isolated_and_empty():
    csc = to_csc(torch.empty(2, 0, dtype=torch.long), 3)
    assert csc.colptr.tolist() == [0, 0, 0, 0]


def test_errors():
    with pytest.raises(ValueError, match=r'\[2, num_edges\]'):
        to_csc(torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='only 2 nodes'):
        to_csc(torch.tensor([[0], [5]]), 2)
