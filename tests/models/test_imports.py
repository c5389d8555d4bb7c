import ast
from pathlib import Path

import graphcl

PACKAGE = Path(graphcl.__file__).parent


def test_methods_do_not_import_the_data_package():
    # Methods take their checks from graphcl.validation; the data package
    # (loaders, registries, files) stays out of their dependencies.
    for path in sorted((PACKAGE / 'models').glob('*.py')):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = ('.' * node.level) + (node.module or '')
                assert not module.startswith(('..data', 'graphcl.data')), \
                    f'{path.name} imports {module}'
