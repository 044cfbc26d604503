"""ResYOLO engine: a ResNet-backbone YOLO detector in pure PyTorch (no Qt)."""
__version__ = "0.1.0"
