"""mmdemo: multimodal visual search demos.

The pipeline: ingest -> embed -> store -> search -> rerank -> present.
"""
