r"""The ``graphcl`` parser: one set of shared options, fast help, nearest-name
suggestions, and the console script itself (one subprocess run). Each
sub-command's own tests are in ``tests/commands/``."""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import graphcl
from graphcl.cli import build_parser, main
from graphcl.commands.common import DEVICES, SHARED_OPTIONS, parse_seeds

REPO = Path(__file__).resolve().parents[1]


def leaves(parser, path=()):
    r"""``(command path, parser)`` of every sub-command that runs."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action._name_parser_map.items():
                yield from leaves(sub, path + (name, ))
            return
    yield path, parser


def signature(action):
    return (type(action).__name__, action.dest, action.type, action.default,
            tuple(action.choices) if action.choices else None, action.nargs,
            action.const)


def test_shared_options_are_identical_across_subcommands():
    found = {}
    commands = dict(leaves(build_parser(lazy=False)))
    assert {p[0] for p in commands} == {'train', 'embed', 'probe', 'plot',
                                        'datasets', 'adapters'}
    assert ('train', 'dgi') in commands and ('adapters', 'cpc') in commands
    for path, parser in commands.items():
        options = {s: a for a in parser._actions for s in a.option_strings}
        for name in SHARED_OPTIONS:
            if name in options:
                found.setdefault(name, {})[path] = signature(options[name])
        # every sub-command has these
        assert '--threads' in options and '--quiet' in options, path
    for name, per_command in found.items():
        assert len(set(per_command.values())) == 1, (name, per_command)
    # and each where it applies
    assert all(p[0] in ('train', 'adapters') for p in found['--seeds'])
    assert len(found['--seeds']) == len(
        [p for p in commands if p[0] in ('train', 'adapters')])
    assert {p for p in commands if p[0] != 'datasets'} == set(found['--out'])
    assert {p for p in commands if p[0] not in ('datasets', 'plot')} == \
        set(found['--device'])
    device = next(iter(found['--device'].values()))
    assert device[3] == 'cpu' and device[4] == DEVICES == ('cpu', 'cuda')
    seeds = next(iter(found['--seeds'].values()))
    assert seeds[2] is parse_seeds and parse_seeds(seeds[3]) == [0]
    threads = next(iter(found['--threads'].values()))
    assert threads[3] is None  # PyTorch's own, everywhere


def test_seeds_forms():
    assert parse_seeds('3') == [0, 1, 2]
    assert parse_seeds('0,2,5') == [0, 2, 5]
    assert parse_seeds('7,') == [7]
    for bad in ('0', '-1', 'a', '1,1', '1,-2', ','):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seeds(bad)


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(['--version'])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f'graphcl {graphcl.__version__}'


def test_help_imports_nothing_heavy():
    # Parsing --help, --version and a sub-command's --help imports neither
    # PyTorch nor PyG (timed in benchmarks/cli_startup.py, not here).
    code = (
        "import sys\n"
        "from graphcl.cli import main\n"
        "for argv in (['--help'], ['--version'], ['datasets', '--help'],\n"
        "             ['train', '--help'], ['embed', '--help'],\n"
        "             ['probe', '--help'], ['plot', '--help'],\n"
        "             ['adapters', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, argv\n"
        "heavy = sorted(m for m in ('torch', 'torch_geometric', 'numpy',\n"
        "               'sklearn', 'matplotlib') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'HEAVY []' in out.stdout


@pytest.mark.parametrize('argv,needle', [
    (['trian'], "invalid choice: 'trian'"),
    (['train', 'dgx', '--dataset', 'Cora'], "invalid choice: 'dgx'"),
    (['adapters', 'simclrr'], "invalid choice: 'simclrr'"),
    (['probe', '--embeddings', 'z.pt', '--dataset', 'Cora', '--device',
      'cdua'], "invalid choice: 'cdua'"),
])
def test_unknown_names_suggest_the_nearest(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and 'did you mean' in err
    assert {'trian': "'train'", 'dgx': "'dgi'", 'simclrr': "'simclr'",
            'cdua': "'cuda'"}[needle.split("'")[1]] in \
        err.split('did you mean')[1]


def test_unknown_options_suggest_the_nearest(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'dgi', '--dataset', 'Cora', '--hiden', '8',
              '--quite'])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert 'usage: graphcl train dgi' in err  # the sub-command's usage
    assert 'unrecognized arguments: --hiden 8 --quite' in err
    assert '--hidden for --hiden' in err and '--quiet for --quite' in err


def test_old_seed_list_form_is_explained(capsys):
    with pytest.raises(SystemExit):
        main(['adapters', 'dim', '--seeds', '1', '2'])
    assert 'comma-separated list (--seeds 0,1,2)' in capsys.readouterr().err


def test_unknown_dataset_suggests_the_nearest(capsys):
    for value, hint in (('Coraa', "'Cora'"), ('amazon-foto', "'Amazon-Photo'"),
                        ('graph.ptt', "'.pt'")):
        assert main(['train', 'dgi', '--dataset', value, '--quiet']) == 2
        err = capsys.readouterr().err
        assert f'did you mean {hint}?' in err, err


def console_script():
    path = Path(sys.executable).parent / 'graphcl'
    return str(path) if path.is_file() else shutil.which('graphcl')


@pytest.mark.skipif(console_script() is None,
                    reason='the graphcl console script is not installed '
                    '(pip install -e .)')
def test_console_script_writes_progress_lines_to_a_pipe(small_graph,
                                                        tmp_path):
    # The installed `graphcl` command, end to end; stderr is a pipe, so
    # progress comes as lines (no tqdm frames, no carriage returns).
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = subprocess.run(
        [console_script(), 'train', 'dgi', '--dataset', str(path),
         '--epochs', '60', '--patience', '0', '--hidden', '8', '--threads',
         '1', '--out', str(tmp_path / 'run')],
        capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert 'dgi on g: test accuracy' in out.stdout
    assert '\r' not in out.stderr
    assert 'dgi g seed 0: epoch 50/60, loss ' in out.stderr
    assert 'ended at epoch 60 (the maximum of 60 epochs)' in out.stderr
    assert (tmp_path / 'run' / 'model.json').is_file()
