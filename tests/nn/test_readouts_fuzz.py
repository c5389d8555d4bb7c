r"""Property tests of the readouts (:mod:`graphcl.nn.readouts`) on random
node embeddings (no nodes, one node, extreme values) with and without a
batch vector (int64 or int32, unsorted, graphs without nodes): each either
raises a :class:`ValueError` or returns a finite summary of shape ``[D]``
(``[B, D]`` with a batch) equal to the pooling computed in float64."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphcl.nn import get_readout
from strategies import INDEX_DTYPES, MAX_NODES, matrices

D = 5
NAMES = ('sigmoid_mean', 'mean', 'sum', 'max', 'attention')


def reference(name, z, readout):
    z = z.double()
    if name == 'attention':
        gate = readout.aggr.gate_nn.double()(z).softmax(dim=0)
        readout.aggr.gate_nn.float()
        return (gate * z).sum(0)
    if z.size(0) == 0:
        return torch.zeros(z.size(1), dtype=torch.float64)
    pooled = {'sigmoid_mean': z.mean(0).sigmoid(), 'mean': z.mean(0),
              'sum': z.sum(0), 'max': z.max(0).values}
    return pooled[name]


def assert_close(name, out, ref, z):
    # Float32 sums of values up to |z| lose up to ~N eps |z| to rounding.
    scale = float(z.abs().max()) if z.numel() else 0.0
    atol = 1e-5 + 4 * max(z.size(0), 1) * 1.2e-7 * scale
    assert torch.allclose(out.double(), ref, rtol=1e-4, atol=atol), name


@st.composite
def embeddings(draw, batched: bool):
    n = draw(st.integers(0, MAX_NODES))
    z = draw(matrices(n, D))
    if not batched:
        return z, None, None
    num_graphs = draw(st.integers(1, 4))
    batch = torch.tensor(draw(st.lists(st.integers(0, num_graphs - 1),
                                       min_size=n, max_size=n)),
                         dtype=draw(st.sampled_from(INDEX_DTYPES)))
    size = draw(st.sampled_from((None, num_graphs)))
    return z, batch.view(-1), size


@pytest.mark.parametrize('name', NAMES)
@given(inputs=embeddings(batched=False), seed=st.integers(0, 2**16))
def test_single_graph(name, inputs, seed):
    z, _, _ = inputs
    torch.manual_seed(seed)
    readout = get_readout(name, D)
    try:
        s = readout(z)
    except ValueError as e:
        assert z.size(0) == 0 and 'no nodes' in str(e)
        return
    assert s.shape == (D, ) and bool(torch.isfinite(s).all())
    assert_close(name, s, reference(name, z, readout), z)


@pytest.mark.parametrize('name', NAMES)
@given(inputs=embeddings(batched=True), seed=st.integers(0, 2**16))
def test_batch(name, inputs, seed):
    z, batch, size = inputs
    torch.manual_seed(seed)
    readout = get_readout(name, D)
    s = readout(z, batch=batch, size=size)
    num_graphs = size if size is not None else (
        int(batch.max()) + 1 if batch.numel() else 0)
    assert s.shape == (num_graphs, D)
    assert bool(torch.isfinite(s).all())
    for g in range(num_graphs):
        rows = z[batch.long() == g]
        if rows.size(0):
            assert_close(name, s[g], reference(name, rows, readout), rows)
        elif name != 'sigmoid_mean':  # a graph without nodes: zeros
            assert not bool(s[g].ne(0).any())
