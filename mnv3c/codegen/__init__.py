"""C code generation from a quantized graph: `generate` writes the project, `host` builds and runs it."""

from mnv3c.codegen.generate import generate

__all__ = ["generate"]
