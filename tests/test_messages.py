"""Names from the model or the command line are printed escaped and shortened (issue 16.7): a name
with newlines stays on one line, ANSI escape sequences never reach the terminal, a 10,000-character
name does not make a 10 KB line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.errors import NAME_LIMIT, one_line, shown
from test_cli import _python_m, assert_one_line_error, mnv3c

NASTY = "\x1b[31mred\x1b[0m\nsecond line\r\u202eevil" + "x" * 10_000 + "END"


def test_shown_escapes_control_characters_and_elides_the_middle() -> None:
    s = shown(NASTY)
    assert s.isprintable() and "\x1b" not in s and "\n" not in s and "\u202e" not in s
    assert s.startswith("'\\x1b[31mred\\x1b[0m\\nsecond") and s.endswith("xxEND'")
    assert len(s) <= NAME_LIMIT + 2 and "chars)" in s
    assert shown("conv/1.weight") == "'conv/1.weight'"  # ordinary names are untouched
    assert shown("café ☕") == "'café ☕'"  # and so is printable unicode


def test_one_line_is_the_backstop_for_any_message() -> None:
    text = one_line("first\nsecond\x07" + "y" * 5000)
    assert text.isprintable() and len(text) < 1100 and text.startswith("first\\nsecond\\x07")


def _model_with_node_name(path: Path, name: str) -> Path:
    """A conv followed by an op mnv3c does not support, in a node called ``name``."""
    w = numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Celu", ["c"], ["y"], name=name)]  # fmt: skip
    graph = helper.make_graph(nodes, "names", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])  # fmt: skip
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


@pytest.mark.parametrize("command", ["inspect", "compile"])
def test_a_hostile_node_name_gives_one_short_clean_line(command, tmp_path, capsys) -> None:
    model = _model_with_node_name(tmp_path / "m.onnx", NASTY)
    argv = {"inspect": ["inspect", model], "compile": ["compile", model, "--target", "host", "-o", tmp_path / "out"]}
    code, _, err = mnv3c(capsys, *argv[command])
    assert_one_line_error(code, err, "unsupported op: Celu", "\\x1b[31mred", "\\nsecond", "xEND'")
    assert "\x1b" not in err and "\r" not in err and "\u202e" not in err
    assert len(err) < 600  # the name is shortened, the list of supported ops kept


def test_a_hostile_file_name_through_a_real_process(tmp_path) -> None:
    """What a terminal would receive: one line, no escape byte."""
    proc = _python_m("inspect", tmp_path / "no\x1b[2Jsuch\nmodel.onnx")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "\x1b" not in proc.stderr, proc.stderr
    assert "no\\x1b[2Jsuch\\nmodel.onnx" in proc.stderr
