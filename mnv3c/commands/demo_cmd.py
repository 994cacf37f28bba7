"""`mnv3c demo`: the bundled MNIST MobileNetV3-Small compiled for Cortex-M7 and run under QEMU.

Shows what the tool is for in one command: prediction on the device vs the label and the float
reference, bit-exactness against the integer simulator, the instruction count and the memory use.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from mnv3c.commands.run_cmd import run_model
from mnv3c.errors import CheckFailed
from mnv3c.zoo.mnist import load_split

MODEL = Path(__file__).resolve().parent.parent / "data" / "mnv3_small_mnist.onnx"
TARGET = "cortex-m7"
SAMPLES = 4


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    calib, _ = load_split("calib")
    x, labels = load_split("test")
    result = run_model(str(MODEL), TARGET, None, calib, x[:SAMPLES], None)
    result["labels"] = labels[:SAMPLES].astype(int).tolist()
    lines = [f"mnv3c demo: {MODEL.name} (MobileNetV3-Small, 1x1x96x96, 10 digits) on {TARGET} "
             f"({result['board']}, QEMU)"]
    for i, (dev, ref, label) in enumerate(zip(result["output"], result["float_output"], result["labels"])):
        lines.append(f"  sample {i}: label {label}, device predicts {int(np.argmax(dev))} "
                     f"(score {max(dev):.2f}), float reference predicts {int(np.argmax(ref))} (score {max(ref):.2f})")
    insn = result["instructions"]
    lines.append(f"  bit-exact with the integer simulator: {result['bit_exact']}")
    lines.append(f"  {insn:,} guest instructions per inference, {result['macs']:,} MACs "
                 f"({result['macs'] / insn:.3f} MAC/insn)" if insn else "  instruction count unavailable")
    lines.append(f"  memory: arena {result['arena_bytes']:,} B, image flash {result['flash_bytes']:,} B, "
                 f"RAM {result['ram_bytes']:,} B")
    human = "\n".join(lines)
    if not result["bit_exact"]:
        raise CheckFailed("device output differs from the integer simulator", result, human)
    return result, human
