"""The `mnv3c` command line (contract: ../shared/SPEC.md).

This module only parses flags and turns errors into exit codes; each command's work lives in
`mnv3c.commands`. Bad input (MnvError) becomes one line on stderr and exit 2, a failed check
(CheckFailed) exit 1, never a traceback unless MNV3C_DEBUG=1. SIGTERM and SIGHUP interrupt like
Ctrl-C (exit 128 + signal), so staging folders, temporary folders and emulators are cleaned up.
NumPy's floating-point warnings are silenced: non-finite values are refused explicitly where
they matter (inputs, calibration), and the warnings would only add lines to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from mnv3c import __version__, progress, strict_json
from mnv3c.errors import CheckFailed, MnvError, one_line

TARGETS = ("host", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32", "esp8266", "esp32", "esp32s3")
EXIT_INTERNAL = 3  # an mnv3c bug, not the user's input
INTERRUPTS = (signal.SIGTERM, signal.SIGHUP)  # handled like SIGINT
ARRAYS = ".npy (float32, NCHW, preprocessed, batch first) or .npz (first array); see `mnv3c calib`"


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is so that cleanup runs as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line and exit 2, without the usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.partition(" ")[2]  # "compile" for "mnv3c compile", "" at the top level
        raise MnvError(f"{command}: {message}" if command else message)


def _nonempty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


CALIB_METHODS = ("minmax", "percentile", "mse", "auto")


def _bounded(flag: str, low: float, high: float, interval: str, unit: str = "number") -> Callable[[str], float]:
    """An argparse type for ``flag``: a float strictly above ``low`` and at most (or, for the open
    interval "(low, high)", below) ``high``; ``interval`` is how the message writes the range."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a {unit}, got {text!r}") from None
        if not (low < v < high or (v == high and interval.endswith("]"))):
            raise argparse.ArgumentTypeError(f"{flag} must be in {interval}, got {text}")
        return v
    return parse


_percentile = _bounded("--percentile", 50.0, 100.0, "(50, 100]")
_fraction = _bounded("--target-agreement", 0.0, 1.0, "(0, 1]")
_cosine = _bounded("--target-cosine", -1.0, 1.0, "(-1, 1]")
_decibels = _bounded("--target-sqnr", -1000.0, 1000.0, "(-1000, 1000) dB", "number of dB")


