"""Where the ImageNet backbone files are kept, without importing torch (the app's Train panel asks this while
labelling): torch hub's cache folder and torchvision's file name of each backbone's default ImageNet weights.

:func:`engine.model.weights.imagenet_cache_path` asks torchvision itself; a test holds the two together.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

# torchvision's ``get_model_weights(backbone).DEFAULT`` file of each backbone of engine.model.config.BACKBONES.
IMAGENET_FILES = {"resnet18": "resnet18-f37072fd.pth", "resnet34": "resnet34-b627a593.pth",
                  "resnet50": "resnet50-11ad3fa6.pth", "resnet101": "resnet101-cd907fc2.pth"}


def torch_hub_dir() -> Path:
    """``torch.hub.get_dir()``: torch's own answer once torch is loaded (it may have been set), else the same rule:
    ``$TORCH_HOME/hub``, ``$TORCH_HOME`` defaulting to ``$XDG_CACHE_HOME/torch`` (``~/.cache/torch``)."""
    hub = sys.modules.get("torch.hub")
    if hub is not None:
        return Path(hub.get_dir())
    home = os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch"))
    return Path(os.path.expanduser(home)) / "hub"


def imagenet_cache_path(backbone: str) -> Path:
    """Where torch hub keeps (or would keep) the ImageNet file of ``backbone``: place it there by hand offline."""
    if backbone not in IMAGENET_FILES:
        from engine.model.weights import imagenet_cache_path as from_torchvision

        return from_torchvision(backbone)
    return torch_hub_dir() / "checkpoints" / IMAGENET_FILES[backbone]
