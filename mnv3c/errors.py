"""Errors the command line turns into one line on stderr and an exit code (see ../shared/SPEC.md)."""

from __future__ import annotations


class MnvError(Exception):
    """Bad input: unreadable or unsupported model, bad flags, model does not fit. Exit code 2."""

    exit_code = 2


class UnsupportedModelError(MnvError):
    """The model uses an op, attribute or shape the compiler cannot handle."""


class CheckFailed(Exception):
    """The run worked but a check failed (e.g. device output differs from the simulator). Exit code 1."""

    exit_code = 1
