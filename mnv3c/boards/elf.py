"""Just enough ELF reading for size reports and marker addresses, without depending on binutils.

Handles 32- and 64-bit little-endian files (the bare-metal images and the host executable).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHT_NOBITS = 8
SHT_SYMTAB = 2
STT_FUNC = 2


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
        return bool(self.flags & SHF_ALLOC)

    @property
    def writable(self) -> bool:
        return bool(self.flags & SHF_WRITE)


@dataclass(frozen=True)
class ElfImage:
    sections: list[Section]
    symbols: dict[str, int]  # every named symbol -> value
    functions: dict[str, int]  # STT_FUNC symbols only (Thumb ones have bit 0 set)


def read_elf(path: Path) -> ElfImage:
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[5] != 1:
        raise ValueError(f"{path}: not a little-endian ELF file")
    is64 = data[4] == 2
    if is64:
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
    else:
        phoff, shoff = struct.unpack_from("<II", data, 0x1C)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x2A)

    segments = []  # (vaddr, paddr, memsz) of PT_LOAD segments
    for i in range(phnum):
        off = phoff + i * phentsize
        if is64:
            p_type, _, _, vaddr, paddr, _, memsz = struct.unpack_from("<IIQQQQQ", data, off)
        else:
            p_type, _, vaddr, paddr, _, memsz = struct.unpack_from("<IIIIII", data, off)
        if p_type == 1:
            segments.append((vaddr, paddr, memsz))

    raw = []
    for i in range(shnum):
        off = shoff + i * shentsize
        if is64:
            name, typ, flags, addr, offset, size, link, _, _, entsize = struct.unpack_from("<IIQQQQIIQQ", data, off)
        else:
            name, typ, flags, addr, offset, size, link, _, _, entsize = struct.unpack_from("<IIIIIIIIII", data, off)
        raw.append((name, typ, flags, addr, offset, size, link, entsize))

    def cstr(table_off: int, idx: int) -> str:
        end = data.index(b"\0", table_off + idx)
        return data[table_off + idx : end].decode()

    shstr_off = raw[shstrndx][4]
    sections = []
    symbols: dict[str, int] = {}
    functions: dict[str, int] = {}
    for name, typ, flags, addr, offset, size, link, entsize in raw:
        lma = addr
        for vaddr, paddr, memsz in segments:
            if flags & SHF_ALLOC and vaddr <= addr < vaddr + max(memsz, 1):
                lma = addr - vaddr + paddr
                break
        sections.append(Section(cstr(shstr_off, name), addr, lma, size, flags, typ == SHT_NOBITS))
        if typ == SHT_SYMTAB:
            str_off = raw[link][4]
            for k in range(size // entsize):
                s = offset + k * entsize
                if is64:
                    st_name, st_info, _, _, st_value, _ = struct.unpack_from("<IBBHQQ", data, s)
                else:
                    st_name, st_value, _, st_info, _, _ = struct.unpack_from("<IIIBBH", data, s)
                if st_name:
                    symbols[cstr(str_off, st_name)] = st_value
                    if st_info & 0xF == STT_FUNC:
                        functions[cstr(str_off, st_name)] = st_value
    return ElfImage(sections, symbols, functions)
