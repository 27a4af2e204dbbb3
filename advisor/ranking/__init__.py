"""Ranking engine: needs + weights + hard limits -> ranked models with reasons (pure Python)."""
