r"""Batch augmentations for images ``[N, C, H, W]`` and sequences ``[N, C, L]``
in pure PyTorch (no torchvision needed).

Every augmentation draws *independent* random parameters per example, takes
an optional ``generator`` (an ``int`` seed or a :class:`torch.Generator`) and
is therefore reproducible. :class:`Compose` chains them and also accepts any
per-example callable, e.g. a torchvision transform when torchvision is
installed; those are applied example by example through :class:`PerSample`.

Example::

    aug = Compose([RandomAffine(degrees=15, translate=0.1),
                   GaussianNoise(0.05)])
    view = aug(images, generator=0)  # same seed -> same view
"""
import math
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from ..corruptions import ComposeBase

__all__ = [
    'SeedLike', 'make_generator', 'BatchAugmentation', 'RandomAffine',
    'RandomResizedCrop', 'RandomFlip', 'GaussianNoise', 'RandomErasing',
    'PerSample', 'Compose', 'default_augmentation'
]

SeedLike = Union[int, torch.Generator, None]


def make_generator(seed: SeedLike = None) -> Optional[torch.Generator]:
    r"""Turns an ``int`` seed into a CPU :class:`torch.Generator`; passes a
    generator through; ``None`` means torch's global random state."""
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"'generator' must be an int seed, a torch.Generator "
                        f"or None, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


def _uniform(n: int, low: float, high: float,
             gen: Optional[torch.Generator]) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


