"""Static checks of the C: cppcheck is clean on runtime_c/ and on generated projects, and the
model's stack is measured by the compiler (-fcallgraph-info=su) and checked against the board's
reserved stack at compile time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from mnv3c import cli, compiler
from mnv3c.boards.stack import HARNESS_BYTES, StackMeasureError, deepest_stack

sys.path.insert(0, str(Path(__file__).parent))
from test_codegen_adversarial import named_net  # noqa: E402  the small network every layer kind is in

RUNTIME_C = Path(__file__).resolve().parent.parent / "mnv3c" / "runtime_c"
CPPCHECK = ["cppcheck", "--enable=warning,portability,performance", "--std=c99", "--error-exitcode=1", "-q",
            "--inline-suppr", "--suppress=missingIncludeSystem"]


def _cppcheck(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("cppcheck") is None:
        pytest.skip("cppcheck is not installed (scripts/install.sh installs it)")
    return subprocess.run([*CPPCHECK, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A compiled Cortex-M7 project of a network with conv, depthwise, add, pooling and dense layers."""
    tmp = tmp_path_factory.mktemp("static")
    onnx.save(named_net(lambda i: f"t{i}"), tmp / "net.onnx")
    np.save(tmp / "calib.npy", np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32))
    assert cli.main(["compile", str(tmp / "net.onnx"), "--target", "cortex-m7", "-o", str(tmp / "out"),
                     "--calib", str(tmp / "calib.npy")]) == 0
    return tmp / "out"


def test_cppcheck_is_clean_on_the_runtime_kernels() -> None:
    proc = _cppcheck(f"-I{RUNTIME_C}", str(RUNTIME_C))
    assert proc.returncode == 0, proc.stderr


def test_cppcheck_is_clean_on_generated_c(project: Path) -> None:
    lib = project / "mnv3c"  # the library folder: model, weights and the kernels it uses
    sources = sorted(str(p) for p in lib.glob("*.c"))
    assert sources
    proc = _cppcheck(f"-I{lib}", *sources)
    assert proc.returncode == 0, proc.stderr


def test_cppcheck_would_report_a_defect(tmp_path: Path) -> None:
    """The flags above do find real defects (so a clean run means something)."""
    bad = tmp_path / "bad.c"
    bad.write_text("int f(void) { int a[4]; return a[4]; }\n")
    assert _cppcheck(str(bad)).returncode == 1


def test_stack_figure_is_measured_and_bounds_every_kernel_frame(project: Path) -> None:
    report = json.loads((project / "report.json").read_text())
    stack = report["stack_bytes"]
    # -fstack-usage, compiled independently: the model's figure covers the run function plus its largest kernel
    tmp = project / "su"
    tmp.mkdir()
    sources = [str((project / s).resolve()) for s in report["sources"] if Path(s).name != "mnv3c_weights.c"]
    subprocess.run(["arm-none-eabi-gcc", "-O2", "-mcpu=cortex-m7", "-mthumb", "-ffreestanding", f"-I{project / 'mnv3c'}",
                    "-c", "-fstack-usage", *sources], cwd=tmp, check=True, timeout=300)
    frames = {}
    for su in tmp.glob("*.su"):
        for line in su.read_text().splitlines():
            where, size, _ = line.split("\t")
            frames[where.rsplit(":", 1)[-1]] = int(size)
    shutil.rmtree(tmp)
    kernels = [v for k, v in frames.items() if k.startswith("mnv3c_") and k.endswith("_s8")]
    assert stack >= frames["mnv3c_model_run"] + max(kernels) + HARNESS_BYTES


def test_a_model_needing_more_stack_than_reserved_fails_the_compile(tmp_path: Path, monkeypatch, capsys) -> None:
    onnx.save(named_net(lambda i: f"t{i}"), tmp_path / "net.onnx")
    monkeypatch.setattr(compiler, "STACK_BYTES", 1024)
    code = cli.main(["compile", str(tmp_path / "net.onnx"), "--target", "cortex-m4", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "of stack" in err and "reserves 1,024 B" in err, err
    assert not (tmp_path / "out").exists()


CALLGRAPH = """
node: { title: "run" label: "run\\nm.c:1:1\\n24 bytes (static)" }
node: { title: "k1" label: "k1\\nk.h:2:2" shape : ellipse }
edge: { sourcename: "run" targetname: "k1" label: "m.c:3:3" }
edge: { sourcename: "run" targetname: "k2" label: "m.c:4:3" }
node: { title: "k1" label: "k1\\nk1.c:1:1\\n100 bytes (static)" }
node: { title: "k1.c:helper" label: "helper\\nk1.c:9:1\\n40 bytes (static)" }
edge: { sourcename: "k1" targetname: "k1.c:helper" label: "k1.c:5:5" }
node: { title: "k2" label: "k2\\nk2.c:1:1\\n130 bytes (static)" }
edge: { sourcename: "k2" targetname: "memcpy" label: "k2.c:5:5" }
"""


def test_deepest_stack_follows_the_deepest_call_chain() -> None:
    assert deepest_stack(CALLGRAPH, "run") == 24 + max(100 + 40, 130)


@pytest.mark.parametrize("graph, message", [
    (CALLGRAPH + 'edge: { sourcename: "k1.c:helper" targetname: "run" label: "x" }\n', "recursion"),
    (CALLGRAPH.replace("130 bytes (static)", "130 bytes (dynamic)"), "dynamic frame"),
    (CALLGRAPH + 'edge: { sourcename: "k2" targetname: "unknown_fn" label: "x" }\n', "no frame size"),
])
def test_deepest_stack_refuses_to_guess(graph: str, message: str) -> None:
    with pytest.raises(StackMeasureError, match=message):
        deepest_stack(graph, "run")
