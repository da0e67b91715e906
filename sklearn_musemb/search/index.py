"""An index of embeddings for query-by-example: exact (PyTorch) or approximate (faiss).

:class:`EmbeddingIndex` holds embedding vectors, optionally one metadata row per
vector, and answers ``kneighbors`` the way scikit-learn's
``NearestNeighbors(algorithm="brute")`` does (distances ascending, row indices):

- ``backend="exact"`` runs on the torch device (``device="auto"``: CUDA when
  present). Queries go in chunks; each chunk costs one matrix product against all
  vectors and one ``torch.topk``, so memory holds ``chunk x n_samples`` scores, never
  ``n_queries x n_samples``. Euclidean candidates are chosen with the expansion
  ``|x|^2 - 2 q.x`` and their distances then recomputed directly from ``q - x``, so the
  reported distances carry no cancellation error.
- ``backend="faiss"`` builds a faiss index on the CPU (``pip install
  "sklearn-musemb[scale]"``): ``"Flat"`` (exact), ``"IVF"`` (inverted lists,
  ``n_lists`` / ``n_probe``), ``"HNSW"`` (graph, ``hnsw_m`` / ``hnsw_ef_search``) or
  any faiss factory string. Distances of the hits are recomputed exactly as above.

Cosine distance is ``1 - cos``: vectors are L2-normalised and compared by inner
product (zero vectors stay zero, at distance 1 from everything, as in
scikit-learn).

``save``/``load`` write one ``.npz`` file read back with ``allow_pickle=False``:
the vectors, the metadata columns (numbers, booleans, dates or strings) and a JSON
header with the parameters and the package version. A faiss structure is rebuilt
on load, not stored (reading faiss's binary format would trust the file), and the
``embedder`` is not stored.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.torch_utils import check_device, resolve_device, seed_from
from ..utils.validation import check_positive_int

#: Metrics of the index.
METRICS = ("euclidean", "cosine")
#: Values of ``backend``.
BACKENDS = ("exact", "faiss", "auto")
#: Named faiss structures; any other ``faiss_index`` is a faiss factory string.
FAISS_INDEXES = ("Flat", "IVF", "HNSW")
#: ``backend="auto"`` uses faiss from this many vectors on (on CPU, if installed).
AUTO_FAISS_MIN_SAMPLES = 100_000
#: Columns of :meth:`EmbeddingIndex.search` before the metadata columns.
RESULT_COLUMNS = ("query", "rank", "index", "distance")

#: Scores held at once by the exact backend when ``chunk_size=None``.
_BLOCK_ENTRIES = {"cpu": 2**26, "cuda": 2**28}
#: Queries per faiss call (bounds the memory of the exact re-scoring of hits).
_FAISS_BLOCK = 65_536
#: Identifies the files written by :meth:`EmbeddingIndex.save`.
_FORMAT = "sklearn_musemb.search.EmbeddingIndex"
_FORMAT_VERSION = 1
#: dtype kinds a metadata column may have in a saved file (no object arrays).
_STORABLE_KINDS = "biufcUMm"
_OWNER = "EmbeddingIndex"


def _import_faiss() -> Any:
    """faiss, or an ImportError that says how to install it."""
    try:
        return importlib.import_module("faiss")
    except ImportError as error:
        raise ImportError(
            "EmbeddingIndex(backend='faiss') needs faiss, which is not installed: "
            "pip install 'sklearn-musemb[scale]' (or pip install faiss-cpu)"
        ) from error


def _faiss_available() -> bool:
    try:
        _import_faiss()
    except ImportError:
        return False
    return True


def _normalized(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; (near-)zero rows stay (near) zero."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return (X / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _check_metadata(metadata: Any, n: int) -> dict[str, np.ndarray] | None:
    """Metadata as an ordered dict of 1-d column arrays of length ``n``."""
    if metadata is None:
        return None
    if hasattr(metadata, "columns") and hasattr(metadata, "iloc"):  # a DataFrame
        names = [str(name) for name in metadata.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{_OWNER}: metadata has duplicate column names: {names}")
        columns = {name: metadata.iloc[:, i].to_numpy() for i, name in enumerate(names)}
    elif isinstance(metadata, Mapping):
        columns = {}
        for name, values in metadata.items():
            if not isinstance(name, str):
                raise ValueError(
                    f"{_OWNER}: metadata column names must be strings, got {name!r}"
                )
            columns[name] = np.asarray(values)
    else:
        values = np.asarray(metadata)
        if values.ndim != 1:
            raise ValueError(
                f"{_OWNER}: metadata must be a pandas DataFrame, a dict of "
                "equal-length 1-d arrays, a 1-d array-like (one column) or None; "
                f"got an array of shape {values.shape}"
            )
        name = getattr(metadata, "name", None)  # a pandas Series keeps its name
        columns = {name if isinstance(name, str) else "label": values}
    checked = {}
    for name, values in columns.items():
        if name in RESULT_COLUMNS:
            raise ValueError(
                f"{_OWNER}: metadata column {name!r} clashes with a result column "
                f"of search {RESULT_COLUMNS}; rename it"
            )
        if values.ndim != 1:
            raise ValueError(
                f"{_OWNER}: metadata column {name!r} must be 1-d, got shape "
                f"{values.shape}"
            )
        if len(values) != n:
            raise ValueError(
                f"{_OWNER}: metadata column {name!r} has {len(values)} rows but "
                f"embeddings has {n}"
            )
        checked[name] = np.array(values, copy=True)
    return checked


def _storable_column(name: str, values: np.ndarray) -> np.ndarray:
    """A metadata column as an array that ``np.save`` writes without pickle."""
    if values.dtype.kind in _STORABLE_KINDS:
        return values
    if values.dtype.kind == "O" and all(isinstance(v, str) for v in values):
        return values.astype(str)
    raise ValueError(
        f"{_OWNER}.save: metadata column {name!r} holds {values.dtype} values that "
        "are not all numbers or strings (missing values? objects?), which cannot "
        "be saved without pickle; convert the column (e.g. to str) before fitting"
    )


def _jsonable(name: str, value: Any) -> Any:
    """A parameter value as JSON, or a ValueError naming the parameter."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, torch.device):
        return str(value)
    raise ValueError(
        f"{_OWNER}.save: parameter {name}={value!r} cannot be written as JSON; set "
        "it to a number, a string or None before saving"
    )


