"""Train one small embedder of each family data-parallel; run by ``accelerate launch``.

Usage (two CPU processes over gloo, as tests/test_distributed.py runs it; ``--cpu
--num_processes 2`` would start one process unless MPI is set up)::

    CUDA_VISIBLE_DEVICES= accelerate launch --multi_gpu --num_processes 2 \\
        distributed_fit.py OUT_DIR

Every process writes its parameters (``rank<r>_<family>.pt``); process 0 also
pickles the fitted estimators (``<family>.pkl``), for tests/test_distributed.py to
compare and load in a single process.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator

from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    ConditionalSimilarityEmbedder,
    DenoisingRollEmbedder,
    TagTripletEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.units import Units

LIGHT = {"max_epochs": 2, "batch_size": 16, "random_state": 0}


def note_units(rng: np.random.Generator) -> Units:
    events = np.stack(
        [rng.integers(40, 90, (64, 8)), rng.integers(0, 600, (64, 8))], axis=-1
    )
    return Units(
        events.astype(np.int32), piece=np.arange(64) // 16, position=np.arange(64) % 16
    )


def beat_units(rng: np.random.Generator) -> np.ndarray:
    return (rng.random((48, 60, 96)) < 0.03).astype(np.float32)


def families(rng: np.random.Generator) -> dict:
    maps = rng.standard_normal((48, 12, 16)).astype(np.float32)
    labels = rng.integers(0, 3, (48, 2))
    return {
        "aadjd": (
            AAdjDEmbedder(module__hidden_dim=16, module__n_layers=3, **LIGHT),
            note_units(rng),
            None,
        ),
        "vae": (
            VAEEmbedder(module__hidden_dim=16, module__n_layers=3, **LIGHT),
            note_units(rng),
            None,
        ),
        "dae": (DenoisingRollEmbedder(**LIGHT), beat_units(rng), None),
        "csn": (
            ConditionalSimilarityEmbedder(
                embedding_dim=8, module__width=4, module__n_blocks=1, **LIGHT
            ),
            maps,
            labels,
        ),
        "tags": (
            TagTripletEmbedder(embedding_dim=8, module__channels=(4, 4, 4), **LIGHT),
            maps,
            labels[:, 0],
        ),
    }


def main(out: Path) -> None:
    accelerator = Accelerator(cpu=True)
    torch.set_num_threads(1)
    rank = accelerator.process_index
    for name, (est, X, y) in families(np.random.default_rng(0)).items():
        est.set_params(accelerator=accelerator).fit(X, y)
        batches = est.history_[0, "batches", :, "train_batch_size"]
        state = {k: v.detach().cpu() for k, v in est.module_.state_dict().items()}
        torch.save(
            {"state": state, "batch_sizes": batches}, out / f"rank{rank}_{name}.pt"
        )
        if accelerator.is_main_process:
            (out / f"{name}.pkl").write_bytes(pickle.dumps(est))
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
