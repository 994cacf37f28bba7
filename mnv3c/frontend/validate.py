"""The model check at the boundary: everything later stages assume about a model, checked once.

`read_model` refuses files that are missing, too big, not ONNX, or whose external data lies outside
the model's folder; `check_model` refuses what the ONNX schemas forbid (unknown opsets, attributes
of the wrong type or rank, missing required attributes, impossible window sizes) before anything
is imported; `check_graph` refuses what is only visible in the imported IR (non-finite weights,
BatchNormalization variance + epsilon not positive, tensors too large to index). Each failure is
one UnsupportedModelError or ModelReadError line (exit 2), so the passes, the quantizer and the
code generator never see a model that makes them raise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from onnx import defs, external_data_helper

from mnv3c.errors import MnvError, UnsupportedModelError, shown, shown_path
from mnv3c.ir.graph import Graph

MIN_OPSET = 6  # the oldest default-domain opset the importers handle (Reshape-5, BatchNormalization-6)
MAX_OPSET = defs.onnx_opset_version()  # the newest the installed onnx package defines
MAX_MODEL_BYTES = 2**31 - 1  # protobuf's own limit for one message
MAX_EXTERNAL_BYTES = 4 * 2**30  # weights beyond this cannot fit any microcontroller
MAX_TENSOR_ELEMENTS = 2**31 - 1  # the C kernels index tensors with 32-bit ints

_WINDOW_OPS = ("Conv", "MaxPool", "AveragePool")
_EXTERNAL_KEYS = frozenset({"location", "offset", "length", "checksum", "basepath"})  # onnx's ExternalDataInfo


class ModelReadError(MnvError):
    """The file is missing, truncated, not an ONNX model, or its external data is unreadable."""


def read_model(path: str | os.PathLike) -> onnx.ModelProto:
    """Parse the ONNX file at ``path`` with its external data, refusing anything unsafe or broken."""
    path = Path(path)
    if not path.is_file():
        raise ModelReadError(f"model file not found: {shown_path(path)}" if not path.exists() else f"{shown_path(path)} is not a file")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise ModelReadError(f"{shown_path(path)} is {size:,} B; ONNX files are at most {MAX_MODEL_BYTES:,} B "
                             "(larger weights belong in external data)")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf DecodeError and friends all mean "not ONNX"
        raise ModelReadError(f"cannot read {shown_path(path)} as an ONNX model: {one_line(e)}") from None
    if proto.ir_version == 0 or not proto.opset_import or not proto.graph.output:
        raise ModelReadError(f"{shown_path(path)} is not an ONNX model (no IR version, opset or graph outputs)")
    _load_external_data(proto, path.parent)
    return proto


def _load_external_data(proto: onnx.ModelProto, folder: Path) -> None:
    """Resolve external tensors, only from files inside ``folder`` (no absolute paths, no ``..``)."""
    tensors = [t for t in _all_tensors(proto.graph) if external_data_helper.uses_external_data(t)]
    if not tensors:
        return
    root, total = folder.resolve(), 0
    for t in tensors:
        info = {e.key: e.value for e in t.external_data}
        location = info.get("location", "")
        if "\0" in location:
            raise ModelReadError(f"initializer '{t.name}': external data location contains a NUL byte")
        where = f"initializer '{t.name}': external data location '{location}'"
        unknown = sorted(set(info) - _EXTERNAL_KEYS)
        if unknown:  # onnx would warn on stderr and ignore them (a bit flip in 'length')
            raise ModelReadError(f"initializer {shown(t.name)}: unknown external data key {shown(unknown[0])} "
                                 f"(allowed: {', '.join(sorted(_EXTERNAL_KEYS))})")
        if not location or os.path.isabs(location) or Path(location).is_absolute():
            raise ModelReadError(f"{where} must be a relative path inside the model's folder")
        target = (root / location).resolve()
        if not target.is_relative_to(root):
            raise ModelReadError(f"{where} points outside the model's folder '{folder}'")
        if not target.is_file():
            raise ModelReadError(f"{where}: file not found beside the model")
        try:
            offset = int(info.get("offset", 0))
            length = int(info.get("length", target.stat().st_size - offset))
        except ValueError:
            raise ModelReadError(f"{where}: offset and length must be integers") from None
        if offset < 0 or length < 0 or offset + length > target.stat().st_size:
            raise ModelReadError(f"{where}: bytes {offset}..{offset + length} are outside the "
                                 f"{target.stat().st_size:,}-byte file")
        total += length
    if total > MAX_EXTERNAL_BYTES:
        raise ModelReadError(f"external data totals {total:,} B, more than the {MAX_EXTERNAL_BYTES:,} B limit")
    try:
        external_data_helper.load_external_data_for_model(proto, str(root))
    except Exception as e:
        raise ModelReadError(f"cannot read the model's external data: {one_line(e)}") from None


def _all_tensors(graph: onnx.GraphProto):
    """Every TensorProto of ``graph``: initializers and attribute tensors, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                yield a.t
            yield from a.tensors
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                yield from _all_tensors(g)


