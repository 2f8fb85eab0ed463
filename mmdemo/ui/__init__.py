"""The Gradio web app: one module per tab, plus the context and helpers they share.

Every handler calls the library (ingest, search, store, evaluate) and only turns its
results into components; no search logic lives here. Import this package after
``GRADIO_ANALYTICS_ENABLED`` is set (``app.py`` does so): its modules import gradio.
"""
