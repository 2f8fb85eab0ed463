"""mmdemo: multimodal visual search demos.

The pipeline: ingest -> embed -> store -> search -> rerank -> present. Importing the
package changes nothing in the host process; the app and the command line set up the
process they own (:func:`mmdemo.models.threads.wait_passively`).
"""