def _range(value: Union[float, Tuple[float, float]],
           name: str) -> Tuple[float, float]:
    """``a`` -> ``(-a, a)``; ``(lo, hi)`` is kept."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"'{name}' must be >= 0, got {value}")
        return -float(value), float(value)
    lo, hi = value
    if lo > hi:
        raise ValueError(f"'{name}' range must satisfy low <= high, got "
                         f"{value}")
    return float(lo), float(hi)


class BatchAugmentation(torch.nn.Module):
    r"""Base class: a random transformation applied to a whole batch, with
    parameters drawn independently per example.

    Subclasses implement :meth:`transform`. Each example is transformed with
    probability :obj:`p` and left unchanged otherwise.

    Args:
        p (float, optional): Probability to transform an example.
            (default: ``1.0``)
    """
    #: Number of spatial dimensions supported (``None``: any).
    spatial_dims: Optional[Tuple[int, ...]] = None

    def __init__(self, p: float = 1.0):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"'p' must be a probability in [0, 1], got {p}")
        self.p = p

    def reset_parameters(self):
        pass

    def forward(self, x: Tensor, generator: SeedLike = None) -> Tensor:
        r"""
        Args:
            x (Tensor): Batch of shape ``[N, C, *spatial]``.
            generator (int or torch.Generator, optional): Source of
                randomness. (default: ``None``, torch's global state)
        """
        self._check(x)
        gen = make_generator(generator)
        if self.p >= 1.0:
            return self.transform(x, gen)
        apply = (torch.rand(x.size(0), generator=gen) < self.p).to(x.device)
        if not bool(apply.any()):
            return x
        out = x.clone()
        out[apply] = self.transform(x[apply], gen)
        return out

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"'transform(x, generator)'")

    def _check(self, x: Tensor):
        if not isinstance(x, Tensor) or x.dim() < 3:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x)
            raise ValueError(
                f"{type(self).__name__} expects a batch of shape "
                f"[N, C, L] or [N, C, H, W], got {shape}; add the channel "
                f"dimension with x.unsqueeze(1)")
        dims = x.dim() - 2
        if self.spatial_dims is not None and dims not in self.spatial_dims:
            raise ValueError(f"{type(self).__name__} supports inputs with "
                             f"{self.spatial_dims} spatial dimension(s), got "
                             f"shape {tuple(x.shape)}")

    def __repr__(self) -> str:
        args = self.extra_repr()
        return f'{type(self).__name__}({args})'


def _warp(x: Tensor, theta: Tensor) -> Tensor:
    """Samples ``x`` [N, C, L] or [N, C, H, W] on the affine grid ``theta``
    [N, 2, 3] (normalised coordinates, zero padding)."""
    seq = x.dim() == 3
    img = x.unsqueeze(2) if seq else x
    theta = theta.to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    out = F.grid_sample(img, grid, mode='bilinear', padding_mode='zeros',
                        align_corners=False)
    return out.squeeze(2) if seq else out


class RandomAffine(BatchAugmentation):
    r"""Random rotation, scaling, translation and shear.

    For sequences ``[N, C, L]`` only scaling and translation along time
    apply.

    Args:
        degrees (float or (float, float), optional): Rotation range in
            degrees; ``a`` means ``(-a, a)``. (default: ``0.``)
        translate (float, optional): Maximal shift as a fraction of the
            size. (default: ``0.``)
        scale ((float, float), optional): Zoom range. (default: ``(1., 1.)``)
        shear (float or (float, float), optional): Shear range in degrees.
            (default: ``0.``)
        p (float, optional): Probability to transform an example.
            (default: ``1.0``)
    """
    spatial_dims = (1, 2)

    def __init__(self, degrees: Union[float, Tuple[float, float]] = 0.,
                 translate: float = 0., scale: Tuple[float, float] = (1., 1.),
                 shear: Union[float, Tuple[float, float]] = 0.,
                 p: float = 1.0):
        super().__init__(p)
        self.degrees = _range(degrees, 'degrees')
        self.translate = _range(translate, 'translate')
        self.scale = _range(tuple(scale), 'scale')
        if self.scale[0] <= 0:
            raise ValueError(f"'scale' must be positive, got {scale}")
        self.shear = _range(shear, 'shear')

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        n = x.size(0)
        s = _uniform(n, *self.scale, gen)
        tx = 2 * _uniform(n, *self.translate, gen)
        theta = torch.zeros(n, 2, 3)
        if x.dim() == 3:
            theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1] = 1 / s, tx, 1.
            return _warp(x, theta)
        ty = 2 * _uniform(n, *self.translate, gen)
        a = _uniform(n, *self.degrees, gen) * math.pi / 180
        sh = _uniform(n, *self.shear, gen) * math.pi / 180
        # Inverse map (output -> input coordinates): R(-a) Shear(-sh) / s.
        cos, sin, tan = torch.cos(a), torch.sin(a), torch.tan(sh)
        theta[:, 0, 0] = cos / s
        theta[:, 0, 1] = (sin - cos * tan) / s
        theta[:, 1, 0] = -sin / s
        theta[:, 1, 1] = (cos + sin * tan) / s
        theta[:, 0, 2], theta[:, 1, 2] = tx, ty
        return _warp(x, theta)

    def extra_repr(self) -> str:
        return (f'degrees={self.degrees}, translate={self.translate[1]}, '
                f'scale={self.scale}, shear={self.shear}, p={self.p}')


class RandomResizedCrop(BatchAugmentation):
    r"""Crops a random box (area fraction in :obj:`scale`, aspect ratio in
    :obj:`ratio`) and resizes it back to the input size, as in SimCLR.
    For sequences the box is a time window of relative length in
    :obj:`scale`.

    Args:
        scale ((float, float), optional): Area (length) fraction.
            (default: ``(0.5, 1.0)``)
        ratio ((float, float), optional): Aspect ratio range (images).
            (default: ``(3/4, 4/3)``)
        p (float, optional): Probability to transform an example.
            (default: ``1.0``)
    """
    spatial_dims = (1, 2)

    def __init__(self, scale: Tuple[float, float] = (0.5, 1.0),
                 ratio: Tuple[float, float] = (3 / 4, 4 / 3), p: float = 1.0):
        super().__init__(p)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"'scale' must satisfy 0 < low <= high <= 1, "
                             f"got {scale}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        n = x.size(0)
        area = _uniform(n, *self.scale, gen)
        theta = torch.zeros(n, 2, 3)
        if x.dim() == 3:
            w, h = area, torch.ones(n)
        else:
            logr = _uniform(n, math.log(self.ratio[0]),
                            math.log(self.ratio[1]), gen)
            r = torch.exp(logr)
            w = torch.sqrt(area * r).clamp(max=1.)
            h = torch.sqrt(area / r).clamp(max=1.)
        # Box centre anywhere that keeps the box inside the input.
        cx = (1 - w) * (2 * torch.rand(n, generator=gen) - 1)
        cy = (1 - h) * (2 * torch.rand(n, generator=gen) - 1)
        theta[:, 0, 0], theta[:, 0, 2] = w, cx
        theta[:, 1, 1], theta[:, 1, 2] = h, cy if x.dim() == 4 else 0.
        return _warp(x, theta)

    def extra_repr(self) -> str:
        return f'scale={self.scale}, ratio={self.ratio}, p={self.p}'


class RandomFlip(BatchAugmentation):
    r"""Mirrors examples along the last (width / time) dimension.

    Only use it where mirroring keeps the label (natural images, not
    digits).

    Args:
        p (float, optional): Flip probability. (default: ``0.5``)
    """
    def __init__(self, p: float = 0.5):
        super().__init__(p)

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        return x.flip(-1)

    def extra_repr(self) -> str:
        return f'p={self.p}'


class GaussianNoise(BatchAugmentation):
    r"""Adds i.i.d. Gaussian noise :math:`x + \sigma\epsilon`.

    Args:
        std (float, optional): :math:`\sigma`. (default: ``0.1``)
        p (float, optional): Probability to transform an example.
            (default: ``1.0``)
    """
    def __init__(self, std: float = 0.1, p: float = 1.0):
        super().__init__(p)
        if std < 0:
            raise ValueError(f"'std' must be >= 0, got {std}")
        self.std = std

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        noise = torch.randn(x.shape, generator=gen)
        return x + self.std * noise.to(device=x.device, dtype=x.dtype)

    def extra_repr(self) -> str:
        return f'std={self.std}, p={self.p}'


class RandomErasing(BatchAugmentation):
    r"""Sets a random box (area fraction in :obj:`scale`) to :obj:`value`,
    over all channels; for sequences a random time interval.

    Args:
        scale ((float, float), optional): Area fraction of the box.
            (default: ``(0.02, 0.2)``)
        value (float, optional): Fill value. (default: ``0.``)
        p (float, optional): Probability to erase. (default: ``0.5``)
    """
    def __init__(self, scale: Tuple[float, float] = (0.02, 0.2),
                 value: float = 0., p: float = 0.5):
        super().__init__(p)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"'scale' must satisfy 0 < low <= high <= 1, "
                             f"got {scale}")
        self.scale, self.value = tuple(scale), value

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        n, sizes = x.size(0), x.shape[2:]
        # Equal relative side on every spatial axis: side^d = area.
        side = _uniform(n, *self.scale, gen) ** (1 / len(sizes))
        mask = torch.ones(n, *sizes, dtype=torch.bool)
        for d, size in enumerate(sizes):
            length = (side * size).round().clamp(min=1).long()
            start = (torch.rand(n, generator=gen) *
                     (size - length + 1)).long()
            pos = torch.arange(size).view(1, -1)
            inside = (pos >= start.view(-1, 1)) & (pos < (start + length)
                                                   .view(-1, 1))
            shape = [n] + [1] * len(sizes)
            shape[d + 1] = size
            mask = mask & inside.view(shape)
        mask = mask.unsqueeze(1).to(x.device)
        return x.masked_fill(mask, self.value)

    def extra_repr(self) -> str:
        return f'scale={self.scale}, value={self.value}, p={self.p}'


class PerSample(BatchAugmentation):
    r"""Applies a per-example callable (e.g. a torchvision transform taking
    ``[C, H, W]``) to each example of a batch.

    torchvision transforms draw from torch's global random state; it is
    re-seeded per example from :obj:`generator` inside
    :func:`torch.random.fork_rng`, so results are reproducible and the
    caller's global state is untouched.

    Args:
        transform (callable): Maps one example ``[C, *spatial]`` to a tensor
            of the same shape.
    """
    def __init__(self, transform: Callable[[Tensor], Tensor]):
        super().__init__(1.0)
        if not callable(transform):
            raise TypeError(f"'transform' must be callable, got "
                            f"{type(transform).__name__}")
        self.fn = transform

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        seeds = torch.randint(0, 2**62, (x.size(0), ), generator=gen)
        out = []
        devices = [x.device] if x.is_cuda else []
        with torch.random.fork_rng(devices=devices):
            for xi, seed in zip(x, seeds.tolist()):
                torch.manual_seed(seed)
                yi = self.fn(xi)
                if not isinstance(yi, Tensor) or yi.shape != xi.shape:
                    raise ValueError(
                        f"{self.fn!r} must return a tensor of the input "
                        f"shape {tuple(xi.shape)}; put resizing transforms "
                        f"before pre-training, not in the augmentation")
                out.append(yi)
        return torch.stack(out)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.fn!r})'


class Compose(ComposeBase, BatchAugmentation):
    r"""Applies augmentations in sequence, sharing one random generator
    (graphcl's one :class:`~graphcl.corruptions.ComposeBase`, as the graph
    :class:`~graphcl.corruptions.Compose`).

    Args:
        transforms (list): :class:`BatchAugmentation` objects or per-example
            callables (e.g. torchvision transforms, wrapped in
            :class:`PerSample`).
    """
    parts_name = 'transforms'

    def __init__(self, transforms: Sequence[Callable]):
        super().__init__(1.0)
        self.set_parts(transforms)

    def check_part(self, part: Callable) -> BatchAugmentation:
        return part if isinstance(part, BatchAugmentation) else \
            PerSample(part)

    def transform(self, x: Tensor, gen: Optional[torch.Generator]) -> Tensor:
        for t in self.transforms:
            x = t(x, gen)
        return x


def default_augmentation(x: Tensor) -> Compose:
    r"""The SimCLR augmentation used by graphcl's benchmarks, picked from the
    shape of a batch :obj:`x`: for images ``[N, C, H, W]`` a random affine
    warp (no flip: digits are not mirror-symmetric), erasing and noise; for
    sequences ``[N, C, L]`` a random crop-and-resize in time, shift and
    noise."""
    if x.dim() == 4:
        return Compose([
            RandomAffine(degrees=20, translate=0.15, scale=(0.75, 1.1),
                         shear=15),
            RandomErasing(scale=(0.05, 0.25), p=0.5),
            GaussianNoise(0.1),
        ])
    if x.dim() == 3:
        return Compose([
            RandomResizedCrop(scale=(0.6, 1.0)),
            RandomAffine(translate=0.1, scale=(0.9, 1.1)),
            GaussianNoise(0.1),
        ])
    raise ValueError(f"No default augmentation for inputs of shape "
                     f"{tuple(x.shape)}; expected [N, C, L] or [N, C, H, W]")
