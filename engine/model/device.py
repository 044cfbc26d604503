"""Device choice: ``auto`` takes the local CUDA GPU when there is one, else the CPU."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    import torch  # here, not at import: the app lists devices only when its Train panel is first shown

    if isinstance(name, torch.device):
        return name
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("CUDA was asked for, but no CUDA GPU is available to PyTorch here; use --device cpu or auto")
    return torch.device(name)


def device_description(device: torch.device) -> str:
    """What a person would call it: the GPU's name, or "CPU"."""
    if device.type == "cuda":
        import torch

        return torch.cuda.get_device_name(device)
    return "CPU"
