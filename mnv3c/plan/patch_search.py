"""Which early layers run patched (plan/patches.py), and in bands of how many rows.

Greedy on the peak: while the step holding the most live bytes lies in a chain of patchable
layers, try every sub-run of that chain containing it, for every band height, with the other
stages kept; keep the one giving the smallest arena (fewest extra MACs on ties). With a RAM
budget the search stops at the first schedule that fits, taking the fitting option with the fewest
extra MACs; by default it keeps going while the recomputed halo rows stay within DEFAULT_EXTRA of
the model's MACs.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnv3c.analysis import layer_stats
from mnv3c.errors import MnvError
from mnv3c.plan.memory import Buffer, union_bytes
from mnv3c.plan.patches import Stage, chains, extra_macs, make_stage

DEFAULT_EXTRA = 0.05  # extra MACs (halo recomputation) the default schedule may spend, share of the model's
BAND_ROWS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


class RamBudgetError(MnvError):
    """No schedule fits --ram-budget: says the budget and the smallest tensor RAM reachable."""


@dataclass(frozen=True)
class Choice:
    stages: tuple[Stage, ...]
    arena_bytes: int
    extra_macs: int


def choose_stages(planner, ram_budget: int | None = None) -> list[Stage]:
    """The stages for ``planner`` (model_plan.Planner): the default, or the cheapest fitting
    ``ram_budget`` bytes of tensor RAM (RamBudgetError if none does)."""
    g, sched = planner.graph, planner.schedule
    macs = {r["name"]: int(r["macs"]) for r in layer_stats(g)}
    total = max(sum(macs.values()), 1)
    runs = chains(g, sched)
    cap = None if ram_budget is not None else DEFAULT_EXTRA * total
    options: dict[tuple[int, ...], list[tuple[Stage, int]]] = {}

    def options_of(chain: tuple[int, ...], peak: int) -> list[tuple[Stage, int]]:
        """Every sub-run of ``chain`` holding the peak step, in every band height."""
        found = []
        for a in range(len(chain)):
            for b in range(max(a + 1, chain.index(peak)), len(chain)):
                steps = chain[a:b + 1]
                if steps[0] > peak:
                    continue
                if steps not in options:
                    out_rows = int(g.tensors[sched.steps[steps[-1]].output].shape[2])
                    options[steps] = [(st, extra_macs(g, sched, st, macs))
                                      for st in (make_stage(g, sched, steps, h) for h in BAND_ROWS if h < out_rows)]
                found += options[steps]
        return found

    def evaluate(stages: dict[tuple[int, ...], tuple[Stage, int]]) -> Choice:
        picked = sorted((st for st, _ in stages.values()), key=lambda st: st.first)
        _, memory = planner.memory(picked)
        return Choice(tuple(picked), memory.arena_bytes, sum(e for _, e in stages.values()))

    chosen: dict[tuple[int, ...], tuple[Stage, int]] = {}
    current = evaluate(chosen)
    tried: set[tuple[int, ...]] = set()
    while ram_budget is None or current.arena_bytes > ram_budget:
        bufs, memory = planner.memory(list(current.stages))
        chain, peak = _chain_at_peak(bufs, memory.offsets, runs)
        if chain is None or chain in tried:
            break
        tried.add(chain)
        trials = []
        for option in options_of(chain, peak):
            trial = {**chosen, chain: option}
            if cap is not None and sum(e for _, e in trial.values()) > cap:
                continue
            trials.append((evaluate(trial), trial))
        if not trials:
            break
        fitting = [t for t in trials if ram_budget is not None and t[0].arena_bytes <= ram_budget]
        best, trial = min(fitting or trials, key=lambda t: (t[0].extra_macs, t[0].arena_bytes) if fitting
                          else (t[0].arena_bytes, t[0].extra_macs))
        if best.arena_bytes >= current.arena_bytes:
            break
        chosen, current = trial, best
        tried = set()
    if ram_budget is not None and current.arena_bytes > ram_budget:
        raise RamBudgetError(f"no schedule fits --ram-budget {ram_budget:,} B: the smallest tensor RAM found is "
                             f"{current.arena_bytes:,} B (layer by layer {evaluate({}).arena_bytes:,} B)")
    return list(current.stages)


def _chain_at_peak(bufs: list[Buffer], offsets: dict[str, int], runs: list[tuple[int, ...]]
                   ) -> tuple[tuple[int, ...] | None, int]:
    """The step with the most occupied arena bytes (buffers sharing bytes in place counted once)
    and the chain holding it (None if it is in none)."""
    last = max((b.last_step for b in bufs), default=0)

    def occupied(step: int) -> int:
        return union_bytes((offsets[b.name], offsets[b.name] + b.size) for b in bufs if b.first_step <= step <= b.last_step)

    peak = max(range(last + 1), key=lambda s: (occupied(s), -s))
    return next((c for c in runs if c[0] <= peak <= c[-1]), None), peak
