r"""Command line: ``graphcl adapters {simclr,dim,cpc} --data DATA``.

Also runnable on its own: ``python -m graphcl.adapters.cli simclr --data
digits --out runs/simclr``. The sub-command is defined with the other
``graphcl`` sub-commands, in :mod:`graphcl.commands.adapters` (its options
are the shared ones: ``--seeds 3`` or ``--seeds 0,1,2``, ``--device``,
``--threads``, ``--quiet``, ``--out``); this module keeps the entry points.
"""
import sys
from typing import List, Optional

from ..commands.adapters import HELP, METHODS, add_parser, build_parser, run

__all__ = ['add_adapters_parser', 'build_parser', 'run', 'main', 'METHODS',
           'HELP']

#: The ``adapters`` sub-command for a parent parser (see
#: :func:`graphcl.commands.adapters.add_parser`).
add_adapters_parser = add_parser


def main(argv: Optional[List[str]] = None) -> int:
    r"""``python -m graphcl.adapters.cli``; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
