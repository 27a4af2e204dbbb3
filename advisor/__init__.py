"""Vision Advisor: pick a pretrained vision model by more than ImageNet accuracy."""

__version__ = "0.1.0"
