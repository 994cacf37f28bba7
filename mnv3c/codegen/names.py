"""C identifiers from ONNX names: valid, readable, unique, and the same on every compile."""

from __future__ import annotations

import re

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "_Bool _Complex _Imaginary _Alignas _Alignof _Atomic _Generic _Noreturn _Static_assert _Thread_local "
    "bool true false asm main".split()
)


MAX_IDENTIFIER = 48  # within C99's 63 significant characters of an internal identifier, and readable


class CNames:
    """Hands out one identifier per distinct name; collisions after shortening and sanitizing get
    _2, _3, ... in the order names are first asked for."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._used: set[str] = set()

    def reserve(self, *idents: str) -> None:
        """Identifiers defined elsewhere (kernel functions, the model API) that must not be handed out."""
        self._used.update(idents)

    def __call__(self, name: str) -> str:
        if name not in self._by_name:
            base = sanitize(shorten(name))
            if len(base) > MAX_IDENTIFIER:  # keep both ends: prefixes and suffixes say what the name is for
                base = f"{base[:MAX_IDENTIFIER - 17]}_{base[-16:]}".replace("__", "_")
            ident, i = base, 2
            while ident in self._used:
                ident, i = f"{base}_{i}", i + 1
            self._used.add(ident)
            self._by_name[name] = ident
        return self._by_name[name]


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
