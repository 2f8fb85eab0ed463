"""Offline benchmarks and training scripts for the lite models."""
