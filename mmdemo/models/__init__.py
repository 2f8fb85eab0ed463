"""Models: the preset registry, the one loading path, and the offline `lite` models."""
