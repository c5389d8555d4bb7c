r"""Property tests of every registered method (:func:`graphcl.models.
list_methods`), built small (width 8), on random small graphs (one node,
isolated nodes, self-loops, duplicate edges, int32 indices, edge weights,
extreme features, and separately graphs without nodes and NaN or infinite
features): :meth:`objective` either raises a :class:`ValueError` or
returns a finite scalar that backpropagates, and :meth:`embed` either
raises a :class:`ValueError` or returns finite embeddings ``[N, D]``."""
import pytest
import torch
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from graphcl.models import build_method, get_method, list_methods
from strategies import graphs

F, D = 3, 8
#: Known bugs: (method, test) -> where it must be fixed. The tests are
#: expected to fail (strictly) until then.
KNOWN = {}


#: Tests where known bugs fail: no shrinking (minutes of it per failing
#: method, for examples that are simple already).
no_shrink = settings(phases=(Phase.explicit, Phase.reuse, Phase.generate))


def methods(test: str):
    return pytest.mark.parametrize('name', [
        pytest.param(name, marks=pytest.mark.xfail(
            strict=True, reason=KNOWN[name, test]))
        if (name, test) in KNOWN else name for name in list_methods()
        # One graph's nodes: graph-level methods embed batches of graphs.
        if get_method(name).level == 'node'])


def build(name: str):
    r"""The method with every width option set to :data:`D`."""
    torch.manual_seed(0)
    widths = {key: D for key in ('hidden', 'proj_hidden', 'out_channels',
                                 'pred_hidden')
              if key in get_method(name).defaults}
    return build_method(name, F, seed=0, **widths)


def objective_finite_or_value_error(model, data):
    try:
        loss = model.objective(data)
    except ValueError as e:
        assert str(e)
        return None
    assert loss.shape == () and bool(torch.isfinite(loss)), float(loss)
    loss.backward()
    return loss


def embed_finite_or_value_error(model, data):
    try:
        z = model.embed(data)
    except ValueError as e:
        assert str(e)
        return None
    assert z.shape == (data.num_nodes, D) and z.dtype == torch.float32
    assert bool(torch.isfinite(z).all()), 'non-finite embeddings'
    return z


@methods('graphs')
@given(data=graphs(min_nodes=1, num_features=F))
def test_objective_and_embed(name, data):
    model = build(name)
    before = data.x.clone(), data.edge_index.clone()
    objective_finite_or_value_error(model, data)
    embed_finite_or_value_error(model, data)
    assert torch.equal(data.x, before[0]), 'the method changed data.x'
    assert torch.equal(data.edge_index, before[1])


@methods('empty')
@no_shrink
@given(data=graphs(max_nodes=0, num_features=F))
def test_graph_without_nodes(name, data):
    r"""No node: nothing to train on, so the objective must refuse (a NaN
    loss is silently wrong); embeddings may be ``[0, D]`` or refused."""
    model = build(name)
    with pytest.raises(ValueError):
        model.objective(data)
    embed_finite_or_value_error(model, data)


@methods('non_finite')
@no_shrink
@given(data=graphs(min_nodes=1, num_features=F, non_finite=True),
       where=st.tuples(st.integers(0, 29), st.integers(0, F - 1)),
       value=st.sampled_from((float('nan'), float('inf'), float('-inf'))))
def test_non_finite_features_are_refused(name, data, where, value):
    r"""Every path to the encoder validates its input: NaN or infinite
    features raise a ValueError in :meth:`objective` and :meth:`embed`."""
    data.x[where[0] % data.num_nodes, where[1]] = value
    model = build(name)
    with pytest.raises(ValueError):
        model.objective(data)
    with pytest.raises(ValueError):
        model.embed(data)


BAD_WEIGHTS = {
    'NaN': lambda w: w.index_fill(0, torch.tensor([0]), float('nan')),
    'inf': lambda w: w.index_fill(0, torch.tensor([0]), float('inf')),
    'negative': lambda w: w.index_fill(0, torch.tensor([0]), -1.0),
    'too short': lambda w: w[1:],
    '2-D': lambda w: w.view(-1, 1),
    'int': lambda w: w.long(),
}


@methods('edge_weight')
@given(data=graphs(min_nodes=1, num_features=F, index_dtypes=(torch.long, ),
                   edge_weight=True),
       bad=st.sampled_from(sorted(BAD_WEIGHTS)))
def test_bad_edge_weights_are_refused(name, data, bad):
    r"""Edge weights that are not one finite weight >= 0 per edge (NaN
    embeddings or a traceback before) raise a ValueError naming
    ``data.edge_weight``, in :meth:`objective` and :meth:`embed`; so does
    a good weight made NaN in place after a successful step."""
    if data.edge_index.size(1) == 0:
        data.edge_index = torch.zeros(2, 1, dtype=torch.long)
        data.edge_weight = torch.ones(1)
    model = build(name)
    good = data.edge_weight
    objective_finite_or_value_error(model, data)
    good[0] = float('nan')  # in place: the checked input changed
    with pytest.raises(ValueError, match='edge_weight'):
        model.objective(data)
    data.edge_weight = BAD_WEIGHTS[bad](good.nan_to_num(1.0))
    for step in (model.objective, model.embed):
        with pytest.raises(ValueError, match='edge_weight'):
            step(data)
