"""Synthetic demo data for Nightjar: `generate_world` writes landing files and their hidden truth."""

from pipeline.demo.world import WorldSummary, generate_world

__all__ = ["WorldSummary", "generate_world"]