def one_line(e: BaseException) -> str:
    """An exception as 'Type: first line' for a one-line error message."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


# --- the ONNX graph, before import ----------------------------------------------------------------
def check_model(proto: onnx.ModelProto) -> int:
    """Check opsets and every node against its ONNX schema; return the default-domain opset."""
    _check_text(proto.graph)
    opset = _default_opset(proto)
    for index, node in enumerate(proto.graph.node):
        if node.domain in ("", "ai.onnx"):
            _check_node(node, node.name or f"{node.op_type}_{index}", opset)
    return opset


def _check_text(graph: onnx.GraphProto) -> None:
    """Names and op types must be text: ONNX's proto2 strings hand invalid UTF-8 through as bytes."""
    fields = [("graph name", graph.name)]
    fields += [("tensor name", t.name) for t in (*graph.initializer, *graph.input, *graph.output)]
    for n in graph.node:
        fields += [("op type", n.op_type), ("domain", n.domain), ("node name", n.name)]
        fields += [("tensor name", v) for v in (*n.input, *n.output)] + [("attribute name", a.name) for a in n.attribute]
    for what, value in fields:
        if not isinstance(value, str):
            raise ModelReadError(f"{what} {bytes(value)[:40]!r} is not valid UTF-8 text")
    for n in graph.node:  # string attribute values (auto_pad, mode) are bytes in the proto, decoded on import
        for a in n.attribute:
            for value in (a.s, *a.strings):
                try:
                    value.decode()
                except UnicodeDecodeError:
                    raise ModelReadError(f"node {shown(n.name or n.op_type)} attribute {shown(a.name)}: value "
                                         f"{value[:40]!r} is not valid UTF-8 text") from None


def _default_opset(proto: onnx.ModelProto) -> int:
    versions = [int(e.version) for e in proto.opset_import if e.domain in ("", "ai.onnx")]
    if not versions:
        raise UnsupportedModelError("model imports no default-domain (ai.onnx) opset")
    if len(versions) > 1:
        raise UnsupportedModelError(f"model imports the default-domain opset {len(versions)} times")
    if not MIN_OPSET <= versions[0] <= MAX_OPSET:
        raise UnsupportedModelError(f"opset {versions[0]} is not supported (mnv3c imports opsets {MIN_OPSET} to "
                                    f"{MAX_OPSET}); re-export the model with a supported opset")
    return versions[0]


