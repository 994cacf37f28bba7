"""The graph input's int8 grid fitted to normalized pixel levels (`mnv3c.quant.input_grid`)."""

from __future__ import annotations

import numpy as np

from mnv3c.quant.input_grid import MAX_DISTINCT, SCALE_SPAN, ZERO_POINT_SPAN, _error, input_params
from mnv3c.quant.quantize import quantize_with_float
from mnv3c.quant.ranges import scale_zero_point
from mnv3c.quant.simulate import dequantize_tensor, quantize_input
from quant_graphs import tiny_mobilenet

MEAN, STD = 0.485, 0.229  # ImageNet's red channel


def pixels(n: int, seed: int = 0, shape: tuple[int, ...] = (3, 16, 16)) -> np.ndarray:
    """Camera-like inputs: 8-bit levels normalized as torchvision does."""
    p = np.random.default_rng(seed).integers(0, 256, (n, *shape))
    return ((p / 255.0 - MEAN) / STD).astype(np.float32)


def sqnr(x: np.ndarray, scale: float, zp: int) -> float:
    v = x.astype(np.float64).ravel()
    return float(10 * np.log10((v ** 2).sum() / _error(v, np.ones_like(v), scale, np.array([zp])))[0])


def test_fitted_grid_has_less_rounding_error_than_the_estimate_and_stays_near_it() -> None:
    x = pixels(8)
    estimate = scale_zero_point(float(x.min()), float(x.max()))
    (scale, zp), found = input_params(x, estimate)
    assert found["distinct_values"] == 256
    assert found["sqnr_db"] > found["sqnr_db_estimate"] + 0.5  # 256 levels on 256 codes: much to gain
    assert abs(found["sqnr_db_estimate"] - sqnr(x, *estimate)) < 1e-9
    assert abs(found["sqnr_db"] - sqnr(x, scale, zp)) < 1e-9
    assert abs(scale / estimate[0] - 1) <= SCALE_SPAN + 1e-6 and abs(zp - estimate[1]) <= ZERO_POINT_SPAN
    assert scale == float(np.float32(scale))  # as the C stores it


def test_fitted_grid_generalizes_to_other_images_of_the_same_levels() -> None:
    calib, held_out = pixels(8, seed=1), pixels(8, seed=2)
    estimate = scale_zero_point(float(calib.min()), float(calib.max()))
    fitted = input_params(calib, estimate)[0]
    assert sqnr(held_out, *fitted) > sqnr(held_out, *estimate) + 0.5


def test_inputs_of_many_distinct_values_keep_the_estimate() -> None:
    x = np.random.default_rng(0).normal(0, 1, MAX_DISTINCT + 100).astype(np.float32)
    estimate = scale_zero_point(float(x.min()), float(x.max()))
    assert input_params(x, estimate) == (estimate, None)


def test_quantizer_fits_the_input_grid_to_the_calibration_pixels() -> None:
    calib = pixels(32, seed=3)
    ref, qg = quantize_with_float(tiny_mobilenet(seed=3), calib, progress=False)
    name = qg.inputs[0]
    found = qg.meta["quant"]["ranges"][name]["exact_grid"]
    assert found is not None and found["sqnr_db"] > found["sqnr_db_estimate"]
    q = qg.tensors[name].quant
    x = pixels(8, seed=4)
    err = dequantize_tensor(qg, name, quantize_input(qg, x)) - x
    assert abs(10 * np.log10((x.astype(np.float64) ** 2).sum() / (err.astype(np.float64) ** 2).sum())
               - sqnr(x, float(q.scale), int(q.zero_point))) < 0.01  # the graph quantizes its input on that grid
