r"""graphcl: graph self-supervised learning for PyTorch Geometric."""
__version__ = '0.1.0'

from . import losses  # noqa: F401
