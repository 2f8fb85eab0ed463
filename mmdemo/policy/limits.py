"""The limits a caller of the web app meets; README's API section lists them."""

#: Most results one search, compare side or map query may ask for.
TOP_K_MAX = 100
#: Most queries one evaluation runs (inline or from a CSV); from captions, the first ones.
EVALUATE_MAX_QUERIES = 500
#: Most embedding models, or rerankers, one request may name.
MODELS_MAX = 4
#: Longest query text, negative prompt or caption keyword.
TEXT_MAX_CHARS = 2000
#: Longest metadata filter (``where``).
WHERE_MAX_CHARS = 4000
#: Longest name: a collection, a model, a dataset, a column, an item id.
NAME_MAX_CHARS = 200
#: Most dataset rows one index request may ask for.
DATASET_ROWS_MAX = 1_000_000
#: Most files (images, archives, PDFs, a folder's files) one index request may upload.
FILES_MAX = 100_000
#: The most known answers (file names or ids) one comparison takes.
EXPECTED_MAX = 50
