"""Memory fit check before building: a model that cannot fit a board fails early with one line
saying by how much and what to change (exit 2), instead of a linker overflow deep in a build.

Every number is checked against the region the board's registry entry places it in (arena and
scratch -> ARENA, stack -> DATA, weights -> WEIGHTS, code -> CODE); roles sharing a region add up.
The link (toolchain.build) stays the authoritative check; this one runs before any code exists.
"""

from __future__ import annotations

from mnv3c.boards.registry import Board
from mnv3c.errors import MnvError

_RAM_ADVICE = "use a smaller input resolution or width multiplier, or a board with more RAM"
_FLASH_ADVICE = "use a smaller width multiplier (fewer weights), or a board with more flash"


def check_fit(
    board: Board,
    arena_bytes: int,
    scratch_bytes: int,
    stack_bytes: int,
    weights_bytes: int,
    code_bytes_estimate: int,
) -> None:
    """Raise MnvError if the model's memory does not fit `board`; the host has no limits."""
    if not board.regions:
        return
    ram = {"arena": ("ARENA", arena_bytes), "scratch": ("ARENA", scratch_bytes), "stack": ("DATA", stack_bytes)}
    flash = {"weights": ("WEIGHTS", weights_bytes), "code": ("CODE", code_bytes_estimate)}
    _check(board, "RAM", ram, _RAM_ADVICE)
    _check(board, "flash", flash, _FLASH_ADVICE)


def check_stack(board: Board, need_bytes: int | None, reserved_bytes: int) -> None:
    """The model's stack, measured by the compiler (boards/stack.py; None: not measured), against
    the main stack the board image reserves (c/sections.ld)."""
    if need_bytes is not None and need_bytes > reserved_bytes:
        raise MnvError(f"model does not fit {board.name}: needs {need_bytes:,} B of stack (measured with "
                       f"-fcallgraph-info=su) but the image reserves {reserved_bytes:,} B (mnv3c/boards/c/sections.ld)")


def _check(board: Board, kind: str, parts: dict[str, tuple[str, int]], advice: str) -> None:
    by_region: dict[str, list[tuple[str, int]]] = {}
    for what, (role, size) in parts.items():
        by_region.setdefault(board.placement[role], []).append((what, size))
    for name, items in by_region.items():
        region = board.region(name)
        need = sum(size for _, size in items)
        if need > region.length:
            terms = " + ".join(f"{what} {size:,}" for what, size in items if size)
            raise MnvError(
                f"model does not fit {board.name}: needs {need:,} B {kind} ({terms}) "
                f"but {name} has {region.length:,} B; {advice}"
            )
