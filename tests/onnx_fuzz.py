"""A seeded mutator of ONNX files and a runner that holds `mnv3c` to its bad-input contract.

Used by tests/test_fuzz.py (a few hundred cases in CI) and benchmarks/fuzz.py (the long run).
`mutate` turns a real export into a hostile variant, byte-level (flips, truncation, garbage) or
protobuf-level (dims 0/-1/huge, element types, deleted initializers, cycles, bad attributes,
NaN/Inf weights, negative BatchNormalization variance, mismatched weights, external-data tricks,
adversarial names); the same (seed model, case number) always gives the same file. `run_case`
runs one `mnv3c` command on it in a forked child with a time limit and checks the contract:
exit 0 or 2, no traceback, exit 2 with exactly one error line (the last; any other stderr line is
one of mnv3c's own warnings), no stderr line that is not mnv3c's (NumPy warnings), nothing left in
the work folder but the inputs (and OUTDIR after a successful compile). Commands run with MNV3C_QUIET=1, so no progress lines.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HUGE = (2**31, 2**40, 2**63 - 1)
ODD_INTS = (0, -1, -2, 1, 2, 3, 7, 1000, *HUGE)
EVIL_NAMES = ("*/ #include <stdio.h> /*", 'a"b\\c', "line\nbreak", "x" * 10_000, "日本語", "", "int", "../..",
              "%s%n", "a\x00b", "??/", "\x1b[31mred")


@dataclass
class Outcome:
    exit_code: int | None  # None: killed after the time limit
    stderr: str
    seconds: float
    leftovers: list[str]

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr

    @property
    def stray_stderr(self) -> bool:
        """Lines that are not mnv3c's own (e.g. NumPy overflow warnings): they break the one-line
        contract as much as a second error line does."""
        return any(not ln.startswith("mnv3c: ") for ln in self.stderr.strip().splitlines())

    def problems(self) -> list[str]:
        """What breaks the contract; empty when the case is fine."""
        found = []
        if self.exit_code is None:
            found.append("hang")
        elif self.exit_code not in (0, 2):
            found.append(f"exit {self.exit_code}")
        if self.traceback:
            found.append("traceback")
        lines = self.stderr.strip().splitlines()
        errors = [ln for ln in lines if ln.startswith("mnv3c: error:")]
        if self.exit_code == 2 and (len(errors) != 1 or lines[-1] != errors[0]):
            found.append("stderr not one line")
        if self.stray_stderr and not self.traceback:  # a traceback is counted as such
            found.append("stray stderr")
        if self.leftovers:
            found.append("leftovers")
        return found


# --- mutations ------------------------------------------------------------------------------------
Mutation = Callable[[onnx.ModelProto, random.Random, Path], str]


def _float_inits(m: onnx.ModelProto) -> list[TensorProto]:
    return [t for t in m.graph.initializer if t.data_type == TensorProto.FLOAT and np.prod(t.dims) > 0]


def _pick(rng: random.Random, items: list) -> object:
    if not items:
        raise LookupError("nothing to mutate")
    return rng.choice(items)


def m_input_dim(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    vi = _pick(rng, list(m.graph.input))
    dims = vi.type.tensor_type.shape.dim
    d = _pick(rng, list(dims))
    value = rng.choice(ODD_INTS)
    if rng.random() < 0.2:
        d.dim_param = rng.choice(["N", "H", ""])
        return f"input '{vi.name}' dim -> symbolic"
    d.dim_value = value
    return f"input '{vi.name}' dim -> {value}"


def m_input_rank(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    shape = m.graph.input[0].type.tensor_type.shape
    if rng.random() < 0.5 and shape.dim:
        del shape.dim[rng.randrange(len(shape.dim))]
        return "input rank -1"
    shape.dim.add().dim_value = rng.choice((1, 2, 3))
    return "input rank +1"


def m_input_dtype(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    t = rng.randrange(0, 26)
    m.graph.input[0].type.tensor_type.elem_type = t
    return f"input dtype -> {t}"


def m_init_dims(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    t = _pick(rng, list(m.graph.initializer))
    choice = rng.randrange(4)
    if choice == 0 and t.dims:
        t.dims[rng.randrange(len(t.dims))] = rng.choice(ODD_INTS)
    elif choice == 1 and t.dims:
        del t.dims[rng.randrange(len(t.dims))]
    elif choice == 2:
        t.dims.append(rng.choice((1, 2)))
    else:
        t.dims[:] = list(reversed(t.dims))
    return f"initializer '{t.name}' dims -> {list(t.dims)}"


def m_init_dtype(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    t = _pick(rng, list(m.graph.initializer))
    t.data_type = rng.randrange(0, 26)
    return f"initializer '{t.name}' dtype -> {t.data_type}"


def m_delete_init(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    i = rng.randrange(len(m.graph.initializer))
    name = m.graph.initializer[i].name
    del m.graph.initializer[i]
    return f"deleted initializer '{name}'"


def m_nonfinite(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    t = _pick(rng, _float_inits(m))
    a = numpy_helper.to_array(t).copy()
    value = rng.choice((np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-45))
    flat = a.reshape(-1)
    flat[rng.randrange(flat.size)] = value
    if rng.random() < 0.3:
        flat[:] = value
    t.CopyFrom(numpy_helper.from_array(a, t.name))
    return f"initializer '{t.name}' gets {value}"


def m_cycle(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    nodes = m.graph.node
    if len(nodes) < 2:
        raise LookupError("too few nodes")
    i = rng.randrange(len(nodes) - 1)
    j = rng.randrange(i + 1, len(nodes))
    if not nodes[i].input:
        raise LookupError("node without inputs")
    nodes[i].input[rng.randrange(len(nodes[i].input))] = nodes[j].output[0]
    return f"cycle: node {i} reads node {j}'s output"


def m_attribute(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    node = _pick(rng, [n for n in m.graph.node if n.attribute])
    a = _pick(rng, list(node.attribute))
    choice = rng.randrange(7)
    if choice == 0 and a.type == onnx.AttributeProto.INTS and a.ints:
        a.ints[rng.randrange(len(a.ints))] = rng.choice(ODD_INTS)
    elif choice == 1 and a.type == onnx.AttributeProto.INTS:
        a.ints.append(rng.choice(ODD_INTS)) if rng.random() < 0.5 or not a.ints else a.ints.pop()
    elif choice == 2 and a.type == onnx.AttributeProto.INT:
        a.i = rng.choice(ODD_INTS)
    elif choice == 3:
        node.attribute.remove(a)
    elif choice == 4:
        node.attribute.append(helper.make_attribute(rng.choice(["bogus", a.name]), rng.choice([1, 0.5, "x", [2, 2]])))
    elif choice == 5:
        a.type = rng.choice([onnx.AttributeProto.INT, onnx.AttributeProto.FLOAT, onnx.AttributeProto.STRING,
                             onnx.AttributeProto.INTS, onnx.AttributeProto.TENSOR])
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = rng.choice([float("nan"), float("inf"), -1.0, 0.0, 1e30])
    else:
        a.s = rng.choice([b"SAME_UPPER", b"VALID", b"bogus", b"", b"\xff"])
        a.type = onnx.AttributeProto.STRING
    return f"node '{node.name}' attribute '{a.name}' mutated ({choice})"


def m_opset(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    entry = next(e for e in m.opset_import if e.domain in ("", "ai.onnx"))
    entry.version = rng.choice((0, 1, 5, 6, 7, 10, 11, 99, -1, 2**40, rng.randrange(1, 30)))
    return f"opset -> {entry.version}"


def m_op_type(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    node = _pick(rng, list(m.graph.node))
    node.op_type = rng.choice(["Conv", "Add", "Relu", "Gemm", "MaxPool", "Reshape", "Concat", "Bogus", "",
                               "BatchNormalization", "Softmax", "Transpose", "Slice", "Pad", "Gather"])
    return f"node '{node.name}' op -> {node.op_type}"


def m_io_edges(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    g = m.graph
    choice = rng.randrange(5)
    node = _pick(rng, list(g.node))
    if choice == 0:
        node.output[0] = _pick(rng, [t.name for t in g.initializer] + [i.name for i in g.input])
    elif choice == 1:
        del g.output[:]
    elif choice == 2:
        g.output[0].name = "nowhere"
    elif choice == 3:
        g.node.remove(node)
    else:
        node.input.append(rng.choice(["", node.input[0] if node.input else "x", "ghost"]))
    return f"edges mutated ({choice})"


def m_batch_norm(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    """A BatchNormalization after the first Conv, with negative variance or epsilon, or NaN."""
    g = m.graph
    k = next(i for i, n in enumerate(g.node) if n.op_type == "Conv")
    conv = g.node[k]
    channels = next(t.dims[0] for t in g.initializer if t.name == conv.input[1])
    var = np.abs(np.random.default_rng(rng.randrange(2**32)).standard_normal(channels)).astype(np.float32) + 0.1
    eps = 1e-5
    bad = rng.randrange(3)
    if bad == 0:
        var[rng.randrange(channels)] = -rng.choice((1.0, 1e-3, 1e30))
    elif bad == 1:
        eps = -rng.choice((1.0, 1e-5))
        var[:] = 0
    else:
        var[0] = np.nan
    names = [f"fuzz_bn_{p}" for p in ("scale", "bias", "mean", "var")]
    for name, value in zip(names, (np.ones(channels), np.zeros(channels), np.zeros(channels), var)):
        g.initializer.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
    out = conv.output[0]
    conv.output[0] = out + "_pre_bn"
    g.node.insert(k + 1, helper.make_node("BatchNormalization", [out + "_pre_bn", *names], [out], epsilon=eps,
                                          name="fuzz_bn"))
    return f"batch norm after '{conv.name}' (case {bad})"


def m_weight_shape(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    """Weights of Gemm/MatMul/Conv that disagree with their inputs, or a bias longer than the channels."""
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    node = _pick(rng, [n for n in g.node if n.op_type in ("Gemm", "MatMul", "Conv") and
                       any(i in inits for i in n.input[1:])])
    t = inits[_pick(rng, [i for i in node.input[1:] if i in inits])]
    a = numpy_helper.to_array(t)
    if a.ndim == 1 or rng.random() < 0.3:
        a = np.concatenate([a.reshape(-1), np.ones(rng.choice((1, 3)), a.dtype)])
    else:
        axis = rng.randrange(a.ndim)
        a = np.delete(a, 0, axis=axis) if a.shape[axis] > 1 else np.concatenate([a, a], axis=axis)
    t.CopyFrom(numpy_helper.from_array(a, t.name))
    return f"weight '{t.name}' of {node.op_type} -> shape {list(a.shape)}"


def m_external(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    """Move an initializer to external data with an honest or a hostile location."""
    t = _pick(rng, [t for t in m.graph.initializer if t.HasField("raw_data") and len(t.raw_data) > 0])
    data = t.raw_data
    (work / "weights.bin").write_bytes(data)
    location, offset, length = rng.choice([
        ("weights.bin", 0, len(data)), ("/etc/passwd", 0, len(data)), ("../../../../etc/passwd", 0, 16),
        ("missing.bin", 0, len(data)), ("weights.bin", len(data) + 5, len(data)), ("weights.bin", 0, 2**40),
        ("weights.bin", -1, len(data)), ("sub/../weights.bin", 0, len(data)), ("", 0, 1), ("link/passwd", 0, 8),
        (str(work / "weights.bin"), 0, len(data)), ("weights.bin", 0, len(data) // 2),
    ])
    if location.startswith("link/"):
        with contextlib.suppress(OSError):
            (work / "link").symlink_to("/etc")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    del t.external_data[:]
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return f"initializer '{t.name}' external at '{location}' [{offset}:{length}]"


def m_names(m: onnx.ModelProto, rng: random.Random, work: Path) -> str:
    """Rename a node, or a tensor everywhere it appears, to an adversarial name."""
    g = m.graph
    evil = rng.choice(EVIL_NAMES)
    if rng.random() < 0.5:
        node = _pick(rng, list(g.node))
        node.name = evil
        return f"node renamed to {evil[:20]!r}"
    old = _pick(rng, [o for n in g.node for o in n.output])
    for n in g.node:
        n.input[:] = [evil if v == old else v for v in n.input]
        n.output[:] = [evil if v == old else v for v in n.output]
    for o in g.output:
        if o.name == old:
            o.name = evil
    return f"tensor '{old}' renamed to {evil[:20]!r}"


PROTO_MUTATIONS: dict[str, Mutation] = {
    "input_dim": m_input_dim, "input_rank": m_input_rank, "input_dtype": m_input_dtype, "init_dims": m_init_dims,
    "init_dtype": m_init_dtype, "delete_init": m_delete_init, "nonfinite": m_nonfinite, "cycle": m_cycle,
    "attribute": m_attribute, "opset": m_opset, "op_type": m_op_type, "io_edges": m_io_edges,
    "batch_norm": m_batch_norm, "weight_shape": m_weight_shape, "external": m_external, "names": m_names,
}


def _byte_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    b = bytearray(data)
    choice = rng.randrange(5)
    if choice == 0:
        for _ in range(rng.choice((1, 4, 32))):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return "bit flips", bytes(b)
    if choice == 1:
        return "truncated", bytes(b[: rng.randrange(len(b))])
    if choice == 2:
        at = rng.randrange(len(b))
        return "inserted garbage", bytes(b[:at] + rng.randbytes(rng.randrange(1, 64)) + b[at:])
    if choice == 3:
        at, n = rng.randrange(len(b)), rng.randrange(1, 256)
        b[at:at + n] = bytes([rng.choice((0, 255))]) * len(b[at:at + n])
        return "overwritten range", bytes(b)
    return "not onnx", rng.choice([b"", b"hello", rng.randbytes(rng.randrange(1, 4096)), b"\x08" * 100])


def mutate(seed: bytes, case: int, work: Path) -> tuple[str, bytes]:
    """The ``case``-th hostile variant of the ONNX bytes ``seed`` (deterministic); may write side
    files (external data, symlinks) into ``work``."""
    rng = random.Random(case)
    if rng.random() < 0.25:
        return _byte_mutation(seed, rng)
    model = onnx.ModelProto.FromString(seed)
    done = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        for _attempt in range(10):
            name = rng.choice(sorted(PROTO_MUTATIONS))
            try:
                done.append(f"{name}: {PROTO_MUTATIONS[name](model, rng, work)}")
                break
            except Exception:  # not applicable to this model (e.g. its weights are external): try another
                continue
    return "; ".join(done) or "unchanged", model.SerializeToString()


# --- the long run's cases (benchmarks/fuzz.py) ------------------------------------------------------
LONG_RUN_SEEDS = {  # name -> (family, variant, width) of the zoo seeds beside the bundled model
    "v3_small": ("mobilenet_v3_small", "legacy17", 0.5),
    "v2_bn": ("mobilenet_v2", "legacy_nofold", 0.25),
    "v1_dynamo": ("mobilenet_v1", "dynamo", 0.25),
}
SEED_EXPORT = {"resolution": 32, "num_classes": 10}
COMPILE_EVERY = 10


def long_run_case(case: int, seeds: list[str]) -> tuple[str, str]:
    """The seed (round robin) and command (every COMPILE_EVERY-th round compiles) of case ``case``."""
    command = "compile" if (case // len(seeds)) % COMPILE_EVERY == 0 else "inspect"
    return seeds[case % len(seeds)], command


# --- running ---------------------------------------------------------------------------------------
def command_args(command: str, model: Path, work: Path) -> list[str]:
    if command == "inspect":
        return ["inspect", str(model)]
    if command == "compile":
        return ["compile", str(model), "--target", "host", "-o", str(work / "out")]
    raise ValueError(command)


def _leftovers(work: Path, inputs: set[str], exit_code: int | None) -> list[str]:
    allowed = set(inputs) | ({"out"} if exit_code == 0 else set())
    return sorted(p.name for p in work.iterdir() if p.name not in allowed)


def run_case(command: str, model: Path, work: Path, timeout_s: float) -> Outcome:
    """Run `mnv3c COMMAND MODEL` in a forked child of this (already importing) process; stdout
    and stderr go to files at the descriptor level, so warnings printed by C code count too."""
    from mnv3c import cli
    for module in ("mnv3c.commands.compile_cmd", "mnv3c.commands.inspect_cmd", "matplotlib.pyplot"):
        importlib.import_module(module)  # once, before forking (pyplot: the report's plots, 2 s per compile)

    inputs = {p.name for p in work.iterdir()}
    err_path = work.parent / f"{work.name}.stderr"
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child: never returns into the caller's code (pytest, the benchmark loop)
        code = 3
        try:
            os.setsid()
            with open(os.devnull, "wb") as out, open(err_path, "wb") as err:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            os.environ.pop("MNV3C_DEBUG", None)
            os.environ["MNV3C_QUIET"] = "1"
            code = cli.main(command_args(command, model, work))
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # anything escaping main() is itself a contract breach
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 3)
    exit_code = _wait(pid, timeout_s)
    seconds = time.monotonic() - start
    stderr = err_path.read_text(errors="replace") if err_path.exists() else ""
    err_path.unlink(missing_ok=True)
    return Outcome(exit_code, stderr, seconds, _leftovers(work, inputs, exit_code))


def _wait(pid: int, timeout_s: float) -> int | None:
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


def run_cli_subprocess(command: str, model: Path, work: Path, timeout_s: float) -> Outcome:
    """The same case through a real `python -m mnv3c` process: the command-line contract itself."""
    inputs = {p.name for p in work.iterdir()}
    env = {**{k: v for k, v in os.environ.items() if k != "MNV3C_DEBUG"}, "MNV3C_QUIET": "1"}
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "mnv3c", *command_args(command, model, work)],
                              capture_output=True, text=True, timeout=timeout_s, env=env, start_new_session=True)
        code, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as e:
        code, stderr = None, (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else ""
    return Outcome(code, stderr, time.monotonic() - start, _leftovers(work, inputs, code))


def prepare_case(seed_path: Path, case: int, work: Path) -> tuple[str, Path]:
    """A fresh ``work`` folder holding the mutated model (and the seed's external data, if any)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for side in seed_path.parent.glob(seed_path.name + ".data"):
        shutil.copy(side, work / side.name)
    description, data = mutate(seed_path.read_bytes(), case, work)
    model = work / seed_path.name
    model.write_bytes(data)
    return description, model
