import argparse
import json

import pytest
import torch

from graphcl.adapters import ConvEncoder
from graphcl.adapters.cli import add_adapters_parser, main, run
from graphcl.stats import STD_CONVENTION


def test_adapters_subcommand_plugs_into_a_parent_parser():
    parser = argparse.ArgumentParser(prog='graphcl')
    add_adapters_parser(parser.add_subparsers(dest='command'))
    args = parser.parse_args(['adapters', 'dim', '--data', 'digits',
                              '--seeds', '0,1', '--threads', '2'])
    assert args.func is run and args.method == 'dim'
    assert args.seeds == [0, 1] and args.estimator == 'jsd'
    assert args.threads == 2 and args.quiet is False
    cpc = parser.parse_args(['adapters', 'cpc', '--seeds', '3'])
    assert cpc.data == 'mnist1d' and cpc.steps == 4
    assert cpc.seeds == [0, 1, 2]  # a count, as everywhere


def test_same_methods_as_the_engine():
    from graphcl.adapters.experiment import METHODS
    from graphcl.commands.adapters import METHODS as COMMANDS
    assert COMMANDS == METHODS


def test_no_progress_is_a_deprecated_alias_of_quiet(capsys):
    from graphcl.adapters.cli import build_parser
    args = build_parser().parse_args(['simclr', '--no-progress'])
    assert args.quiet is True
    assert '--no-progress is deprecated; use --quiet' in \
        capsys.readouterr().err
    assert '--no-progress' not in build_parser(lazy=False).format_help()


def test_simclr_run_writes_metrics_and_encoder(tmp_path, capsys):
    out = tmp_path / 'run'
    before = torch.get_num_threads()
    try:
        rc = main(['simclr', '--data', 'digits', '--seeds', '1', '--epochs',
                   '1', '--out', str(out), '--quiet', '--threads', '1'])
    finally:
        torch.set_num_threads(before)
    assert rc == 0
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['method'] == 'simclr' and metrics['dataset'] == 'digits'
    assert metrics['seeds'] == [0] and metrics['epochs'] == 1
    assert metrics['pretrain_seconds'] > 0
    for model in ('trained', 'random_init', 'raw'):
        for probe in ('linear_all', 'linear_few', 'knn'):
            entry = metrics['probe'][model][probe]
            assert len(entry['per_seed']) == 1
            assert 0 <= entry['mean'] <= 100 and entry['std'] == 0
    assert metrics['config']['batch_size'] == 256
    assert metrics['config']['std'] == STD_CONVENTION
    assert metrics['config']['threads'] == 1  # the threads in use
    assert metrics['config']['seeds'] == [0]  # the command line's options
    state = torch.load(out / 'encoder.pt')
    ConvEncoder().load_state_dict(state)
    out = capsys.readouterr().out
    assert 'linear-few' in out and 'population' in out


def test_cpc_on_images_is_refused(capsys):
    assert main(['cpc', '--data', 'digits', '--quiet']) == 2
    assert 'sequence' in capsys.readouterr().err


def test_bad_batch_size(capsys):
    assert main(['dim', '--batch-size', '1', '--quiet']) == 2
    assert '--batch-size' in capsys.readouterr().err


def test_missing_method_is_a_usage_error():
    with pytest.raises(SystemExit):
        main([])
