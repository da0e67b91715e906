"""Query-by-example at scale: nearest neighbours of embeddings, with metadata.

- :class:`EmbeddingIndex`: an index of embedding vectors (and optional per-item
  metadata) answering ``kneighbors`` like scikit-learn's ``NearestNeighbors``,
  either exactly (chunked PyTorch matmul + top-k, on the GPU when present) or
  approximately with faiss (``pip install "sklearn-musemb[scale]"``: flat, IVF or
  HNSW indexes, or any faiss factory string). ``search`` embeds raw inputs with a
  fitted ``embedder`` and returns the hits with their metadata as a table;
  ``save``/``load`` use one ``.npz`` file without pickle.
"""

from .index import AUTO_FAISS_MIN_SAMPLES, FAISS_INDEXES, EmbeddingIndex

__all__ = ["AUTO_FAISS_MIN_SAMPLES", "FAISS_INDEXES", "EmbeddingIndex"]
