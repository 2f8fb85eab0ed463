"""Stored reranker features: each image's per-image reranker inputs, computed once.

A reranker that can split its score into a per-image part and a per-query part (the
offline ``lite`` reranker: view-averaged class log-probabilities and mean pooled CNN
features) keeps the per-image part here, one ``.npy`` row per image under
``<data_dir>/features/<reranker>/<layout>/<id[:2]>/<id>.npy``. Item ids are the sha256 of the
image bytes, so a row is valid for every collection holding that image. Rows are written
when an image is indexed with an embedder the reranker builds on
(:mod:`mmdemo.ingest.embedding`), and on first use for images indexed before that (see
:meth:`mmdemo.rerank.Reranker.score_parts`).

One job a module: :mod:`.rows` stores and reads the rows of one reranker and layout,
:mod:`.cache` keeps those a loaded reranker used lately in memory, :mod:`.sweep` finds and
removes the rows of images no item holds (deletes, ``gc``).
"""
