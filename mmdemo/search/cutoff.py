"""What a result's ``match`` means: per-model calibration constants and the strength cuts.

``match`` (:mod:`mmdemo.search.calibration`) is a logistic function of a result's
first-stage similarity, fitted per model and per query mode (text, image, text + image,
negative prompt) on labelled offline pairs with true and false matches weighted equally
(``bench/calibrate_match.py`` sets :data:`CALIBRATION` and :data:`LEXICAL_SLOPES`; see
bench/README.md, "One score: match"): 0.5 is a similarity as typical of a true match as of
a false one, whatever the mode, so the same value means the same strength everywhere and
one pair of cuts (:data:`STRONG_MATCH`, :data:`FAIR_MATCH`) names it in words.

With captions counting (:mod:`mmdemo.search.hybrid`), a captioned result's similarity is
the fused image + caption cosine, which sits higher than an image cosine of the same
strength: it is lowered by the amount the recall-80 cut of fused scores rose over the
image-only cut on held-out clipart at that caption weight (:data:`CAPTION_RAISES`,
bench/cutoff_hybrid.py) before the text calibration applies. Words of the query found in
an item's text add :data:`LEXICAL_SLOPES` times the share of query words matched to the
logit. Models not measured here (every Hub model: no weights offline) use
:data:`FALLBACK`, typical CLIP-like cosine scales, and their results say they are not
calibrated.
"""

from __future__ import annotations

#: Query modes with their own calibration.
MODES = ("text", "image", "text+image", "negative")
#: Per embedder key and mode, (slope, intercept) of the logistic match(similarity)
#: (Tux Paint dev, bench/calibrate_match.py).
CALIBRATION: dict[str, dict[str, tuple[float, float]]] = {
    "lite": {
        "text": (20.92, -4.34),
        "image": (23.55, -7.77),
        "text+image": (27.56, -9.72),
        "negative": (16.81, -2.19),
    },
    "lite-b2": {
        "text": (16.37, -3.61),
        "image": (19.49, -7.01),
        "text+image": (22.53, -8.48),
        "negative": (13.98, -1.93),
    },
}
#: Per embedder key, the logit added per unit share of query words an item's text holds
#: (shop and documents demos' dev queries, bench/calibrate_match.py).
LEXICAL_SLOPES: dict[str, float] = {"lite": 3.03, "lite-b2": 3.24}
#: Unmeasured models: midpoints at cosine 0.25 (text), 0.75 (image), 0.5 (text + image).
FALLBACK: dict[str, tuple[float, float]] = {
    "text": (30.0, -7.5),
    "image": (15.0, -11.25),
    "text+image": (20.0, -10.0),
    "negative": (30.0, -7.5),
}
#: The logit an unmeasured model's matched query words add per unit share (as measured).
FALLBACK_LEXICAL_SLOPE = 3.0
#: ``match`` from which a result is a strong match, in every mode: the match 80 % of true
#: text matches reach (the rule of the similarity threshold it replaces; mean of both models).
STRONG_MATCH = 0.48
#: ``match`` from which a result is a fair match (below: weak, folded away on the page):
#: the match 95 % of true text matches reach.
FAIR_MATCH = 0.21
#: Caption weights at which the raises below were measured.
RAISE_WEIGHTS = tuple(round(0.1 * step, 1) for step in range(11))
#: Per embedder key, how far the recall-80 cut of fused scores lies above the image-only cut
#: at each of RAISE_WEIGHTS (clipart dev, bench/cutoff_hybrid.py); interpolated between them.
CAPTION_RAISES: dict[str, tuple[float, ...]] = {
    "lite": (0.0, 0.011, 0.02, 0.026, 0.028, 0.03, 0.031, 0.031, 0.032, 0.032, 0.032),
    "lite-b2": (0.0, 0.011, 0.019, 0.028, 0.031, 0.033, 0.034, 0.034, 0.033, 0.033, 0.033),
}


def strength(match: float) -> str:
    """A match in words: "strong", "fair" or "weak", by the same cuts in every mode."""
    if match >= STRONG_MATCH:
        return "strong"
    return "fair" if match >= FAIR_MATCH else "weak"