class EmbeddingIndex(BaseEstimator):
    """Nearest-neighbour index of embeddings, exact (PyTorch) or approximate (faiss).

    Fit on the embeddings of a collection (and per-item metadata), then query it
    with embeddings (:meth:`kneighbors`) or with raw inputs that a fitted
    ``embedder`` turns into embeddings (:meth:`search`).

    Parameters
    ----------
    metric : {"euclidean", "cosine"}, default="euclidean"
        Cosine distance is ``1 - cos``, in [0, 2].
    backend : {"auto", "exact", "faiss"}, default="auto"
        ``"exact"``: chunked matmul + top-k with torch on ``device``. ``"faiss"``:
        a faiss index on the CPU (see ``faiss_index``; needs ``pip install
        "sklearn-musemb[scale]"``). ``"auto"``: exact on a CUDA device or below
        :data:`AUTO_FAISS_MIN_SAMPLES` vectors, otherwise faiss if it is
        installed (exact if not). The choice is recorded in ``backend_``.
    device : str or torch.device, default="auto"
        Torch device of the exact backend; ``"auto"`` picks CUDA when present.
    chunk_size : int or None, default=None
        Queries scored at once by the exact backend. None takes as many as keep
        the block of scores under 2**26 entries (256 MiB of float32; 2**28 on
        CUDA). Read at query time: ``set_params`` changes it without refitting.
    faiss_index : str, default="IVF"
        Structure of the faiss backend: ``"Flat"`` (exact), ``"IVF"`` (inverted
        lists of flat vectors: k-means cells, ``n_probe`` of them searched per
        query), ``"HNSW"`` (a navigable graph of ``hnsw_m`` links per vector), or
        any string of ``faiss.index_factory`` (``"IVF1024,PQ16"``,
        ``"HNSW32,Flat"``...), built with the metric's faiss metric.
    n_lists : int or None, default=None
        Cells of ``"IVF"``; None takes ``sqrt(n_samples)`` (at most
        ``n_samples // 39``, so k-means has 39 points per cell as faiss asks).
    n_probe : int, default=8
        Cells searched per query by an IVF structure (also one made from a
        factory string); more is slower and recalls more. Read at query time.
    hnsw_m : int, default=32
        Links per vector of ``"HNSW"``.
    hnsw_ef_search : int, default=64
        Candidate list of an HNSW search (at least ``n_neighbors`` is used); more
        is slower and recalls more. Read at query time.
    embedder : transformer or None, default=None
        A fitted transformer (an embedder of this package, a ``Pipeline``...)
        whose ``transform`` turns the inputs of :meth:`search` into embeddings of
        the index's width. It is not refitted; :meth:`save` does not store it.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means of IVF structures. HNSW builds on several threads are
        not bit-reproducible.

    Attributes
    ----------
    n_samples_fit_ : int
        Vectors in the index.
    n_features_in_ : int
        Width of the vectors.
    feature_names_in_ : ndarray of str
        Column names, when the embeddings were a DataFrame with string columns.
    vectors_ : ndarray of shape (``n_samples_fit_``, ``n_features_in_``), float32
        The indexed vectors, as given (not normalised).
    metadata_ : dict of str to ndarray, or None
        Metadata columns, one row per vector.
    backend_ : {"exact", "faiss"}
        The backend in use.
    device_ : str
        Where queries are scored (``"cpu"`` for the faiss backend).
    n_lists_ : int or None
        Cells of a ``faiss_index="IVF"`` structure, else None.

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : exact neighbours on the CPU, many metrics.

    Notes
    -----
    Hits an approximate structure cannot fill (an IVF search whose ``n_probe``
    cells hold fewer than ``n_neighbors`` vectors) come back as index -1 at
    distance inf. ``clone`` clones ``embedder`` as well, and the clone is
    unfitted, as for any scikit-learn meta-estimator; set it again afterwards.
    Pickles rebuild the torch tensors lazily and keep a faiss structure as
    faiss's own bytes; :meth:`save` is the format meant for sharing.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.search import EmbeddingIndex
    >>> vectors = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> index = EmbeddingIndex(device="cpu").fit(vectors, {"title": ["a", "b", "c"]})
    >>> distances, indices = index.kneighbors([[0.9, 0.1]], n_neighbors=2)
    >>> indices
    array([[1, 0]])
    >>> distances.round(3)
    array([[0.141, 0.906]], dtype=float32)
    >>> index.metadata_["title"][indices[0]]
    array(['b', 'a'], dtype='<U1')
    """

    def __init__(
        self,
        metric: str = "euclidean",
        backend: str = "auto",
        device: str | torch.device = "auto",
        chunk_size: int | None = None,
        faiss_index: str = "IVF",
        n_lists: int | None = None,
        n_probe: int = 8,
        hnsw_m: int = 32,
        hnsw_ef_search: int = 64,
        embedder: Any = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.metric = metric
        self.backend = backend
        self.device = device
        self.chunk_size = chunk_size
        self.faiss_index = faiss_index
        self.n_lists = n_lists
        self.n_probe = n_probe
        self.hnsw_m = hnsw_m
        self.hnsw_ef_search = hnsw_ef_search
        self.embedder = embedder
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting

    def fit(self, embeddings: Any, metadata: Any = None) -> EmbeddingIndex:
        """Index ``embeddings``, one metadata row per vector.

        Parameters
        ----------
        embeddings : array-like of shape (n_samples, n_features)
            Finite real vectors; stored as float32.
        metadata : pandas.DataFrame, dict of str to array-like, array-like or None
            One row per vector: a DataFrame (its columns; the row index is
            ignored, rows match by position), a dict of equal-length 1-d arrays,
            or a 1-d array-like (a column named ``"label"``, or the name of a
            pandas Series; this is where a scikit-learn ``y`` lands).

        Returns
        -------
        self : EmbeddingIndex

        Raises
        ------
        ValueError
            On NaN or infinite embeddings, an array that is not 2-d or empty,
            metadata of the wrong length or shape, a metadata column named like a
            result column (``query``, ``rank``, ``index``, ``distance``), or an
            unknown option.
        ImportError
            With ``backend="faiss"`` when faiss is not installed.
        """
        X = check_array(
            embeddings, dtype=np.float32, copy=True, input_name="embeddings"
        )
        columns = _check_metadata(metadata, len(X))
        self._build(X, columns)
        # after the build, so that a failed fit leaves a fitted index as it was
        validate_data(self, embeddings, skip_check_array=True, reset=True)
        return self

    def _check_params(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(
                f"{_OWNER}: metric must be one of {METRICS}, got {self.metric!r}"
            )
        if self.backend not in BACKENDS:
            raise ValueError(
                f"{_OWNER}: backend must be one of {BACKENDS}, got {self.backend!r}"
            )
        if self.chunk_size is not None:
            check_positive_int(self.chunk_size, "chunk_size", _OWNER)
        if not isinstance(self.faiss_index, str) or not self.faiss_index:
            raise ValueError(
                f"{_OWNER}: faiss_index must be one of {FAISS_INDEXES} or a faiss "
                f"factory string, got {self.faiss_index!r}"
            )
        if self.n_lists is not None:
            check_positive_int(self.n_lists, "n_lists", _OWNER)
        for name in ("n_probe", "hnsw_m", "hnsw_ef_search"):
            check_positive_int(getattr(self, name), name, _OWNER)

    def _resolve_backend(self, n: int, device: str) -> str:
        if self.backend != "auto":
            return self.backend
        if device.startswith("cuda") or n < AUTO_FAISS_MIN_SAMPLES:
            return "exact"
        return "faiss" if _faiss_available() else "exact"

    def _build(self, X: np.ndarray, metadata: dict[str, np.ndarray] | None) -> None:
        """Set the fitted state from checked vectors and metadata."""
        self._check_params()
        device = check_device(self.device, _OWNER)
        backend = self._resolve_backend(len(X), device)
        faiss_index, n_lists = (
            self._build_faiss(X) if backend == "faiss" else (None, None)
        )
        # the state changes only once the build has succeeded
        self._clear_caches()
        self.vectors_ = X
        self.metadata_ = metadata
        self.n_samples_fit_ = len(X)
        self.n_lists_ = n_lists
        self.backend_ = backend
        if backend == "faiss":
            self.device_ = "cpu"
            self._faiss_index = faiss_index
        else:
            self.device_ = device
            self._exact_tensors()  # moved to the device now, timed with the fit

    def _build_faiss(self, X: np.ndarray) -> tuple[Any, int | None]:
        """The faiss structure of ``X`` and its number of IVF cells (if named)."""
        faiss = _import_faiss()
        n, d = X.shape
        cosine = self.metric == "cosine"
        metric = faiss.METRIC_INNER_PRODUCT if cosine else faiss.METRIC_L2
        data = _normalized(X) if cosine else X
        kind = self.faiss_index
        n_lists = None
        try:
            if kind == "Flat":
                index = faiss.IndexFlat(d, metric)
            elif kind == "IVF":
                n_lists = self.n_lists or max(1, min(round(math.sqrt(n)), n // 39))
                if n_lists > n:
                    raise ValueError(
                        f"{_OWNER}: n_lists={n_lists} cells for {n} vectors; "
                        "use at most one cell per vector (ideally 39+ per cell)"
                    )
                quantizer = faiss.IndexFlat(d, metric)
                index = faiss.IndexIVFFlat(quantizer, d, n_lists, metric)
            elif kind == "HNSW":
                index = faiss.IndexHNSWFlat(d, int(self.hnsw_m), metric)
            else:
                index = faiss.index_factory(d, kind, metric)
            ivf = faiss.try_extract_index_ivf(index)
            if ivf is not None:
                ivf.cp.seed = seed_from(self.random_state)
            if not index.is_trained:
                index.train(data)
            index.add(data)
        except RuntimeError as error:
            raise ValueError(
                f"{_OWNER}: faiss could not build faiss_index={kind!r} on {n} "
                f"vectors of width {d}: {error}"
            ) from error
        return index, n_lists

    # ---------------------------------------------------------------- querying

    def kneighbors(
        self, queries: Any, n_neighbors: int = 10, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """The ``n_neighbors`` nearest indexed vectors of each query.

        Parameters
        ----------
        queries : array-like of shape (n_queries, n_features)
            Finite embeddings of the index's width.
        n_neighbors : int, default=10
            Hits per query; at most ``n_samples_fit_``.
        return_distance : bool, default=True
            Return the distances too.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), float32
            Ascending per row; only when ``return_distance``.
        indices : ndarray of shape (n_queries, n_neighbors), int64
            Rows of the fitted embeddings (-1 where an approximate structure
            found too few).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        ValueError
            On NaN or infinite queries, a width other than the index's, or
            ``n_neighbors`` not in 1..n_samples_fit_.
        """
        check_is_fitted(self)
        Q = check_array(queries, dtype=np.float32, input_name="queries")
        if Q.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{_OWNER}: queries have {Q.shape[1]} features but the index holds "
                f"vectors of {self.n_features_in_}"
            )
        validate_data(self, queries, skip_check_array=True, reset=False)
        k = check_positive_int(n_neighbors, "n_neighbors", _OWNER)
        if k > self.n_samples_fit_:
            raise ValueError(
                f"{_OWNER}: n_neighbors={k} but the index holds only "
                f"{self.n_samples_fit_} vectors"
            )
        self._check_params()
        if self.backend_ == "faiss":
            distances, indices = self._faiss_kneighbors(Q, k)
        else:
            distances, indices = self._exact_kneighbors(Q, k)
        return (distances, indices) if return_distance else indices

    def _chunk_rows(self) -> int:
        if self.chunk_size is not None:
            return int(self.chunk_size)
        budget = _BLOCK_ENTRIES["cuda" if self.device_.startswith("cuda") else "cpu"]
        return max(1, budget // self.n_samples_fit_)

    def _exact_tensors(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The vectors on the device (unit rows for cosine) and squared norms."""
        cached = vars(self).get("_torch_vectors")
        if cached is None:
            X = torch.from_numpy(self.vectors_).to(self.device_)
            if self.metric == "cosine":
                X = torch.nn.functional.normalize(X, dim=1)
                self._torch_sq_norms = None
            else:
                self._torch_sq_norms = (X * X).sum(dim=1)
            self._torch_vectors = cached = X
        return cached, self._torch_sq_norms

    def _exact_kneighbors(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        """Chunks of queries scored on the device; one copy in, one copy out.

        The queries go to the device once and the hits stay there until the
        end, so the chunks run without a host sync between them.
        """
        X, sq_norms = self._exact_tensors()
        step = self._chunk_rows()
        with torch.inference_mode():
            queries = torch.from_numpy(Q).to(self.device_)
            shape, device = (len(Q), k), self.device_
            distances = torch.empty(shape, dtype=torch.float32, device=device)
            indices = torch.empty(shape, dtype=torch.int64, device=device)
            for start in range(0, len(Q), step):
                q = queries[start : start + step]
                if self.metric == "cosine":
                    q = torch.nn.functional.normalize(q, dim=1)
                    similarity, idx = torch.topk(q @ X.T, k, dim=1)
                    dist = (1.0 - similarity).clamp_(0.0, 2.0)
                else:
                    # |x|^2 - 2 q.x ranks rows as |q - x|^2 does (|q|^2 is constant)
                    scores = torch.addmm(sq_norms, q, X.T, alpha=-2.0)
                    _, idx = torch.topk(scores, k, dim=1, largest=False)
                    dist = (q[:, None, :] - X[idx]).square_().sum(-1).sqrt_()
                    dist, order = torch.sort(dist, dim=1, stable=True)
                    idx = torch.gather(idx, 1, order)
                distances[start : start + len(q)] = dist
                indices[start : start + len(q)] = idx
        return distances.cpu().numpy(), indices.cpu().numpy()

    def _faiss_kneighbors(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        faiss = _import_faiss()
        index = self._faiss_index
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            ivf.nprobe = min(int(self.n_probe), ivf.nlist)
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = max(int(self.hnsw_ef_search), k)
        cosine = self.metric == "cosine"
        distances = np.empty((len(Q), k), dtype=np.float32)
        indices = np.empty((len(Q), k), dtype=np.int64)
        for start in range(0, len(Q), _FAISS_BLOCK):
            q = np.ascontiguousarray(Q[start : start + _FAISS_BLOCK])
            if cosine:
                q = _normalized(q)
            _, idx = index.search(q, k)
            found = idx >= 0
            hits = self.vectors_[np.where(found, idx, 0)]
            if cosine:
                flat = _normalized(hits.reshape(-1, hits.shape[-1]))
                similarity = np.einsum("qd,qkd->qk", q, flat.reshape(hits.shape))
                dist = np.clip(1.0 - similarity, 0.0, 2.0)
            else:
                dist = np.sqrt(np.square(q[:, None, :] - hits).sum(-1))
            dist = np.where(found, dist, np.inf).astype(np.float32)
            order = np.argsort(dist, axis=1, kind="stable")
            stop = start + len(q)
            distances[start:stop] = np.take_along_axis(dist, order, axis=1)
            indices[start:stop] = np.take_along_axis(idx, order, axis=1)
        return distances, indices

    def search(self, X: Any, n_neighbors: int = 10) -> Any:
        """Embed ``X`` with ``embedder`` and return each query's hits with metadata.

        Parameters
        ----------
        X : input of ``embedder.transform``
            Raw queries (units, audio features, ... whatever the embedder takes).
        n_neighbors : int, default=10
            Hits per query.

        Returns
        -------
        hits : pandas.DataFrame, or dict of str to ndarray without pandas
            One row per (query, hit), ordered by query then rank, with columns
            ``query`` (row of ``X``), ``rank`` (1 = nearest), ``index`` (row of
            the fitted embeddings), ``distance``, then the metadata columns of the
            hit. Hits an approximate structure could not fill are left out.

        Raises
        ------
        ValueError
            Without an ``embedder``, or when its output does not fit the index.
        NotFittedError
            Before :meth:`fit` (or from an unfitted embedder).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.array([[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [0.0, 3.0, 1.0]])
        >>> pca = PCA(n_components=2).fit(X)
        >>> index = EmbeddingIndex(embedder=pca, device="cpu")
        >>> index = index.fit(pca.transform(X), {"title": ["a", "b", "c"]})
        >>> hits = index.search([[1.9, 0.1, 1.0]], n_neighbors=2)
        >>> hits["index"].tolist(), hits["title"].tolist()
        ([1, 0], ['b', 'a'])
        """
        check_is_fitted(self)
        if self.embedder is None:
            raise ValueError(
                f"{_OWNER}.search needs an embedder: set embedder= to a fitted "
                "transformer whose transform gives the index's embeddings, or call "
                "kneighbors with embeddings"
            )
        distances, indices = self.kneighbors(
            self.embedder.transform(X), n_neighbors=n_neighbors
        )
        n_queries, k = indices.shape
        keep = (indices >= 0).ravel()
        columns: dict[str, np.ndarray] = {
            "query": np.repeat(np.arange(n_queries), k)[keep],
            "rank": np.tile(np.arange(1, k + 1), n_queries)[keep],
            "index": indices.ravel()[keep],
            "distance": distances.ravel()[keep],
        }
        for name, values in (self.metadata_ or {}).items():
            columns[name] = values[columns["index"]]
        try:
            import pandas
        except ImportError:
            return columns
        return pandas.DataFrame(columns)

    # ------------------------------------------------------------- persistence

    def save(self, path: str | Path) -> Path:
        """Write the index to one ``.npz`` file, readable without pickle.

        The file holds the vectors, the metadata columns and a JSON header (the
        parameters other than ``embedder``, the package version, the shapes).
        Not stored: the ``embedder`` (set it again after :meth:`load`) and any
        faiss structure (:meth:`load` rebuilds it from the vectors, so loading an
        IVF or HNSW index takes the build time again).

        Parameters
        ----------
        path : str or Path
            Written exactly there (no suffix is added; ``.npz`` is customary).

        Returns
        -------
        Path

        Raises
        ------
        ValueError
            When a metadata column holds objects other than strings (NumPy would
            need pickle for them) or a parameter cannot be written as JSON (a
            ``RandomState`` instance as ``random_state``).

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> index = EmbeddingIndex(device="cpu").fit(np.eye(3), {"id": [7, 8, 9]})
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = index.save(Path(tmp) / "index.npz")
        ...     again = EmbeddingIndex.load(path)
        >>> again.kneighbors(np.eye(3)[:1], n_neighbors=1, return_distance=False)
        array([[0]])
        >>> again.metadata_["id"]
        array([7, 8, 9])
        """
        check_is_fitted(self)
        from .. import __version__

        params = {
            name: _jsonable(name, value)
            for name, value in self.get_params(deep=False).items()
            if name != "embedder"
        }
        metadata = self.metadata_ or {}
        names = getattr(self, "feature_names_in_", None)
        header = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "package_version": __version__,
            "n_samples": int(self.n_samples_fit_),
            "n_features": int(self.n_features_in_),
            "feature_names_in": None if names is None else [str(n) for n in names],
            "metadata_columns": list(metadata),
            "params": params,
        }
        arrays = {
            "header": np.array(json.dumps(header)),
            "vectors": self.vectors_,
        }
        for i, (name, values) in enumerate(metadata.items()):
            arrays[f"metadata_{i}"] = _storable_column(name, values)
        path = Path(path)
        with path.open("wb") as file:
            np.savez(file, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> EmbeddingIndex:
        """Read an index written by :meth:`save` (with ``allow_pickle=False``).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        EmbeddingIndex
            Fitted, with ``embedder=None``; a faiss structure is rebuilt here.

        Raises
        ------
        FileNotFoundError
            If ``path`` is not a file.
        ValueError
            If the file is not one :meth:`save` wrote or was altered: not an
            ``.npz`` readable without pickle, no or a foreign header, missing or
            extra arrays, shapes or dtypes that disagree with the header,
            non-finite vectors, unknown parameters.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{_OWNER}.load: no file at {path}")
        arrays = _read_npz(path)
        header = _read_header(arrays, path)
        n, d = header["n_samples"], header["n_features"]
        columns = header["metadata_columns"]
        expected = {
            "header",
            "vectors",
            *(f"metadata_{i}" for i in range(len(columns))),
        }
        if set(arrays) != expected:
            raise ValueError(
                f"{path} is not a valid {_OWNER} file: arrays {sorted(arrays)}, "
                f"expected {sorted(expected)}"
            )
        vectors = arrays["vectors"]
        if vectors.dtype != np.float32 or vectors.shape != (n, d):
            raise ValueError(
                f"{path} is not a valid {_OWNER} file: vectors are {vectors.dtype} "
                f"{vectors.shape}, the header says float32 ({n}, {d})"
            )
        if not np.isfinite(vectors).all():
            raise ValueError(f"{path}: the stored vectors contain NaN or infinity")
        metadata = {}
        if len(set(columns)) != len(columns):
            raise ValueError(f"{path}: duplicate metadata column names {columns}")
        for i, name in enumerate(columns):
            values = arrays[f"metadata_{i}"]
            if values.shape != (n,) or values.dtype.kind not in _STORABLE_KINDS:
                raise ValueError(
                    f"{path} is not a valid {_OWNER} file: metadata column "
                    f"{name!r} is {values.dtype} {values.shape}, expected ({n},)"
                )
            metadata[name] = values
        params = header["params"]
        known = set(cls().get_params(deep=False)) - {"embedder"}
        if not isinstance(params, dict):
            raise ValueError(f"{path}: the header's params are not a mapping")
        if not set(params) <= known:
            raise ValueError(
                f"{path}: unknown {_OWNER} parameters in the header: "
                f"{sorted(set(params) - known)}"
            )
        index = cls(**params)
        index.n_features_in_ = d
        if header["feature_names_in"] is not None:
            names = np.asarray(header["feature_names_in"], dtype=object)
            if names.shape != (d,):
                raise ValueError(f"{path}: feature_names_in has the wrong length")
            index.feature_names_in_ = names
        metadata = _check_metadata(metadata, n) if metadata else None
        index._build(np.ascontiguousarray(vectors), metadata)
        return index

    # ---------------------------------------------------------------- pickling

    def _clear_caches(self) -> None:
        for name in ("_torch_vectors", "_torch_sq_norms", "_faiss_index"):
            vars(self).pop(name, None)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state = {k: v for k, v in state.items() if not k.startswith("_torch_")}
        if "_faiss_index" in state:
            faiss = _import_faiss()
            state["_faiss_index"] = faiss.serialize_index(state["_faiss_index"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if isinstance(state.get("_faiss_index"), np.ndarray):
            faiss = _import_faiss()
            state["_faiss_index"] = faiss.deserialize_index(state["_faiss_index"])
        if state.get("device") == "auto" and state.get("backend_") == "exact":
            state["device_"] = resolve_device("auto")
        super().__setstate__(state)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, or ValueError if it is not one (no pickle)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # a pickle, random bytes, a truncated zip...
        raise ValueError(
            f"{path} is not an {_OWNER} file (not a NumPy .npz archive readable "
            f"without pickle): {error}"
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an {_OWNER} file: a single .npy array")
    try:
        with archive:
            return {key: archive[key] for key in archive.files}
    except Exception as error:  # object arrays (pickle), corrupt members
        raise ValueError(
            f"{path} is not a valid {_OWNER} file: an array could not be read "
            f"without pickle: {error}"
        ) from error


def _read_header(arrays: dict[str, np.ndarray], path: Path) -> dict[str, Any]:
    """The JSON header of a saved index, checked for the fields ``load`` reads."""
    raw = arrays.get("header")
    if raw is None or raw.shape != () or raw.dtype.kind != "U":
        raise ValueError(f"{path} is not an {_OWNER} file: it has no header")
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the header is not valid JSON: {error}") from error
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError(f"{path} is not an {_OWNER} file: foreign header")
    if header.get("format_version") != _FORMAT_VERSION:
        raise ValueError(
            f"{path}: format version {header.get('format_version')!r}, this "
            f"sklearn-musemb reads version {_FORMAT_VERSION}"
        )
    ok = (
        all(
            isinstance(header.get(key), int) and header[key] >= 1
            for key in ("n_samples", "n_features")
        )
        and isinstance(header.get("metadata_columns"), list)
        and all(isinstance(c, str) for c in header["metadata_columns"])
        and "params" in header
        and "feature_names_in" in header
    )
    if not ok:
        raise ValueError(f"{path} is not a valid {_OWNER} file: malformed header")
    return header
