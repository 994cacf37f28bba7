"""The ELF facts mnv3c needs (section addresses and sizes, symbol values), read with pyelftools.

Works on the 32-bit bare-metal images and the 64-bit host executable alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection


@dataclass(frozen=True)
class Section:
    name: str
    addr: int  # run-time (virtual) address
    lma: int  # load address: where the bytes sit in the image (differs from addr for .data)
    size: int
    flags: int
    nobits: bool

    @property
    def alloc(self) -> bool:
        return bool(self.flags & SH_FLAGS.SHF_ALLOC)

    @property
    def writable(self) -> bool:
        return bool(self.flags & SH_FLAGS.SHF_WRITE)


@dataclass(frozen=True)
class ElfImage:
    sections: list[Section]
    symbols: dict[str, int]  # every named symbol -> value
    functions: dict[str, int]  # STT_FUNC symbols only (Thumb ones have bit 0 set)


def read_elf(path: Path) -> ElfImage:
    with open(path, "rb") as f:
        try:
            elf = ELFFile(f)
        except ELFError as exc:
            raise ValueError(f"{path}: not an ELF file ({exc})") from None
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        sections, symbols, functions = [], {}, {}
        for s in elf.iter_sections():
            lma = s["sh_addr"]
            segment = next((g for g in loads if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and g.section_in_segment(s)), None)
            if segment is not None:
                lma = s["sh_addr"] - segment["p_vaddr"] + segment["p_paddr"]
            sections.append(Section(s.name, s["sh_addr"], lma, s["sh_size"], s["sh_flags"], s["sh_type"] == "SHT_NOBITS"))
            if isinstance(s, SymbolTableSection) and s["sh_type"] == "SHT_SYMTAB":
                for sym in s.iter_symbols():
                    if sym.name:
                        symbols[sym.name] = sym["st_value"]
                        if sym["st_info"]["type"] == "STT_FUNC":
                            functions[sym.name] = sym["st_value"]
    return ElfImage(sections, symbols, functions)
