import json
import math

import pytest
import torch

from graphcl.adapters import Splits
from graphcl.adapters.experiment import run_experiment
from graphcl.stats import STD_CONVENTION


def _tiny(n_train=40, n_test=20):
    g = torch.Generator().manual_seed(0)
    y_train = torch.arange(n_train) % 2
    y_test = torch.arange(n_test) % 2
    x_train = torch.rand(n_train, 1, 8, 8, generator=g) + y_train.view(
        -1, 1, 1, 1)
    x_test = torch.rand(n_test, 1, 8, 8, generator=g) + y_test.view(
        -1, 1, 1, 1)
    return Splits(x_train, y_train, x_test, y_test, 'tiny', few_per_class=10)


def test_metrics_follow_the_engine_convention(tmp_path):
    metrics, encoders = run_experiment(
        'dim', _tiny(), seeds=2, epochs=1, batch_size=16, progress=False,
        method_kwargs={'critic_channels': 8}, out=tmp_path / 'run',
        config={'note': 'cli'})
    assert metrics['seeds'] == [0, 1] and len(encoders) == 2
    cfg = metrics['config']
    assert cfg['std'] == STD_CONVENTION and cfg['note'] == 'cli'
    assert cfg['batch_size'] == 16 and cfg['epochs'] == 1
    assert cfg['method_kwargs'] == {'critic_channels': 8}
    for model in ('trained', 'random_init', 'raw'):
        for probe in ('linear_all', 'linear_few', 'knn'):
            s = metrics['probe'][model][probe]
            a, b = s['per_seed']
            mean = (a + b) / 2  # population std: |a - b| / 2
            assert s['mean'] == pytest.approx(mean)
            assert s['std'] == pytest.approx(abs(a - b) / 2)
    assert [r['seed'] for r in metrics['runs']] == [0, 1]
    assert all(r['skipped_batches'] == 0 for r in metrics['runs'])
    saved = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert saved['config']['std'] == STD_CONVENTION
    assert saved['probe'] == metrics['probe']
    state = torch.load(tmp_path / 'run' / 'encoder.pt')
    assert all(torch.equal(v, encoders[0].state_dict()[k])
               for k, v in state.items())


def test_same_seed_same_result():
    kw = dict(seeds=[3], epochs=1, batch_size=16, progress=False,
              method_kwargs={'critic_channels': 8})
    a, _ = run_experiment('dim', _tiny(), **kw)
    b, _ = run_experiment('dim', _tiny(), **kw)
    assert a['runs'][0]['losses'] == b['runs'][0]['losses']
    assert a['probe'] == b['probe']
    assert all(math.isfinite(v) for v in a['runs'][0]['losses'])


@pytest.mark.parametrize('kwargs, match', [
    (dict(method='byol'), 'Unknown method'),
    (dict(seeds=[]), 'at least one seed'),
    (dict(seeds=0), 'at least one seed'),
])
def test_bad_arguments_fail_before_training(kwargs, match):
    kwargs = dict(dict(method='dim', seeds=1), **kwargs)
    with pytest.raises(ValueError, match=match):
        run_experiment(kwargs.pop('method'), _tiny(), progress=False,
                       **kwargs)
