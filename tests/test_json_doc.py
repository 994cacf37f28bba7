"""docs/JSON.md names every field the commands print, so the page cannot fall behind the tool.

Each command runs once on test_cli's tiny model (host target: seconds); every top-level key, every
key of a nested object and every key of a list of objects must appear in backticks in that
command's section of the page (run, build and eval may also point to the report's section).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_cli import files, mnv3c_json  # noqa: F401  (files is a fixture)

DOC = Path(__file__).resolve().parents[1] / "docs" / "JSON.md"


def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", DOC.read_text(), flags=re.M)[1:]
    return {p.split("\n", 1)[0]: p for p in parts}


def _keys(obj: dict) -> set[str]:
    """Top-level keys and one level below: nested objects' keys and the keys of lists of objects."""
    keys = set(obj)
    for v in obj.values():
        if isinstance(v, dict):
            keys |= set(v)
        elif isinstance(v, list) and v and all(isinstance(row, dict) for row in v):
            keys |= set().union(*v)
    return keys


def _undocumented(obj: dict, *headings: str) -> set[str]:
    sections = _sections()
    text = "".join(sections[h] for h in headings)
    return {k for k in _keys(obj) if f"`{k}`" not in text}


def test_every_printed_field_is_documented(files, tmp_path, capsys) -> None:  # noqa: F811
    compile_sec = "`compile --json` and `OUTDIR/report.json`"
    compiled = mnv3c_json(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"],
                          "-o", tmp_path / "o")
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    built = mnv3c_json(capsys, "build", tmp_path / "o")
    ran = mnv3c_json(capsys, "run", files["model"], "--target", "host", "--calib", files["calib"],
                     "--input", files["input"])
    evaluated = mnv3c_json(capsys, "eval", files["model"], "--calib", files["calib"], "--data", files["data"],
                           "--labels", files["labels"], "--per-layer", "--sensitivity", "--precision", "mixed",
                           "--target-sqnr", "200")
    inspected = mnv3c_json(capsys, "inspect", files["model"], "--input", files["input"], "--passes")
    boards = mnv3c_json(capsys, "boards")
    assert evaluated["mixed"] and report["quantization"]["equalized_pairs"] is not None
    missing = {
        "compile": _undocumented(compiled, compile_sec) | _undocumented(report, compile_sec),
        "build": _undocumented(built, "`build --json`", compile_sec),
        "run": _undocumented(ran, "`run --json`", compile_sec),
        "eval": _undocumented(evaluated, "`eval --json`", compile_sec),
        "inspect": _undocumented(inspected, "`inspect --json`"),
        "boards": _undocumented(boards, "`boards --json`"),
    }
    assert not any(missing.values()), f"fields missing from docs/JSON.md: { {k: sorted(v) for k, v in missing.items() if v} }"
