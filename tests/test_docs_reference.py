r"""Every module of the package has a page section in ``docs/reference/``
(an ``automodule`` directive), so the API reference never silently misses
a new module."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_modules():
    for path in (ROOT / 'graphcl').rglob('*.py'):
        parts = path.relative_to(ROOT).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        yield '.'.join(parts)


def documented_modules():
    names = set()
    for page in (ROOT / 'docs' / 'reference').glob('*.md'):
        names |= set(re.findall(r'automodule:: ([\w.]+)', page.read_text()))
    return names


def test_every_module_is_in_the_reference():
    missing = sorted(set(package_modules()) - documented_modules())
    assert not missing, (f"modules without an automodule section in "
                         f"docs/reference/*.md: {missing}")


def test_reference_names_only_existing_modules():
    stale = sorted(documented_modules() - set(package_modules()))
    assert not stale, f"docs/reference/*.md documents missing modules: {stale}"
