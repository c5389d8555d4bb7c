r"""The ``graphcl`` command.

.. code-block:: bash

    graphcl train dgi --dataset Cora --seeds 10 --out runs/cora
    graphcl train dgi --dataset ogbn-arxiv --batch-size 1024 --fanout 10,10,25
    torchrun --nproc_per_node 2 -m graphcl.cli train dgi \
        --dataset ogbn-arxiv --batch-size 1024 --distributed
    graphcl embed --encoder runs/cora --dataset my_graph.pt --out z.npy
    graphcl probe --embeddings runs/cora/embeddings.pt --dataset Cora
    graphcl plot runs/cora
    graphcl datasets
    graphcl adapters simclr --data digits

One sub-command per module of :mod:`graphcl.commands`; this module builds
the parser. Parsing imports nothing heavy (``graphcl --help`` needs no
PyTorch): each sub-command imports what it needs when it runs, and the
method sub-commands of ``train`` and ``adapters`` are populated only when
used. The options shared by several sub-commands (``--seeds``,
``--device``, ``--threads``, ``--quiet``, ``--out``) are defined once, in
:mod:`graphcl.commands.common`.
"""
import sys
from typing import List, Optional

from . import __version__
from .commands import adapters, datasets, embed, plot, probe, train
from .commands.common import GraphclParser, populate_all

__all__ = ['main', 'build_parser', 'COMMANDS']

#: The sub-command modules, in the order ``graphcl --help`` lists them.
COMMANDS = (train, embed, probe, plot, datasets, adapters)


def build_parser(lazy: bool = True) -> GraphclParser:
    r"""The ``graphcl`` argument parser. With :obj:`lazy` (the command
    line), method sub-commands get their options when used; otherwise all
    options are added now (for tests and documentation)."""
    parser = GraphclParser(
        prog='graphcl', description='Graph self-supervised learning for '
        'PyTorch Geometric: pretrain, embed, probe, plot.')
    parser.add_argument('--version', action='version',
                        version=f'graphcl {__version__}')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND',
                                       required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    if not lazy:
        populate_all(parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    r"""Runs ``graphcl`` with :obj:`argv` (default: :data:`sys.argv`);
    returns the exit status (``2`` for a usage or input error, with one
    line on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, ImportError) as e:
        print(f'graphcl: error: {e}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C: stopped at once
        print('graphcl: stopped by a second interrupt; the last periodic '
              'checkpoint (if any) is kept: resume with --resume',
              file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
