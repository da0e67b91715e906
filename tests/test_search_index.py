"""EmbeddingIndex: exact and faiss neighbours, metadata, search, safe save/load."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import FunctionTransformer

from sklearn_musemb.search import EmbeddingIndex
from sklearn_musemb.search import index as index_module

FAISS_REASON = "faiss is not installed (pip install 'sklearn-musemb[scale]')"


def clustered(n, d, n_clusters, seed, n_queries=0):
    """A Gaussian mixture; queries are further draws of the same mixture."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(n_clusters, d))
    labels = rng.integers(n_clusters, size=n + n_queries)
    points = centres[labels] + rng.normal(size=(n + n_queries, d))
    points = points.astype(np.float32)
    return (points[:n], points[n:]) if n_queries else points


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)])


@pytest.fixture
def faiss():
    return pytest.importorskip("faiss", reason=FAISS_REASON)


# ----------------------------------------------------------------- exact backend


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("chunk_size", [1, 7, None])
def test_exact_agrees_with_sklearn_brute_force(metric, chunk_size):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    Q = rng.normal(size=(23, 8))
    index = EmbeddingIndex(metric=metric, backend="exact", chunk_size=chunk_size)
    distances, indices = index.fit(X).kneighbors(Q, n_neighbors=10)
    reference = NearestNeighbors(n_neighbors=10, algorithm="brute", metric=metric)
    want_d, want_i = reference.fit(X).kneighbors(Q)
    np.testing.assert_array_equal(indices, want_i)
    np.testing.assert_allclose(distances, want_d, rtol=1e-5, atol=1e-6)
    assert distances.dtype == np.float32 and indices.dtype == np.int64
    assert index.backend_ == "exact" and index.n_samples_fit_ == 300
    assert index.n_features_in_ == 8 and index.vectors_.dtype == np.float32


def test_exact_euclidean_distances_carry_no_cancellation_error():
    # far from the origin, |x|^2 - 2 q.x + |q|^2 loses the small distances
    X = np.array([[1000.0, 1000.0], [1000.001, 1000.0], [1000.0, 1000.5]])
    distances, indices = EmbeddingIndex(device="cpu").fit(X).kneighbors(X[:1], 3)
    assert indices.tolist() == [[0, 1, 2]]
    np.testing.assert_allclose(distances[0], [0.0, 0.001, 0.5], atol=1e-4)


def test_cosine_of_zero_vector_is_one_as_in_sklearn():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]])
    index = EmbeddingIndex(metric="cosine", device="cpu").fit(X)
    distances, indices = index.kneighbors([[2.0, 0.0]], n_neighbors=3)
    assert indices.tolist() == [[1, 0, 2]]
    np.testing.assert_allclose(distances, [[0.0, 1.0, 1.0]], atol=1e-6)


def test_kneighbors_options_and_n_neighbors_bounds():
    X = np.arange(10.0).reshape(5, 2)
    index = EmbeddingIndex(device="cpu").fit(X)
    assert index.kneighbors(X[:2], 5, return_distance=False).shape == (2, 5)
    with pytest.raises(ValueError, match="n_neighbors=6 but the index holds only 5"):
        index.kneighbors(X, n_neighbors=6)
    with pytest.raises(ValueError, match="n_neighbors must be a positive integer"):
        index.kneighbors(X, n_neighbors=0)


def test_chunk_size_can_change_after_fit():
    X = clustered(200, 4, 5, seed=1)
    index = EmbeddingIndex(device="cpu", chunk_size=3).fit(X)
    first = index.kneighbors(X[:20], 5)
    assert index._chunk_rows() == 3
    again = index.set_params(chunk_size=64).kneighbors(X[:20], 5)
    assert index._chunk_rows() == 64  # read at query time, no refit
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[0], again[0])


# ------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    "embeddings, error, match",
    [
        ([[0.0, np.nan], [1.0, 2.0]], ValueError, "embeddings contains NaN"),
        ([[0.0, np.inf], [1.0, 2.0]], ValueError, "embeddings contains infinity"),
        ([0.0, 1.0], ValueError, "Expected 2D array"),
        (np.empty((0, 3)), ValueError, "0 sample"),
    ],
)
def test_fit_rejects_bad_embeddings(embeddings, error, match):
    with pytest.raises(error, match=match):
        EmbeddingIndex().fit(embeddings)


