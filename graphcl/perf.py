r"""CPU performance settings for training loops.

PyTorch's CPU allocator hands every large tensor straight to ``malloc``;
glibc serves blocks above its (dynamic) mmap threshold with fresh ``mmap``
calls and returns freed heap tops to the system, so every epoch pays page
faults for the same few activation-sized buffers. Raising the mmap and trim
thresholds keeps those pages in the heap for reuse. Measured here (one core,
Cora-sized 2708x512 activations): a PReLU forward + backward took 7.4 ms by
default and 2.8 ms with these settings plus :class:`graphcl.nn.PReLU`.

Subnormal floats (magnitudes below about :math:`1.2 \times 10^{-38}` in
float32) take a slow path on x86 CPUs. Weights that weight decay keeps
shrinking end up there: GRACE's Amazon-Photo preset had 226,275 of the
first layer's 381,440 weights subnormal by epoch 1,650, and a training
step took 10.6 s of CPU time instead of 2.7 s
(:func:`flush_denormals`).

:func:`tune_cpu_allocator`, :func:`flush_denormals` and :func:`set_threads`
change the whole process, so nothing in graphcl calls them as a side
effect: ``graphcl train`` applies them (``--threads``,
``--no-malloc-tuning``, ``--keep-denormals``), and a program of your own
calls them once at start-up (docs/performance.md).
"""
import ctypes
import ctypes.util
import os
import sys
from typing import Optional

import torch

__all__ = ['tune_cpu_allocator', 'flush_denormals', 'denormals_flushed',
           'set_threads', 'make_adam', 'make_adamw']

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's upper limit on 64-bit
_tuned = False


def tune_cpu_allocator(trim_threshold: int = 1 << 30) -> bool:
    r"""Keeps freed activation buffers (up to 32 MiB each) in glibc's heap
    instead of unmapping them, process-wide. A no-op elsewhere than on
    Linux/glibc, or when the environment variable ``GRAPHCL_NO_MALLOC_TUNING``
    is set. Returns whether the settings were applied.

    Args:
        trim_threshold (int, optional): Free memory at the top of the heap
            kept before returning it to the system. (default: 1 GiB)
    """
    global _tuned
    if _tuned:
        return True
    if not sys.platform.startswith('linux') or os.environ.get(
            'GRAPHCL_NO_MALLOC_TUNING'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another libc
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1 and ok
    _tuned = ok
    return ok


def flush_denormals(enable: bool = True) -> bool:
    r"""Makes the CPU treat subnormal floats as zero, process-wide
    (:func:`torch.set_flush_denormal`: the FTZ and DAZ modes of x86's SSE3),
    or restores IEEE behaviour with :obj:`enable=False`. Numbers below
    :math:`1.2 \times 10^{-38}` (float32) become :math:`0`; their effect on a
    result is below float32's resolution of any sum of normal-sized terms,
    and arithmetic on them is many times slower than on normal numbers.
    Returns whether the CPU supports the mode (:obj:`False`: nothing
    changed). CUDA devices are not affected.
    """
    return bool(torch.set_flush_denormal(bool(enable)))


def denormals_flushed() -> bool:
    r"""Whether the CPU currently flushes subnormal floats to zero
    (:func:`flush_denormals`), read off one float32 product."""
    tiny = torch.tensor([1e-40], dtype=torch.float32)
    return bool((tiny * 1.0 == 0).item())


def set_threads(threads: Optional[int]) -> int:
    r"""Sets PyTorch's intra-op threads (``None`` keeps the current value);
    returns the number in use."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"'threads' must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def _fused_or_default(cls, params, **kwargs):
    # PyTorch's public fused=True kernel where this PyTorch has it for the
    # parameters' device and dtype, the default implementation otherwise.
    params = list(params)
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, **kwargs)


def make_adam(params, lr: float = 1e-3, weight_decay: float = 0.0,
              **kwargs) -> torch.optim.Adam:
    r"""The standard :class:`torch.optim.Adam` with PyTorch's public
    ``fused=True`` kernel where this PyTorch has it for the parameters'
    device and dtype (one pass over the parameters instead of several: 0.4
    ms against 1.1 ms a step for DGI's 1M parameters on one core,
    measured), the default implementation otherwise (the same update
    rule). Any ``torch.optim.Adam`` works with every method's parameters,
    which are plain PyG parameters; this only picks the kernel. Weight
    decay is Adam's L2 term, added to the gradient."""
    return _fused_or_default(torch.optim.Adam, params, lr=lr,
                             weight_decay=weight_decay, **kwargs)


def make_adamw(params, lr: float = 1e-3, weight_decay: float = 0.0,
               **kwargs) -> torch.optim.AdamW:
    r"""The standard :class:`torch.optim.AdamW` (decoupled weight decay,
    `Loshchilov and Hutter, ICLR 2019
    <https://arxiv.org/abs/1711.05101>`_: :math:`\theta \leftarrow \theta
    - \eta \lambda \theta` besides the Adam step, not through the
    gradient), with the fused kernel where available, as
    :func:`make_adam`."""
    return _fused_or_default(torch.optim.AdamW, params, lr=lr,
                             weight_decay=weight_decay, **kwargs)
