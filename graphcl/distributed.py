r"""Multi-process training with :mod:`torch.distributed`, launched by
``torchrun``.

.. code-block:: bash

    # one machine, 4 processes
    torchrun --nproc_per_node 4 -m graphcl.cli train dgi \
        --dataset ogbn-products --batch-size 1024 --fanout 10,10,25 \
        --distributed
    # two machines (run on each; rank 0's address as the endpoint)
    torchrun --nnodes 2 --nproc_per_node 4 --rdzv_id job1 \
        --rdzv_backend c10d --rdzv_endpoint host0:29500 -m graphcl.cli \
        train dgi --dataset ogbn-products --batch-size 1024 --distributed

Every process loads the graph, builds the same model (same seed; DDP also
broadcasts rank 0's parameters), trains on its own share of the seed nodes
(:func:`split_nodes`) with gradients averaged by
:class:`~torch.nn.parallel.DistributedDataParallel` (gloo on CPU, nccl on
GPU), and only rank 0 evaluates and writes outputs (:func:`is_main`).
"""
import datetime
import os
from dataclasses import dataclass
from typing import Optional, Union

import torch
from torch import Tensor

from .validation import check_int

__all__ = ['DistEnv', 'TORCHRUN_VARS', 'in_torchrun', 'init_distributed',
           'cleanup_distributed', 'split_nodes', 'is_main',
           'all_reduce_mean', 'check_nproc']

#: The environment variables ``torchrun`` sets in every process.
TORCHRUN_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                 'MASTER_PORT')


def _launch_hint(nproc: int = 2) -> str:
    return (f"launch with torchrun, e.g. `torchrun --nproc_per_node {nproc} "
            f"-m graphcl.cli train dgi --dataset ... --batch-size 1024 "
            f"--distributed` (multi-machine: add --nnodes N --rdzv_backend "
            f"c10d --rdzv_endpoint HOST:PORT on every machine); see "
            f"docs/scaling.md")


