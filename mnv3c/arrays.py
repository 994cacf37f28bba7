"""Reading the user's input, calibration, data and label arrays (.npy, or .npz's first array)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnv3c.errors import MnvError


def load_array(path: str | Path, what: str) -> np.ndarray:
    """Load ``path`` as a numpy array; ``what`` names the flag in error messages."""
    p = Path(path)
    if not p.is_file():
        raise MnvError(f"{what} file '{p}' does not exist")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                if not z.files:
                    raise MnvError(f"{what} file '{p}' holds no arrays")
                return np.asarray(z[z.files[0]])
        return np.asarray(np.load(p, allow_pickle=False))
    except MnvError:
        raise
    except Exception as exc:  # numpy raises several types for corrupt files
        raise MnvError(f"{what} file '{p}' is not a readable .npy/.npz array ({type(exc).__name__})") from None


def load_images(path: str | Path, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """Load float32 NCHW samples matching the model input ``shape`` (batch axis first; one
    unbatched sample is accepted)."""
    x = load_array(path, what)
    if not np.issubdtype(x.dtype, np.floating):
        raise MnvError(f"{what} file '{path}' has dtype {x.dtype}; expected float32, preprocessed NCHW "
                       f"(`mnv3c calib` makes one from images or uint8 arrays)")
    x = x.astype(np.float32)
    if x.ndim == len(shape) - 1:
        x = x[None]
    if x.ndim != len(shape) or tuple(x.shape[1:]) != tuple(shape[1:]):
        raise MnvError(f"{what} file '{path}' has shape {list(x.shape)}; the model expects [N, {', '.join(map(str, shape[1:]))}]")
    if x.shape[0] == 0:
        raise MnvError(f"{what} file '{path}' has no samples")
    return x


def load_labels(path: str | Path, n: int) -> np.ndarray:
    y = load_array(path, "--labels")
    if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
        raise MnvError(f"--labels file '{path}' must be a 1-D integer array, got {y.dtype}{list(y.shape)}")
    if y.shape[0] != n:
        raise MnvError(f"--labels file '{path}' has {y.shape[0]} labels for {n} samples")
    return y.astype(np.int64)


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """Parse ``--input-shape N,C,H,W``."""
    if text is None:
        return None
    try:
        dims = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise MnvError(f"--input-shape '{text}' must be comma-separated integers, e.g. 1,3,224,224") from None
    if len(dims) != 4 or any(d <= 0 for d in dims):
        raise MnvError(f"--input-shape '{text}' must be four positive integers N,C,H,W")
    return dims
