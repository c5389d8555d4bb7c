r"""The ``graphcl`` sub-commands, one module each (see :mod:`graphcl.cli`)."""
