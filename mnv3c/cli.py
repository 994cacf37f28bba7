"""The `mnv3c` command line (contract: ../shared/SPEC.md).

This module only parses flags and turns errors into exit codes; each command's work lives in
`mnv3c.commands`. Bad input (MnvError) becomes one line on stderr and exit 2, a failed check
(CheckFailed) exit 1, never a traceback unless MNV3C_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from mnv3c.errors import CheckFailed, MnvError

TARGETS = ("host", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32", "esp32", "esp32s3")
EXIT_INTERNAL = 3  # an mnv3c bug, not the user's input


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line and exit 2, without the usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.partition(" ")[2]  # "compile" for "mnv3c compile", "" at the top level
        raise MnvError(f"{command}: {message}" if command else message)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mnv3c", description="MobileNetV3 ONNX to int8 C for microcontrollers, proven under QEMU.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def model_cmd(name: str, help_: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_)
        c.add_argument("model", metavar="MODEL.onnx")
        c.add_argument("--input-shape", metavar="N,C,H,W", help="fix symbolic input dimensions")
        c.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
        return c

    c = model_cmd("inspect", "show the optimized graph: layers, MACs, parameters")
    c.add_argument("--input", metavar="INPUT", help=".npy/.npz input; adds float_output")
    c.add_argument("--passes", action="store_true", help="print the graph after each optimization pass")

    c = model_cmd("compile", "generate C for a target into OUTDIR")
    c.add_argument("--target", required=True, choices=TARGETS)
    c.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    c.add_argument("--board", help="board from mnv3c/boards (default: the target's QEMU machine)")
    c.add_argument("--calib", metavar="CALIB", help=".npy/.npz calibration samples (float32 NCHW)")
    c.add_argument("--force", action="store_true", help="replace an existing OUTDIR")

    c = sub.add_parser("build", help="build the firmware/executable in OUTDIR with the target toolchain")
    c.add_argument("outdir", metavar="OUTDIR")
    c.add_argument("--json", action="store_true")

    c = model_cmd("run", "compile, build and run on the target; compare with the integer simulator")
    c.add_argument("--target", required=True, choices=TARGETS)
    c.add_argument("--board")
    c.add_argument("--calib", metavar="CALIB")
    c.add_argument("--input", metavar="INPUT")

    c = model_cmd("eval", "float vs int8 accuracy on a labelled data set")
    c.add_argument("--calib", required=True, metavar="CALIB")
    c.add_argument("--data", required=True, metavar="DATA")
    c.add_argument("--labels", required=True, metavar="LABELS")
    c.add_argument("--per-layer", action="store_true", help="add each layer's SQNR")

    c = sub.add_parser("flash", help="flash OUTDIR's image to a board")
    c.add_argument("outdir", metavar="OUTDIR")
    c.add_argument("--board")
    c.add_argument("--dry-run", action="store_true", help="print the commands only")

    c = sub.add_parser("demo", help="the bundled default model, end to end")
    c.add_argument("--json", action="store_true")
    return p


def _emit(result: dict[str, Any], as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        sys.stdout.write(human + ("\n" if human and not human.endswith("\n") else ""))


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("MNV3C_DEBUG") == "1"
    args: argparse.Namespace | None = None
    try:
        args = _build_parser().parse_args(argv)
        from mnv3c import commands

        result, human = commands.dispatch(args)
        _emit(result, getattr(args, "json", False), human)
        return 0
    except MnvError as exc:
        if debug:
            raise
        print(f"mnv3c: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except CheckFailed as exc:
        if debug:
            raise
        if exc.result is not None:
            _emit(exc.result, getattr(args, "json", False), exc.human)
        print(f"mnv3c: check failed: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mnv3c: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an mnv3c bug: still one line, with a way to see more
        if debug:
            raise
        print(f"mnv3c: internal error: {type(exc).__name__}: {exc} (MNV3C_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
