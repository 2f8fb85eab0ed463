"""Evaluation: retrieval metrics (pure) and the runner that scores models on a queries file."""
