"""Acceptance: the bundled MNIST MobileNetV3-Small quantized with the shipped calibration split
keeps its held-out accuracy (int8 top-1 within 0.5 points of float, argmax agreement >= 99 %)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mnv3c
from mnv3c.quant.evaluate import evaluate

MODEL = Path(mnv3c.__file__).resolve().parent / "data" / "mnv3_small_mnist.onnx"


@pytest.mark.slow
@pytest.mark.skipif(not MODEL.exists(), reason="the bundled model has not been trained yet")
def test_bundled_model_int8_matches_float_on_the_test_split():
    from mnv3c.zoo.mnist import load_split

    calib, _ = load_split("calib")
    x, y = load_split("test")
    r = evaluate(MODEL, calib, x, y, progress=False)
    assert r["samples"] == len(x)
    assert r["int8_top1"] >= r["float_top1"] - 0.005, r
    assert r["agreement"] >= 0.99, r
