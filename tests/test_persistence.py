"""Model files: estimators round-trip exactly; foreign or edited files are refused."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load as safetensors_load
from skorch.callbacks import ProgressBar
from test_embedders_audio import labelled_maps
from test_embedders_piano_roll import MODELS as ROLL_MODELS
from test_embedders_piano_roll import make_units as make_beat_units

from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AAEEmbedder,
    AdjDEmbedder,
    ADSSMEmbedder,
    ConditionalSimilarityEmbedder,
    ContrastiveEmbedder,
    DSSMEmbedder,
    TagTripletEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.features import HandcraftedFeatures
from sklearn_musemb.persistence import (
    MANIFEST,
    TENSORS,
    ModelFileError,
    ModelVersionWarning,
    load_model,
    read_model_metadata,
    save_model,
)
from sklearn_musemb.search import EmbeddingIndex
from sklearn_musemb.units import Units

NOTE_LIGHT = {
    "max_epochs": 1,
    "batch_size": 16,
    "embedding_dim": 6,
    "random_state": 0,
    "module__hidden_dim": 16,
}


def note_units(n: int = 40, n_events: int = 8, seed: int = 0) -> Units:
    rng = np.random.default_rng(seed)
    events = np.stack(
        [rng.integers(40, 90, (n, n_events)), rng.integers(0, 600, (n, n_events))], -1
    ).astype(np.int16)
    return Units(
        events,
        piece=np.repeat([0, 1], n // 2),
        position=np.tile(np.arange(n // 2), 2),
        labels=np.repeat(["a", "b"], n // 2),
    )


def round_trip(estimator, tmp_path: Path):
    path = save_model(estimator, tmp_path / "model.musemb")
    return load_model(path)


NOTE_EMBEDDERS = [
    AdjDEmbedder(representation="continuous"),
    AAdjDEmbedder(),
    DSSMEmbedder(),
    ADSSMEmbedder(),
    VAEEmbedder(),
    AAEEmbedder(),
    ContrastiveEmbedder(),
]


@pytest.mark.parametrize("embedder", NOTE_EMBEDDERS, ids=lambda e: type(e).__name__)
def test_note_embedders_round_trip_exactly(embedder, tmp_path):
    X = note_units()
    embedder = embedder.set_params(**NOTE_LIGHT).fit(X)
    loaded = round_trip(embedder, tmp_path)
    assert type(loaded) is type(embedder)
    assert loaded.get_params()["representation"] == embedder.representation
    np.testing.assert_array_equal(loaded.transform(X), embedder.transform(X))
    # the history comes back (training curves can be drawn from a loaded model)
    assert loaded.history[:, "train_loss"] == embedder.history[:, "train_loss"]
    # every network, the discriminators of the adversarial methods too
    for part in embedder._modules:
        for (k, v), (k2, v2) in zip(
            getattr(embedder, part + "_").state_dict().items(),
            getattr(loaded, part + "_").state_dict().items(),
            strict=True,
        ):
            assert k == k2 and torch.equal(v, v2)


@pytest.mark.parametrize("model", ROLL_MODELS[::2], ids=lambda m: m.name)
def test_piano_roll_embedders_round_trip_exactly(model, tmp_path):
    X = make_beat_units()
    embedder = model.make(max_epochs=1).fit(X, model.y(X))
    loaded = round_trip(embedder, tmp_path)
    np.testing.assert_array_equal(loaded.transform(X), embedder.transform(X))


@pytest.mark.parametrize(
    "make",
    [
        lambda: TagTripletEmbedder(
            embedding_dim=4, module__channels=(2, 2), max_epochs=1, random_state=0
        ),
        lambda: ConditionalSimilarityEmbedder(
            embedding_dim=4,
            max_epochs=1,
            random_state=0,
            module__width=2,
            module__n_blocks=1,
        ),
    ],
    ids=["TagTripletEmbedder", "ConditionalSimilarityEmbedder"],
)
def test_audio_embedders_round_trip_exactly(make, tmp_path):
    X, y = labelled_maps(n=24)
    estimator = make()
    target = (
        y["instrument"].to_numpy() if isinstance(estimator, TagTripletEmbedder) else y
    )
    if isinstance(estimator, TagTripletEmbedder):
        target = [[tag] for tag in target]
    estimator.fit(X, target)
    loaded = round_trip(estimator, tmp_path)
    np.testing.assert_allclose(loaded.transform(X), estimator.transform(X), atol=0)


def test_plain_estimators_round_trip(tmp_path):
    X = note_units()
    features = HandcraftedFeatures().fit(X)
    np.testing.assert_array_equal(
        round_trip(features, tmp_path).transform(X), features.transform(X)
    )
    index = EmbeddingIndex(device="cpu").fit(np.eye(3))
    with pytest.raises(TypeError, match=r"index.save\(path\)"):
        save_model(index, tmp_path / "index.musemb")


def test_the_file_holds_no_pickle_and_records_versions(tmp_path):
    embedder = AdjDEmbedder(**NOTE_LIGHT).fit(note_units())
    path = save_model(embedder, tmp_path / "m.musemb", metadata={"units": "notes"})
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted([MANIFEST, TENSORS])
        # nothing a pickle could hide in: JSON text and a safetensors blob, each
        # read by a parser that cannot run code
        text = archive.read(MANIFEST)
        assert not text.startswith(b"\x80") and json.loads(text)["format"]
        blob = archive.read(TENSORS)
        assert safetensors_load(blob)
    manifest = read_model_metadata(path)
    assert manifest["metadata"] == {"units": "notes"}
    assert set(manifest["versions"]) >= {"sklearn-musemb", "torch", "scikit-learn"}
    assert manifest["estimator"]["class"].endswith("AdjDEmbedder")
    # the optimizer class is named, not pickled
    assert manifest["estimator"]["params"]["optimizer"] == {
        "__type__": "torch.optim.adam.Adam"
    }


def test_unfitted_or_foreign_estimators_are_refused(tmp_path):
    from sklearn.exceptions import NotFittedError
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(NotFittedError):
        save_model(AdjDEmbedder(), tmp_path / "m.musemb")
    with pytest.raises(TypeError, match="StandardScaler.*skops.io or pickle"):
        save_model(StandardScaler().fit([[0.0], [1.0]]), tmp_path / "m.musemb")


def test_non_data_parameters_are_left_out_with_a_warning(tmp_path):
    embedder = AdjDEmbedder(**NOTE_LIGHT, callbacks=[ProgressBar()])
    embedder.set_params(verbose=0).fit(note_units())
    with pytest.warns(UserWarning, match="not saved.*callbacks"):
        path = save_model(embedder, tmp_path / "m.musemb")
    assert load_model(path).callbacks is None


def test_a_gpu_model_loads_on_cpu(tmp_path):
    embedder = AdjDEmbedder(**NOTE_LIGHT).fit(note_units())
    path = save_model(embedder, tmp_path / "m.musemb")
    manifest, tensors = _unpack(path)
    manifest["estimator"]["params"]["device"] = "cuda"
    _repack(path, manifest, tensors)
    if torch.cuda.is_available():
        pytest.skip("CUDA is here: nothing to fall back from")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        loaded = load_model(path)
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(
        loaded.transform(note_units()), embedder.transform(note_units())
    )
    assert load_model(path, device="cpu").device_ == "cpu"


# -- hostile files ---------------------------------------------------------------------
def _unpack(path: Path) -> tuple[dict, bytes]:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(MANIFEST)), archive.read(TENSORS)


def _repack(path: Path, manifest: dict, tensors: bytes) -> None:
    import hashlib

    manifest["tensors_sha256"] = hashlib.sha256(tensors).hexdigest()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        archive.writestr(TENSORS, tensors)


@pytest.fixture
def saved(tmp_path) -> Path:
    embedder = AdjDEmbedder(**NOTE_LIGHT).fit(note_units())
    return save_model(embedder, tmp_path / "m.musemb")


def test_a_pickle_is_refused_without_being_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            return (Path(tmp_path / "pwned").touch, ())

    path = tmp_path / "evil.musemb"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="looks like a pickle"):
        load_model(path)
    assert not (tmp_path / "pwned").exists()


def test_foreign_and_truncated_files_are_refused(tmp_path, saved):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="not a sklearn-musemb model file"):
        load_model(other)
    truncated = tmp_path / "truncated.musemb"
    truncated.write_bytes(saved.read_bytes()[:-200])
    with pytest.raises(ModelFileError, match="not a sklearn-musemb model file"):
        load_model(truncated)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.musemb")


def test_edited_weights_fail_the_checksum(saved):
    manifest, tensors = _unpack(saved)
    edited = bytearray(tensors)
    edited[-1] ^= 0xFF
    with zipfile.ZipFile(saved, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        archive.writestr(TENSORS, bytes(edited))
    with pytest.raises(ModelFileError, match="damaged or was modified"):
        load_model(saved)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["estimator"].update({"class": "os.system"}), "refusing class"),
        (
            lambda m: m["estimator"]["params"].update(
                {"optimizer": {"__type__": "subprocess.Popen"}}
            ),
            "refusing class 'subprocess.Popen'",
        ),
        (
            lambda m: m["estimator"]["params"].update(
                {"module": {"__type__": "sklearn_musemb.persistence.load_model"}}
            ),
            "is not a class",
        ),
        (
            lambda m: m["estimator"]["params"].update({"module__hidden_dim": 17}),
            "do not fit the network",
        ),
        (
            lambda m: m["estimator"]["attributes"].update({"__class__": 1}),
            "not a fitted attribute",
        ),
        (lambda m: m.update({"format": "pytorch"}), "not a sklearn-musemb model"),
        (lambda m: m.update({"format_version": 99}), "upgrade the package"),
    ],
    ids=["class", "type-param", "function", "shapes", "dunder", "format", "version"],
)
def test_tampered_manifests_are_refused(saved, edit, message):
    manifest, tensors = _unpack(saved)
    edit(manifest)
    _repack(saved, manifest, tensors)
    with pytest.raises(ModelFileError, match=message):
        load_model(saved)


def test_other_versions_warn(saved):
    manifest, tensors = _unpack(saved)
    manifest["versions"]["torch"] = "1.0.0"
    _repack(saved, manifest, tensors)
    with pytest.warns(ModelVersionWarning, match=r"torch 1\.0\.0 \(here"):
        load_model(saved)


def test_pickle_still_works_for_trusted_files():
    embedder = AdjDEmbedder(**NOTE_LIGHT).fit(note_units())
    again = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_array_equal(
        again.transform(note_units()), embedder.transform(note_units())
    )


def test_task_networks_round_trip(tmp_path):
    from sklearn_musemb.tasks import ChromaProbe, ForwardPredictor

    rng = np.random.default_rng(0)
    chroma = rng.dirichlet(np.full(12, 0.3), size=60)
    X = chroma @ rng.normal(size=(12, 8))
    probe = ChromaProbe(max_epochs=2, batch_size=16, random_state=0).fit(X, chroma)
    np.testing.assert_array_equal(
        round_trip(probe, tmp_path).predict(X), probe.predict(X)
    )
    t = np.arange(60)[:, None] * np.array([0.3, 0.7])
    Z = np.hstack([np.cos(t), np.sin(t)])
    forward = ForwardPredictor(
        n_context=3, n_candidates=10, max_epochs=2, batch_size=16, random_state=0,
        module__hidden_dim=8,
    ).fit(Z)  # fmt: skip
    loaded = round_trip(forward, tmp_path)
    np.testing.assert_array_equal(loaded.predict(Z), forward.predict(Z))
    assert loaded.score(Z) == forward.score(Z)
