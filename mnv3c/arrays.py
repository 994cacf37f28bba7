"""Reading the user's input, calibration, data and label arrays (.npy, or .npz's first array).

Everything is checked here, once, for every command: a file that is not a plain numeric array
(pickled objects are refused without being unpickled), the wrong shape or dtype, no samples,
NaN or infinite values, labels outside the model's classes. Each is one line naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from mnv3c.errors import MnvError, shown, shown_path


def load_array(path: str | Path, what: str) -> np.ndarray:
    """Load ``path`` as a numpy array; ``what`` names the flag in error messages."""
    p = Path(path)
    where = f"{what} file {shown_path(path)}"
    if not p.is_file():
        raise MnvError(f"{where} does not exist")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                if not z.files:
                    raise MnvError(f"{where} holds no arrays")
                a = np.asarray(z[z.files[0]])
        else:
            a = np.asarray(np.load(p, allow_pickle=False))
    except MnvError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise MnvError(f"{where} holds Python objects (dtype object); refused without unpickling: "
                           f"save a numeric array") from None
        raise MnvError(f"{where} is not a readable .npy/.npz array (ValueError)") from None
    except Exception as exc:  # numpy raises several types for corrupt files
        raise MnvError(f"{where} is not a readable .npy/.npz array ({type(exc).__name__})") from None
    if a.dtype.hasobject or a.dtype.fields is not None:
        raise MnvError(f"{where} has the structured dtype {a.dtype}; save a plain numeric array")
    return a


def load_images(path: str | Path, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """Load float32 NCHW samples matching the model input ``shape`` (batch axis first; one
    unbatched sample is accepted); every value must be finite."""
    x = load_array(path, what)
    where = f"{what} file {shown_path(path)}"
    if not np.issubdtype(x.dtype, np.floating):
        raise MnvError(f"{where} has dtype {x.dtype}; expected float32, preprocessed NCHW "
                       f"(`mnv3c calib` makes one from images or uint8 arrays)")
    if x.ndim == len(shape) - 1:
        x = x[None]
    if x.ndim != len(shape) or tuple(x.shape[1:]) != tuple(shape[1:]):
        raise MnvError(f"{where} has shape {list(x.shape)}; the model expects [N, {', '.join(map(str, shape[1:]))}]")
    if x.shape[0] == 0:
        raise MnvError(f"{where} has no samples")
    finite = np.isfinite(x)  # before the cast: float64 values beyond float32's range become inf
    x = x.astype(np.float32)
    finite &= np.isfinite(x)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        kind = "NaN" if np.isnan(x[tuple(bad)]) else "infinite (or beyond float32)"
        count = int((~finite).sum())
        raise MnvError(f"{where} has {count:,} non-finite value{'s' * (count > 1)} "
                       f"(first: {kind} at sample {bad[0]}, index {list(map(int, bad[1:]))})")
    return x


def load_labels(path: str | Path, n: int, classes: int) -> np.ndarray:
    """Integer class labels, one per sample, each in [0, ``classes``)."""
    y = load_array(path, "--labels")
    where = f"--labels file {shown_path(path)}"
    if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
        raise MnvError(f"{where} must be a 1-D integer array, got {y.dtype}{list(y.shape)}")
    if y.shape[0] != n:
        raise MnvError(f"{where} has {y.shape[0]} labels for {n} samples")
    outside = (y < 0) | (y >= classes)  # compared in y's own dtype: a huge uint64 cannot wrap
    if outside.any():
        i = int(np.argmax(outside))
        raise MnvError(f"{where}: label {y[i]} of sample {i} is outside the model's {classes} classes "
                       f"(0..{classes - 1}); {int(outside.sum())} labels are")
    return y.astype(np.int64)


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """Parse ``--input-shape N,C,H,W``: ASCII digits only (int() would also take "１" and "1_0")."""
    if text is None:
        return None
    fields = text.split(",")
    if not all(re.fullmatch(r"[0-9]+", f.strip(" "), re.ASCII) for f in fields):
        raise MnvError(f"--input-shape {shown(text)} must be comma-separated integers, e.g. 1,3,224,224")
    dims = tuple(int(f) for f in fields)
    if len(dims) != 4 or any(d <= 0 for d in dims):
        raise MnvError(f"--input-shape {shown(text)} must be four positive integers N,C,H,W")
    return dims
