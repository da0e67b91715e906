"""Resumable training: TrainingCheckpoint, warm_start and partial_fit.

A fit killed mid-way (SIGKILL, KeyboardInterrupt) and resumed from its checkpoint
must give, on CPU, exactly the model of an uninterrupted fit with the same
random_state; ``k`` calls of ``partial_fit`` with ``max_epochs=1`` must give the
model of one ``fit`` with ``max_epochs=k``.
"""

from __future__ import annotations

import importlib.util
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import Callback

from sklearn_musemb.callbacks import TrainingCheckpoint
from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AdjDEmbedder,
    ComposerRollEmbedder,
    DenoisingRollEmbedder,
    DSSMEmbedder,
    TagTripletEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.units.container import Units

LIGHT = {
    "batch_size": 16,
    "random_state": 0,
    "embedding_dim": 8,
    "module__hidden_dim": 8,
    "module__event_channels": 8,
    "module__n_layers": 3,
}
ROLL_LIGHT = {
    "embedding_dim": 8,
    "batch_size": 10,
    "random_state": 0,
    "module__channels": (2, 2, 2, 2),
    "module__hidden_dims": (8,),
}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks train fastest on one thread (the killed fit gets the same)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _units(n=64, n_events=6, seed=0):
    rng = np.random.default_rng(seed)
    events = np.stack(
        [rng.integers(40, 90, (n, n_events)), rng.integers(0, 600, (n, n_events))],
        axis=-1,
    ).astype(np.int16)
    return Units(events, piece=np.repeat([0, 1], n // 2))


def adjd(**params):
    return AdjDEmbedder(**{**LIGHT, **params})


def assert_same_model(a, b, X):
    """Same embeddings, weights, optimizer states and per-epoch figures."""
    assert np.array_equal(a.transform(X), b.transform(X))
    assert a._modules == b._modules and a._optimizers == b._optimizers
    for name in a._modules:
        sa, sb = (
            getattr(a, name + "_").state_dict(),
            getattr(b, name + "_").state_dict(),
        )
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name
    for name in a._optimizers:
        sa = getattr(a, name + "_").state_dict()["state"]
        sb = getattr(b, name + "_").state_dict()["state"]
        for key, state in sa.items():
            for k, v in state.items():
                assert torch.equal(torch.as_tensor(v), torch.as_tensor(sb[key][k]))
    assert len(a.history_) == len(b.history_)
    for ra, rb in zip(a.history_, b.history_, strict=True):
        figures = {k for k in ra if k not in ("dur", "batches")}
        assert {k: ra[k] for k in figures} == {k: rb[k] for k in figures}

        def batches(row):
            return [{k: v for k, v in b.items() if k != "dur"} for b in row["batches"]]

        assert batches(ra) == batches(rb)


# -- a fit killed by SIGKILL resumes to the uninterrupted model -----------------
TRAIN_SCRIPT = textwrap.dedent(
    """
    import os
    import signal
    import sys

    import numpy as np
    import torch
    from skorch.callbacks import Callback

    from sklearn_musemb.callbacks import TrainingCheckpoint
    from sklearn_musemb.embedders import AdjDEmbedder
    from sklearn_musemb.units.container import Units

    PARAMS = dict(
        max_epochs=6,
        batch_size=16,
        random_state=0,
        embedding_dim=8,
        module__hidden_dim=8,
        module__event_channels=8,
        module__n_layers=3,
    )


    class Noise(Callback):
        # draws from torch's global generator each epoch, as dropout would
        def on_epoch_end(self, net, **kwargs):
            net.history.record("noise", torch.rand(1).item())


    class Kill(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 3:  # after the checkpoint of epoch 3
                os.kill(os.getpid(), signal.SIGKILL)


    def units(path):
        arrays = np.load(path)
        return Units(arrays["events"], piece=arrays["piece"])


    if __name__ == "__main__":
        data, dirname, threads = sys.argv[1:]
        torch.set_num_threads(int(threads))
        callbacks = [Noise(), TrainingCheckpoint(dirname), Kill()]
        AdjDEmbedder(**PARAMS, callbacks=callbacks).fit(units(data))
        raise SystemExit("not killed")
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_fit_killed_by_sigkill_resumes_to_the_uninterrupted_model(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    units = _units()
    data = tmp_path / "units.npz"
    np.savez(data, events=units.events, piece=units.piece)
    dirname = tmp_path / "checkpoint"
    proc = subprocess.run(
        [sys.executable, str(script), str(data), str(dirname)]
        + [str(torch.get_num_threads())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    spec = importlib.util.spec_from_file_location("train_script", script)
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    checkpoint = TrainingCheckpoint(dirname)
    resumed = AdjDEmbedder(**train.PARAMS, callbacks=[train.Noise(), checkpoint]).fit(
        units
    )
    assert checkpoint.resumed_epochs_ == 3
    assert len(resumed.history_) == 6
    plain = AdjDEmbedder(**train.PARAMS, callbacks=[train.Noise()]).fit(units)
    # the noise column proves torch's global generator was restored too
    assert_same_model(resumed, plain, units)

    # a finished checkpoint is kept: fitting again trains nothing more
    again = AdjDEmbedder(**train.PARAMS, callbacks=[TrainingCheckpoint(dirname)])
    again.fit(units)
    assert again.callbacks[0].resumed_epochs_ == 6
    assert np.array_equal(again.transform(units), plain.transform(units))


# -- KeyboardInterrupt -----------------------------------------------------------
class Interrupt(Callback):
    """Raise KeyboardInterrupt once, after training batch ``batch`` of ``epoch``."""

    def __init__(self, epoch, batch):
        self.epoch = epoch
        self.batch = batch
        self.armed = True

    def on_batch_end(self, net, training=False, **kwargs):
        row = net.history[-1]
        if (
            self.armed
            and training
            and len(net.history) == self.epoch
            and len(row["batches"]) == self.batch
        ):
            self.armed = False
            raise KeyboardInterrupt


def test_keyboard_interrupt_leaves_the_last_epoch_and_fit_resumes(tmp_path):
    units = _units()
    checkpoint = TrainingCheckpoint(tmp_path, keep=False)
    emb = adjd(max_epochs=6, callbacks=[checkpoint, Interrupt(epoch=4, batch=2)])
    emb.fit(units)  # skorch swallows the interrupt: the model is mid-epoch 4
    assert len(emb.history_) == 4
    assert checkpoint.saved_epochs_ == 3
    assert checkpoint.path_.exists()  # an interrupted fit keeps it (keep=False)
    emb.fit(units)  # fitting again resumes from epoch 3
    assert checkpoint.resumed_epochs_ == 3
    assert not checkpoint.path_.exists()  # finished, and keep=False
    assert_same_model(emb, adjd(max_epochs=6).fit(units), units)


def test_every_saves_every_few_epochs_and_at_the_last(tmp_path):
    units = _units()
    checkpoint = TrainingCheckpoint(tmp_path, every=2)
    emb = adjd(max_epochs=5, callbacks=[checkpoint, Interrupt(epoch=4, batch=1)])
    emb.fit(units)
    assert checkpoint.saved_epochs_ == 2
    emb.fit(units)
    assert (checkpoint.resumed_epochs_, checkpoint.saved_epochs_) == (2, 5)
    assert_same_model(emb, adjd(max_epochs=5).fit(units), units)


# -- every kind of embedder --------------------------------------------------------
def _rolls(n=30, seed=0):
    return (np.random.default_rng(seed).random((n, 60, 96)) < 0.02).reshape(n, -1)


def _maps(n=24, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 8, 10)).astype("float32")


CASES = {
    "dssm": (lambda **p: DSSMEmbedder(**LIGHT, **p), _units, None),
    "vae": (lambda **p: VAEEmbedder(**LIGHT, **p), _units, None),
    "denoising-roll": (
        lambda **p: DenoisingRollEmbedder(**ROLL_LIGHT, **p),
        _rolls,
        None,
    ),
    "composer-roll": (
        lambda **p: ComposerRollEmbedder(**ROLL_LIGHT, **p),
        _rolls,
        ["a", "b", "c"] * 10,
    ),
    "tag-triplet": (
        lambda **p: TagTripletEmbedder(
            embedding_dim=4, module__channels=(4,), batch_size=12, random_state=0, **p
        ),
        _maps,
        [["piano", "calm"], ["organ", "loud"], ["piano", "loud"]] * 8,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_embedder_resumes_exactly(case, tmp_path):
    make, data, y = CASES[case]
    X = data()
    make(max_epochs=2, callbacks=[TrainingCheckpoint(tmp_path)]).fit(X, y)
    checkpoint = TrainingCheckpoint(tmp_path)
    resumed = make(max_epochs=3, callbacks=[checkpoint]).fit(X, y)
    assert checkpoint.resumed_epochs_ == 2
    assert_same_model(resumed, make(max_epochs=3).fit(X, y), X)


def test_adversarial_embedder_restores_its_discriminator_and_optimizers(tmp_path):
    units = _units()
    params = {**LIGHT, "optimizer_disc__lr": 1e-3, "optimizer_gen__lr": 1e-3}
    AAdjDEmbedder(**params, max_epochs=2, callbacks=[TrainingCheckpoint(tmp_path)]).fit(
        units
    )
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(state["modules"]) == {"module", "discriminator"}
    assert set(state["optimizers"]) == {"optimizer", "optimizer_disc", "optimizer_gen"}
    assert state["optimizers"]["optimizer_disc"]["state"]  # Adam moments saved
    resumed = AAdjDEmbedder(
        **params, max_epochs=4, callbacks=[TrainingCheckpoint(tmp_path)]
    ).fit(units)
    plain = AAdjDEmbedder(**params, max_epochs=4).fit(units)
    assert_same_model(resumed, plain, units)
    assert "train_disc_loss" in resumed.history_[-1]


# -- refusals and damaged files ------------------------------------------------------
def test_checkpoint_of_another_run_is_refused(tmp_path):
    units = _units()
    adjd(max_epochs=1, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)
    with pytest.raises(ValueError, match=r"another training run \(lr=0.001 \(now 0.0"):
        adjd(max_epochs=2, lr=2e-3, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)
    with pytest.raises(ValueError, match="estimator .*AdjDEmbedder .*DSSMEmbedder"):
        DSSMEmbedder(**LIGHT, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)
    other = _units(seed=1)
    with pytest.raises(ValueError, match="other training data.*delete it or use"):
        adjd(max_epochs=2, callbacks=[TrainingCheckpoint(tmp_path)]).fit(other)
    with pytest.raises(ValueError, match="12 input features"):
        adjd(callbacks=[TrainingCheckpoint(tmp_path)]).fit(_units(n_events=5))
    # check_data=False: the estimator must match, the data may differ
    checkpoint = TrainingCheckpoint(tmp_path, check_data=False)
    adjd(max_epochs=2, callbacks=[checkpoint]).fit(other)
    assert checkpoint.resumed_epochs_ == 1
    # what may change: max_epochs, verbose, device, the other callbacks
    checkpoint = TrainingCheckpoint(tmp_path)
    adjd(max_epochs=3, verbose=0, device="cpu", callbacks=[checkpoint]).fit(other)
    assert checkpoint.resumed_epochs_ == 2


def test_damaged_checkpoint_is_refused_with_a_clear_error(tmp_path):
    units = _units()
    (tmp_path / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.raises(ValueError, match="not a readable training checkpoint"):
        adjd(max_epochs=1, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="not a training checkpoint of this version"):
        adjd(max_epochs=1, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)


def test_failed_save_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    units = _units()
    checkpoint = TrainingCheckpoint(tmp_path)
    emb = adjd(max_epochs=2, callbacks=[checkpoint]).fit(units)
    before = (tmp_path / "checkpoint.pt").read_bytes()

    def failing_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        emb.partial_fit(units)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    resumed = adjd(max_epochs=2, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)
    assert np.array_equal(
        resumed.transform(units), adjd(max_epochs=2).fit(units).transform(units)
    )


def test_checkpoint_from_another_device_type_loads_with_a_warning(tmp_path):
    units = _units()
    adjd(max_epochs=1, callbacks=[TrainingCheckpoint(tmp_path)]).fit(units)
    path = tmp_path / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    state["device_type"] = "cuda"  # as if written on a GPU
    torch.save(state, path)
    checkpoint = TrainingCheckpoint(tmp_path)
    with pytest.warns(UserWarning, match="written on cuda, the fit resumes on cpu"):
        emb = adjd(max_epochs=2, device="auto", callbacks=[checkpoint]).fit(units)
    assert checkpoint.resumed_epochs_ == 1 and len(emb.history_) == 2


def test_bad_parameters_and_foreign_nets_are_refused(tmp_path):
    units = _units()
    with pytest.raises(ValueError, match="every"):
        adjd(callbacks=[TrainingCheckpoint(tmp_path, every=0)]).fit(units)
    with pytest.raises(ValueError, match="dirname"):
        adjd(callbacks=[TrainingCheckpoint(None)]).fit(units)
    net = NeuralNet(
        torch.nn.Linear,
        torch.nn.MSELoss,
        module__in_features=2,
        module__out_features=1,
        max_epochs=1,
        callbacks=[TrainingCheckpoint(tmp_path)],
    )
    with pytest.raises(TypeError, match="LoadInitState"):
        net.fit(np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32))


# -- warm_start and partial_fit ------------------------------------------------------
def test_partial_fit_epochs_add_up_to_one_fit():
    units = _units()
    emb = adjd(max_epochs=1)
    emb.partial_fit(units)  # an unfitted embedder is initialised
    assert_same_model(emb, adjd(max_epochs=1).fit(units), units)
    emb.partial_fit(units)
    emb.partial_fit(units)
    assert_same_model(emb, adjd(max_epochs=3).fit(units), units)
    # a pickled embedder trains on as the original does
    copy = pickle.loads(pickle.dumps(emb))
    assert_same_model(copy.partial_fit(units), emb.partial_fit(units), units)
    # fit (warm_start=False) starts over from random_state
    assert_same_model(emb.fit(units), adjd(max_epochs=1).fit(units), units)


def test_warm_start_fit_trains_on_and_set_params_between_fits():
    units = _units()
    emb = adjd(max_epochs=2, warm_start=True).fit(units)
    first = emb.module_.state_dict()
    first = {k: v.clone() for k, v in first.items()}
    emb.set_params(max_epochs=1).fit(units)
    assert len(emb.history_) == 3
    assert any(
        not torch.equal(v, first[k]) for k, v in emb.module_.state_dict().items()
    )
    assert_same_model(emb, adjd(max_epochs=3).fit(units), units)
    # another random_state starts the random streams afresh, as a new fit would:
    # as if the streams of the calls before had never been kept
    fresh = pickle.loads(pickle.dumps(emb))
    del fresh._rng_carry
    emb.set_params(random_state=1).fit(units)
    assert len(emb.history_) == 4
    assert_same_model(emb, fresh.set_params(random_state=1).fit(units), units)


def test_clone_of_a_fitted_embedder_is_unfitted(tmp_path):
    units = _units()
    emb = adjd(max_epochs=1, callbacks=[TrainingCheckpoint(tmp_path)])
    emb.partial_fit(units)
    copy = clone(emb)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert not hasattr(copy, "_rng_carry")
    assert copy.get_params()["max_epochs"] == 1
    assert copy.callbacks[0] is not emb.callbacks[0]


def test_partial_fit_loop_resumes_from_its_checkpoint(tmp_path):
    units = _units()

    def run(until):
        emb = adjd(max_epochs=1, callbacks=[TrainingCheckpoint(tmp_path)])
        emb.partial_fit(units)  # resumes the checkpoint when there is one
        while len(emb.history_) < until:
            emb.partial_fit(units)
        return emb

    run(until=2)  # a process that stopped after 2 epochs
    emb = run(until=4)
    assert emb.callbacks[0].resumed_epochs_ == 0  # the last call trained on
    assert_same_model(emb, adjd(max_epochs=4).fit(units), units)
