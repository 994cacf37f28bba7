"""C identifiers from ONNX names: valid, readable, unique, and the same on every compile."""

from __future__ import annotations

import re
from typing import Callable

from mnv3c.errors import MnvError

DEFAULT_PREFIX = "mnv3c"
MAX_PREFIX = 32

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "_Bool _Complex _Imaginary _Alignas _Alignof _Atomic _Generic _Noreturn _Static_assert _Thread_local "
    "bool true false asm main".split()
)


MAX_IDENTIFIER = 48  # within C99's 63 significant characters of an internal identifier, and readable


class CNames:
    """Hands out one identifier per distinct name; collisions after shortening and sanitizing get
    _2, _3, ... in the order names are first asked for. ``final`` is the renaming the written code
    goes through (the --name prefix): identifiers are kept distinct after it."""

    def __init__(self, final: Callable[[str], str] = lambda ident: ident) -> None:
        self._by_name: dict[str, str] = {}
        self._used: set[str] = set()
        self._final = final

    def reserve(self, *idents: str) -> None:
        """Identifiers defined elsewhere (kernel functions, the model API) that must not be handed out."""
        self._used.update(self._final(i) for i in idents)

    def __call__(self, name: str) -> str:
        if name not in self._by_name:
            base = sanitize(shorten(name))
            if len(base) > MAX_IDENTIFIER:  # keep both ends: prefixes and suffixes say what the name is for
                base = f"{base[:MAX_IDENTIFIER - 17]}_{base[-16:]}".replace("__", "_")
            ident, i = base, 2
            while self._final(ident) in self._used:
                ident, i = f"{base}_{i}", i + 1
            self._used.add(self._final(ident))
            self._by_name[name] = ident
        return self._by_name[name]


def check_prefix(prefix: str) -> str:
    """``prefix`` if it can start every exported C symbol and macro of a model (--name); else MnvError."""
    if not re.fullmatch(rf"[A-Za-z][A-Za-z0-9_]{{0,{MAX_PREFIX - 1}}}", prefix):
        raise MnvError(f"--name {prefix!r} is not a C identifier of 1-{MAX_PREFIX} characters starting with a letter")
    return prefix


def prefixed(text: str, prefix: str) -> str:
    """``text`` with the mnv3c_ prefix of identifiers and file names (and mnv3c.mk) replaced by
    ``prefix``_ and MNV3C_ of macros by its upper case. Section names (.rodata.mnv3c_weights,
    .bss.mnv3c_arena) stay, so one linker snippet places every model's."""
    if prefix == DEFAULT_PREFIX:
        return text
    text = re.sub(r"(?<![.\w])mnv3c(?=_|\.mk\b)", prefix, text)
    return re.sub(r"(?<![.\w])MNV3C_", prefix.upper() + "_", text)


def shorten(name: str) -> str:
    """Drop path components that the next one repeats, as exporters nest module paths:
    "/features/features.1/block/block.0/Conv" -> "features.1/block.0/Conv"."""
    parts = [p for p in name.split("/") if p]
    kept = [p for p, nxt in zip(parts, parts[1:]) if not nxt.startswith(p + ".")]
    return "/".join(kept + parts[-1:]) if parts else name


def sanitize(name: str) -> str:
    """[A-Za-z0-9_] only, no leading digit, no keyword, no reserved leading underscore."""
    ident = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", name)).strip("_") or "t"
    if ident[0].isdigit():
        ident = "t" + ident
    if ident in C_KEYWORDS:
        ident += "_"
    return ident
