"""`mnv3c calib`: a float32 NCHW .npy (for --calib, --data, --input) from images or uint8 arrays."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from mnv3c.errors import MnvError
from mnv3c.images import Preprocess, load_source, preprocess


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    options = Preprocess(size=_size(args.resize), resample=args.resample, pad=_non_negative(args.pad, "--pad"),
                         mean=_floats(args.mean, "--mean"), std=_floats(args.std, "--std"), channels=args.channels,
                         bgr=args.bgr, layout=args.layout)
    if args.limit is not None and args.limit <= 0:
        raise MnvError(f"--limit {args.limit} must be a positive number of images")
    out = Path(args.output)
    if out.suffix != ".npy":
        raise MnvError(f"--output '{out}' must end in .npy")
    images, labels = load_source(args.source, args.layout, args.limit)
    x = preprocess(images, options)
    if args.labels_output and labels is None:
        raise MnvError(f"--labels-output: '{args.source}' has no labels (a 'labels' array in the .npz, "
                       "or one subfolder per class)")
    _save(out, x)
    result: dict[str, Any] = {"source": str(args.source), "output": str(out), "samples": int(len(x)),
                              "shape": list(x.shape), "dtype": "float32", "labels_output": None}
    human = f"wrote {out}: {len(x)} samples, float32 {list(x.shape)} (NCHW) from {args.source}"
    if args.labels_output:
        _save(Path(args.labels_output), labels.astype(np.int64))
        result["labels_output"] = str(args.labels_output)
        human += f"; labels in {args.labels_output}"
    return result, human


def _save(path: Path, a: np.ndarray) -> None:
    try:
        np.save(path, a)
    except OSError as exc:
        raise MnvError(f"cannot write '{path}': {exc.strerror or exc}") from None


def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        dims = [int(v) for v in text.split(",")]
    except ValueError:
        raise MnvError(f"--resize '{text}' must be H,W or one number, e.g. 224 or 96,128") from None
    if len(dims) not in (1, 2) or any(d <= 0 for d in dims):
        raise MnvError(f"--resize '{text}' must be one or two positive integers")
    return (dims[0], dims[-1])


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise MnvError(f"{flag} '{text}' must be one number or comma-separated numbers, e.g. 0.485,0.456,0.406") from None
    if not all(np.isfinite(values)):
        raise MnvError(f"{flag} '{text}' must be finite")
    return values


def _non_negative(n: int, flag: str) -> int:
    if n < 0:
        raise MnvError(f"{flag} {n} must not be negative")
    return n
