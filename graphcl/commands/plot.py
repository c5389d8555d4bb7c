r"""``graphcl plot RUN_DIR``: the run's pictures, drawn by
:func:`graphcl.plot.plot_run` (loss per epoch for every seed, the probe's
accuracies over its regularisation grid, a 2-D map of the embeddings);
matplotlib is the optional ``plot`` extra."""
import argparse
from pathlib import Path

from .common import add_common, add_out, apply_threads, say

__all__ = ['add_parser', 'run']


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        'plot', help="draw a run's loss curves, probe grid and embedding map",
        description="Draw a run folder's loss per epoch for every seed, the "
        "linear probe's validation and test accuracy over its weight-decay "
        "grid, and a 2-D map of the embeddings coloured by label, as PNG "
        "files (needs matplotlib: pip install graphcl[plot]).")
    p.add_argument('run_dir', metavar='RUN_DIR',
                   help='a run folder (graphcl train ... --out RUN_DIR)')
    add_out(p, 'folder for the PNG files (default: RUN_DIR)')
    add_common(p, device=False)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"'{run_dir}' is not a folder; give the --out "
                         f"folder of a graphcl train run")
    try:
        from .. import plot as plots
    except ModuleNotFoundError as e:
        if e.name == 'graphcl.plot':
            raise ImportError("graphcl plot needs graphcl.plot, which this "
                              "installation of graphcl lacks; install a "
                              "graphcl version with plots") from None
        raise  # e.g. matplotlib missing: its own message
    apply_threads(args)
    import warnings
    note = getattr(plots, 'PlotWarning', UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always', note)
        written = plots.plot_run(run_dir, out=args.out)
    for w in caught:  # a skipped plot: one line; other warnings as usual
        if issubclass(w.category, note):
            say(f"graphcl: note: {w.message}")
        else:
            warnings.showwarning(w.message, w.category, w.filename,
                                 w.lineno)
    for path in written:
        print(f"wrote {path}")
    return 0