def test_kneighbors_rejects_bad_queries_and_unfitted_index():
    with pytest.raises(NotFittedError):
        EmbeddingIndex().kneighbors(np.zeros((1, 2)))
    index = EmbeddingIndex(device="cpu").fit(np.eye(4))
    with pytest.raises(ValueError, match="queries have 3 features but .* of 4"):
        index.kneighbors(np.zeros((2, 3)), n_neighbors=1)
    with pytest.raises(ValueError, match="queries contains NaN"):
        index.kneighbors([[0.0, 0.0, np.nan, 0.0]], n_neighbors=1)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"metric": "manhattan"}, "metric must be one of"),
        ({"backend": "annoy"}, "backend must be one of"),
        ({"chunk_size": 0}, "chunk_size must be a positive integer"),
        ({"n_probe": 0}, "n_probe must be a positive integer"),
        ({"faiss_index": ""}, "faiss_index must be one of"),
    ],
)
def test_unknown_options_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        EmbeddingIndex(**params).fit(np.eye(3))


# -------------------------------------------------------------------- metadata


def test_metadata_from_dict_array_and_dataframe():
    X = np.eye(3)
    index = EmbeddingIndex(device="cpu").fit(X, {"id": [7, 8, 9], "name": list("abc")})
    assert list(index.metadata_) == ["id", "name"]
    assert index.metadata_["name"].tolist() == ["a", "b", "c"]
    assert list(EmbeddingIndex().fit(X, [0, 1, 0]).metadata_) == ["label"]
    assert EmbeddingIndex().fit(X).metadata_ is None
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"title": ["x", "y", "z"], "year": [1700, 1800, 1900]})
    index = EmbeddingIndex().fit(X, frame.set_index(np.array([5, 3, 1])))
    assert index.metadata_["title"].tolist() == ["x", "y", "z"]  # by position
    series = pd.Series(["p", "q", "r"], name="composer")
    assert list(EmbeddingIndex().fit(X, series).metadata_) == ["composer"]


@pytest.mark.parametrize(
    "metadata, match",
    [
        ({"id": [1, 2]}, "column 'id' has 2 rows but embeddings has 3"),
        ({"id": np.zeros((3, 2))}, "column 'id' must be 1-d"),
        ({"distance": [1, 2, 3]}, "clashes with a result column"),
        ({3: [1, 2, 3]}, "column names must be strings"),
        (np.zeros((3, 2)), "metadata must be a pandas DataFrame"),
    ],
)
def test_bad_metadata_is_named(metadata, match):
    with pytest.raises(ValueError, match=match):
        EmbeddingIndex().fit(np.eye(3), metadata)


# ---------------------------------------------------------------------- search


def fitted_search_index(**params):
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(40, 6))
    pca = PCA(n_components=3, random_state=0).fit(raw)
    meta = {"title": [f"t{i}" for i in range(40)], "year": np.arange(40) + 1900}
    index = EmbeddingIndex(embedder=pca, device="cpu", **params)
    return raw, index.fit(pca.transform(raw), meta)


def test_search_embeds_queries_and_returns_hits_with_metadata():
    pd = pytest.importorskip("pandas")
    raw, index = fitted_search_index()
    hits = index.search(raw[[4, 9]], n_neighbors=3)
    assert isinstance(hits, pd.DataFrame)
    assert list(hits.columns) == ["query", "rank", "index", "distance", "title", "year"]
    assert hits["query"].tolist() == [0, 0, 0, 1, 1, 1]
    assert hits["rank"].tolist() == [1, 2, 3, 1, 2, 3]
    assert hits["index"].tolist()[::3] == [4, 9]  # each query finds itself first
    assert hits["title"].tolist()[::3] == ["t4", "t9"]
    assert hits["distance"].tolist()[0] == pytest.approx(0.0, abs=1e-5)
    _, indices = index.kneighbors(index.embedder.transform(raw[[4, 9]]), 3)
    assert hits["index"].tolist() == indices.ravel().tolist()


def test_search_without_pandas_returns_dict(monkeypatch):
    raw, index = fitted_search_index()
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas fails
    hits = index.search(raw[:2], n_neighbors=2)
    assert isinstance(hits, dict) and hits["year"].tolist()[::2] == [1900, 1901]


def test_search_needs_an_embedder():
    index = EmbeddingIndex().fit(np.eye(3))
    with pytest.raises(ValueError, match="search needs an embedder"):
        index.search(np.eye(3))


# -------------------------------------------------------------- save and load


