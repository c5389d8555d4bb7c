r"""Every registered node-level method on a device: a short run through the
engine, and, for methods with a fast path, the fast path against the plain
one (loss and every gradient). The CUDA cases are skipped where CUDA is
missing; run them on a machine with a GPU with ``pytest tests/test_cuda.py``
(the CPU cases check the same code here)."""
import pytest
import torch

from graphcl.experiment import run_experiment
from graphcl.models import build_method, get_method, list_methods
from graphcl.models.base import encoder_inputs

NODE_METHODS = [m for m in list_methods() if get_method(m).level == 'node']
DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs CUDA'))]
#: Small widths, so that the CPU cases stay quick.
SMALL = dict(hidden=16)


def small_options(method: str) -> dict:
    defaults = get_method(method).defaults
    return {k: v for k, v in SMALL.items() if k in defaults}


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('method', NODE_METHODS)
def test_short_run(method, device, small_graph):
    m = run_experiment(method, small_graph, seeds=[0], epochs=3,
                       device=device, progress=False, verbose=False,
                       **small_options(method))
    assert m['config']['device'].startswith(device)
    assert 0 <= m['test_acc'][0] <= 100


def _switch(model) -> str:
    # The flag of the fast path: ``fast`` on DGI (PyG's class has no such
    # option; graphcl's keeps its name short), ``fast_path`` elsewhere.
    for name in ('fast_path', 'fast'):
        if isinstance(getattr(model, name, None), bool):
            return name
    return ''


def _takes_fast_path(model, data) -> bool:
    from graphcl.models.dgi_fast import fast_path_supported
    inputs = encoder_inputs(data)
    if _switch(model) == 'fast':
        return fast_path_supported(model, inputs)
    return model.fast_path_refusal(inputs) is None


def _step(method: str, data, device: str, fast: bool):
    torch.manual_seed(0)
    model = build_method(method, data.num_features, seed=0,
                         **small_options(method)).to(device)
    setattr(model, _switch(model), fast)
    model.train()
    torch.manual_seed(1)  # anything drawn from the global generators
    loss = model.objective(data)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in model.named_parameters()
                           if p.grad is not None}, model


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('method', NODE_METHODS)
def test_fast_path_equals_plain_path(method, device, small_graph):
    probe = build_method(method, small_graph.num_features, seed=0,
                         **small_options(method))
    if not _switch(probe):
        pytest.skip(f'{method} has no fast path')
    data = small_graph.to(device)
    fast_loss, fast_grads, model = _step(method, data, device, True)
    model.train()
    assert _takes_fast_path(model, data)  # really taken on this device
    plain_loss, plain_grads, _ = _step(method, data, device, False)
    assert torch.allclose(fast_loss, plain_loss, atol=1e-5, rtol=1e-4)
    assert fast_grads.keys() == plain_grads.keys()
    # Float rounding is relative to the model's gradients, not to each
    # tensor's: a gradient that is zero in exact arithmetic (CCA-SSG's last
    # bias, whose loss standardises every column) is rounding noise at the
    # scale of the others on both paths.
    scale = max(1.0, max(float(g.abs().max()) for g in plain_grads.values()))
    for name, grad in fast_grads.items():
        assert torch.allclose(grad, plain_grads[name], atol=1e-5 * scale,
                              rtol=1e-4), name