def _check_node(node: onnx.NodeProto, name: str, opset: int) -> None:
    where = f"node '{name}' ({node.op_type})"
    try:
        schema = defs.get_schema(node.op_type, opset)
    except defs.SchemaError:
        return  # not an ONNX op at this opset: the importer names it as unsupported
    if schema.deprecated:
        raise UnsupportedModelError(f"{where}: {node.op_type} is deprecated in opset {opset}")
    if not schema.min_input <= len(node.input) <= schema.max_input:
        raise UnsupportedModelError(f"{where}: has {len(node.input)} inputs, opset {opset} allows "
                                    f"{schema.min_input} to {schema.max_input}")
    if not schema.min_output <= len(node.output) <= schema.max_output or not node.output[0]:
        raise UnsupportedModelError(f"{where}: has {len(node.output)} outputs, opset {opset} allows "
                                    f"{schema.min_output} to {schema.max_output}")
    for i in range(schema.min_input):
        if not node.input[i]:
            raise UnsupportedModelError(f"{where}: required input {i} is empty")
    seen = set()
    for a in node.attribute:
        spec = schema.attributes.get(a.name)
        if spec is None:
            raise UnsupportedModelError(f"{where}: unknown attribute '{a.name}' for opset {opset}")
        if a.name in seen:
            raise UnsupportedModelError(f"{where}: attribute '{a.name}' is given twice")
        seen.add(a.name)
        if a.type != spec.type:
            raise UnsupportedModelError(f"{where}: attribute '{a.name}' must be {spec.type.name}, "
                                        f"got {onnx.AttributeProto.AttributeType.Name(a.type)}")
    for attr_name, spec in schema.attributes.items():
        if spec.required and attr_name not in seen:
            raise UnsupportedModelError(f"{where}: required attribute '{attr_name}' is missing")
    if node.op_type in _WINDOW_OPS:
        _check_window(node, where)


def _check_window(node: onnx.NodeProto, where: str) -> None:
    """Conv/pool windows: positive kernel, strides and dilations, non-negative pads, one rank."""
    attrs = {a.name: list(a.ints) for a in node.attribute if a.type == onnx.AttributeProto.INTS}
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    if group < 1:
        raise UnsupportedModelError(f"{where}: group must be positive, got {group}")
    ranks = {}
    for key, least in (("kernel_shape", 1), ("strides", 1), ("dilations", 1), ("pads", 0)):
        values = attrs.get(key)
        if values is None:
            continue
        if any(v < least or v > MAX_TENSOR_ELEMENTS for v in values):
            bound = "positive" if least else "non-negative"
            raise UnsupportedModelError(f"{where}: {key} {values} must be {bound}")
        ranks[key] = len(values) // 2 if key == "pads" else len(values)
        if key == "pads" and len(values) % 2:
            raise UnsupportedModelError(f"{where}: pads {values} must have a begin and an end per spatial axis")
    if len(set(ranks.values())) > 1:
        raise UnsupportedModelError(f"{where}: kernel_shape, strides, dilations and pads describe different "
                                    f"numbers of spatial axes ({', '.join(f'{k} {v}' for k, v in ranks.items())})")


# --- the imported IR ----------------------------------------------------------------------------
def check_graph(graph: Graph, allow_empty: bool = False) -> None:
    """Refuse tensors too large to index, non-finite float constants and degenerate batch norms;
    also empty runtime tensors, unless ``allow_empty`` (ONNX allows them, the C kernels do not)."""
    for t in graph.tensors.values():
        if not allow_empty and not t.is_const and any(d <= 0 for d in t.shape):
            raise UnsupportedModelError(f"tensor '{t.name}' has shape {list(t.shape)}: every dimension must be positive")
        if t.size > MAX_TENSOR_ELEMENTS:
            raise UnsupportedModelError(f"tensor '{t.name}' of shape {list(t.shape)} has {t.size:,} elements, "
                                        f"more than the {MAX_TENSOR_ELEMENTS:,} the C kernels can index")
        if t.is_const and np.asarray(t.data).dtype.kind == "f" and not np.all(np.isfinite(t.data)):
            bad = int(np.size(t.data) - np.count_nonzero(np.isfinite(t.data)))
            raise UnsupportedModelError(f"constant '{t.name}' holds {bad} NaN or infinite value(s)")
    for n in graph.nodes:
        if n.op == "batch_norm":
            var = graph.const(n.inputs[4])
            eps = float(n.attrs.get("epsilon", 0.0))
            if not np.isfinite(eps) or eps < 0:
                raise UnsupportedModelError(f"node {shown(n.name)} (BatchNormalization): epsilon {eps} must be >= 0")
            if var is not None and np.any(var + eps <= 0):
                raise UnsupportedModelError(f"node {shown(n.name)} (BatchNormalization): variance + epsilon must be "
                                            f"positive, got minimum {float(np.min(var + eps)):g}")
