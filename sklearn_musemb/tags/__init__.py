"""Tag sets as vectors: LSI over multi-label tags (gensim) and tag relatedness.

Schindler & Knees (2019) estimate how related two tracks are from their tag sets
(genre, style, mood...) with Latent Semantic Indexing, and select training triplets
by that relatedness. gensim is imported on first use; install it with
``pip install "sklearn-musemb[tags]"``.
"""

from .lsi import LSITagTransformer, tag_relatedness

__all__ = ["LSITagTransformer", "tag_relatedness"]
