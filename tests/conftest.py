"""Shared fixtures.

zoo_model(family, variant, resolution=96, width=1.0, num_classes=1000, seed=0, in_channels=3, hsigmoid_alpha=None) -> Path
    Session-scoped factory returning the path of a zoo ONNX export (`mnv3c.zoo.export.export`; families
    `mnv3c.zoo.models.FAMILIES`, variants `mnv3c.zoo.export.VARIANTS`). Each distinct call exports once per
    test run, and pytest-xdist workers share the results (one cache directory per run, file-locked). Set
    MNV3C_ZOO_CACHE=/some/dir to keep exports across runs; entries are keyed by the arguments, the zoo's
    source and the torch version. Skips the test when torch/onnxscript are missing. A "dynamo" export
    has its weights in `<path>.data` beside it.

MNV3C_QUIET=1 for every test (in-process and subprocesses): the progress lines on stderr are tested
on their own (tests/test_progress.py), and the other tests check stderr for exactly their error line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

os.environ["MNV3C_QUIET"] = "1"


@pytest.fixture(scope="session")
def zoo_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    from mnv3c.zoo.export import cached_export

    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent  # shared by all xdist workers of this run
    cache = Path(os.environ.get("MNV3C_ZOO_CACHE") or run_dir / "zoo-cache")

    def get(family: str, variant: str, resolution: int = 96, **kwargs: object) -> Path:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # on a busy 2-core machine, 2 torch threads export ~10x slower
        try:
            return cached_export(cache, family, variant, resolution=resolution, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return get
