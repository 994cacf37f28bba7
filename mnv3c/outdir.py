"""The output folder (OUTDIR): created all at once, replaced only when it is safely mnv3c's own, and
its report.json read back with every field the later commands need.

A project is written into a hidden staging folder beside OUTDIR and renamed onto it at the end;
the rename fails if OUTDIR appeared meanwhile (another process, a second compile), so two
compiles never silently replace each other. `--force` swaps the old folder out in one rename
and only if it is empty or an mnv3c output folder that holds neither the current directory nor
the command's own input files. Nothing outside OUTDIR is ever deleted.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from mnv3c import strict_json
from mnv3c.errors import MnvError, shown, shown_path

REPORT = "report.json"
# What `build`, `run` and `flash` read from report.json, and its JSON type.
REPORT_FIELDS: dict[str, type] = {"target": str, "board": str, "sources": list, "input": dict, "output": dict}
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2  # linux/fs.h
_AT_FDCWD = -100


def check_replaceable(outdir: str | os.PathLike, force: bool, inputs: Sequence[str | os.PathLike | None] = ()) -> None:
    """MnvError unless ``outdir`` may be (re)created: said before any slow work, and again just
    before the rename. ``inputs``: the command's own files, which --force must never delete."""
    if os.fspath(outdir) == "":
        raise MnvError("the output folder must not be empty (-o \"\"); name a folder, e.g. -o out")
    path = Path(outdir)
    where = shown_path(outdir)
    if path.is_symlink():
        raise MnvError(f"output folder {where} is a symbolic link; mnv3c does not write through links, give the real path")
    if not path.exists():
        return
    if not path.is_dir():
        raise MnvError(f"output path {where} exists and is not a folder")
    if not force:
        raise MnvError(f"output folder {where} exists; pass --force to replace it")
    real = path.resolve()
    if Path.cwd().resolve().is_relative_to(real):
        raise MnvError(f"refusing to replace output folder {where}: it contains the current directory")
    for f in inputs:
        if f and Path(f).resolve().is_relative_to(real):
            raise MnvError(f"refusing to replace output folder {where}: it holds the input file {shown_path(f)}")
    if any(path.iterdir()) and not _is_mnv3c_report(path / REPORT):
        raise MnvError(f"refusing to replace output folder {where}: it is not empty and not an mnv3c output folder "
                       f"(no {REPORT} written by mnv3c); remove it yourself or choose another -o")


@contextmanager
def staged(outdir: str | os.PathLike, force: bool, inputs: Sequence[str | os.PathLike | None] = ()) -> Iterator[Path]:
    """A fresh folder to write the project into; on leaving the block it becomes ``outdir`` in one
    rename. On any failure or interrupt the staging folder is removed and ``outdir`` untouched."""
    check_replaceable(outdir, force, inputs)
    target = Path(outdir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # os.mkdir honours the umask (tempfile.mkdtemp would force 0700)
        staging = target.parent / f".{target.name[:100]}.staging-{os.getpid()}-{secrets.token_hex(4)}"
        os.mkdir(staging)
    except OSError as exc:
        raise MnvError(f"cannot create output folder {shown_path(outdir)}: {exc.strerror or exc}") from None
    try:
        try:
            yield staging
            check_replaceable(outdir, force, inputs)  # the folder may have changed during the compile
            _commit(staging, target)
        except OSError as exc:
            raise MnvError(f"cannot write output folder {shown_path(outdir)}: {exc.strerror or exc}"
                           f"{'' if exc.filename is None else ' (' + shown_path(Path(exc.filename).name) + ')'}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _commit(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``: refused if ``target`` appeared, atomically swapped (then
    the old folder removed) if it is there, which only `check_replaceable` with --force allows."""
    if not target.exists():
        try:
            _rename(staging, target, _RENAME_NOREPLACE)
        except FileExistsError:
            raise MnvError(f"output folder {shown_path(target)} appeared while compiling (another process?); "
                           f"nothing was replaced") from None
        return
    _rename(staging, target, _RENAME_EXCHANGE)
    shutil.rmtree(staging, ignore_errors=True)  # now the old OUTDIR's content


def _rename(src: Path, dst: Path, flags: int) -> None:
    """renameat2(2) with RENAME_NOREPLACE or RENAME_EXCHANGE; where the C library or the file system
    lacks it, a check followed by a plain rename (non-atomic, but never over a non-empty folder)."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is not None:
        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), ctypes.c_uint(flags)) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise (FileExistsError if err in (errno.EEXIST, errno.ENOTEMPTY) else OSError)(err, os.strerror(err), str(dst))
    if flags == _RENAME_NOREPLACE:
        if dst.exists() or dst.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
        os.rename(src, dst)
        return
    old = dst.parent / f"{src.name}.old"
    os.rename(dst, old)
    os.rename(src, dst)
    os.rename(old, src)


def _is_mnv3c_report(path: Path) -> bool:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(report, dict) and all(k in report for k in REPORT_FIELDS)


def read_report(outdir: str | os.PathLike) -> dict[str, Any]:
    """OUTDIR/report.json, with the fields `build`, `run` and `flash` rely on checked: an edited or
    foreign report is a one-line error naming the field, not a KeyError later."""
    path = Path(outdir) / REPORT
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise MnvError(f"{shown_path(outdir)} is not an mnv3c output folder (no {REPORT}); "
                       f"run `mnv3c compile` first") from None
    except OSError as exc:
        raise MnvError(f"cannot read {shown_path(path)}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise MnvError(f"{shown_path(path)} is not valid JSON") from None
    if not isinstance(report, dict):
        raise MnvError(f"{shown_path(path)} is not an mnv3c report (not a JSON object)")
    for field, kind in REPORT_FIELDS.items():
        if field not in report:
            raise MnvError(f"{shown_path(path)} lacks the field '{field}'; recompile with `mnv3c compile`")
        if not isinstance(report[field], kind) or (kind is str and not report[field]):
            raise MnvError(f"{shown_path(path)}: field '{field}' must be a non-empty JSON {kind.__name__}")
    for s in report["sources"]:
        if not isinstance(s, str) or not s or Path(s).is_absolute() or ".." in Path(s).parts:
            raise MnvError(f"{shown_path(path)}: field 'sources' must list file names inside the folder, "
                           f"got {shown(s)}")
    shape = report["output"].get("c_shape")
    if not (isinstance(shape, list) and shape and all(type(d) is int and d > 0 for d in shape)):
        raise MnvError(f"{shown_path(path)}: field 'output.c_shape' must be a list of positive integers")
    return report


def write_report(outdir: str | os.PathLike, report: dict[str, Any]) -> None:
    """Replace OUTDIR/report.json in one rename (a full disk leaves the old one intact)."""
    path = Path(outdir) / REPORT
    tmp = path.with_name(f".{REPORT}.{os.getpid()}.tmp")
    try:
        tmp.write_text(strict_json.dumps(report, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MnvError(f"cannot write {shown_path(path)}: {exc.strerror or exc}") from None
