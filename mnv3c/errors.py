"""Errors the command line turns into one line on stderr and an exit code (see ../shared/SPEC.md)."""

from __future__ import annotations


class MnvError(Exception):
    """Bad input: unreadable or unsupported model, bad flags, model does not fit. Exit code 2."""

    exit_code = 2


class UnsupportedModelError(MnvError):
    """The model uses an op, attribute or shape the compiler cannot handle."""


class CheckFailed(Exception):
    """The run worked but a check failed (e.g. device output differs from the simulator). Exit code 1.

    ``result``/``human``: what the command produced anyway, printed before the failure line.
    """

    exit_code = 1

    def __init__(self, message: str, result: dict | None = None, human: str = "") -> None:
        super().__init__(message)
        self.result = result
        self.human = human
