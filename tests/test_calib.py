"""`mnv3c calib`: model input arrays from a folder of images or a uint8 .npy/.npz, with the usual
preprocessing flags; the shipped uint8 MNIST split becomes exactly the bundled model's input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnv3c import cli
from mnv3c.zoo.mnist import DATA_DIR, load_split


def _calib(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, dict | None, str]:
    code = cli.main(["calib", *map(str, argv), "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, err


def test_shipped_uint8_mnist_becomes_the_bundled_models_input(tmp_path, capsys) -> None:
    """pad 2, nearest x3 to 96, MNIST mean/std: the preprocessing zoo/mnist.py documents, bit for bit."""
    out, labels = tmp_path / "calib.npy", tmp_path / "labels.npy"
    code, r, err = _calib(capsys, DATA_DIR / "mnist_calib.npz", "-o", out, "--pad", 2, "--resize", 96,
                          "--resample", "nearest", "--mean", 0.1307, "--std", 0.3081, "--labels-output", labels)
    assert code == 0, err
    expected, expected_labels = load_split("calib")
    x = np.load(out)
    assert x.dtype == np.float32 and x.shape == expected.shape == (200, 1, 96, 96)
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(np.load(labels), expected_labels)
    assert r == {"source": str(DATA_DIR / "mnist_calib.npz"), "output": str(out), "samples": 200,
                 "shape": [200, 1, 96, 96], "dtype": "float32", "labels_output": str(labels)}


def test_the_written_array_calibrates_a_compile(tmp_path, capsys) -> None:
    out = tmp_path / "calib.npy"
    assert _calib(capsys, DATA_DIR / "mnist_calib.npz", "-o", out, "--pad", 2, "--resize", 96, "--limit", 4,
                  "--mean", 0.1307, "--std", 0.3081)[0] == 0
    code = cli.main(["compile", str(DATA_DIR / "mnv3_small_mnist.onnx"), "--target", "host", "--calib", str(out),
                     "-o", str(tmp_path / "model"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and all("sqnr_db" in layer for layer in report["layers"])  # real calibration data


def _write_folder(root: Path) -> list[np.ndarray]:
    """Two classes of RGB PNGs (20x30), sorted names; returns the pixels in label order."""
    rng = np.random.default_rng(0)
    pixels = []
    for cls, names in (("cat", ["b.png", "a.png"]), ("dog", ["c.png"])):
        (root / cls).mkdir(parents=True)
        for name in sorted(names):
            px = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
            Image.fromarray(px, "RGB").save(root / cls / name)
            pixels.append(px)
    return pixels


def test_image_folder_with_resize_mean_std_and_bgr(tmp_path, capsys) -> None:
    pixels = _write_folder(tmp_path / "images")
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    argv = [tmp_path / "images", "--resize", "16,24", "--mean", ",".join(map(str, mean)),
            "--std", ",".join(map(str, std)), "--labels-output", tmp_path / "y.npy"]
    assert _calib(capsys, *argv, "-o", tmp_path / "rgb.npy")[0] == 0
    assert _calib(capsys, *argv, "-o", tmp_path / "bgr.npy", "--bgr")[0] == 0
    rgb, bgr = np.load(tmp_path / "rgb.npy"), np.load(tmp_path / "bgr.npy")
    assert rgb.shape == (3, 3, 16, 24) and rgb.dtype == np.float32
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), [0, 0, 1])
    for x, px in zip(rgb, pixels):
        resized = np.asarray(Image.fromarray(px).resize((24, 16), Image.Resampling.BILINEAR), np.float32) / 255
        expected = ((resized - np.float32(mean)) / np.float32(std)).transpose(2, 0, 1)
        np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-6)
    # B, G, R: the channels reversed before normalising, so the mean/std apply to B first
    flipped = np.asarray(Image.fromarray(pixels[0]).resize((24, 16), Image.Resampling.BILINEAR), np.float32) / 255
    np.testing.assert_allclose(bgr[0], ((flipped[..., ::-1] - np.float32(mean)) / np.float32(std)).transpose(2, 0, 1),
                               rtol=1e-6, atol=1e-6)
    assert _calib(capsys, tmp_path / "images", "-o", tmp_path / "grey.npy", "--channels", 1)[0] == 0
    assert np.load(tmp_path / "grey.npy").shape == (3, 1, 20, 30)


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_uint8_arrays_in_either_layout(layout, tmp_path, capsys) -> None:
    nhwc = np.random.default_rng(1).integers(0, 256, (4, 8, 10, 3), dtype=np.uint8)
    stored = nhwc if layout == "nhwc" else nhwc.transpose(0, 3, 1, 2)
    np.savez(tmp_path / "x.npz", images=stored)
    assert _calib(capsys, tmp_path / "x.npz", "-o", tmp_path / "auto.npy")[0] == 0
    assert _calib(capsys, tmp_path / "x.npz", "-o", tmp_path / "given.npy", "--layout", layout)[0] == 0
    expected = (nhwc.astype(np.float32) / 255).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(np.load(tmp_path / "auto.npy"), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "given.npy"), expected)


BAD = {
    "float_source": (lambda d: [d / "float.npy", "-o", d / "o.npy"], ["float32", "uint8"]),
    "mean_per_channel_count": (lambda d: [d / "rgb.npz", "-o", d / "o.npy", "--mean", "0.5,0.5"],
                               ["--mean", "2 values for 3 channels"]),
    "zero_std": (lambda d: [d / "rgb.npz", "-o", d / "o.npy", "--std", "0"], ["--std"]),
    "bad_resize": (lambda d: [d / "rgb.npz", "-o", d / "o.npy", "--resize", "0,4"], ["--resize"]),
    "no_labels": (lambda d: [d / "rgb.npz", "-o", d / "o.npy", "--labels-output", d / "y.npy"], ["labels"]),
    "empty_folder": (lambda d: [d / "empty", "-o", d / "o.npy"], ["no images"]),
    "not_an_image": (lambda d: [d / "junk", "-o", d / "o.npy"], ["not a readable image"]),
    "missing": (lambda d: [d / "nope", "-o", d / "o.npy"], ["does not exist"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sources_and_flags_are_one_line_exit_2(case, tmp_path, capsys) -> None:
    np.save(tmp_path / "float.npy", np.zeros((2, 8, 8), np.float32))
    np.savez(tmp_path / "rgb.npz", np.zeros((2, 8, 8, 3), np.uint8))
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.png").write_bytes(b"not a png")
    argv, fragments = BAD[case]
    code, _, err = _calib(capsys, *argv(tmp_path))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("mnv3c: error: "), err
    for fragment in fragments:
        assert fragment in lines[0]
    assert not (tmp_path / "o.npy").exists()


def test_raw_uint8_calib_is_refused_with_the_way_to_convert_it(tmp_path, capsys) -> None:
    code = cli.main(["compile", str(DATA_DIR / "mnv3_small_mnist.onnx"), "--target", "host", "--calib",
                     str(DATA_DIR / "mnist_calib.npz"), "-o", str(tmp_path / "out")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "uint8" in lines[0] and "`mnv3c calib`" in lines[0]
    assert not (tmp_path / "out").exists()