def _bytes(text: str) -> int:
    """--ram-budget: a positive whole number of bytes."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"--ram-budget must be a positive whole number of bytes, got {text!r}")
    return value


def _schedule_flags(c: argparse.ArgumentParser) -> None:
    c.add_argument("--ram-budget", type=_bytes, metavar="BYTES",
                   help="tensor RAM (input + output + activations + scratch) the schedule must fit: early layers "
                        "run in row bands where needed (exit 2 with the smallest reachable figure if none fits); "
                        "default: the smallest RAM for at most 5 %% extra MACs")


def _quant_flags(c: argparse.ArgumentParser) -> None:
    """The calibration choices shared by compile, run and eval (recorded in report.json / eval JSON)."""
    q = c.add_argument_group("quantization")
    q.add_argument("--calib-method", choices=CALIB_METHODS, default="auto",
                   help="activation range estimator (auto: per tensor, the one of least error)")
    q.add_argument("--percentile", type=_percentile, default=99.99, help="for --calib-method percentile/auto")
    q.add_argument("--no-equalize", action="store_true", help="skip depthwise cross-layer equalization")
    q.add_argument("--no-bias-correction", action="store_true", help="skip bias correction")
    q.add_argument("--adaptive-rounding", action="store_true",
                   help="choose each int8 weight's rounding (floor or ceil) to minimise the layer's output error on "
                        "--calib instead of rounding to nearest (the codes change, not the kernels)")
    q.add_argument("--precision", choices=("int8", "mixed", "int16"), default="int8",
                   help="int16: every layer 16x8 (int16 activations, int8 weights); mixed: promote the most "
                        "sensitive layers to 16x8 until the targets hold on --calib")
    q.add_argument("--target-sqnr", type=_decibels, metavar="DB", help="mixed: logit SQNR (dB) to reach on --calib")
    q.add_argument("--target-agreement", type=_fraction, metavar="F",
                   help="mixed: argmax agreement with float to reach on --calib (per output position; "
                        "default 0.99 without other targets)")
    q.add_argument("--target-cosine", type=_cosine, metavar="F",
                   help="mixed: mean cosine of the outputs with float to reach on --calib (per output position; "
                        "default 0.99 without other targets)")
    q.add_argument("--search-data", metavar="DATA",
                   help=f"mixed: measure the targets on these inputs instead of --calib, {ARRAYS}: held-out inputs "
                        "the ranges, bias correction and rounding were not fitted to (with a small --calib, a "
                        "target met there can be missed elsewhere)")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mnv3c", description="MobileNetV3 ONNX to int8 C for microcontrollers, proven under QEMU.",
                epilog="Contract (commands, flags, exit codes, JSON): ../shared/SPEC.md. Exit codes: 0 ok, "
                       "1 a check failed, 2 bad input, 3 internal error (MNV3C_DEBUG=1 shows the traceback).")
    p.add_argument("--version", action="version", version=f"mnv3c {__version__}", help="print the version and exit")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (also MNV3C_QUIET=1); errors and warnings still show")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    def command(name: str, help_: str, json_: bool = True) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_, parents=[common])
        if json_:
            c.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
        return c

    def model_cmd(name: str, help_: str) -> argparse.ArgumentParser:
        c = command(name, help_)
        c.add_argument("model", metavar="MODEL.onnx", help="the ONNX model (float, or QDQ-quantized)")
        c.add_argument("--input-shape", metavar="N,C,H,W", help="fix symbolic input dimensions, e.g. 1,3,224,224")
        return c

    def target_flags(c: argparse.ArgumentParser) -> None:
        c.add_argument("--target", required=True, choices=TARGETS, help="the CPU to generate code for")
        c.add_argument("--board", type=_nonempty, help="board from `mnv3c boards` (default: the target's QEMU machine)")
        c.add_argument("--calib", metavar="CALIB",
                       help=f"calibration samples, {ARRAYS} (default: synthetic, with a warning)")

    c = model_cmd("inspect", "show the optimized graph: layers, MACs, parameters")
    c.add_argument("--input", metavar="INPUT", help=f"an input sample, {ARRAYS}; adds float_output")
    c.add_argument("--passes", action="store_true", help="print the graph after each optimization pass")

    c = model_cmd("compile", "generate C for a target into OUTDIR (with report.json and report.html)")
    target_flags(c)
    c.add_argument("-o", "--output", required=True, metavar="OUTDIR", type=_nonempty, help="the folder to create")
    c.add_argument("--force", action="store_true", help="replace an existing OUTDIR")
    _schedule_flags(c)
    _quant_flags(c)
    c.add_argument("--name", default="mnv3c", metavar="NAME",
                   help="prefix of every exported symbol, macro and file of the library, and its folder in OUTDIR "
                        "(a C identifier; default mnv3c), so several models link into one firmware")
    c.add_argument("--no-softmax", action="store_true",
                   help="leave a trailing Softmax out: the C model outputs logits (default: the int8 softmax kernel)")

    c = command("build", "build the firmware/executable in OUTDIR with the target toolchain")
    c.add_argument("outdir", metavar="OUTDIR", help="a folder written by `mnv3c compile`")

    c = model_cmd("run", "compile, build and run on the target; compare with the integer simulator")
    target_flags(c)
    c.add_argument("--input", metavar="INPUT", help=f"input samples, {ARRAYS} (default: one seeded sample)")
    c.add_argument("--profile", action="store_true",
                   help="print the per-layer instruction profile, most expensive first, on stderr")
    _schedule_flags(c)
    _quant_flags(c)
    c.add_argument("--name", default="mnv3c", metavar="NAME", help="the generated library's prefix (see compile)")
    c.add_argument("--no-softmax", action="store_true", help="the device outputs logits (see compile)")

    c = model_cmd("eval", "float vs int8 accuracy on a labelled data set")
    c.add_argument("--calib", required=True, metavar="CALIB", help=f"calibration samples, {ARRAYS}")
    c.add_argument("--data", required=True, metavar="DATA", help=f"the samples to evaluate, {ARRAYS}")
    c.add_argument("--labels", required=True, metavar="LABELS", help=".npy of integer class labels, one per sample")
    c.add_argument("--per-layer", action="store_true", help="add each layer's SQNR (int8 vs float) and precision")
    c.add_argument("--sensitivity", action="store_true",
                   help="add each layer's isolated sensitivity: output SQNR when only it is quantized")
    _quant_flags(c)
    c.add_argument("--no-softmax", action="store_true", help="compare logits: no int8 softmax (see compile)")

    c = command("flash", "flash OUTDIR's image to a board", json_=False)
    c.add_argument("outdir", metavar="OUTDIR", help="a folder written by `mnv3c compile` and `mnv3c build`")
    c.add_argument("--board", type=_nonempty, help="the board to flash (default: the one OUTDIR was compiled for)")
    c.add_argument("--dry-run", action="store_true", help="print the commands only")

    c = command("report", "write OUTDIR/report.html again from its report.json (and a run's profile)")
    c.add_argument("outdir", metavar="OUTDIR", help="a folder written by `mnv3c compile`")
    c.add_argument("--profile", metavar="RUN.json",
                   help="`mnv3c run --profile --json` output whose per-layer instruction counts to add")

    command("boards", "list the boards with their target and memory")

    c = command("calib", "make a float32 NCHW array (for --calib, --data, --input) from images")
    c.add_argument("source", metavar="SOURCE",
                   help="a folder of images (PNG, JPEG, BMP, ...) or a .npy/.npz of uint8 images")
    c.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="the .npy file to write")
    c.add_argument("--resize", metavar="H,W", help="resize every image to HxW (one number: square)")
    c.add_argument("--resample", choices=("bilinear", "nearest", "bicubic"), default="bilinear",
                   help="the resize filter (default: bilinear)")
    c.add_argument("--pad", type=int, default=0, metavar="PIXELS",
                   help="add this many zero pixels on each side before resizing")
    c.add_argument("--mean", default="0", metavar="M[,M,M]",
                   help="subtracted after scaling pixels to [0, 1], one value or one per channel (default: 0)")
    c.add_argument("--std", default="1", metavar="S[,S,S]",
                   help="divided by after the mean, one value or one per channel (default: 1)")
    c.add_argument("--channels", type=int, choices=(1, 3), help="1 (grey) or 3 (colour); default: as stored")
    c.add_argument("--bgr", action="store_true", help="channel order B, G, R (OpenCV/Caffe models) instead of R, G, B")
    c.add_argument("--layout", choices=("auto", "nhwc", "nchw"), default="auto",
                   help="the layout of a 4-D array SOURCE (default: auto, channels last when the last axis is 1 or 3)")
    c.add_argument("--limit", type=int, metavar="N", help="take the first N images only")
    c.add_argument("--labels-output", metavar="LABELS.npy",
                   help="also write the labels: the .npz's 'labels' array, or a folder's subfolder index")

    c = command("demo", "the bundled default model, end to end")
    return p


def _emit(result: dict[str, Any], as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(strict_json.dumps(result) + "\n")
    else:
        sys.stdout.write(human + ("\n" if human and not human.endswith("\n") else ""))


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("MNV3C_DEBUG") == "1"
    args: argparse.Namespace | None = None
    try:
        args = _build_parser().parse_args(argv)
        progress.configure(args.quiet)
        from mnv3c import commands

        with _interrupt_on_signals(), np.errstate(all="ignore"):
            result, human = commands.dispatch(args)
            _emit(result, getattr(args, "json", False), human)
        return 0
    except MnvError as exc:
        if debug:
            raise
        print(f"mnv3c: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except CheckFailed as exc:
        if debug:
            raise
        if exc.result is not None:
            _emit(exc.result, getattr(args, "json", False), exc.human)
        print(f"mnv3c: check failed: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Interrupted as exc:
        print(f"mnv3c: interrupted ({exc})", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("mnv3c: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an mnv3c bug: still one line, with a way to see more
        if debug:
            raise
        print(f"mnv3c: internal error: {type(exc).__name__}: {one_line(str(exc))} (MNV3C_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL


@contextmanager
def _interrupt_on_signals() -> Iterator[None]:
    """Turn the first SIGTERM/SIGHUP into `Interrupted`; later ones are ignored so the cleanup
    it triggers cannot itself be cut short. Only the main thread can install handlers."""
    def handler(signum: int, _frame: object) -> None:
        for s in INTERRUPTS:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    try:
        previous = {s: signal.signal(s, handler) for s in INTERRUPTS}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


if __name__ == "__main__":
    sys.exit(main())
