"""Mutation fuzzing in CI: hostile variants of real exports never break the bad-input contract.

Each seed (the bundled model and zoo exports the zoo tests export anyway) gets a fixed range of
cases from `onnx_fuzz.mutate`, run in-process (forked) with `inspect`, some with `compile --target
host`, and a few through a real `python -m mnv3c` process. Every case must exit 0 or 2, print no
traceback, say why in one stderr line when it exits 2, and leave nothing behind. The long run is
`benchmarks/fuzz.py`; a failure prints the seed and case number, which reproduce it exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from onnx_fuzz import LONG_RUN_SEEDS, SEED_EXPORT, long_run_case, prepare_case, run_case, run_cli_subprocess
from zoo_matrix import RESOLUTION, WIDTH

BUNDLED = Path(__file__).resolve().parent.parent / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
ZOO_SEEDS = {  # the zoo-matrix exports (shared with test_zoo_frontend), with BatchNormalization and external data
    "v3_small": ("mobilenet_v3_small", "legacy17"),
    "v2_bn": ("mobilenet_v2", "legacy_nofold"),
    "v1_dynamo": ("mobilenet_v1", "dynamo"),
}
INSPECT_CASES = 45
COMPILE_CASES = 5
CLI_CASES = 2
TIMEOUT_S = 120.0


@pytest.fixture(params=["bundled", *ZOO_SEEDS])
def seed(request, zoo_model) -> tuple[str, Path]:
    if request.param == "bundled":
        return "bundled", BUNDLED
    family, variant = ZOO_SEEDS[request.param]
    return request.param, zoo_model(family, variant, RESOLUTION, width=WIDTH[family])


def _check(name: str, case: int, command: str, description: str, outcome) -> str | None:
    if not outcome.problems():
        return None
    return (f"{name} case {case} ({command}; {description}): {', '.join(outcome.problems())}; "
            f"exit {outcome.exit_code}; stderr: {outcome.stderr.strip()[-600:]!r}; leftovers {outcome.leftovers}")


def test_mutated_models_keep_the_contract(seed, tmp_path: Path) -> None:
    name, path = seed
    failures, exits = [], set()
    plan = [("inspect", k) for k in range(INSPECT_CASES)] + [("compile", 1000 + k) for k in range(COMPILE_CASES)]
    for command, case in plan:
        description, model = prepare_case(path, case, tmp_path / "case")
        outcome = run_case(command, model, tmp_path / "case", TIMEOUT_S)
        exits.add(outcome.exit_code)
        failures.append(_check(name, case, command, description, outcome))
    assert [f for f in failures if f] == []
    assert exits == {0, 2}  # the mutations reach both outcomes: neither all-refused nor all-accepted


# cases of the long run (benchmarks/fuzz.py, default seeds) that broke the contract before their fix:
# hangs on Inf activations (2801, 4880, 6641), a bias wrapping in the int64 cast (4200), a zero weight
# scale (6682); the dynamo seed's finds are test_validate's UTF-8 and external-data-key cases
LONG_RUN_FINDS = [("v3_small", 2801), ("bundled", 4880), ("v3_small", 6641), ("bundled", 4200), ("v2_bn", 6682)]


@pytest.mark.parametrize("name, case", LONG_RUN_FINDS)
def test_cases_the_long_run_found_keep_the_contract(name: str, case: int, zoo_model, tmp_path: Path) -> None:
    seed, command = long_run_case(case, ["bundled", *LONG_RUN_SEEDS])
    assert seed == name
    path = BUNDLED if name == "bundled" else zoo_model(*LONG_RUN_SEEDS[name][:2], width=LONG_RUN_SEEDS[name][2],
                                                       **SEED_EXPORT)
    description, model = prepare_case(path, case, tmp_path / "case")
    assert _check(name, case, command, description, run_case(command, model, tmp_path / "case", TIMEOUT_S)) is None


def test_mutated_models_through_the_real_command_line(seed, tmp_path: Path) -> None:
    name, path = seed
    for case in range(2000, 2000 + CLI_CASES):
        command = "compile" if case % 2 else "inspect"
        description, model = prepare_case(path, case, tmp_path / "case")
        outcome = run_cli_subprocess(command, model, tmp_path / "case", TIMEOUT_S)
        assert _check(name, case, command, description, outcome) is None