def test_save_load_round_trip(tmp_path):
    X = clustered(60, 5, 3, seed=2)
    meta = {
        "id": np.arange(60),
        "score": np.linspace(0, 1, 60),
        "name": np.array([f"n{i}" for i in range(60)], dtype=object),
        "held_out": np.arange(60) % 2 == 0,
    }
    index = EmbeddingIndex(metric="cosine", chunk_size=7, random_state=3).fit(X, meta)
    path = index.save(tmp_path / "index.npz")
    again = EmbeddingIndex.load(path)
    assert again.get_params() == index.get_params()
    np.testing.assert_array_equal(again.vectors_, index.vectors_)
    for name, values in meta.items():
        assert again.metadata_[name].tolist() == values.tolist()
    for got, want in zip(again.kneighbors(X[:5], 4), index.kneighbors(X[:5], 4)):
        np.testing.assert_array_equal(got, want)


def test_save_refuses_what_json_or_npz_cannot_hold_without_pickle(tmp_path):
    index = EmbeddingIndex().fit(np.eye(2), {"tags": np.array([["a"], None], object)})
    with pytest.raises(ValueError, match="column 'tags' .* cannot be saved"):
        index.save(tmp_path / "x.npz")
    index = EmbeddingIndex(random_state=np.random.RandomState(0)).fit(np.eye(2))
    with pytest.raises(ValueError, match="random_state=RandomState"):
        index.save(tmp_path / "x.npz")


def tampered(tmp_path, change):
    """Save a small index, let ``change`` edit its arrays, write them back."""
    path = EmbeddingIndex().fit(np.eye(3), {"id": [1, 2, 3]}).save(tmp_path / "a.npz")
    with np.load(path) as archive:
        arrays = dict(archive)
    change(arrays)
    out = tmp_path / "b.npz"
    np.savez(out, **arrays)
    return out


