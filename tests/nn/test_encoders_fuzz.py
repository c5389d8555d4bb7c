r"""Property tests of the GNN encoders (:mod:`graphcl.nn.encoders`) on
random small graphs (empty ones, isolated nodes, self-loops, duplicate
edges, int32 indices, edge weights, extreme features): each either raises
a :class:`ValueError` or returns finite embeddings ``[N, D]``, leaving its
inputs untouched."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphcl.nn import get_encoder
from graphcl.models.base import encoder_inputs
from strategies import graphs

F, D = 4, 8
OPTIONS = {'gcn': {}, 'sage': {}, 'gat': {'heads': 2}, 'gin': {}}


@pytest.mark.parametrize('name', sorted(OPTIONS))
@given(data=graphs(num_features=F), layers=st.integers(1, 2),
       training=st.booleans(), seed=st.integers(0, 2**16))
def test_encoder_finite_or_value_error(name, data, layers, training, seed):
    torch.manual_seed(seed)
    encoder = get_encoder(name, F, hidden_channels=D, num_layers=layers,
                          **OPTIONS[name]).train(training)
    inputs = encoder_inputs(data)
    before = [t.clone() for t in inputs]
    try:
        z = encoder(*inputs)
    except ValueError as e:  # e.g. GIN's batch norm on one node, training
        assert str(e)
        return
    finally:
        for t, copy in zip(inputs, before):
            assert torch.equal(t, copy), 'the encoder changed its input'
    assert z.shape == (data.num_nodes, D) and z.dtype == torch.float32
    assert bool(torch.isfinite(z).all()), 'non-finite embeddings'
