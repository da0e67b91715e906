"""Where an estimator's fit and transform time goes: py-spy samples, summarised.

Runs one family of ``speed.py`` (fit for ``--epochs`` epochs, then ``transform``)
under ``py-spy record --format raw`` and gives every sample to the innermost of its
frames that is in ``torch``, ``skorch`` or ``sklearn_musemb``; a call into numpy,
scikit-learn or Python's library counts for the code that made it:

- **torch compute**: inside ``torch`` (modules, autograd, optimizers, tensor ops);
- **our step code**: the estimator's loss, sampling and encoding
  (``sklearn_musemb``), outside torch calls;
- **skorch**: skorch's loop, callbacks and history;
- **other**: samples with none of these frames (interpreter start-up, imports).

The table of top frames lists the innermost frame itself (a numpy function, say)
for the samples outside torch.

Usage (``pip install py-spy``; from the repository root)::

    python benchmarks/profile_overhead.py --family AdjD --batch-size 1024 \\
        --out benchmarks/results/cpu/profile_adjd_1024.md
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import command, markdown_table

TARGET = """
import sys
sys.path.insert(0, {bench!r})
import speed
from speed import FAMILIES, make_data
factory, kind, _ = FAMILIES[{family!r}]
X, y = make_data(kind, {batch} * {steps}, speed.DEFAULT_ROOT, 0)
est = factory(batch_size={batch}, max_epochs={epochs}, random_state=0, device="cpu")
est.fit(X, y)
Xt = speed.tiled(X, 65536)
for _ in range(3):
    est.transform(Xt)
"""

CATEGORIES = ("torch compute", "our step code", "skorch", "other")


def category(stack: list[str]) -> str:
    """Category of one sample from its frames, innermost last."""
    for frame in reversed(stack):
        # py-spy writes frames as "function (path/to/file.py:line)"
        path = "/" + frame.rpartition("(")[2]
        if "/torch/" in path:
            return "torch compute"
        if "/skorch/" in path:
            return "skorch"
        if "/sklearn_musemb/" in path:
            return "our step code"
    return "other"


def summarise(raw: Path) -> tuple[collections.Counter, collections.Counter, int]:
    by_category, by_function = collections.Counter(), collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        count = int(count_text)
        stack = stack_text.split(";")
        kind = category(stack)
        by_category[kind] += count
        if kind != "torch compute":
            by_function[stack[-1]] += count
        total += count
    return by_category, by_function, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", default="AdjD")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    bench = str(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory() as tmp:
        script, raw = Path(tmp) / "target.py", Path(tmp) / "raw.txt"
        script.write_text(
            TARGET.format(
                bench=bench,
                family=args.family,
                batch=args.batch_size,
                steps=args.steps,
                epochs=args.epochs,
            )
        )
        subprocess.run(
            ["py-spy", "record", "--format", "raw", "--rate", str(args.rate),
             "--output", str(raw), "--", sys.executable, str(script)],
            check=True,
        )  # fmt: skip
        by_category, by_function, total = summarise(raw)

    lines = [
        f"# Profile of {args.family} (batch {args.batch_size}): fit and transform",
        "",
        f"Command: `{command()}`",
        "",
        f"{total} py-spy samples of the whole run (corpus loading included) at "
        f"{args.rate} Hz; the share of samples by innermost owner:",
        "",
    ]
    lines += markdown_table(
        ["where", "share"], ([c, f"{by_category[c] / total:.1%}"] for c in CATEGORIES)
    )
    lines += ["", "Top frames outside torch:", ""]
    lines += markdown_table(
        ["frame", "share"],
        ([f"`{name}`", f"{n / total:.1%}"] for name, n in by_function.most_common(12)),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
