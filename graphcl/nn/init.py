r"""Weight initialisation schemes that reference implementations apply to
whole models."""
import torch
from torch.nn import Module

__all__ = ['xavier_linear_']


def xavier_linear_(module: Module) -> Module:
    r"""Re-initialises every :class:`torch.nn.Linear` inside :obj:`module`
    with Xavier-uniform weights (`Glorot and Bengio, 2010
    <http://proceedings.mlr.press/v9/glorot10a>`_) and zero biases, in
    place, as InfoGraph's and GraphCL's reference code do (``init_emb``):

    .. math::
        \mathbf{W} \sim \mathcal{U}\left(-\sqrt{\frac{6}{F_{in} +
        F_{out}}}, \sqrt{\frac{6}{F_{in} + F_{out}}}\right), \qquad
        \mathbf{b} = \mathbf{0}

    Other layers (convolutions' own parameters, norms, activations) are
    left as they are. Draws from PyTorch's global generator.

    Args:
        module (Module): The model whose linear layers are re-initialised.

    Returns:
        :obj:`module` itself.
    """
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    return module
