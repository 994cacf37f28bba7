"""Worst-case stack depth of the generated model, measured by the target compiler.

The model's C is compiled once more with GCC's `-fcallgraph-info=su` (the call graph with each
function's `-fstack-usage` frame), and the deepest path from `mnv3c_model_run` is summed. That
figure, plus the harness's own frames, is what the memory-fit check compares with the stack the
board reserves, so a kernel with a large frame fails the compile instead of overflowing on the device.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from mnv3c.boards.registry import Board
from mnv3c.boards.toolchain import C_DIR, compile_flags, compiler_name, run_tool, which_tool

HARNESS_BYTES = 512  # main(), the harness's I/O and an exception frame, on top of the model's calls
# Stack that inline assembly takes below its function's frame, which -fstack-usage cannot see: the
# arm_dsp depthwise pair routine's 56 bytes of spill slots, the largest such use (the arm_dsp GEMM
# and quad blocks take 8); these kernels never call one another, so the largest counts, on every board.
ASM_STACK_BYTES = 56
class StackMeasureError(RuntimeError):
    """The stack of mnv3c's own generated code cannot be bounded: an mnv3c bug (exit 3)."""


_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*?\\n[^"]*?\\n(\d+) bytes \((\w+)(?:,\w+)?\)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def model_stack_bytes(board: Board, outdir: Path, sources: list[str], name: str = "mnv3c") -> int | None:
    """Deepest stack of ``NAME_model_run`` plus HARNESS_BYTES and ASM_STACK_BYTES, compiled as for ``board``; None
    when the board's compiler is not installed (ESP-IDF boards, build-only machines). ``sources``
    are relative to ``outdir``, the library's headers in ``outdir/NAME``."""
    if board.arch == "esp-idf" or which_tool(compiler_name(board)) is None:
        return None
    code = [str(Path(outdir, s).resolve()) for s in sources if Path(s).name != f"{name}_weights.c"]  # data only
    code += [str(C_DIR / f) for f in board.libgcc_helpers]
    with tempfile.TemporaryDirectory(prefix="mnv3c-stack-") as tmp:
        cmd = [which_tool(compiler_name(board)), *compile_flags(board), f"-I{Path(outdir, name).resolve()}", "-c",
               "-fcallgraph-info=su", *code]
        proc = run_tool(cmd, cwd=Path(tmp))
        if proc.returncode != 0:
            raise StackMeasureError(f"cannot measure the model's stack: {compiler_name(board)} failed: "
                           f"{(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
        graph = "\n".join(p.read_text() for p in sorted(Path(tmp).glob("*.ci")))
    return deepest_stack(graph, f"{name}_model_run") + HARNESS_BYTES + ASM_STACK_BYTES


def deepest_stack(callgraph: str, root: str) -> int:
    """Largest sum of frames along any call path from ``root`` in GCC `.ci` text (VCG format).
    Recursion, dynamic frames or a callee without a frame (code we did not compile) are errors:
    the generated code has none of them, so they mean the figure would be a guess."""
    frames: dict[str, int] = {}
    for title, size, kind in _NODE.findall(callgraph):
        if kind != "static":
            raise StackMeasureError(f"cannot bound the stack: {title} has a {kind} frame")
        frames[title] = int(size)
    calls: dict[str, set[str]] = {}
    for source, target in _EDGE.findall(callgraph):
        calls.setdefault(source, set()).add(target)
    depth: dict[str, int] = {}

    def visit(fn: str, path: tuple[str, ...]) -> int:
        if fn in path:
            raise StackMeasureError(f"cannot bound the stack: recursion through {fn}")
        if fn not in depth:
            if fn not in frames:
                raise StackMeasureError(f"cannot bound the stack: no frame size for {fn}")
            depth[fn] = frames[fn] + max((visit(c, path + (fn,)) for c in calls.get(fn, ())
                                          if not _is_builtin(c, frames)), default=0)
        return depth[fn]

    return visit(root, ())


def _is_builtin(fn: str, frames: dict[str, int]) -> bool:
    """memcpy/memset that GCC may emit for struct copies: leaf library routines, no frame listed."""
    return fn not in frames and fn in ("memcpy", "memset", "memmove", "__aeabi_memcpy", "__aeabi_memset")
