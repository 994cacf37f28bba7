"""Progress of the long steps on stderr, so stdout stays the command's result.

On a terminal: a rich live display, one line per stage with a spinner or a bar, elapsed time and a
tick when done. Elsewhere (CI logs, pipes): one plain line when a stage starts, ``mnv3c: STAGE:
detail``, so a log shows what was running when something hung. Nothing at all with --quiet (or
MNV3C_QUIET=1). Stages may nest (a `run` builds, then runs); they share one live display.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

# Every stage a command can report, in the order a `run` goes through them.
STAGES = ("import", "plan", "calibrate", "quantize", "sqnr", "codegen", "report", "build", "run", "evaluate")

_quiet = False
_live: Progress | None = None
_depth = 0


def configure(quiet: bool) -> None:
    """--quiet for the rest of the process; MNV3C_QUIET=1 means the same."""
    global _quiet
    _quiet = quiet


def is_quiet() -> bool:
    return _quiet or os.environ.get("MNV3C_QUIET") == "1"


class _Bar(BarColumn):
    """A bar for stages that count something (samples), nothing for the others."""

    def render(self, task: Task) -> RenderableType:
        return super().render(task) if task.fields.get("counted") else Text("")


class _Count(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{int(task.completed)}/{int(task.total or 0)}" if task.fields.get("counted") else "")


class Stage:
    """Handle of a running stage: `advance` moves its bar (stages with a total)."""

    def __init__(self, task: TaskID | None) -> None:
        self._task = task

    def advance(self, steps: int = 1) -> None:
        if self._task is not None and _live is not None:
            _live.advance(self._task, steps)


@contextmanager
def stage(name: str, detail: str = "", total: int | None = None, enabled: bool = True) -> Iterator[Stage]:
    """Report stage ``name`` (one of STAGES) while the block runs; ``total`` draws a bar."""
    assert name in STAGES, name
    if not enabled or is_quiet():
        yield Stage(None)
        return
    if not sys.stderr.isatty():
        sys.stderr.write(f"mnv3c: {name}: {detail}\n" if detail else f"mnv3c: {name}\n")
        sys.stderr.flush()
        yield Stage(None)
        return
    global _live, _depth
    if _live is None:
        _live = Progress(SpinnerColumn(finished_text="[green]✓"), TextColumn("{task.description}"), _Bar(),
                         _Count(), TimeElapsedColumn(), console=Console(stderr=True), transient=False)
        _live.start()
    _depth += 1
    label = f"{name}: {detail}" if detail else name
    task = _live.add_task(label, total=total, counted=total is not None)
    try:
        yield Stage(task)
        _live.update(task, total=total or 1, completed=total or 1)
    except BaseException:
        _live.update(task, description=f"[red]{label} (failed)")
        raise
    finally:
        _live.stop_task(task)
        _depth -= 1
        if _depth == 0:
            _live.stop()
            _live = None
