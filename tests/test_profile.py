"""The per-layer profile arithmetic (the emulator side is checked on every target in test_targets.py)."""

from __future__ import annotations

import pytest

from mnv3c.profile import OUTSIDE, layer_profile, profile_table

LAYERS = [{"name": "conv", "kernel": "conv2d_s8", "macs": 900}, {"name": "fc", "kernel": "dense_s8", "macs": 10}]


def test_layers_own_the_spans_between_marks_and_the_rest_is_one_row() -> None:
    rows = layer_profile(LAYERS, [4, 1004, 1104], total=1110)
    assert [(r["layer"], r["instructions"]) for r in rows] == [("conv", 1000), ("fc", 100), (OUTSIDE, 10)]
    assert sum(r["instructions"] for r in rows) == 1110


def test_a_mark_count_that_is_not_one_per_layer_is_an_internal_error() -> None:
    with pytest.raises(RuntimeError, match="2 layer marks for 2 kernel calls"):
        layer_profile(LAYERS, [4, 5], total=10)


def test_a_patched_stage_sums_its_band_calls_per_layer() -> None:
    """Two bands of (conv, fc): each layer's row is the sum of its two calls."""
    rows = layer_profile(LAYERS, [0, 300, 310, 1000, 1020], total=1025, calls=[0, 1, 0, 1])
    assert [(r["layer"], r["instructions"]) for r in rows] == [("conv", 990), ("fc", 30), (OUTSIDE, 5)]
    with pytest.raises(RuntimeError, match="3 layer marks for 4 kernel calls"):
        layer_profile(LAYERS, [0, 1, 2], total=3, calls=[0, 1, 0, 1])


def test_table_is_sorted_by_cost_with_a_total() -> None:
    text = profile_table(layer_profile(LAYERS, [0, 100, 1100], total=1100)).splitlines()
    assert [ln.split()[0] for ln in text[1:]] == ["fc", "conv", OUTSIDE.split()[0], "total"]
    assert "0.010" in text[1] and "1,100" in text[-1]
