"""What the benchmark scripts share: data location, the paper's split, device names,
memory, and the writing of result files.

Scripts run as ``python benchmarks/<script>.py``, so this directory is on
``sys.path`` and they import this module as ``_common``.
"""

from __future__ import annotations

import json
import platform
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from sklearn_musemb import (
    TempoScaler,
    Transposer,
    Units,
    load_midi_corpus,
    piece_train_test_split,
    segment_notes,
)

#: The piano-midi corpus next to the checkout (``../shared/data/piano-midi``).
DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared/data/piano-midi"


def device_name(device: str) -> str:
    """Human name of a torch device string, for result files."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU ({cpu_model()}, {torch.get_num_threads()} torch threads)"


def cpu_model() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {platform.machine()}"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_rss_mib() -> float:
    """Peak resident size of this process so far, in MiB (Unix)."""
    import resource  # Unix only

    # ru_maxrss is in KiB on Linux, in bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def command(drop: Sequence[str] = ()) -> str:
    """The command line that runs this script from the repository root.

    ``drop`` lists arguments that do not change the results (``--resume``).
    """
    script = f"benchmarks/{Path(sys.argv[0]).name}"
    return shlex.join(["python", script, *(a for a in sys.argv[1:] if a not in drop)])


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[object]]
) -> list[str]:
    """Lines of a markdown table: the header, its rule, then one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def write_results(out_dir: Path, name: str, result: dict, text: str) -> None:
    """Write ``result`` to ``<name>.json`` and ``text`` to ``<name>.md``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out_dir / f"{name}.md").write_text(text)


def paper_split(
    root: Path,
    seed: int,
    augment: bool,
    *,
    segment: Callable[..., Units] = segment_notes,
    validation: bool = False,
) -> tuple[Units, Units, list[str], int]:
    """Units split the way Bretan & Heck (2019) and Bretan et al. (2017) did.

    Two whole pieces per composer are held out. Composers with fewer than 3 pieces
    cannot give 2 test pieces and keep one for training, so they are left out. With
    ``augment``, training pieces are transposed into all 12 keys and tempo-scaled
    by a random factor in 0.95-1.05. ``segment`` cuts the pieces (40-note units by
    default, :func:`~sklearn_musemb.segment_beats` for 4-beat units). With
    ``validation``, the test pieces are set aside unread and one more piece per
    composer, taken out of the training pieces, is returned as ``test`` instead
    (for choosing settings).

    Returns
    -------
    train, test : Units
    dropped : list of str
        Composers left out.
    n_pieces : int
        Pieces loaded.
    """
    corpus = load_midi_corpus(root)
    units = segment(corpus.pieces, labels=corpus.labels)
    names, counts = np.unique(corpus.labels, return_counts=True)
    dropped = sorted(names[counts < 3].tolist())
    units = units[~np.isin(units.labels, dropped)]
    train, test = piece_train_test_split(units, n_test_pieces=2, random_state=seed)
    if validation:
        train, test = piece_train_test_split(
            train, n_test_pieces=1, random_state=seed, small_labels="train"
        )
    if augment:
        train = paper_augmentation(train, seed)
    return train, test, dropped, len(corpus.pieces)


def paper_augmentation(train: Units, seed: int) -> Units:
    """All 12 keys, then a random tempo factor in 0.95-1.05 per piece and key."""
    return TempoScaler(random_state=seed).fit_transform(
        Transposer().fit_transform(train)
    )


def raw_events(units: Units) -> np.ndarray:
    """The raw continuous input: every event's (pitch, interval ms), flattened."""
    return units.events.reshape(len(units), -1).astype(np.float64)


def geometric_mean(values: np.ndarray) -> float:
    """Geometric mean (the paper's summary of ranks)."""
    return float(np.exp(np.log(values).mean()))


def rank_boxplot(
    ranks: dict[str, np.ndarray], path: Path, *, xlabel: str, title: str
) -> None:
    """Horizontal box plot of rank distributions (log scale), if matplotlib is here.

    ``ranks`` maps the label of each box to its ranks, drawn top to bottom (see
    :func:`sklearn_musemb.plotting.plot_rank_distributions`).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no box plot (pip install -e '.[bench]')")
        return
    from sklearn_musemb.plotting import plot_rank_distributions

    fig, ax = plt.subplots(figsize=(10, 0.5 * len(ranks) + 1.5))
    plot_rank_distributions(ranks, ax=ax, xlabel=xlabel, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
