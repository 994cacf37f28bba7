"""Hostile ONNX names give safe generated C: it compiles under -Werror -pedantic, runs bit-exact,
and no name leaks into the code as anything but a sanitized identifier or comment text.

One small network (conv, depthwise conv, residual add, pooling, dense) is named entirely from one
category per test: comment terminators, quotes, backslashes, newlines, preprocessor lines, names
of 10,000 characters, names that collide after sanitizing, unicode, C and library identifiers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.codegen import host
from mnv3c.codegen.names import MAX_IDENTIFIER
from mnv3c.compiler import quantize_model, resolve_board, write_project
from mnv3c.quant.simulate import simulate

STANDARD_HEADERS = {"stdint.h", "stddef.h", "string.h", "stdio.h", "stdlib.h", "limits.h"}
CATEGORIES: dict[str, Callable[[int], str]] = {
    "comment_terminators": lambda i: f"*/ int evil{i} = 1; /* // ",
    "quotes": lambda i: f"say \"hi\" 'there' {i}",
    "backslashes": lambda i: f"a\\b\\{i}\\",
    "newlines": lambda i: f"line\nbreak {i}\r\n#define evil {i}\n",
    "include": lambda i: f"#include <stdio.h>\n#include \"{i}.h\"",
    "long": lambda i: f"{i}" + "x" * 10_000,
    "collide_after_sanitizing": lambda i: ["a.b", "a-b", "a/b", "a b", "a__b", "a::b", "_a_b_", "a\tb"][i % 8] + "." * (i // 8),
    "unicode": lambda i: f"ñandú_日本語_😀_{i}_\u202e",
    "c_identifiers": lambda i: ["int8_t", "NULL", "main", "memcpy", "if", "mnv3c_model_run", "MNV3C_ARENA_BYTES",
                                "OFFSET_", "__LINE__", "uint8_t", "params", "0"][i % 12] + "_" * (i // 12),
    "trigraphs_and_format": lambda i: f"??/??=??' %s%n {{}} {i}",
}


def named_net(name: Callable[[int], str]) -> onnx.ModelProto:
    """x -> Conv -> Relu -> depthwise Conv -> Add(residual) -> GlobalAveragePool -> Flatten -> Gemm,
    every node, tensor, initializer and the graph named by ``name``."""
    rng = np.random.default_rng(0)
    n = iter(range(1000))
    t = {k: name(next(n)) for k in ("x", "c1", "r1", "dw", "sum", "gap", "flat", "y", "w1", "b1", "w2", "W", "B")}
    inits = {t["w1"]: rng.standard_normal((4, 3, 3, 3)), t["b1"]: rng.standard_normal(4),
             t["w2"]: rng.standard_normal((4, 1, 3, 3)), t["W"]: rng.standard_normal((5, 4)), t["B"]: rng.standard_normal(5)}
    nodes = [
        helper.make_node("Conv", [t["x"], t["w1"], t["b1"]], [t["c1"]], name=name(next(n)), pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [t["c1"]], [t["r1"]], name=name(next(n))),
        helper.make_node("Conv", [t["r1"], t["w2"]], [t["dw"]], name=name(next(n)), group=4, pads=[1, 1, 1, 1]),
        helper.make_node("Add", [t["dw"], t["r1"]], [t["sum"]], name=name(next(n))),
        helper.make_node("GlobalAveragePool", [t["sum"]], [t["gap"]], name=name(next(n))),
        helper.make_node("Flatten", [t["gap"]], [t["flat"]], name=name(next(n))),
        helper.make_node("Gemm", [t["flat"], t["W"], t["B"]], [t["y"]], name=name(next(n)), transB=1),
    ]
    graph = helper.make_graph(nodes, name(next(n)), [helper.make_tensor_value_info(t["x"], TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(t["y"], TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_hostile_names_give_safe_c(category: str, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(named_net(CATEGORIES[category]), path)
    calib = np.random.default_rng(1).standard_normal((4, 3, 8, 8)).astype(np.float32)
    q = quantize_model(str(path), None, calib, progress=False)
    outdir = tmp_path / "out"
    write_project(q.qgraph, "host", resolve_board("host", None), outdir, force=False)
    lib = outdir / "mnv3c"  # the library folder
    sources = sorted(lib.glob("mnv3c_*.[ch]"))
    assert sources
    for source in sources:
        text = source.read_text()
        assert text.isascii(), source.name
        code = _code_only(text)
        assert not re.search(r"int evil|define evil|\bx{100}", code), source.name  # names left comments unsanitized
        for header in re.findall(r'^\s*#\s*include\s*[<"]([^>"]*)[>"]', code, re.M):
            assert header in STANDARD_HEADERS or (lib / header).is_file(), (source.name, header)
        assert max(len(line) for line in text.splitlines()) <= 300, source.name  # bounded, whatever the names
        idents = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", code))
        assert max(map(len, idents)) <= max(MAX_IDENTIFIER, 40), source.name
    x = np.random.default_rng(2).integers(-128, 128, (2, 3, 8, 8), dtype=np.int8)
    np.testing.assert_array_equal(host.build_and_run(outdir, x), simulate(q.qgraph, x))  # -Werror -pedantic


def _code_only(c: str) -> str:
    """C text without its /* */ comments (generated code has no // comments)."""
    return re.sub(r"/\*.*?\*/", " ", c, flags=re.S)
