"""DistributedDataParallel set-up for `torchrun --nproc_per_node N` (gloo on the CPU, NCCL on CUDA).

Only rank 0 writes metrics, checkpoints and progress; the others train their shard and wait."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(device: torch.device) -> torch.device:
    """Join the process group torchrun describes; returns this rank's device."""
    if dist.is_initialized():
        return device
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return device


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    return rank() == 0


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def _collective_device() -> torch.device:
    # NCCL only moves CUDA tensors; gloo takes CPU ones.
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def broadcast_flag(value: bool) -> bool:
    """Rank 0's value of a flag (e.g. "stop now"), on every rank."""
    if not is_distributed():
        return value
    tensor = torch.tensor([1 if value else 0], device=_collective_device())
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())


def all_reduce_mean(values: torch.Tensor) -> torch.Tensor:
    if not is_distributed():
        return values
    values = values.to(_collective_device())
    dist.all_reduce(values)
    return (values / world_size()).cpu()
