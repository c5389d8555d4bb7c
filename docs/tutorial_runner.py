r"""Runs a Markdown page's Python code blocks, so that a tutorial is
executed exactly as written: by the docs build (``conf.py``, which then
shows the figures the code drew) and by ``tests/test_tutorial.py``.

Every fenced block opened with ```` ```python ```` runs, in page order, in
one namespace, with the working directory set to the output folder; other
blocks (```` ```bash ````, ```` ```text ````) are shown only.
"""
import os
import re
import shutil
import time
from pathlib import Path
from typing import List, Union

__all__ = ['python_blocks', 'run_tutorial']

#: The file that marks a folder as this runner's (emptied on the next run).
_MARKER = '.tutorial-output'

_FENCE = re.compile(r'^(`{3,}|~{3,})\s*([\w+-]*)[^\n]*\n(.*?)^\1\s*$',
                    re.MULTILINE | re.DOTALL)


def python_blocks(page: Union[str, Path]) -> List[str]:
    r"""The page's ``python`` code blocks, in order."""
    text = Path(page).read_text()
    return [m.group(3) for m in _FENCE.finditer(text)
            if m.group(2).lower() in ('python', 'py', 'python3')]


def run_tutorial(page: Union[str, Path], out: Union[str, Path],
                 verbose: bool = True) -> dict:
    r"""Runs :obj:`page`'s Python blocks in :obj:`out` (emptied first
    when an earlier run made it, created otherwise) and returns their
    namespace. A failing block raises with the block's
    number and the page's name in the traceback."""
    page = Path(page).resolve()
    out = Path(out)
    marker = out / _MARKER
    if out.exists():  # an earlier run's folder: start afresh
        if not marker.is_file() and any(out.iterdir()):
            raise ValueError(f"{out} holds files that this runner did not "
                             f"write; give an empty or new folder")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    marker.write_text(f'written by docs/tutorial_runner.py for {page.name}\n')
    blocks = python_blocks(page)
    if not blocks:
        raise ValueError(f"{page} has no ```python code blocks to run")
    namespace = {'__name__': '__tutorial__'}
    before = os.getcwd()
    start = time.perf_counter()
    os.chdir(out)
    try:
        for i, code in enumerate(blocks, 1):
            exec(compile(code, f'{page.name} (python block {i})', 'exec'),
                 namespace)
    finally:
        os.chdir(before)
    if verbose:
        print(f'{page.name}: {len(blocks)} code blocks ran in '
              f'{time.perf_counter() - start:.1f} s (in {out})')
    return namespace
