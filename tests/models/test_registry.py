import json

import pytest
import torch

from graphcl.cli import main
from graphcl.experiment import run_experiment
from graphcl.models import (METHODS, GraphMethod, MethodSpec, build_method,
                            get_method, list_methods, method_defaults,
                            method_settings, register_method)
from graphcl.models.registry import BUILTIN_METHODS, TRAIN_DEFAULTS, resolve

QUIET = dict(progress=False, verbose=False)


class TinyMethod(GraphMethod):
    r"""A linear encoder trained to make neighbours agree: the smallest
    method the engine can run."""
    def __init__(self, in_channels: int, hidden: int = 4, scale: float = 1.0,
                 seed=None):
        super().__init__()
        if scale <= 0:
            raise ValueError(f"'scale' must be > 0, got {scale}")
        self.encoder = torch.nn.Linear(in_channels, hidden)
        self.scale = scale
        self.steps = 0

    def objective(self, data):
        z = self.encoder(data.x)
        src, dst = data.edge_index
        return self.scale * (z[src] - z[dst]).pow(2).mean() + \
            (z.pow(2).mean() - 1).pow(2)

    def on_step(self):
        self.steps += 1

    def embed(self, data):
        with torch.no_grad():
            return self.encoder(data.x)


def build_tiny(in_channels, hidden, scale, flag, seed=None):
    return TinyMethod(in_channels, hidden, scale, seed)


@pytest.fixture
def tiny():
    spec = register_method(MethodSpec(
        'tiny', build_tiny, dict(hidden=4, scale=1.0, flag=False),
        help=dict(hidden='embedding width'), train=dict(epochs=3),
        presets={'Cora': dict(hidden=6, lr=0.5)}, source='this test',
        description='a tiny test method'))
    yield spec
    METHODS.pop('tiny', None)


def test_builtins_are_listed_without_import():
    assert 'dgi' in list_methods()
    assert set(BUILTIN_METHODS) <= set(list_methods())
    for name in BUILTIN_METHODS:
        spec = get_method(name)
        assert spec.name == name and callable(resolve(spec.build))
        model = build_method(name, 8, seed=0)
        assert isinstance(model, GraphMethod)
        assert isinstance(model.encoder, torch.nn.Module)


def test_unknown_method_and_options():
    with pytest.raises(ValueError, match="Unknown method 'nope'"):
        get_method('nope')
    with pytest.raises(ValueError, match=r"Unknown option\(s\) \['hiden'\]"):
        build_method('dgi', 8, hiden=3)
    with pytest.raises(TypeError, match='string'):
        get_method(3)


def test_register_refuses_taken_name(tiny):
    with pytest.raises(ValueError, match="already registered"):
        register_method(MethodSpec('tiny', build_tiny, dict(hidden=2)))
    with pytest.raises(ValueError, match="already registered"):
        register_method(MethodSpec('dgi', build_tiny, dict(hidden=2)))
    with pytest.raises(TypeError, match='MethodSpec'):
        register_method(build_tiny)
    assert get_method('TINY') is tiny


def test_spec_checks_its_settings():
    with pytest.raises(ValueError, match='training setting'):
        MethodSpec('x', build_tiny, dict(hidden=2), train=dict(epoch=3))
    with pytest.raises(ValueError, match='are training settings'):
        MethodSpec('x', build_tiny, dict(lr=2))
    with pytest.raises(ValueError, match="Preset 'Cora'.*unknown"):
        MethodSpec('x', build_tiny, dict(hidden=2),
                   presets={'Cora': dict(hiden=3)})
    with pytest.raises(ValueError, match="level 'graphs'.*'node', 'graph'"):
        MethodSpec('x', build_tiny, dict(hidden=2), level='graphs')
    assert MethodSpec('x', build_tiny, dict(hidden=2)).level == 'node'


def test_settings_order(tiny):
    # method defaults < training defaults override < preset < given
    s = method_settings('tiny', 'Cora')
    assert s == {**TRAIN_DEFAULTS, 'epochs': 3, 'lr': 0.5, 'hidden': 6,
                 'scale': 1.0, 'flag': False}
    assert method_settings('tiny', 'cora', hidden=9)['hidden'] == 9
    assert method_settings('tiny', 'CiteSeer')['hidden'] == 4
    assert method_settings('tiny', 'Cora', lr=None)['lr'] == 0.5
    with pytest.raises(ValueError, match=r"\['width'\]"):
        method_settings('tiny', 'Cora', width=3)
    assert method_defaults('tiny') == dict(hidden=4, scale=1.0, flag=False)
    assert method_settings('dgi', None, minibatch=True)['encoder'] == 'sage'
    assert method_settings('dgi', None)['encoder'] == 'gcn'


