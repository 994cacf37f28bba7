"""ONNX exports of zoo models in the shapes different exporters produce, for testing the frontend.

Variants (what each contains is measured by tests/test_zoo.py and written down in mnv3c/zoo/README.md):
  legacy11, legacy13, legacy17  torch.onnx.export(dynamo=False), constant folding (BN folded into Conv)
  legacy_nofold                 legacy exporter, opset 13, no constant folding: BatchNormalization kept
  dynamo                        torch.onnx.export(dynamo=True) at opset DYNAMO_OPSET (18), weights in .onnx.data
  rewritten                     legacy17 rewritten the way other exporters (Paddle, TF) spell the same math
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from mnv3c.zoo import rewrite
from mnv3c.zoo.heads import HEADS, build_head
from mnv3c.zoo.init import init_deterministic
from mnv3c.zoo.models import build

VARIANTS = ("legacy11", "legacy13", "legacy17", "legacy_nofold", "dynamo", "rewritten")
INPUT_NAME = "input"
OUTPUT_NAME = "output"
_LEGACY = {"legacy11": (11, True), "legacy13": (13, True), "legacy17": (17, True), "legacy_nofold": (13, False)}
PADDLE_HSIGMOID_ALPHA = 0.2
DYNAMO_OPSET = 18


def reference_model(
    model_name: str,
    variant: str,
    resolution: int = 224,
    width: float = 1.0,
    num_classes: int = 1000,
    seed: int = 0,
    in_channels: int = 3,
    hsigmoid_alpha: float | None = None,
    weights: str | None = None,
) -> nn.Module:
    """The eval-mode torch module whose output the ONNX file of `variant` reproduces.

    ``weights``: a torchvision-layout state dict (.pth) loaded over the seeded initialisation.

    "rewritten" is a different network: a 3x3/2 MaxPool after the stem, Softmax at the end and, for V3,
    PaddleClas' SE gate clip(0.2x + 0.5, 0, 1) unless `hsigmoid_alpha` says otherwise.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    if model_name in HEADS:
        if variant == "rewritten" or hsigmoid_alpha is not None:
            raise ValueError(f"{model_name} has no {variant!r} variant / hsigmoid_alpha option")
        head = build_head(model_name, width, num_classes, in_channels)
        return init_deterministic(head, seed, resolution).eval()
    rewritten = variant == "rewritten"
    if hsigmoid_alpha is None:
        v3 = model_name.startswith("mobilenet_v3")
        hsigmoid_alpha = PADDLE_HSIGMOID_ALPHA if rewritten and v3 else 1 / 6
    model = build(model_name, width, num_classes, in_channels, hsigmoid_alpha=hsigmoid_alpha, stem_pool=rewritten)
    init_deterministic(model, seed, resolution)
    if weights:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return nn.Sequential(model, nn.Softmax(dim=1)).eval() if rewritten else model.eval()


def export(
    model_name: str,
    variant: str,
    path: str | Path,
    resolution: int = 224,
    width: float = 1.0,
    num_classes: int = 1000,
    seed: int = 0,
    in_channels: int = 3,
    hsigmoid_alpha: float | None = None,
    weights: str | None = None,
) -> Path:
    """Export a deterministically initialised (or ``weights``-loaded) zoo model; same arguments give the same bytes."""
    model = reference_model(model_name, variant, resolution, width, num_classes, seed, in_channels, hsigmoid_alpha,
                            weights)
    return export_module(model, variant, path, (1, in_channels, resolution, resolution))


def cached_export(cache_dir: str | Path, model_name: str, variant: str, **kwargs: object) -> Path:
    """`export` into `cache_dir`, reusing an earlier result for the same arguments and zoo source.

    Safe to call from several processes at once (pytest-xdist workers): a file lock per entry, and
    each entry is written to a temporary directory that is renamed into place when complete.
    """
    from filelock import FileLock  # a torch dependency, so present wherever exporting is possible

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    args = {"model_name": model_name, "variant": variant, **kwargs}
    source = b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))
    key = hashlib.sha256(json.dumps(args, sort_keys=True).encode() + source + torch.__version__.encode()).hexdigest()[:16]
    entry = cache_dir / f"{model_name}-{variant}-{key}"
    path = entry / f"{model_name}_{variant}.onnx"
    with FileLock(str(entry) + ".lock"):
        if not path.exists():
            tmp = entry.with_name(entry.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            export(model_name, variant, tmp / path.name, **kwargs)  # type: ignore[arg-type]
            tmp.rename(entry)
    return path


def export_module(model: nn.Module, variant: str, path: str | Path, input_shape: tuple[int, ...]) -> Path:
    """Export an eval-mode module with a fixed input shape as `variant`; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = torch.zeros(input_shape)
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if variant in _LEGACY:
            opset, fold = _LEGACY[variant]
            _legacy(model, x, path, opset, fold)
        elif variant == "dynamo":
            _dynamo(model, x, path)
        elif variant == "rewritten":
            _legacy(model, x, path, 17, True)
            onnx.save(rewrite.other_exporters(onnx.load(path)), path)
        else:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    return path


def _legacy(model: nn.Module, x: torch.Tensor, path: Path, opset: int, fold: bool) -> None:
    torch.onnx.export(
        model,
        (x,),
        str(path),
        dynamo=False,
        opset_version=opset,
        do_constant_folding=fold,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
    )


def _dynamo(model: nn.Module, x: torch.Tensor, path: Path) -> None:
    """The default exporter at opset 18 (the opset TOOLCHAIN-FACTS.md and the issue name); it writes
    the weights to `<name>.data` next to `path` whatever the model size."""
    path.with_name(path.name + ".data").unlink(missing_ok=True)
    torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=DYNAMO_OPSET, external_data=True,
                      input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
