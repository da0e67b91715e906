"""``musemb info``: what a model file holds, without building the model."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "info",
        help="show what a model file holds (class, units, training, versions)",
        description=(
            "Read a model file's manifest, without building the model or loading "
            "weights: the estimator, how units are cut, the training run, the "
            "package versions that wrote it (next to the ones here, when they "
            "differ) and the estimator's parameters."
        ),
    )
    parser.add_argument("model", help="model file written by musemb fit")
    parser.add_argument("--json", action="store_true", help="print the manifest")
    parser.set_defaults(func=run_info)


def run_info(args: argparse.Namespace) -> int:
    from ..persistence import package_versions, read_model_metadata

    manifest = read_model_metadata(args.model)
    if args.json:
        print(json.dumps(manifest, indent=1))
        return 0
    tree = manifest["estimator"]
    meta = manifest.get("metadata", {})
    history = tree.get("history", [])
    print(f"model:     {args.model}")
    print(f"estimator: {tree['class']}")
    for key in ("method", "units", "data", "n_pieces", "n_units", "fit_seconds"):
        if key in meta:
            print(f"{key + ':':10s} {meta[key]}")
    if history:
        last = history[-1]
        loss = last.get("train_loss")
        shown = f", last train_loss {loss:.4f}" if isinstance(loss, float) else ""
        print(f"{'epochs:':10s} {len(history)}{shown}")
    here = package_versions()
    for name, version in manifest.get("versions", {}).items():
        note = "" if here.get(name) == version else f"  (here {here.get(name)})"
        print(f"{name + ':':15s} {version}{note}")
    print("parameters:")
    for name, value in sorted(tree.get("params", {}).items()):
        if isinstance(value, dict) and "__type__" in value:
            value = value["__type__"]
        print(f"  {name} = {value}")
    return 0
