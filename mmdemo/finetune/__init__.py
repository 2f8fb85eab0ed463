"""Fine-tuning an embedder on a collection's own (caption, image) pairs.

The pipeline: :mod:`pairs` (captions -> pairs -> train / held-out split), :mod:`recipes`
(what trains and the defaults, per model family), :mod:`trainer` (sentence-transformers'
trainer with MultipleNegativesRankingLoss), :mod:`run` (before/after evaluation through
:mod:`mmdemo.evaluate`), :mod:`card` (the model card) and :mod:`hub` (push to the Hub).
"""
