"""`mnv3c report`: write OUTDIR/report.html again from report.json, optionally with the
per-layer instruction profile of a `mnv3c run --profile --json` result."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mnv3c.errors import MnvError
from mnv3c.outdir import read_report
from mnv3c.report import write_report_html


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    outdir = Path(args.outdir)
    report = read_report(outdir)
    profile = _profile(Path(args.profile)) if args.profile else None
    path = write_report_html(outdir, report, profile)
    return {"html": str(path), "layers": len(report["layers"]), "profile": profile is not None or "profile" in report}, \
        f"wrote {path}"


def _profile(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise MnvError(f"--profile file '{path}' cannot be read: {exc.strerror or exc}") from None
    except ValueError:
        raise MnvError(f"--profile file '{path}' is not valid JSON") from None
    profile = data.get("profile") if isinstance(data, dict) else None
    if not isinstance(profile, list) or not all(isinstance(p, dict) and {"layer", "instructions"} <= set(p)
                                                 for p in profile):
        raise MnvError(f"--profile file '{path}' has no \"profile\" list of {{layer, instructions}}: "
                       "write it with `mnv3c run --profile --json`")
    return profile