def _set_header(arrays, **fields):
    import json

    header = json.loads(str(arrays["header"]))
    header.update(fields)
    arrays["header"] = np.array(json.dumps(header))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda a: a.pop("header"), "has no header"),
        (lambda a: _set_header(a, format="something.else"), "foreign header"),
        (lambda a: _set_header(a, format_version=99), "format version 99"),
        (lambda a: _set_header(a, n_samples="3"), "malformed header"),
        (lambda a: a.pop("metadata_0"), "arrays .* expected"),
        (lambda a: a.update(extra=np.zeros(2)), "arrays .* expected"),
        (lambda a: a.update(vectors=np.eye(4, dtype=np.float32)), "vectors are"),
        (lambda a: a.update(vectors=np.eye(3)), "vectors are float64"),
        (lambda a: a["vectors"].__setitem__((0, 0), np.nan), "NaN or infinity"),
        (lambda a: a.update(metadata_0=np.arange(2)), "column 'id'"),
        (lambda a: _set_header(a, params={"n_trees": 3}), "unknown .*n_trees"),
        (lambda a: _set_header(a, params={"metric": "l1"}), "metric must be one"),
    ],
)
def test_load_rejects_tampered_files(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        EmbeddingIndex.load(tampered(tmp_path, change))


def test_load_rejects_foreign_files(tmp_path):
    pickled = tmp_path / "index.pkl"
    pickled.write_bytes(pickle.dumps(EmbeddingIndex().fit(np.eye(2))))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    single = tmp_path / "single.npz"
    np.save(single.open("wb"), np.eye(2))
    other = tmp_path / "other.npz"
    np.savez(other, vectors=np.eye(2, dtype=np.float32))
    objects = tmp_path / "objects.npz"
    np.savez(objects, header=np.array([{"a": 1}], dtype=object))
    for path in (pickled, junk, single, other, objects):
        with pytest.raises(ValueError, match="not an EmbeddingIndex file|not a valid"):
            EmbeddingIndex.load(path)
    with pytest.raises(FileNotFoundError):
        EmbeddingIndex.load(tmp_path / "missing.npz")


def test_pickle_round_trip_exact():
    X = clustered(50, 3, 2, seed=4)
    index = EmbeddingIndex(device="auto").fit(X)
    again = pickle.loads(pickle.dumps(index))
    assert "_torch_vectors" not in vars(again)  # rebuilt on the first query
    np.testing.assert_array_equal(again.kneighbors(X, 3)[1], index.kneighbors(X, 3)[1])


# ----------------------------------------------------------------------- faiss


@pytest.fixture(scope="module")
def mixture():
    X, Q = clustered(20_000, 16, 64, seed=0, n_queries=200)
    truth = {
        metric: EmbeddingIndex(metric=metric, backend="exact", device="cpu")
        .fit(X)
        .kneighbors(Q, 10)
        for metric in ("euclidean", "cosine")
    }
    return X, Q, truth


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize(
    "faiss_index, params, least",
    [
        ("Flat", {}, 1.0),
        ("IVF", {"n_probe": 8}, 0.9),
        ("HNSW", {"hnsw_m": 16}, 0.9),
        ("IVF64,Flat", {"n_probe": 8}, 0.9),
    ],
)
def test_faiss_recall_on_clustered_data(
    faiss, mixture, metric, faiss_index, params, least
):
    X, Q, truth = mixture
    index = EmbeddingIndex(
        metric=metric,
        backend="faiss",
        faiss_index=faiss_index,
        random_state=0,
        **params,
    ).fit(X)
    distances, indices = index.kneighbors(Q, 10)
    assert index.backend_ == "faiss" and index.device_ == "cpu"
    assert recall(indices, truth[metric][1]) >= least
    assert np.all(np.diff(distances, axis=1) >= 0)
    # hits carry exact distances, whatever the structure computed
    hit = X[indices[:, 0]].astype(np.float64)
    if metric == "cosine":
        cos = (Q * hit).sum(1) / np.linalg.norm(Q, axis=1) / np.linalg.norm(hit, axis=1)
        want = 1 - cos
    else:
        want = np.linalg.norm(Q - hit, axis=1)
    np.testing.assert_allclose(distances[:, 0], want, rtol=1e-5, atol=1e-5)


def test_faiss_n_probe_is_read_at_query_time(faiss, mixture):
    X, Q, truth = mixture
    index = EmbeddingIndex(backend="faiss", n_probe=1, random_state=0).fit(X)
    low = recall(index.kneighbors(Q, 10)[1], truth["euclidean"][1])
    index.set_params(n_probe=index.n_lists_)  # every cell: exhaustive
    assert index.n_lists_ == round(np.sqrt(len(X)))
    np.testing.assert_array_equal(index.kneighbors(Q, 10)[1], truth["euclidean"][1])
    assert low < 1.0


def test_faiss_unfilled_hits_are_minus_one_and_left_out_of_search(faiss):
    X = clustered(400, 3, 4, seed=5)
    index = EmbeddingIndex(backend="faiss", n_lists=10, n_probe=1, random_state=0).fit(
        X, {"id": np.arange(400)}
    )
    distances, indices = index.kneighbors(X[:20], n_neighbors=300)
    missing = indices == -1
    assert missing.any() and np.isinf(distances[missing]).all()
    index.set_params(embedder=FunctionTransformer().fit(X))  # queries as they are
    hits = index.search(X[:20], n_neighbors=300)
    assert len(hits["index"]) == (~missing).sum() and (hits["index"] >= 0).all()
    assert hits["id"].tolist() == indices[~missing].tolist()


def test_auto_backend_and_missing_faiss(faiss, monkeypatch):
    X = clustered(300, 4, 3, seed=6)
    assert EmbeddingIndex(device="cpu").fit(X).backend_ == "exact"
    monkeypatch.setattr(index_module, "AUTO_FAISS_MIN_SAMPLES", 100)
    assert EmbeddingIndex(device="cpu").fit(X).backend_ == "faiss"
    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss fails
    assert EmbeddingIndex(device="cpu").fit(X).backend_ == "exact"
    with pytest.raises(ImportError, match=r"sklearn-musemb\[scale\]"):
        EmbeddingIndex(backend="faiss").fit(X)


def test_faiss_bad_factory_string_is_named_and_keeps_the_fitted_index(faiss):
    index = EmbeddingIndex(device="cpu").fit(np.eye(4))
    index.set_params(backend="faiss", faiss_index="NoSuchIndex")
    with pytest.raises(ValueError, match="faiss_index='NoSuchIndex'"):
        index.fit(np.eye(5))
    assert index.backend_ == "exact" and index.n_features_in_ == 4
    indices = index.kneighbors(np.eye(4), 1, return_distance=False)
    assert indices.ravel().tolist() == [0, 1, 2, 3]


def test_faiss_index_survives_pickle_and_is_rebuilt_on_load(faiss, mixture, tmp_path):
    X, Q, _ = mixture
    index = EmbeddingIndex(backend="faiss", faiss_index="IVF", random_state=0).fit(X)
    want = index.kneighbors(Q, 5)[1]
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(index)).kneighbors(Q, 5)[1], want
    )
    again = EmbeddingIndex.load(index.save(tmp_path / "ivf.npz"))
    assert again.backend_ == "faiss"
    np.testing.assert_array_equal(again.kneighbors(Q, 5)[1], want)
