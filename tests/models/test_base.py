r"""The method base class: :meth:`GraphMethod.forget_inputs` drops every
cache a registered method keeps for its inputs, so that writes behind
PyTorch's back (through ``.numpy()``, which no version counter sees) are
read after the call, as the docs promise."""
import copy

import pytest
import torch
from torch_geometric.data import Data

from graphcl.models.registry import BUILTIN_METHODS, build_method, get_method
from graphcl.models.stamp import TensorStamp

NODE_METHODS = sorted(m for m in BUILTIN_METHODS
                      if get_method(m).level == 'node')


def sparse_graph(seed: int = 0) -> Data:
    # Mostly-zero features (as bag-of-words), so that the methods that keep
    # CSR rows of the features do; an undirected ring with chords.
    g = torch.Generator().manual_seed(seed)
    n, f = 40, 30
    x = torch.rand(n, f, generator=g) * (torch.rand(n, f, generator=g) < .08)
    x[:, 0] += 0.1  # no empty row
    src = torch.arange(n)
    dst = torch.cat([(src + 1) % n, (src * 7 + 3) % n])
    src = torch.cat([src, src])
    edge_index = torch.cat([torch.stack([src, dst]),
                            torch.stack([dst, src])], dim=1)
    return Data(x=x, edge_index=edge_index)


def step_and_embed(model, data, seed=0):
    torch.manual_seed(seed)
    loss = model.objective(data)
    return loss.detach(), model.embed(data)


def stamps(model):
    for value in vars(model).values():
        stamp = value if isinstance(value, TensorStamp) else \
            getattr(value, 'stamp', None)
        if isinstance(stamp, TensorStamp):
            yield stamp


@pytest.mark.parametrize('name', NODE_METHODS)
def test_forget_inputs_reads_writes_behind_pytorchs_back(name):
    data = sparse_graph()
    model = build_method(name, data.num_features, seed=0, hidden=8)
    step_and_embed(model, data)  # caches built for these tensors
    held = [s for s in stamps(model) if s.tensors]
    # Written through NumPy: the tensor's version counter does not move.
    version = data.x._version
    data.x.numpy()[:] = sparse_graph(seed=1).x.numpy()
    assert data.x._version == version
    model.forget_inputs()
    assert all(not s.tensors for s in held)
    fresh = copy.deepcopy(model)  # no cache at all
    loss, z = step_and_embed(model, data, seed=1)
    want_loss, want_z = step_and_embed(fresh, data, seed=1)
    assert torch.allclose(loss, want_loss, atol=1e-6), name
    assert torch.allclose(z, want_z, atol=1e-6), name


def test_clear_cache_is_forget_inputs():
    data = sparse_graph()
    model = build_method('grace', data.num_features, seed=0, hidden=8)
    step_and_embed(model, data)
    assert model._feature_rows.stamp.tensors
    model.clear_cache()
    assert not model._feature_rows.stamp.tensors


@pytest.mark.parametrize('name', NODE_METHODS)
def test_trained_method_deepcopies_and_pickles(name):
    # After a step every cache is full (CSR matrices among them, which
    # deepcopy cannot copy): copies and pickles start without caches and
    # embed as the original does.
    import io
    data = sparse_graph()
    model = build_method(name, data.num_features, seed=0, hidden=8)
    step_and_embed(model, data)
    z = model.embed(data)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    for other in (copy.deepcopy(model),
                  torch.load(buf, weights_only=False)):
        assert torch.allclose(other.embed(data), z, atol=1e-6)
