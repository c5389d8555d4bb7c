r"""Registers DGI with its paper defaults (Veličković et al., 2019).

The bilinear critic starts as in DGI's reference code (``disc_init=
'xavier'``, about ten times smaller than PyG's initialisation): over 10
seeds that raised the linear probe's validation accuracy from 80.74 to
81.06 on Cora and from 71.88 to 72.68 on CiteSeer
(benchmarks/results/dgi_accuracy.md). ``DeepGraphInfomax`` built by hand
keeps PyG's initialisation."""
from typing import Optional

from ..losses import get_loss
from ..nn.discriminators import get_discriminator
from ..nn.encoders import get_encoder
from ..nn.readouts import get_readout
from ..validation import check_int
from .dgi import DeepGraphInfomax
from .dgi_spec import DGI_DEFAULTS, METHOD  # noqa: F401 (re-exported)

__all__ = ['build_dgi', 'DGI_DEFAULTS', 'METHOD']


def build_dgi(in_channels: int, encoder: str, hidden: int, layers: int,
              act: str, readout: str, corruption: str, discriminator: str,
              disc_init: str, loss: str,
              seed: Optional[int] = None) -> DeepGraphInfomax:
    from ..corruptions import get_corruption
    check_int(hidden, "'hidden'", what='embedding width')
    check_int(layers, "'layers'", what='encoder layers')
    enc_kwargs = dict(hidden_channels=hidden, num_layers=layers, act=act)
    return DeepGraphInfomax(
        hidden_channels=hidden,
        encoder=get_encoder(encoder, in_channels, **enc_kwargs),
        summary=get_readout(readout, hidden),
        corruption=get_corruption(corruption, generator=seed),
        discriminator=get_discriminator(discriminator, hidden, disc_init),
        loss_fn=get_loss(loss),
    )
