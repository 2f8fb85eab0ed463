"""mmdemo: multimodal visual search demos.

The pipeline: ingest -> embed -> store -> search -> rerank -> present.
"""

import os

# Torch's OpenMP threads spin while they wait for work by default, taking the CPU that the
# indexer's producer thread (decoding, thumbnails) needs beside them; waiting passively
# made indexing 5-10 % faster on 2 cores (bench/README.md, "Preparing ahead"). It must be
# set before torch starts OpenMP, and this module is imported before ours imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
