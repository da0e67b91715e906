"""Fixed-length descriptors of units computed without learning (baselines)."""

from .handcrafted import HandcraftedFeatures

__all__ = ["HandcraftedFeatures"]
