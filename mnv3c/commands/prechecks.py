"""The checks a command can make before anything reads the model: the board, the tools, OUTDIR and
--name. `dispatch` runs them before it imports the command, whose dependencies (onnx and the whole
compiler) take about a second to import, so a wrong flag or a missing emulator is one line at
once. The commands check again where the values are used: their functions are also called
directly, from Python."""

from __future__ import annotations

import argparse

from mnv3c.boards.registry import resolve_board
from mnv3c.boards.toolchain import check_tools
from mnv3c.codegen.names import check_prefix
from mnv3c.outdir import check_replaceable


def precheck(args: argparse.Namespace) -> None:
    if args.command == "compile":
        resolve_board(args.target, args.board)
        check_replaceable(args.output, args.force, (args.model, args.calib))
        check_prefix(args.name)
    elif args.command == "run":
        board = resolve_board(args.target, args.board, run=True)
        check_prefix(args.name)
        if not board.hardware:  # a real board is refused by the command itself, with the way to use it
            check_tools(board)
