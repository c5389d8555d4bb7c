r"""Registers DGI with its paper defaults (Veličković et al., 2019)."""
from ..losses import get_loss
from ..nn.discriminators import get_discriminator
from ..nn.encoders import get_encoder
from ..nn.readouts import get_readout
from .dgi import DeepGraphInfomax
from .registry import register_method

DGI_DEFAULTS = dict(
    encoder='gcn', hidden=512, layers=1, act='prelu', readout='sigmoid_mean',
    corruption='shuffle', discriminator='bilinear', loss='jsd', seed=None,
)


@register_method('dgi', DGI_DEFAULTS)
def build_dgi(in_channels: int, encoder: str, hidden: int, layers: int,
              act: str, readout: str, corruption: str, discriminator: str,
              loss: str, seed=None) -> DeepGraphInfomax:
    from ..corruptions import get_corruption
    return DeepGraphInfomax(
        hidden_channels=hidden,
        encoder=get_encoder(encoder, in_channels, hidden_channels=hidden,
                            num_layers=layers, act=act),
        summary=get_readout(readout, hidden),
        corruption=get_corruption(corruption, generator=seed),
        discriminator=get_discriminator(discriminator, hidden),
        loss_fn=get_loss(loss),
    )
