"""OUTDIR/report.html: written by compile, rewritten by `mnv3c report`, self-contained, and rendered
by a real headless browser (Debian's chromium) with its plots.

The model is test_cli's tiny conv/depthwise/pool/dense network, so each compile takes a second.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnv3c import cli
from mnv3c.report.page import occupied_bytes
from test_cli import _tiny_model

PLOTS = ("memory-timeline", "layer-cost", "layer-sqnr", "board-fit")
TIMELINE_GREEN = (0x5B, 0x8E, 0x7D)  # buffers in the memory timeline (report/page.py)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("report")
    model = _tiny_model(d / "tiny.onnx")
    calib = d / "calib.npy"
    np.save(calib, np.random.default_rng(3).standard_normal((8, 3, 16, 16)).astype(np.float32))
    for name, extra in (("calibrated", ["--calib", str(calib)]), ("synthetic", [])):
        code = cli.main(["compile", str(model), "--target", "cortex-m7", "-o", str(d / name), *extra])
        assert code == 0
    return {"model": model, "calib": calib, "calibrated": d / "calibrated", "synthetic": d / "synthetic"}


def _table_rows(html: str) -> list[list[str]]:
    table = html[html.index('<table id="layer-table">'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def test_compile_writes_a_self_contained_page_with_every_layer_and_plot(compiled) -> None:
    html = (compiled["calibrated"] / "report.html").read_text()
    report = json.loads((compiled["calibrated"] / "report.json").read_text())
    for gid in PLOTS:
        assert f'<svg id="{gid}"' in html, gid
    # nothing fetched: no script, stylesheet, image or font from anywhere
    assert "<script" not in html and "<link" not in html and "<img" not in html and "@import" not in html
    assert not re.search(r'(src|href)\s*=\s*"(?!#)', html)
    rows = _table_rows(html)
    assert [r[1] for r in rows] == [layer["name"] for layer in report["layers"]]
    for row, layer in zip(rows, report["layers"]):
        assert row[3] == layer["kernel"] and row[6] == f"{layer['macs']:,}"
        assert row[7] == f"{layer['weight_bytes']:,}"
        assert row[5] == "x".join(map(str, layer["output_shape"]))
        assert row[-1] == ("exact" if layer["sqnr_db"] is None else f"{layer['sqnr_db']:.1f} dB")
    assert sum(layer["weight_bytes"] for layer in report["layers"]) == report["weights_bytes"]
    # the fit: the arena plus the boards' 32 KiB stack against the board's 4 MiB RAM
    assert f"{report['arena_bytes'] + 32 * 1024:,} B" in html and "4,194,304 B" in html


def test_memory_timeline_holds_every_arena_block_without_overlap(compiled) -> None:
    report = json.loads((compiled["calibrated"] / "report.json").read_text())
    blocks = report["memory_timeline"]
    assert blocks and all(b["offset"] + b["bytes"] <= report["arena_bytes"] for b in blocks)
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            live_together = a["first_step"] <= b["last_step"] and b["first_step"] <= a["last_step"]
            apart = a["offset"] + a["bytes"] <= b["offset"] or b["offset"] + b["bytes"] <= a["offset"]
            planned_over = b["over"] == a["name"] or a["over"] == b["name"]  # plan/validate.py replays those
            assert not live_together or apart or planned_over, (a, b)
    peak = max(occupied_bytes(blocks, s) for s in range(len(report["layers"])))
    assert peak == report["arena_lower_bound_bytes"]
    assert f"peak: {peak:,} B live" in (compiled["calibrated"] / "report.html").read_text()


def test_sqnr_is_eval_per_layer_on_the_calibration_data(compiled, capsys) -> None:
    """compile's per-layer SQNR is the one `eval --per-layer` measures on the same samples."""
    report = json.loads((compiled["calibrated"] / "report.json").read_text())
    labels = compiled["calib"].with_name("labels.npy")
    np.save(labels, np.zeros(8, np.int64))
    assert cli.main(["eval", str(compiled["model"]), "--calib", str(compiled["calib"]), "--data",
                     str(compiled["calib"]), "--labels", str(labels), "--per-layer", "--json"]) == 0
    per_layer = {r["name"]: r["sqnr_db"] for r in json.loads(capsys.readouterr().out)["per_layer"]}
    for layer in report["layers"]:
        assert layer["sqnr_db"] == pytest.approx(per_layer[layer["name"]], rel=1e-9), layer["name"]
    assert any(layer["sqnr_db"] is not None and 10 < layer["sqnr_db"] < 80 for layer in report["layers"])


def test_without_calibration_data_there_is_no_sqnr(compiled) -> None:
    html = (compiled["synthetic"] / "report.html").read_text()
    report = json.loads((compiled["synthetic"] / "report.json").read_text())
    assert all("sqnr_db" not in layer for layer in report["layers"])
    assert 'id="no-sqnr"' in html and '<svg id="layer-sqnr"' not in html


def test_report_command_rewrites_the_same_page_and_adds_a_profile(compiled, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    shutil.copytree(compiled["calibrated"], out)
    before = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    assert cli.main(["report", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out / 'report.html'}\n"
    assert (out / "report.html").read_bytes() == before  # deterministic
    report = json.loads((out / "report.json").read_text())
    # the shape `mnv3c run --profile --json` gives: {layer, kernel, instructions, macs} per layer
    profile = [{"layer": layer["name"], "kernel": layer["kernel"], "instructions": 1000 * (i + 1),
                "macs": layer["macs"]} for i, layer in enumerate(report["layers"])]
    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps({"profile": profile}))
    assert cli.main(["report", str(out), "--profile", str(run_json), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"] is True
    html = (out / "report.html").read_text()
    assert "instructions per inference (run --profile)" in html
    assert [r[9] for r in _table_rows(html)] == [f"{p['instructions']:,}" for p in profile]
    run_json.write_text(json.dumps({"samples": 1}))
    code = cli.main(["report", str(out), "--profile", str(run_json)])
    assert code == 2 and "no \"profile\" list" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "nowhere")]) == 2


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_page_with_its_plots(compiled, tmp_path) -> None:
    page = (compiled["calibrated"] / "report.html").resolve()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,2600", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    for gid in PLOTS:
        assert f'<svg id="{gid}"' in dom, gid
    assert dom.count("<path") > 20 and "Memory timeline" in dom  # the plots' shapes and text are in the DOM

    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape[:2] == (2600, 1200)
    ink = (image.sum(axis=2) < 3 * 240).mean()
    assert 0.02 < ink < 0.8, ink  # neither blank nor a black page
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # text, plots, colours: not a flat image
    green = (np.abs(image - TIMELINE_GREEN).sum(axis=2) < 30).sum()
    assert green > 500, green  # the memory timeline's buffers were drawn
