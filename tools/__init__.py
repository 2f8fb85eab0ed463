"""Build-time tools: nothing here is imported by the app."""
