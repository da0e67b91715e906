"""Train an embedder on several GPUs (or machines) with Accelerate, use it anywhere
================================================================================

Every embedder takes an ``accelerator``: launched by ``accelerate launch``, each
process trains on its share of every batch and the gradients are averaged after
each backward pass, so all processes end with the same model and ``batch_size`` is
the global batch. Process 0 saves it; the pickle holds no accelerator, so it loads
and transforms in a plain single process (here: embedding the held-out pieces and
printing their adjacency rank).

Launch it::

    # one machine, all its GPUs
    accelerate launch --multi_gpu --num_processes 8 examples/distributed_training.py

    # two machines with 8 GPUs each: run on both, machine_rank 0 and 1
    accelerate launch --multi_gpu --num_machines 2 --num_processes 16 \\
        --machine_rank 0 --main_process_ip 10.0.0.1 --main_process_port 29500 \\
        examples/distributed_training.py --out model.pkl

    # two CPU processes over gloo, on a laptop without GPUs (what CI runs)
    CUDA_VISIBLE_DEVICES= accelerate launch --multi_gpu --num_processes 2 \\
        examples/distributed_training.py --epochs 1

    # or simply one process
    python examples/distributed_training.py

(``accelerate launch --cpu --num_processes 2`` starts a single process unless MPI
is configured: accelerate's multi-CPU launcher goes through mpirun, hence
``--multi_gpu`` with no visible GPU above.)

Runs on piano-midi when ``--root`` exists, otherwise on music21's corpus.

.. note::

    Not run when the documentation is built: it is meant for ``accelerate
    launch`` on several GPUs or machines.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

from _corpus import add_corpus_arguments, load_units
from accelerate import Accelerator

from sklearn_musemb import piece_train_test_split, segment_notes
from sklearn_musemb.embedders import AAdjDEmbedder
from sklearn_musemb.metrics import adjacency_rank


def main(argv: list[str] | None = None) -> float | None:
    """Train A-AdjD data-parallel, save it on process 0, score it there.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    float or None
        Geometric mean adjacency rank of the held-out units (process 0), or
        None on the other processes.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_corpus_arguments(parser, composers=("bach", "mozart"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--out", type=Path, default=Path("adjd_model.pkl"))
    args = parser.parse_args(argv)

    accelerator = Accelerator()
    units, source = load_units(args, segment_notes)
    train, test = piece_train_test_split(units, random_state=0)
    accelerator.print(
        f"{source}: {len(train)} training units; {accelerator.num_processes} "
        f"process(es) on {accelerator.device}"
    )
    model = AAdjDEmbedder(
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        module__hidden_dim=args.hidden_dim,
        precision=args.precision,
        accelerator=accelerator,
        random_state=0,
    ).fit(train)
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        return None
    args.out.write_bytes(pickle.dumps(model))
    # from here on, a plain single-process model
    loaded = pickle.loads(args.out.read_bytes())
    rank = adjacency_rank(loaded.transform(test), test, random_state=0)
    print(f"saved {args.out}; held-out adjacency rank (of 100): {rank:.2f}")
    return rank


if __name__ == "__main__":
    main()