def test_engine_runs_a_registered_method(tiny, small_graph, tmp_path):
    m = run_experiment('tiny', small_graph, seeds=2, epochs=4, patience=0,
                       out=str(tmp_path), **QUIET)
    assert m['method'] == 'tiny' and m['epochs'] == [4, 4]
    assert m['config']['hidden'] == 4 and m['config']['std']
    z = torch.load(tmp_path / 'embeddings.pt', weights_only=True)
    assert z.shape == (small_graph.num_nodes, 4)
    with open(tmp_path / 'metrics.json') as f:
        assert json.load(f)['config']['epochs'] == 4


def test_engine_calls_on_step(tiny, small_graph, monkeypatch):
    built = []
    spec = get_method('tiny')
    monkeypatch.setattr(spec, 'build', lambda *a, **k: built.append(
        build_tiny(*a, **k)) or built[-1])
    run_experiment('tiny', small_graph, epochs=5, patience=0, **QUIET)
    # the first build only validates the options; the second is trained
    assert built[-1].steps == 5


def test_engine_refuses_bad_options_before_training(tiny, small_graph):
    with pytest.raises(ValueError, match="'scale' must be > 0"):
        run_experiment('tiny', small_graph, scale=-1.0, **QUIET)
    with pytest.raises(ValueError, match=r"Unknown option\(s\) \['corruption'"):
        run_experiment('tiny', small_graph, corruption='shuffle', **QUIET)
    with pytest.raises(ValueError, match='cannot be trained on sampled'):
        run_experiment('tiny', small_graph, batch_size=8, **QUIET)


def test_cli_shows_a_methods_own_options(tiny, capsys):
    with pytest.raises(SystemExit):
        main(['train', 'tiny', '--help'])
    out = capsys.readouterr().out
    assert '--scale' in out and '--flag' in out and '--no-flag' in out
    assert 'embedding width (default: 4)' in out
    assert '--corruption' not in out  # DGI's option, not tiny's
    with pytest.raises(SystemExit):
        main(['train', 'dgi', '--help'])
    out = capsys.readouterr().out
    assert '--corruption' in out and '--scale' not in out


def test_cli_trains_a_registered_method(tiny, small_graph, tmp_path,
                                        capsys):
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code = main(['train', 'tiny', '--dataset', str(path), '--scale', '2',
                 '--quiet', '--out', str(tmp_path / 'o')])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / 'o' / 'metrics.json') as f:
        config = json.load(f)['config']
    assert config['scale'] == 2.0 and config['epochs'] == 3
    code = main(['train', 'tiny', '--dataset', str(path), '--batch-size',
                 '8', '--quiet'])
    assert code == 2
    assert 'cannot be trained on sampled' in capsys.readouterr().err
    with pytest.raises(SystemExit):  # an option of another method
        main(['train', 'tiny', '--dataset', str(path), '--corruption', 'x'])


def test_presets_follow_dataset_aliases():
    from graphcl.experiment import _canonical_name
    assert _canonical_name('Computers') == 'Amazon-Computers'
    assert _canonical_name('cora') == 'Cora'
    assert _canonical_name('my_graph.pt') == 'my_graph.pt'
    for name in list_methods():
        spec = get_method(name)
        for dataset in spec.presets:  # every preset names a real dataset
            assert _canonical_name(dataset) == dataset, (name, dataset)


def test_method_help_needs_no_pytorch():
    # graphcl train METHOD --help reads the built-in specs without
    # importing torch (their builders are named as 'module:function').
    import subprocess
    import sys
    code = ('import sys\n'
            'from graphcl.models.registry import get_method, BUILTIN_METHODS\n'
            'for name in BUILTIN_METHODS: get_method(name).defaults\n'
            'assert "torch" not in sys.modules, "torch was imported"\n')
    subprocess.run([sys.executable, '-c', code], check=True)
    assert resolve('graphcl.models.registry:resolve') is resolve
    assert resolve(len) is len


@pytest.mark.parametrize('method', list_methods())
@pytest.mark.parametrize('option', ['hidden', 'layers'])
def test_bad_width_or_depth_names_the_option(method, option):
    # The message names the method's option, not an inner argument
    # ('hidden_channels', 'num_layers') the user never typed.
    if option not in method_defaults(method):
        pytest.skip(f'{method} has no {option!r}')
    with pytest.raises(ValueError, match=f"'{option}' must be a positive "
                       f"integer"):
        build_method(method, 6, **{option: 0})