@dataclass(frozen=True)
class DistEnv:
    r"""This process's place in the job (``world_size == 1`` and
    ``backend is None`` when not distributed)."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: Optional[str] = None
    device: torch.device = torch.device('cpu')

    @property
    def distributed(self) -> bool:
        return self.backend is not None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def in_torchrun() -> bool:
    r"""Whether the environment variables that ``torchrun`` sets for every
    process (:data:`TORCHRUN_VARS`) are present."""
    return all(v in os.environ for v in TORCHRUN_VARS)


def _env_int(name: str) -> int:
    value = os.environ[name]
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"${name} must be an integer, got {value!r}; "
                         f"{_launch_hint()}") from None


def check_nproc(nproc: Optional[int]) -> None:
    r"""Checks a requested number of processes per machine against the
    environment: without ``torchrun`` (or with a different
    ``--nproc_per_node``) this raises a :class:`ValueError` that says how to
    launch."""
    if nproc is None:
        return
    check_int(nproc, '--nproc')
    if not in_torchrun():
        if nproc == 1:
            return
        missing = [v for v in TORCHRUN_VARS if v not in os.environ]
        raise ValueError(f"--nproc {nproc} asks for {nproc} processes, but "
                         f"this process was not started by torchrun (missing "
                         f"{', '.join('$' + m for m in missing)}): graphcl "
                         f"does not spawn processes itself; "
                         f"{_launch_hint(nproc)}")
    local = int(os.environ.get('LOCAL_WORLD_SIZE', _env_int('WORLD_SIZE')))
    if local != nproc:
        raise ValueError(f"--nproc {nproc} does not match torchrun's "
                         f"--nproc_per_node {local}; drop --nproc or make "
                         f"them equal")


def init_distributed(device: Union[str, torch.device] = 'cpu',
                     backend: Optional[str] = None,
                     timeout_minutes: float = 60.0) -> DistEnv:
    r"""Joins the process group described by ``torchrun``'s environment
    (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
    ``MASTER_PORT``).

    Args:
        device (str or torch.device): ``'cpu'`` or ``'cuda'``; with CUDA
            every process uses GPU ``LOCAL_RANK``.
        backend (str, optional): ``'gloo'`` or ``'nccl'`` (default: nccl
            for CUDA, gloo for CPU).
        timeout_minutes (float, optional): Collective timeout; rank 0
            evaluates alone between seeds while the others wait, so keep it
            above the evaluation time. (default: ``60``)

    Raises:
        ValueError: Outside ``torchrun`` (with the launch command to use),
            or when asking for nccl/CUDA without a GPU.
    """
    import torch.distributed as dist
    if not in_torchrun():
        missing = [v for v in TORCHRUN_VARS if v not in os.environ]
        raise ValueError(f"Distributed training needs the environment that "
                         f"torchrun sets up (missing "
                         f"{', '.join('$' + m for m in missing)}); "
                         f"{_launch_hint()}")
    if not dist.is_available():
        raise ValueError("This PyTorch build has no torch.distributed")
    rank, world_size = _env_int('RANK'), _env_int('WORLD_SIZE')
    local_rank = _env_int('LOCAL_RANK')
    device = torch.device(device)
    if backend is None:
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but CUDA is not "
                             "available here; use --device cpu (gloo)")
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK {local_rank} has no GPU (only "
                             f"{torch.cuda.device_count()}); set "
                             f"--nproc_per_node to at most the GPU count")
        torch.cuda.set_device(local_rank)
        device = torch.device('cuda', local_rank)
    elif backend == 'nccl':
        raise ValueError("The nccl backend needs --device cuda; use gloo "
                         "on CPU")
    if not dist.is_initialized():
        dist.init_process_group(
            backend, rank=rank, world_size=world_size,
            timeout=datetime.timedelta(minutes=timeout_minutes))
    return DistEnv(rank, world_size, local_rank, backend, device)


def cleanup_distributed() -> None:
    r"""Leaves the process group, if one was joined. The ranks first meet
    at a barrier, so that rank 0, which hosts the rendezvous store, does not
    leave while another rank still talks to it (a rank left waiting then
    stalls until the collective timeout). A barrier that fails (a peer is
    gone) does not stop the group from being left."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:
            pass
        finally:
            dist.destroy_process_group()


def is_main() -> bool:
    r"""Whether this process writes outputs: rank 0, or any process outside
    a distributed job."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return True


def split_nodes(nodes: Tensor, rank: int, world_size: int,
                seed: Optional[int] = None) -> Tensor:
    r"""This rank's share of the seed nodes: a random permutation (the same
    on all ranks for the same :obj:`seed`; none when :obj:`seed` is
    :obj:`None`), padded by wrapping around to a multiple of
    :obj:`world_size` (as :class:`~torch.utils.data.DistributedSampler`
    does) and dealt round-robin, so every rank gets the same number of
    nodes, hence of batches and of gradient all-reduces.

    Args:
        nodes (Tensor): Node ids ``[M]`` or a boolean mask.
        rank (int), world_size (int): This process and the job size.
        seed (int, optional): Shuffle seed (e.g. ``base_seed + epoch``).
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"'rank' must be in [0, {world_size}), got {rank}")
    if nodes.dtype == torch.bool:
        nodes = nodes.nonzero().view(-1)
    if nodes.numel() < world_size:
        raise ValueError(f"Cannot split {nodes.numel()} seed nodes across "
                         f"{world_size} processes")
    if seed is not None:
        gen = torch.Generator().manual_seed(seed)
        nodes = nodes.index_select(0, torch.randperm(nodes.numel(),
                                                     generator=gen))
    pad = -nodes.numel() % world_size
    if pad:
        nodes = torch.cat([nodes, nodes[:pad]])
    return nodes[rank::world_size].clone()


def all_reduce_mean(value: float) -> float:
    r"""The mean of a Python float over all ranks (the value itself outside
    a process group); used to make epoch losses, hence early stopping,
    identical on every rank."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return value
    t = torch.tensor([value], dtype=torch.float64)
    if dist.get_backend() == 'nccl':
        t = t.cuda()
    dist.all_reduce(t)
    return t.item() / dist.get_world_size()
