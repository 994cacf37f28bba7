"""Model input arrays from images: what `mnv3c calib` writes for --calib, --data and --input.

The source is a folder of image files (read with Pillow; subfolders are classes, as in an
ImageFolder) or a .npy/.npz of uint8 images ([N,H,W], [N,H,W,C] or [N,C,H,W]). Each image is
padded, resized, scaled to [0, 1], normalised with (x - mean) / std per channel and laid out NCHW
float32, with the channel order R, G, B (or B, G, R).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from mnv3c.arrays import load_array
from mnv3c.errors import MnvError

RESAMPLE = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
            "bicubic": Image.Resampling.BICUBIC}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


@dataclass(frozen=True)
class Preprocess:
    size: tuple[int, int] | None = None  # (H, W) after resizing; None keeps the stored size
    resample: str = "bilinear"
    pad: int = 0  # zero pixels added on each side before resizing
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    channels: int | None = None  # 1 or 3; None keeps what is stored
    bgr: bool = False
    layout: str = "auto"  # of a 4-D array source: "nhwc", "nchw" or "auto"


def load_source(source: str | Path, layout: str = "auto", limit: int | None = None
                ) -> tuple[list[np.ndarray], np.ndarray | None]:
    """uint8 images, each [H, W, C], and their labels (None when the source has none)."""
    path = Path(source)
    if path.is_dir():
        return _read_folder(path, limit)
    if not path.is_file():
        raise MnvError(f"calib source '{path}' does not exist")
    if path.suffix not in (".npy", ".npz"):
        raise MnvError(f"calib source '{path}' is neither a folder of images nor a .npy/.npz array")
    images = load_array(path, "calib source")
    labels = None
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            labels = np.asarray(z["labels"]) if "labels" in z.files else None
    if images.dtype != np.uint8:
        raise MnvError(f"calib source '{path}' has dtype {images.dtype}; expected uint8 images (0..255)")
    if images.ndim == 3:
        images = images[..., None]
    elif images.ndim == 4:
        images = _channels_last(images, layout, path)
    else:
        raise MnvError(f"calib source '{path}' has shape {list(images.shape)}; expected [N,H,W], [N,H,W,C] or [N,C,H,W]")
    if limit is not None:
        images, labels = images[:limit], None if labels is None else labels[:limit]
    return list(images), labels


def _channels_last(images: np.ndarray, layout: str, path: Path) -> np.ndarray:
    if layout == "auto":
        if images.shape[-1] in (1, 3, 4):
            layout = "nhwc"
        elif images.shape[1] in (1, 3, 4):
            layout = "nchw"
        else:
            raise MnvError(f"calib source '{path}' has shape {list(images.shape)}: no axis of 1, 3 or 4 channels; "
                           "pass --layout nhwc or nchw")
    return images if layout == "nhwc" else images.transpose(0, 2, 3, 1)


def _read_folder(folder: Path, limit: int | None) -> tuple[list[np.ndarray], np.ndarray | None]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    labels: list[int] | None = None
    if classes and not files:  # ImageFolder: one subfolder per class, in sorted order
        pairs = [(f, k) for k, d in enumerate(classes) for f in sorted(d.iterdir())
                 if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
        files, labels = [f for f, _ in pairs], [k for _, k in pairs]
    if not files:
        raise MnvError(f"calib source '{folder}' holds no images ({', '.join(IMAGE_SUFFIXES)})")
    files = files[:limit]
    images = []
    for f in files:
        try:
            with Image.open(f) as im:
                images.append(np.asarray(im.convert("RGB" if im.mode not in ("L", "I;16", "I", "F") else "L")))
        except (UnidentifiedImageError, OSError) as exc:
            raise MnvError(f"calib source '{f}' is not a readable image ({type(exc).__name__})") from None
    images = [im[..., None] if im.ndim == 2 else im for im in images]
    return images, None if labels is None else np.asarray(labels[:len(files)], np.int64)


def preprocess(images: list[np.ndarray], p: Preprocess) -> np.ndarray:
    """uint8 [H, W, C] images -> float32 [N, C, H, W] network input."""
    out = []
    for im in images:
        im = _to_channels(im, p.channels)
        if p.pad:
            im = np.pad(im, ((p.pad, p.pad), (p.pad, p.pad), (0, 0)))
        if p.size is not None and tuple(im.shape[:2]) != p.size:
            mode = "L" if im.shape[2] == 1 else "RGB"
            resized = Image.fromarray(im[..., 0] if mode == "L" else im, mode).resize(
                (p.size[1], p.size[0]), RESAMPLE[p.resample])
            im = np.asarray(resized).reshape(p.size[0], p.size[1], im.shape[2])
        out.append(im)
    shapes = {im.shape for im in out}
    if len(shapes) != 1:
        raise MnvError(f"the images have different sizes {sorted(shapes)[:3]}; pass --resize H,W")
    x = np.stack(out).astype(np.float32) / np.float32(255.0)
    if p.bgr:
        x = x[..., ::-1]
    c = x.shape[-1]
    mean, std = _per_channel(p.mean, c, "--mean"), _per_channel(p.std, c, "--std")
    if np.any(std == 0):
        raise MnvError("--std must not be 0")
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)


def _to_channels(im: np.ndarray, channels: int | None) -> np.ndarray:
    if im.shape[2] == 4:
        im = im[..., :3]  # alpha dropped
    if channels is None or channels == im.shape[2]:
        return im
    if channels == 3:
        return np.repeat(im, 3, axis=2)
    grey = np.asarray(Image.fromarray(im, "RGB").convert("L"))  # ITU-R 601 luma, as Pillow computes it
    return grey[..., None]


def _per_channel(values: tuple[float, ...], channels: int, flag: str) -> np.ndarray:
    if len(values) not in (1, channels):
        raise MnvError(f"{flag} has {len(values)} values for {channels} channels; give 1 or {channels}")
    return np.asarray(values if len(values) == channels else values * channels, np.float32)
