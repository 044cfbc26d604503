"""Device choice: ``auto`` takes the local CUDA GPU when there is one, else the CPU."""
from __future__ import annotations

import functools
import re
from pathlib import Path
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


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX-BF16, from Linux's /proc/cpuinfo). There
    bfloat16 autocast about halves a ResNet training step; elsewhere oneDNN emulates it, slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", flags) is not None
