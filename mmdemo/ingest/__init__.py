"""Ingest: turn files, folders and zip archives into validated images ready to embed and store."""
