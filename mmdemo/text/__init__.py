"""Text that matches exactly: a lexical (BM25) index per collection over each item's text.

``words`` splits and stems text and reads a query's quoted phrases; ``documents`` says which
text an item has; ``index`` holds the BM25 index of one collection; ``persist`` keeps it in
the data dir, in step with the store's writes.
"""
