"""Static memory planning: give every activation buffer a fixed offset in one arena.

The planner knows nothing about ops or kernels. It sees buffers with lifetimes measured in schedule
steps (a buffer is live from the step that writes it to the last step that reads it, both
inclusive), optional in-place hints, and per-step scratch. Buffers whose lifetimes overlap must not
overlap in the arena; everything else may share memory.

Placement is greedy, in the spirit of TFLite Micro's GreedyMemoryPlanner: take the buffers in some
order and put each at the lowest aligned offset where it does not collide with an already placed,
time-overlapping buffer. No single order wins on every network, so several are tried and the
smallest arena is kept (ties go to the earlier order, which keeps the result deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

ALIGNMENT = 16


@dataclass(frozen=True)
class Buffer:
    """One activation tensor's storage request.

    ``inplace_with`` names an input buffer this one may reuse: the kernel writing this buffer can
    overwrite that input as it reads it. The hint is taken only when the input dies at this
    buffer's first step (otherwise someone still needs the input's bytes). ``inplace_lead``: this
    buffer starts that many bytes before the input (a patched stage's output written a few rows
    behind the input rows its bands still read): those bytes are taken for the input's lifetime too,
    or from ``lead_first_step`` on (the stage's first step: nothing writes them before).
    """

    name: str
    size: int
    first_step: int
    last_step: int
    inplace_with: str | None = None
    inplace_lead: int = 0
    lead_first_step: int | None = None


@dataclass
class MemoryPlan:
    offsets: dict[str, int]  # buffer name -> byte offset in the arena
    arena_bytes: int
    lower_bound_bytes: int  # max over steps of live bytes: no plan can use less
    scratch_offsets: dict[int, int] = field(default_factory=dict)  # step -> offset of its scratch
    order: str = ""  # which placement order won, for reports and debugging


@dataclass
class _Block:
    """A contiguous arena region: one buffer, a chain of buffers sharing in place, or a scratch.

    A chain's members may differ in size and start (a patched stage's small output written over
    its large input, maybe a few rows before it): each member is one segment (its steps, its bytes
    from the block's start), so the bytes a dead large member leaves above a small one are free for
    other buffers."""

    key: str
    members: list[str]
    size: int  # the end of the furthest segment
    first_step: int
    last_step: int
    segments: list[tuple[int, int, int, int]] = field(default_factory=list)  # (first step, last step, start, stop)
    starts: dict[str, int] = field(default_factory=dict)  # member -> its bytes from the block's start

    def overlaps_in_time(self, other: "_Block") -> bool:
        return self.first_step <= other.last_step and other.first_step <= self.last_step



def plan_memory(
    buffers: Iterable[Buffer], scratch: Mapping[int, int] | None = None, alignment: int = ALIGNMENT,
    refine: bool = False,
) -> MemoryPlan:
    """Assign offsets to ``buffers`` and to each step's scratch (``scratch[step] = bytes``);
    ``refine``: then try `_promoted` orders of the best one (slower; for the final plan)."""
    blocks = _merge_inplace(_checked(list(buffers)))
    for step, size in sorted((scratch or {}).items()):
        if size > 0:
            blocks.append(_Block(_scratch_key(step), [], size, step, step, [(step, step, 0, size)]))

    placements = [(name, order(blocks)) for name, order in _ORDERS]
    placements = [(name, order, _place(order, alignment)) for name, order in placements]
    order_name, order, block_offsets = min(placements, key=lambda p: _arena_bytes(blocks, p[2], alignment))
    if refine and blocks:
        order_name, block_offsets = _promoted(blocks, order_name, order, block_offsets, alignment)

    offsets: dict[str, int] = {}
    scratch_offsets: dict[int, int] = {}
    for b in blocks:
        if b.members:
            offsets.update((m, block_offsets[b.key] + b.starts[m]) for m in b.members)
        else:
            scratch_offsets[b.first_step] = block_offsets[b.key]
    arena = _arena_bytes(blocks, block_offsets, alignment)
    return MemoryPlan(dict(sorted(offsets.items())), arena, _lower_bound(blocks), scratch_offsets, order_name)


def live_peak(buffers: Iterable[Buffer], scratch: Mapping[int, int] | None = None,
              steps: range | None = None) -> int:
    """`plan_memory`'s lower bound alone (no placement): the most bytes live at one step (of
    ``steps`` only, if given: lifetimes stay whole, so in-place sharing is judged as planned)."""
    blocks = _merge_inplace(_checked(list(buffers)))
    blocks += [_Block(_scratch_key(s), [], n, s, s, [(s, s, 0, n)]) for s, n in (scratch or {}).items() if n > 0]
    live = _live_bytes(blocks)
    return max((n for s, n in live.items() if steps is None or s in steps), default=0)


def _checked(buffers: list[Buffer]) -> list[Buffer]:
    names = [b.name for b in buffers]
    if len(set(names)) != len(names):
        raise ValueError("buffer names must be unique")
    for b in buffers:
        if b.size < 0 or b.first_step > b.last_step:
            raise ValueError(f"buffer '{b.name}' has a negative size or an empty lifetime")
    return buffers


def _merge_inplace(buffers: list[Buffer]) -> list[_Block]:
    """Fold each in-place buffer into the block of the input it overwrites, when that is legal.

    Sharing never raises the live bytes at any step (the input's bytes are dead from then on), so
    every legal hint is taken. Processing in order of first step lets chains (conv -> LUT -> mul)
    collapse into one block.
    """
    by_name = {b.name: b for b in buffers}
    block_of: dict[str, _Block] = {}
    blocks: list[_Block] = []
    for b in sorted(buffers, key=lambda b: (b.first_step, b.name)):
        host = block_of.get(b.inplace_with or "")
        # Legal only if the source is the block's newest member and is last read right here.
        source = by_name[host.members[-1]] if host is not None else None
        if source is not None and _last_read_by(source, b):
            start = host.starts[source.name] - b.inplace_lead
            if start < 0:  # the block grows downwards: every member moves up
                host.starts = {m: o - start for m, o in host.starts.items()}
                host.segments = [(f, la, lo - start, hi - start) for f, la, lo, hi in host.segments]
                start = 0
            host.members.append(b.name)
            host.starts[b.name] = start
            host.last_step = b.last_step
            host.segments.append((b.first_step, b.last_step, start, start + b.size))
            if b.inplace_lead:  # the bytes before the input are written while the input is still read
                lead_from = source.first_step if b.lead_first_step is None else max(source.first_step, b.lead_first_step)
                host.segments.append((lead_from, b.first_step, start, start + b.inplace_lead))
            host.size = max(hi for _, _, _, hi in host.segments)
            block_of[b.name] = host
            continue
        block = _Block(b.name, [b.name], b.size, b.first_step, b.last_step,
                       [(b.first_step, b.last_step, 0, b.size)], {b.name: 0})
        blocks.append(block)
        block_of[b.name] = block
    return blocks


def _last_read_by(source: Buffer, b: Buffer) -> bool:
    return source.name == b.inplace_with and source.first_step < b.first_step == source.last_step


def _place(blocks: list[_Block], alignment: int) -> dict[str, int]:
    """Put each block, in the given order, at the lowest aligned offset where none of its segments
    meets a time-overlapping segment of a block placed before."""
    placed: list[tuple[_Block, int]] = []
    offsets: dict[str, int] = {}
    for block in blocks:
        # offsets x with off + lo2 - hi1 < x < off + hi2 - lo1 collide; sorted by their lower end
        forbidden = sorted((off + lo2 - hi1, off + hi2 - lo1)
                           for other, off in placed if other.overlaps_in_time(block)
                           for f1, l1, lo1, hi1 in block.segments
                           for f2, l2, lo2, hi2 in other.segments
                           if f1 <= l2 and f2 <= l1 and hi1 > lo1 and hi2 > lo2)
        offset = 0
        for lo, hi in forbidden:
            if offset <= lo:
                break
            offset = max(offset, _round_up(hi, alignment))
        offsets[block.key] = offset
        placed.append((block, offset))
    return offsets


def _promoted(blocks: list[_Block], name: str, order: list[_Block], offsets: dict[str, int], alignment: int,
              rounds: int = 4) -> tuple[str, dict[str, int]]:
    """Hill-climb from ``order``: move one block to the front where that places a smaller arena.

    A chain planned in place is one rigid region whose segments leave holes (a patched stage's
    output lead is free before the stage): a greedy order that places the chain first can leave a
    hole too small for the buffers live beside it, where a small buffer placed first would have
    filled it (MobileNetV2 224: 252,672 -> 249,984 B)."""
    start = best = _arena_bytes(blocks, offsets, alignment)
    for _ in range(rounds):
        improved = False
        for k in range(1, len(order)):
            candidate = [order[k], *order[:k], *order[k + 1:]]
            placed = _place(candidate, alignment)
            size = _arena_bytes(blocks, placed, alignment)
            if size < best:
                order, offsets, best, improved = candidate, placed, size, True
        if not improved:
            break
    return (name if best == start else f"{name}+promoted"), offsets


def _arena_bytes(blocks: list[_Block], offsets: dict[str, int], alignment: int) -> int:
    return _round_up(max((offsets[b.key] + b.size for b in blocks), default=0), alignment)


def _live_bytes(blocks: list[_Block]) -> dict[int, int]:
    """Step -> bytes of every block live then (a chain's segments meet at hand-over steps: their union counts)."""
    live: dict[int, int] = {}
    for b in blocks:
        mine: dict[int, list[tuple[int, int]]] = {}
        for first, last, lo, hi in b.segments:
            for s in range(first, last + 1):
                mine.setdefault(s, []).append((lo, hi))
        for s, spans in mine.items():
            live[s] = live.get(s, 0) + union_bytes(spans)
    return live


def _lower_bound(blocks: list[_Block]) -> int:
    return max(_live_bytes(blocks).values(), default=0)


def _by_breadth(blocks: list[_Block]) -> list[_Block]:
    """TFLM's greedy-by-breadth: visit steps from the most to the least crowded, placing the
    largest still-unplaced blocks live at each step first."""
    if not blocks:
        return []
    steps = range(min(b.first_step for b in blocks), max(b.last_step for b in blocks) + 1)
    live = {s: [b for b in blocks if b.first_step <= s <= b.last_step] for s in steps}
    live_bytes = _live_bytes(blocks)
    crowded = sorted(steps, key=lambda s: (-live_bytes.get(s, 0), s))
    order: list[_Block] = []
    seen: set[str] = set()
    for s in crowded:
        for b in _by_size(live[s]):
            if b.key not in seen:
                seen.add(b.key)
                order.append(b)
    return order


def _by_size(blocks: list[_Block]) -> list[_Block]:
    return sorted(blocks, key=lambda b: (-b.size, b.first_step, b.key))


def _by_lifetime(blocks: list[_Block]) -> list[_Block]:
    return sorted(blocks, key=lambda b: (-(b.last_step - b.first_step), -b.size, b.first_step, b.key))


def _by_area(blocks: list[_Block]) -> list[_Block]:
    return sorted(blocks, key=lambda b: (-b.size * (b.last_step - b.first_step + 1), b.first_step, b.key))


def _by_first_use(blocks: list[_Block]) -> list[_Block]:
    return sorted(blocks, key=lambda b: (b.first_step, -b.size, b.key))


_ORDERS: list[tuple[str, Callable[[list[_Block]], list[_Block]]]] = [
    ("size", _by_size),
    ("breadth", _by_breadth),
    ("lifetime", _by_lifetime),
    ("area", _by_area),
    ("first_use", _by_first_use),
]


def union_bytes(spans: Iterable[tuple[int, int]]) -> int:
    """Bytes covered by [start, end) ranges, overlaps counted once (a buffer written in place over
    another occupies the same bytes)."""
    total = reach = 0
    for lo, hi in sorted(spans):
        total += max(0, hi - max(lo, reach))
        reach = max(reach, hi)
    return total


def _scratch_key(step: int) -> str:
    return f"\0scratch{step}"  # cannot clash with a tensor name


def _round_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment
