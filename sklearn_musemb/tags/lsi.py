"""LSI over multi-label tag sets and the tag relatedness of Schindler & Knees (2019)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from ..utils.validation import check_positive_int


def _gensim():
    try:
        from gensim.corpora import Dictionary
        from gensim.matutils import corpus2dense
        from gensim.models import LsiModel, TfidfModel
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "LSITagTransformer needs gensim: pip install 'sklearn-musemb[tags]'"
        ) from error
    return Dictionary, corpus2dense, LsiModel, TfidfModel


def _tag_documents(X: Any, owner: str) -> list[list[str]]:
    """One list of distinct string tags per track.

    ``X`` is a sequence of tag iterables (one per track), or a table with one tag
    set per column (a pandas ``DataFrame`` or a 2-d object array): the sets of a
    row are combined, each tag prefixed with its column (``"mood:calm"``), so equal
    words in different sets stay different tags.
    """
    if isinstance(X, str) or not isinstance(X, Iterable):
        raise ValueError(
            f"{owner}: X must be a sequence of tag lists (one per track), got "
            f"{type(X).__name__}"
        )
    if hasattr(X, "columns"):  # DataFrame: one tag set per column
        columns = [str(c) for c in X.columns]
        rows = X.itertuples(index=False, name=None)
    elif isinstance(X, np.ndarray) and X.ndim == 2:
        columns = [str(c) for c in range(X.shape[1])]
        rows = map(tuple, X)
    else:
        columns, rows = None, ([tags] for tags in X)
    documents = []
    for i, row in enumerate(rows):
        document = set()
        for j, tags in enumerate(row):
            if tags is None:
                continue
            if isinstance(tags, str) or not isinstance(tags, Iterable):
                raise ValueError(
                    f"{owner}: track {i} has tags {tags!r}; each track needs an "
                    "iterable of tags (a list of strings), not a single value"
                )
            prefix = f"{columns[j]}:" if columns is not None else ""
            document.update(prefix + str(tag) for tag in tags)
        documents.append(sorted(document))
    if not documents:
        raise ValueError(f"{owner}: found 0 tracks (n_samples=0)")
    return documents


class LSITagTransformer(TransformerMixin, BaseEstimator):
    """Dense LSI vectors of multi-label tag sets (Schindler & Knees 2019, III-B).

    ``fit`` builds a gensim ``Dictionary`` of the training tracks' tags, the binary
    tag x track matrix (optionally TF-IDF weighted) and an ``LsiModel`` of
    ``n_topics`` topics on it; ``transform`` projects tag sets into the topic space.
    Two tracks are related when their LSI vectors point the same way
    (:func:`tag_relatedness`). Tags never seen in ``fit`` are ignored; a track
    with no known tag gets the zero vector.

    Parameters
    ----------
    n_topics : int, default=100
        LSI topics (Schindler & Knees sweep 10..400). If the tag matrix has a lower
        rank, the missing topics are columns of zeros, so the output width is
        always ``n_topics``.
    tfidf : bool, default=False
        Weight the binary tag matrix by TF-IDF before LSI (the paper uses the
        binary matrix).
    power_iters : int, default=2
        Power iterations of gensim's randomized SVD (more: more exact).
    random_state : int or None, default=None
        Seed of the randomized SVD; an int makes fits repeatable.

    Attributes
    ----------
    dictionary_ : gensim.corpora.Dictionary
        The training tags.
    lsi_ : gensim.models.LsiModel
    tfidf_ : gensim.models.TfidfModel or None
    n_tags_ : int
        Distinct training tags.
    n_features_out_ : int
        ``n_topics``.

    See Also
    --------
    tag_relatedness : cosine of the LSI vectors, as a pairwise kernel.

    Examples
    --------
    >>> from sklearn_musemb.tags import LSITagTransformer, tag_relatedness
    >>> tags = [["rock", "guitar"], ["rock", "loud"], ["piano", "calm"],
    ...         ["piano", "classical", "calm"]]
    >>> Z = LSITagTransformer(n_topics=2, random_state=0).fit_transform(tags)
    >>> Z.shape
    (4, 2)
    >>> R = tag_relatedness(Z)
    >>> bool(R[0, 1] > 0.8 > 0.2 > R[0, 2])
    True
    """

    def __init__(
        self,
        n_topics: int = 100,
        *,
        tfidf: bool = False,
        power_iters: int = 2,
        random_state: int | None = None,
    ) -> None:
        self.n_topics = n_topics
        self.tfidf = tfidf
        self.power_iters = power_iters
        self.random_state = random_state

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags

    def _check_params(self) -> None:
        name = type(self).__name__
        check_positive_int(self.n_topics, "n_topics", name)
        power_iters = self.power_iters
        if (
            isinstance(power_iters, bool)
            or not isinstance(power_iters, int | np.integer)
            or power_iters < 0
        ):
            raise ValueError(
                f"{name}: power_iters must be an integer >= 0, got {power_iters!r}"
            )
        if not isinstance(self.tfidf, bool | np.bool_):
            raise ValueError(f"{name}: tfidf must be True or False, got {self.tfidf!r}")
        if self.random_state is not None and not isinstance(
            self.random_state, int | np.integer
        ):
            raise ValueError(
                f"{name}: random_state must be an int or None (gensim takes a seed), "
                f"got {self.random_state!r}"
            )

    def fit(self, X: Any, y: Any = None) -> LSITagTransformer:
        """Learn the tag dictionary and the LSI topics of the training tracks.

        Parameters
        ----------
        X : sequence of iterables of str, or a DataFrame of tag-set columns
            The tags of each training track (see ``_tag_documents``).
        y : None
            Ignored.

        Returns
        -------
        self : LSITagTransformer
        """
        self._check_params()
        Dictionary, _, LsiModel, TfidfModel = _gensim()
        name = type(self).__name__
        documents = _tag_documents(X, name)
        self.dictionary_ = Dictionary(documents)
        if len(self.dictionary_) == 0:
            raise ValueError(f"{name}: the training tracks have no tags at all")
        corpus = [self.dictionary_.doc2bow(doc) for doc in documents]
        self.tfidf_ = TfidfModel(corpus) if self.tfidf else None
        if self.tfidf_ is not None:
            corpus = list(self.tfidf_[corpus])
        self.lsi_ = LsiModel(
            corpus,
            num_topics=self.n_topics,
            id2word=self.dictionary_,
            power_iters=self.power_iters,
            random_seed=self.random_state,
        )
        self.n_tags_ = len(self.dictionary_)
        self.n_features_out_ = self.n_topics
        return self

    def transform(self, X: Any) -> np.ndarray:
        """LSI vectors of the tracks' tag sets.

        Parameters
        ----------
        X : sequence of iterables of str, or a DataFrame of tag-set columns

        Returns
        -------
        ndarray of float64, shape (n_tracks, n_topics)
        """
        check_is_fitted(self)
        _, corpus2dense, _, _ = _gensim()
        documents = _tag_documents(X, type(self).__name__)
        corpus = [self.dictionary_.doc2bow(doc) for doc in documents]
        if self.tfidf_ is not None:
            corpus = list(self.tfidf_[corpus])
        dense = corpus2dense(
            self.lsi_[corpus], num_terms=self.n_topics, num_docs=len(corpus)
        )
        return dense.T.astype(np.float64)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None):
        """``lsi0 ... lsi{n_topics - 1}``."""
        check_is_fitted(self)
        return np.array([f"lsi{i}" for i in range(self.n_topics)], dtype=object)


def tag_relatedness(A: Any, B: Any = None) -> np.ndarray:
    """Cosine of L2-normalised LSI vectors: the tag relatedness of two tracks.

    Usable as a pairwise kernel (``sklearn.metrics.pairwise_kernels(metric=
    tag_relatedness)`` works row by row; this computes the whole matrix at once).
    A zero vector (a track with no known tag) is related to nothing: 0.

    Parameters
    ----------
    A : array-like of shape (n_a, n_topics)
    B : array-like of shape (n_b, n_topics) or None, default=None
        ``None`` compares ``A`` with itself.

    Returns
    -------
    ndarray of shape (n_a, n_b)
        Values in [-1, 1].

    Raises
    ------
    ValueError
        On arrays that are not 2-d, of different widths, or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> tag_relatedness(np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 0.0]])).round(2)
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 0.]])
    """
    A = np.asarray(A, dtype=np.float64)
    B = A if B is None else np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(
            "tag_relatedness needs two 2-d arrays of LSI vectors of one width, got "
            f"shapes {A.shape} and {B.shape}"
        )
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError("tag_relatedness: LSI vectors contain NaN or infinity")

    def unit(M: np.ndarray) -> np.ndarray:
        norm = np.linalg.norm(M, axis=1, keepdims=True)
        return np.divide(M, norm, out=np.zeros_like(M), where=norm > 0)

    return np.clip(unit(A) @ unit(B).T, -1.0, 1.0)
