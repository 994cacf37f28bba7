"""C identifiers and comment text derived from arbitrary ONNX names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mnv3c.codegen.cformat import comment_text, float_literal, int_literal
from mnv3c.codegen.names import C_KEYWORDS, CNames, sanitize, shorten

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def test_exporter_paths_are_shortened() -> None:
    assert shorten("/features/features.1/block/block.0/block.0.0/Conv") == "features.1/block.0.0/Conv"
    assert sanitize(shorten("/features/features.1/block/block.0/block.0.0/Conv")) == "features_1_block_0_0_Conv"


def test_sanitize_edge_cases() -> None:
    assert sanitize("0conv") == "t0conv"
    assert sanitize("int") == "int_"
    assert sanitize("__x__") == "x"
    assert sanitize("") == "t"
    assert sanitize("a::b  c") == "a_b_c"


def test_collisions_get_distinct_stable_names() -> None:
    names = CNames()
    names.reserve("mnv3c_model_run")
    assert names("a.b") == "a_b"
    assert names("a-b") == "a_b_2"
    assert names("a.b") == "a_b"  # same name, same identifier
    assert names("mnv3c_model_run") == "mnv3c_model_run_2"


@given(st.lists(st.text(max_size=12), max_size=30))
def test_any_names_give_unique_valid_identifiers(raw: list[str]) -> None:
    names = CNames()
    idents = {n: names(n) for n in raw}
    assert len(set(idents.values())) == len(idents)
    for ident in idents.values():
        assert IDENT.match(ident) and ident not in C_KEYWORDS and not ident.startswith("_")


@given(st.text())
def test_comment_text_cannot_end_or_nest_a_comment(s: str) -> None:
    text = comment_text(s)
    assert "*/" not in text and "/*" not in text and "??" not in text
    assert all(32 <= ord(ch) < 127 for ch in text)


def test_literals() -> None:
    assert int_literal(-(1 << 31)) == "(-2147483647 - 1)"
    assert float_literal(1.0) == "1.e+00f"
    assert float_literal(0.1) == "1.e-01f"
