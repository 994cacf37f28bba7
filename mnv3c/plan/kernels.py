"""Kernel choice: which C function of `mnv3c/runtime_c/` runs each step.

A table, not code paths: each op lists candidate kernels with the condition under which each
applies; the first match wins. Target-specific variants live beside the portable kernels in
`runtime_c/arm_dsp/` (Cortex-M4/M7/M33: SMLAD on SXTB16-widened pairs), `runtime_c/arm_mve/`
(Cortex-M55: Helium), `runtime_c/riscv/` (RV32IMC), `runtime_c/xtensa/` (the LX106 of esp8266) and
`runtime_c/xtensa_mac16/` (ESP32's MAC16), and are `TARGET_RULES[target][op]` entries in front of the portable ones, without touching the schedule or the memory plan, which only see a
kernel's in-place permission and scratch size. A variant takes its portable twin's params struct;
its weights may be re-laid out at compile time (`Kernel.layout`, codegen/layouts.py). Each has a
`_short` twin (same C file) chosen where the short output stage is proven exact for the layer
(`short_requant_exact`); its out_mult is then the per-channel table of `Kernel.out_stage`. tests/test_kernel_variants.py runs every variant under QEMU on the targets
whose rules name it, and checks that MobileNet layers never fall back to the portable kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnv3c.plan.strides import gather_box
from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.schedule import Schedule
from mnv3c.quant.quantize import requant_zero_point

LUT_OPS = ("relu", "clip", "hard_swish", "hard_sigmoid", "sigmoid", "gelu")


@dataclass(frozen=True)
class Kernel:
    name: str  # C function is mnv3c_<name>, its scratch query mnv3c_<name>_scratch_bytes
    params_type: str  # the C params struct it takes
    sources: tuple[str, ...]  # runtime_c files it needs (itself and the kernels it calls)
    inplace_operands: tuple[int, ...] = ()  # input positions it may overwrite with its output
    scratch: Callable[[Node, Graph], int] = lambda node, graph: 0  # mirrors the C query
    input_array: bool = False  # inputs passed as one array of pointers (concat), not one argument each
    headers: tuple[str, ...] = ()  # runtime_c headers declaring it, beside mnv3c_kernels.h (variants)
    layout: str = ""  # offline weight re-layout (codegen/layouts.py) its weights array gets; "" = as documented
    out_stage: str = ""  # output-stage table (codegen/layouts.py OUT_STAGES) its out_mult gets; "" = multipliers

    @property
    def function(self) -> str:
        return f"mnv3c_{self.name}"


_ARM_DSP_HEADERS = ("arm_dsp/mnv3c_arm_dsp.h", "arm_dsp/mnv3c_dsp_gemm.h", "arm_dsp/mnv3c_dsp_requant.h",
                    "arm_dsp/mnv3c_dsp_conv2d.h", "arm_dsp/mnv3c_dsp_quad.h")
_RISCV_HEADERS = ("riscv/mnv3c_riscv.h", "riscv/mnv3c_rv_gemm.h")
_XTENSA_HEADERS = ("xtensa/mnv3c_xtensa.h", "xtensa/mnv3c_xt_gemm.h")
_XTENSA_MAC16_HEADERS = ("xtensa_mac16/mnv3c_xtensa_mac16.h", "xtensa_mac16/mnv3c_mac16_gemm.h",
                         "xtensa/mnv3c_xt_gemm.h")
_ARM_MVE_HEADERS = ("arm_mve/mnv3c_arm_mve.h", "arm_mve/mnv3c_mve_dot.h", "arm_mve/mnv3c_mve_requant.h",
                    "arm_dsp/mnv3c_dsp_requant.h")


def _variant_pair(name: str, params_type: str, folder: str, headers: tuple[str, ...], layout: str,
                  out_stage: str = "dsp_out_table", calls: tuple[str, ...] = ()) -> tuple[Kernel, Kernel]:
    """A variant and its _short twin (same C file: the proven short output stage, read from the
    ``out_stage`` table; arm_dsp/mnv3c_dsp_requant.h, arm_mve/mnv3c_mve_requant.h; the riscv twins
    read the plain multipliers: out_stage ""); ``calls``: the files of the kernels it calls."""
    sources = (f"{folder}/{name}.c", *calls)
    return (Kernel(name, params_type, sources, headers=headers, layout=layout),
            Kernel(f"{name}_short", params_type, sources, headers=headers, layout=layout, out_stage=out_stage))


PW_MAX_C = 1024  # MNV3C_PW_MAX_C: the widest reduction the arm_dsp convolutions buffer on the stack
DW_MAX_C = 1024  # MNV3C_DW_DSP_MAX_C / MNV3C_DW_MVE_MAX_C: the depthwise variants' input_zp row
DW_MAX_TAPS = 64  # MNV3C_DW_DSP_MAX_TAPS / MNV3C_DW_MVE_MAX_TAPS: their tap-address table
CONV_DSP16_MAX_WEIGHTS = 4096  # conv2d_s8_arm_dsp16: its int16 weights cost twice the flash, so small layers only
CONV_MVE_MAX_K = 1024  # MNV3C_CONV_MVE_MAX_K: conv2d_s8_arm_mve's receptive field on the stack


def _se_scratch(node: Node, graph: Graph) -> int:
    """squeeze_excite_s8: the pooled/gate vector (C bytes) and the hidden vector (R bytes)."""
    reduced, channels = graph.tensors[node.inputs[1]].shape
    return int(channels) + int(reduced)


def _se_table_scratch(node: Node, graph: Graph) -> int:
    """squeeze_excite_s8_arm_dsp/_arm_mve: the portable scratch rounded up to 4, then the int16 gate
    (channels rounded up to 8)."""
    reduced, channels = graph.tensors[node.inputs[1]].shape
    return -(-_se_scratch(node, graph) // 4) * 4 + 2 * (-(-int(channels) // 8) * 8)


def _conv_transpose_scratch(node: Node, graph: Graph) -> int:
    """conv_transpose_s8: one int32 accumulator per output channel."""
    return 4 * int(graph.tensors[node.outputs[0]].shape[1])


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("conv2d_s8", "mnv3c_conv2d_params", ("conv2d_s8.c",)),
        Kernel("conv1x1_s8", "mnv3c_conv2d_params", ("conv1x1_s8.c",)),
        Kernel("depthwise_conv2d_s8", "mnv3c_depthwise_conv2d_params", ("depthwise_conv2d_s8.c",)),
        Kernel("dense_s8", "mnv3c_dense_params", ("dense_s8.c",)),
        Kernel("add_s8", "mnv3c_add_params", ("add_s8.c",), inplace_operands=(0, 1)),
        Kernel("global_avg_pool_s8", "mnv3c_global_avg_pool_params", ("global_avg_pool_s8.c",)),
        Kernel("avg_pool_s8", "mnv3c_avg_pool_params", ("avg_pool_s8.c",)),
        Kernel("max_pool_s8", "mnv3c_max_pool_params", ("max_pool_s8.c",)),
        Kernel("lut_s8", "mnv3c_lut_params", ("lut_s8.c",), inplace_operands=(0,)),
        Kernel("mul_s8", "mnv3c_mul_params", ("mul_s8.c",), inplace_operands=(0,)),
        Kernel("conv_transpose_s8", "mnv3c_conv_transpose_params", ("conv_transpose_s8.c",),
               scratch=_conv_transpose_scratch),
        Kernel("resize_nearest_s8", "mnv3c_resize_nearest_params", ("resize_nearest_s8.c",)),
        Kernel("resize_bilinear_s8", "mnv3c_resize_bilinear_params", ("resize_bilinear_s8.c",)),
        Kernel("concat_s8", "mnv3c_concat_params", ("concat_s8.c",), input_array=True),
        Kernel("slice_s8", "mnv3c_slice_params", ("slice_s8.c",)),
        Kernel("conv2d_s16", "mnv3c_conv2d_s16_params", ("conv2d_s16.c",)),
        Kernel("depthwise_conv2d_s16", "mnv3c_depthwise_conv2d_s16_params", ("depthwise_conv2d_s16.c",)),
        Kernel("dense_s16", "mnv3c_dense_s16_params", ("dense_s16.c",)),
        Kernel("add_s16", "mnv3c_add_s16_params", ("add_s16.c",), inplace_operands=(0, 1)),
        Kernel("mul_s16", "mnv3c_mul_params", ("mul_s16.c",), inplace_operands=(0,)),
        Kernel("global_avg_pool_s16", "mnv3c_global_avg_pool_params", ("global_avg_pool_s16.c",)),
        Kernel("avg_pool_s16", "mnv3c_avg_pool_params", ("avg_pool_s16.c",)),
        Kernel("max_pool_s16", "mnv3c_max_pool_params", ("max_pool_s16.c",)),
        Kernel("lut_s16", "mnv3c_lut_s16_params", ("lut_s16.c",), inplace_operands=(0,)),
        Kernel("layer_norm_s16", "mnv3c_layer_norm_params", ("layer_norm_s16.c",),
               headers=("mnv3c_fixedpoint.h", "mnv3c_layer_norm_rows.h")),
        Kernel("concat_s16", "mnv3c_concat_params", ("concat_s16.c",), input_array=True),
        Kernel("slice_s16", "mnv3c_slice_params", ("slice_s16.c",)),
        Kernel("transpose_s16", "mnv3c_transpose_params", ("transpose_s16.c",)),
        Kernel("batch_matmul_s16", "mnv3c_batch_matmul_params", ("batch_matmul_s16.c",)),
        Kernel("softmax_s16", "mnv3c_softmax_params", ("softmax_s16.c",),
               headers=("mnv3c_fixedpoint.h", "mnv3c_softmax_exp.h")),
        Kernel("requantize_s8_s16", "mnv3c_requantize_params", ("requantize_s8_s16.c",)),
        Kernel("requantize_s16_s8", "mnv3c_requantize_params", ("requantize_s16_s8.c",)),
        Kernel(
            "squeeze_excite_s16",
            "mnv3c_squeeze_excite_s16_params",
            ("squeeze_excite_s16.c", "global_avg_pool_s16.c", "dense_s16.c"),
            inplace_operands=(0,),
            scratch=lambda node, graph: 2 * _se_scratch(node, graph),
        ),
        Kernel("softmax_s8", "mnv3c_softmax_params", ("softmax_s8.c",),
               headers=("mnv3c_fixedpoint.h", "mnv3c_softmax_exp.h")),
        Kernel("transpose_s8", "mnv3c_transpose_params", ("transpose_s8.c",)),
        Kernel("batch_matmul_s8", "mnv3c_batch_matmul_params", ("batch_matmul_s8.c",)),
        Kernel("layer_norm_s8", "mnv3c_layer_norm_params", ("layer_norm_s8.c",),
               headers=("mnv3c_fixedpoint.h", "mnv3c_layer_norm_rows.h")),
        Kernel(
            "squeeze_excite_s8",
            "mnv3c_squeeze_excite_params",
            ("squeeze_excite_s8.c", "global_avg_pool_s8.c", "dense_s8.c", "mul_s8.c"),
            inplace_operands=(0,),
            scratch=_se_scratch,
        ),
        # runtime_c/arm_dsp/: Cortex-M4/M7/M33 with the DSP extension (SMLAD, SXTB16)
        # (a lone last pixel is a dense layer: same weight layout and output stage)
        *_variant_pair("conv1x1_s8_arm_dsp", "mnv3c_conv2d_params", "arm_dsp", _ARM_DSP_HEADERS, "pointwise_dsp",
                       calls=("arm_dsp/dense_s8_arm_dsp.c",)),
        *_variant_pair("conv2d_s8_arm_dsp", "mnv3c_conv2d_params", "arm_dsp", _ARM_DSP_HEADERS, "pointwise_dsp"),
        *_variant_pair("conv2d_s8_arm_dsp16", "mnv3c_conv2d_params", "arm_dsp", _ARM_DSP_HEADERS, "pointwise_dsp16"),
        Kernel("conv2d_s8_arm_dsp_rgb_short", "mnv3c_conv2d_params", ("arm_dsp/conv2d_s8_arm_dsp_rgb.c",),
               headers=_ARM_DSP_HEADERS, layout="pointwise_dsp16", out_stage="dsp_out_table"),
        *_variant_pair("depthwise_conv2d_s8_arm_dsp", "mnv3c_depthwise_conv2d_params", "arm_dsp", _ARM_DSP_HEADERS,
                       "depthwise_dsp"),
        *_variant_pair("dense_s8_arm_dsp", "mnv3c_dense_params", "arm_dsp", _ARM_DSP_HEADERS, "pointwise_dsp"),
        Kernel("add_s8_arm_dsp", "mnv3c_add_params", ("arm_dsp/add_s8_arm_dsp.c",), inplace_operands=(0, 1),
               headers=_ARM_DSP_HEADERS),
        Kernel("squeeze_excite_s8_arm_dsp", "mnv3c_squeeze_excite_params",
               ("arm_dsp/squeeze_excite_s8_arm_dsp.c", "arm_dsp/dense_s8_arm_dsp.c"), inplace_operands=(0,),
               scratch=_se_table_scratch, headers=_ARM_DSP_HEADERS, layout="pointwise_dsp"),
        # runtime_c/arm_mve/: Cortex-M55 (Helium)
        *_variant_pair("conv1x1_s8_arm_mve", "mnv3c_conv2d_params", "arm_mve", _ARM_MVE_HEADERS, "pointwise_mve",
                      "mve_out_table"),
        *_variant_pair("depthwise_conv2d_s8_arm_mve", "mnv3c_depthwise_conv2d_params", "arm_mve", _ARM_MVE_HEADERS,
                       "", "mve_dw_out_table"),
        *_variant_pair("dense_s8_arm_mve", "mnv3c_dense_params", "arm_mve", _ARM_MVE_HEADERS, "", "mve_out_table"),
        *_variant_pair("conv2d_s8_arm_mve", "mnv3c_conv2d_params", "arm_mve", _ARM_MVE_HEADERS, "rows_mve",
                       "mve_out_table"),
        Kernel("add_s8_arm_mve", "mnv3c_add_params", ("arm_mve/add_s8_arm_mve.c",), inplace_operands=(0, 1),
               headers=_ARM_MVE_HEADERS),
        Kernel("squeeze_excite_s8_arm_mve", "mnv3c_squeeze_excite_params",
               ("arm_mve/squeeze_excite_s8_arm_mve.c", "arm_mve/dense_s8_arm_mve.c"), inplace_operands=(0,),
               scratch=_se_table_scratch, headers=_ARM_MVE_HEADERS),
        # runtime_c/riscv/: RV32IMC
        *_variant_pair("conv1x1_s8_riscv", "mnv3c_conv2d_params", "riscv", _RISCV_HEADERS, "pointwise_rv", ""),
        *_variant_pair("conv2d_s8_riscv", "mnv3c_conv2d_params", "riscv", _RISCV_HEADERS, "pointwise_rv", ""),
        *_variant_pair("depthwise_conv2d_s8_riscv", "mnv3c_depthwise_conv2d_params", "riscv", _RISCV_HEADERS,
                       "depthwise_rv", ""),
        *_variant_pair("dense_s8_riscv", "mnv3c_dense_params", "riscv", _RISCV_HEADERS, "dense_rv", ""),
        # runtime_c/xtensa/: the LX106 of esp8266 (call0, no 32x32->64 multiply, no signed byte load)
        *_variant_pair("conv1x1_s8_xtensa", "mnv3c_conv2d_params", "xtensa", _XTENSA_HEADERS, "pointwise_xt", ""),
        *_variant_pair("conv2d_s8_xtensa", "mnv3c_conv2d_params", "xtensa", _XTENSA_HEADERS, "pointwise_xt", ""),
        *_variant_pair("depthwise_conv2d_s8_xtensa", "mnv3c_depthwise_conv2d_params", "xtensa", _XTENSA_HEADERS,
                       "depthwise_xt", ""),
        *_variant_pair("dense_s8_xtensa", "mnv3c_dense_params", "xtensa", _XTENSA_HEADERS, "dense_xt", ""),
        # runtime_c/xtensa_mac16/: windowed Xtensa with MAC16 (ESP32's LX6)
        *_variant_pair("conv1x1_s8_xtensa_mac16", "mnv3c_conv2d_params", "xtensa_mac16", _XTENSA_MAC16_HEADERS,
                       "pointwise_mac16", ""),
        *_variant_pair("conv2d_s8_xtensa_mac16", "mnv3c_conv2d_params", "xtensa_mac16", _XTENSA_MAC16_HEADERS,
                       "pointwise_mac16", ""),
        *(Kernel(name, "mnv3c_squeeze_excite_params",
                 ("riscv/squeeze_excite_s8_riscv.c", "squeeze_excite_s8.c", "global_avg_pool_s8.c",
                  "riscv/dense_s8_riscv.c", "dense_s8.c", "mul_s8.c"),
                 inplace_operands=(0,), scratch=_se_scratch, headers=_RISCV_HEADERS, layout="dense_rv")
          for name in ("squeeze_excite_s8_riscv", "squeeze_excite_s8_riscv_short")),
        *(Kernel(name, "mnv3c_squeeze_excite_params",
                 ("xtensa/squeeze_excite_s8_xtensa.c", "squeeze_excite_s8.c", "global_avg_pool_s8.c",
                  "xtensa/dense_s8_xtensa.c", "dense_s8.c", "mul_s8.c"),
                 inplace_operands=(0,), scratch=_se_scratch, headers=_XTENSA_HEADERS, layout="dense_xt")
          for name in ("squeeze_excite_s8_xtensa", "squeeze_excite_s8_xtensa_short")),
    )
}

Rule = tuple[Callable[[Node, Graph], bool], str]  # (applies to this node?, kernel name)


def _always(node: Node, graph: Graph) -> bool:
    return True


def _is_pointwise(node: Node, graph: Graph) -> bool:
    """1x1 kernel, stride 1, no padding: a plain matrix product over pixels."""
    w = graph.tensors[node.inputs[1]].shape
    a = node.attrs
    return (
        tuple(w[2:]) == (1, 1)
        and tuple(a.get("strides") or (1, 1)) == (1, 1)
        and not any(a.get("pads") or ())
        and int(a.get("group", 1)) == 1
    )


def _is_pointwise_buffered(node: Node, graph: Graph) -> bool:
    """Pointwise with at most PW_MAX_C input channels (the variants' stack buffer)."""
    return _is_pointwise(node, graph) and graph.tensors[node.inputs[1]].shape[1] <= PW_MAX_C


def acc_bound(w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Per output channel, max |acc| = |bias + sum (x - zx) w| <= |bias| + 255 * sum|w| over every input.
    ``w``: weights with the output channel first; ``bias``: the unfolded int32 bias."""
    w = np.abs(np.asarray(w, np.int64))
    return np.abs(np.asarray(bias, np.int64)).reshape(-1) + 255 * w.reshape(w.shape[0], -1).sum(axis=1)


def short_requant_exact(w: np.ndarray, bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: int) -> bool:
    """The short output stage (runtime_c/arm_dsp/mnv3c_dsp_requant.h, where the proof is) gives the
    general one's bytes for every input: every multiplier in [2^30, 2^31), every shift -r in [-31, -1],
    and per channel |acc| + |k| + 1 < 2^31 with |acc| = |bias + sum (x - zx) w| <= |bias| + 255 * sum|w|
    and k = 2^(r-1) + zp * 2^r. ``w``: weights with the output channel first; ``bias``: the unfolded
    int32 bias; ``zp``: the zero point the layer requantizes into."""
    shift = np.asarray(shift, np.int64).reshape(-1)
    mult = np.asarray(mult, np.int64).reshape(-1)
    if shift.size == 0 or shift.min() < -31 or shift.max() > -1 or mult.min() < 1 << 30 or mult.max() >= 1 << 31:
        return False
    bound = acc_bound(w, bias)
    r = -shift
    k = np.abs((1 << (r - 1)) + int(zp) * (1 << r))
    return bool((bound + k + 1).max() < 1 << 31)


def small_requant_exact(w: np.ndarray, bias: np.ndarray, shift: np.ndarray) -> bool:
    """The one-MULH output stage (mnv3c_mbqm_small, runtime_c/mnv3c_requant.h, where the proof is; the
    riscv variants' _short twins) gives the general one's bytes for every input: every shift in
    [-21, -1] and |acc| < 2^29 (acc_bound)."""
    shift = np.asarray(shift, np.int64).reshape(-1)
    if shift.size == 0 or shift.min() < -21 or shift.max() > -1:
        return False
    return bool(acc_bound(w, bias).max() < 1 << 29)


def _short(node: Node, graph: Graph) -> bool:
    a = node.attrs
    return short_requant_exact(graph.tensors[node.inputs[1]].data, graph.tensors[node.inputs[2]].data,
                               a.get("multiplier", ()), a.get("shift", ()), requant_zero_point(a))


def _small(node: Node, graph: Graph) -> bool:
    """The riscv variants' _short twins: the one-MULH output stage is exact for the layer."""
    return small_requant_exact(graph.tensors[node.inputs[1]].data, graph.tensors[node.inputs[2]].data,
                               node.attrs.get("shift", ()))


def _se_small(node: Node, graph: Graph) -> bool:
    """squeeze_excite_s8_riscv_short: the one-MULH output stage is exact for both dense layers."""
    t, a = graph.tensors, node.attrs
    return all(small_requant_exact(t[node.inputs[w]].data, t[node.inputs[w + 1]].data, a.get(f"{fc}_shift", ()))
               for w, fc in ((1, "fc1"), (3, "fc2")))


def se_scale_exact(mult: int, shift: int) -> bool:
    """The squeeze-excite channel scale of the Arm variants (arm_dsp/squeeze_excite_s8_arm_dsp.c, where
    the proof is, and arm_mve/) gives the portable bytes: multiplier in [2^30, 2^31), shift in [-22, -1]."""
    return 1 << 30 <= int(mult) < 1 << 31 and -22 <= int(shift) <= -1


def _se_scale(node: Node, graph: Graph) -> bool:
    return se_scale_exact(node.attrs["mul_multiplier"], node.attrs["mul_shift"])


def add_arm_exact(a_shift: int, b_shift: int, shift: int, mult: int) -> bool:
    """add_s8_arm_dsp/_arm_mve (their headers have the proofs) give the portable bytes: input shifts in
    [-21, 0], output shift in [-21, -1], output multiplier in [2^30, 2^31)."""
    return all(-21 <= int(s) <= 0 for s in (a_shift, b_shift)) and -21 <= int(shift) <= -1 and \
        1 << 30 <= int(mult) < 1 << 31


def _add_arm(node: Node, graph: Graph) -> bool:
    a = node.attrs
    return _same_shapes(node, graph) and int(a.get("left_shift", 20)) == 20 and add_arm_exact(
        a["a_shift"], a["b_shift"], a["shift"], a["multiplier"])


def _se_dsp_fits(node: Node, graph: Graph) -> bool:
    """squeeze_excite_s8_arm_dsp: the scale is exact and both dense layers fit dense_s8_arm_dsp."""
    reduced, channels = graph.tensors[node.inputs[1]].shape
    return _se_scale(node, graph) and max(int(reduced), int(channels)) <= PW_MAX_C


def _se_xt_fits(node: Node, graph: Graph) -> bool:
    """squeeze_excite_s8_xtensa: both dense layers within dense_s8_xtensa's PW_MAX_C inputs."""
    reduced, channels = graph.tensors[node.inputs[1]].shape
    return max(int(reduced), int(channels)) <= PW_MAX_C


def _conv_dsp_fits(node: Node, graph: Graph) -> bool:
    """conv2d_s8_arm_dsp: group 1, dilation 1, kernel_h * kernel_w * in_c rounded up to 4 <= PW_MAX_C."""
    o, c, kh, kw = graph.tensors[node.inputs[1]].shape
    a = node.attrs
    return (int(a.get("group", 1)) == 1 and tuple(a.get("dilations") or (1, 1)) == (1, 1)
            and -(-(kh * kw * c) // 4) * 4 <= PW_MAX_C)


def _conv_dsp16_fits(node: Node, graph: Graph) -> bool:
    """conv2d_s8_arm_dsp16: as conv2d_s8_arm_dsp, and at most CONV_DSP16_MAX_WEIGHTS padded weights."""
    o, c, kh, kw = graph.tensors[node.inputs[1]].shape
    return _conv_dsp_fits(node, graph) and -(-o // 4) * 4 * (-(-(kh * kw * c) // 4) * 4) <= CONV_DSP16_MAX_WEIGHTS


def _conv_rgb_fits(node: Node, graph: Graph) -> bool:
    """conv2d_s8_arm_dsp_rgb: as conv2d_s8_arm_dsp16, with in_c 3 and a 3x3 kernel (the RGB stem)."""
    o, c, kh, kw = graph.tensors[node.inputs[1]].shape
    return (int(c), int(kh), int(kw)) == (3, 3, 3) and _conv_dsp16_fits(node, graph)


def _conv_mve_fits(node: Node, graph: Graph) -> bool:
    """conv2d_s8_arm_mve: group 1, dilation 1, kernel_h * kernel_w * in_c <= CONV_MVE_MAX_K."""
    o, c, kh, kw = graph.tensors[node.inputs[1]].shape
    a = node.attrs
    return (int(a.get("group", 1)) == 1 and tuple(a.get("dilations") or (1, 1)) == (1, 1)
            and kh * kw * c <= CONV_MVE_MAX_K)


def _conv_rv_fits(node: Node, graph: Graph) -> bool:
    """conv2d_s8_riscv: group 1, kernel_h * kernel_w * in_c <= PW_MAX_C (its gathered pixels on the stack)."""
    o, c, kh, kw = graph.tensors[node.inputs[1]].shape
    return int(node.attrs.get("group", 1)) == 1 and kh * kw * c <= PW_MAX_C


def _depthwise_fits(node: Node, graph: Graph) -> bool:
    """The depthwise variants: ch_mult 1, in_c <= DW_MAX_C, at most DW_MAX_TAPS taps (stack tables)."""
    c = graph.tensors[node.inputs[0]].shape[1]
    o, _, kh, kw = graph.tensors[node.inputs[1]].shape
    return o == c and c <= DW_MAX_C and kh * kw <= DW_MAX_TAPS


def _depthwise_rv_fits(node: Node, graph: Graph) -> bool:
    """depthwise_conv2d_s8_riscv: the depthwise variants' limits and in_c a multiple of 4 (its channel blocks)."""
    return _depthwise_fits(node, graph) and graph.tensors[node.inputs[0]].shape[1] % 4 == 0


def _dense_fits(node: Node, graph: Graph) -> bool:
    """dense_s8_arm_dsp: one row (a sequence runs as a 1x1 convolution), in_features <= PW_MAX_C (its
    widened input on the stack)."""
    return not _is_sequence(node, graph) and graph.tensors[node.inputs[1]].shape[1] <= PW_MAX_C


def _is_sequence(node: Node, graph: Graph) -> bool:
    """A dense over the last axis of [N, T, K]: conv1x1_s8 over T pixels reads exactly those bytes."""
    return len(graph.tensors[node.inputs[0]].shape) == 3


def _has_table(node: Node, graph: Graph) -> bool:
    """A mul by a scalar constant is a 256-entry table (quant/quantize.py)."""
    return node.attrs.get("lut") is not None and len(node.inputs) == 1


def _is_box(node: Node, graph: Graph) -> bool:
    """transpose_s8: the element map is a strided box of at most four dims (plan/strides.py)."""
    return gather_box(node, graph) is not None


def _both(a: Callable[[Node, Graph], bool], b: Callable[[Node, Graph], bool]) -> Callable[[Node, Graph], bool]:
    return lambda node, graph: a(node, graph) and b(node, graph)


def _same_shapes(node: Node, graph: Graph) -> bool:
    """add_s8 has no broadcasting."""
    shapes = {graph.tensors[t].shape for t in (*node.inputs, node.outputs[0])}
    return len(shapes) == 1


def _is_nearest(node: Node, graph: Graph) -> bool:
    return node.attrs.get("mode") == "nearest"


def _is_linear(node: Node, graph: Graph) -> bool:
    return node.attrs.get("mode") == "linear"


def _not_on_batch(node: Node, graph: Graph) -> bool:
    """concat/slice kernels work on one sample: the batch axis stays whole."""
    axes = node.attrs.get("axes", (node.attrs.get("axis"),))
    return 0 not in axes and len(graph.tensors[node.inputs[0]].shape) <= 4


def _unit_steps(node: Node, graph: Graph) -> bool:
    return _not_on_batch(node, graph) and all(int(s) == 1 for s in node.attrs.get("steps", ()))


PORTABLE_RULES: dict[str, list[Rule]] = {
    "conv2d": [(_is_pointwise, "conv1x1_s8"), (_always, "conv2d_s8")],
    "depthwise_conv2d": [(_always, "depthwise_conv2d_s8")],
    "dense": [(_is_sequence, "conv1x1_s8"), (_always, "dense_s8")],
    "add": [(_same_shapes, "add_s8")],
    "mul": [(_has_table, "lut_s8"), (_always, "mul_s8")],
    "squeeze_excite": [(_always, "squeeze_excite_s8")],
    "global_avg_pool": [(_always, "global_avg_pool_s8")],
    "avg_pool": [(_always, "avg_pool_s8")],
    "max_pool": [(_always, "max_pool_s8")],
    "conv_transpose": [(_always, "conv_transpose_s8")],
    "resize": [(_is_nearest, "resize_nearest_s8"), (_is_linear, "resize_bilinear_s8")],
    "concat": [(_not_on_batch, "concat_s8")],
    "slice": [(_unit_steps, "slice_s8")],
    **{op: [(_always, "lut_s8")] for op in LUT_OPS},
    "softmax": [(_always, "softmax_s8")],
    "transpose": [(_is_box, "transpose_s8")],
    "reshape": [(_is_box, "transpose_s8")],
    "matmul": [(_always, "batch_matmul_s8")],
    "layer_norm": [(_always, "layer_norm_s8")],
}

_NO_KERNEL_HINTS = {
    "reshape": "whose element order in the C layout (NHWC) is not a strided box of at most 4 dims",
    "transpose": "whose element order in the C layout (NHWC) is not a strided box of at most 4 dims",
    "add": "with broadcasting (add_s8 needs equal shapes)",
    "slice": "with a step other than 1 or on the batch axis",
    "concat": "on the batch axis",
}

# Per-target rules tried before the portable ones: the variants in runtime_c/<variant>/. Each
# variant's _short twin comes first, for the layers where its short output stage is proven exact.
_ARM_DSP_RULES: dict[str, list[Rule]] = {
    "conv2d": [
        (_both(_is_pointwise_buffered, _short), "conv1x1_s8_arm_dsp_short"),
        (_is_pointwise_buffered, "conv1x1_s8_arm_dsp"),
        (_both(_conv_rgb_fits, _short), "conv2d_s8_arm_dsp_rgb_short"),
        (_both(_conv_dsp16_fits, _short), "conv2d_s8_arm_dsp16_short"),
        (_conv_dsp16_fits, "conv2d_s8_arm_dsp16"),
        (_both(_conv_dsp_fits, _short), "conv2d_s8_arm_dsp_short"),
        (_conv_dsp_fits, "conv2d_s8_arm_dsp"),
    ],
    "depthwise_conv2d": [
        (_both(_depthwise_fits, _short), "depthwise_conv2d_s8_arm_dsp_short"),
        (_depthwise_fits, "depthwise_conv2d_s8_arm_dsp"),
    ],
    "dense": [(_both(_dense_fits, _short), "dense_s8_arm_dsp_short"), (_dense_fits, "dense_s8_arm_dsp")],
    "squeeze_excite": [(_se_dsp_fits, "squeeze_excite_s8_arm_dsp")],
    "add": [(_add_arm, "add_s8_arm_dsp")],
}
_ARM_MVE_RULES: dict[str, list[Rule]] = {  # the M55 has the DSP instructions too: arm_dsp where no MVE kernel
    "conv2d": [
        (_both(_is_pointwise, _short), "conv1x1_s8_arm_mve_short"),
        (_is_pointwise, "conv1x1_s8_arm_mve"),
        (_both(_conv_mve_fits, _short), "conv2d_s8_arm_mve_short"),
        (_conv_mve_fits, "conv2d_s8_arm_mve"),
    ],
    "depthwise_conv2d": [
        (_both(_depthwise_fits, _short), "depthwise_conv2d_s8_arm_mve_short"),
        (_depthwise_fits, "depthwise_conv2d_s8_arm_mve"),
    ],
    "dense": [(_short, "dense_s8_arm_mve_short"), (_always, "dense_s8_arm_mve")],
    "squeeze_excite": [(_se_scale, "squeeze_excite_s8_arm_mve")],
    "add": [(_add_arm, "add_s8_arm_mve")],
}
_RISCV_RULES: dict[str, list[Rule]] = {
    "conv2d": [
        (_both(_is_pointwise_buffered, _small), "conv1x1_s8_riscv_short"),
        (_is_pointwise_buffered, "conv1x1_s8_riscv"),
        (_both(_conv_rv_fits, _small), "conv2d_s8_riscv_short"),
        (_conv_rv_fits, "conv2d_s8_riscv"),
    ],
    "depthwise_conv2d": [
        (_both(_depthwise_rv_fits, _small), "depthwise_conv2d_s8_riscv_short"),
        (_depthwise_rv_fits, "depthwise_conv2d_s8_riscv"),
    ],
    "dense": [(_small, "dense_s8_riscv_short"), (_always, "dense_s8_riscv")],
    "squeeze_excite": [(_se_small, "squeeze_excite_s8_riscv_short"), (_always, "squeeze_excite_s8_riscv")],
}
# The LX106: its own pointwise, stem and dense kernels (runtime_c/xtensa/), the RV32IMC variants
# elsewhere (their plain 32-bit products fit it too).
_XTENSA_RULES: dict[str, list[Rule]] = {
    **_RISCV_RULES,
    "conv2d": [
        (_both(_is_pointwise_buffered, _small), "conv1x1_s8_xtensa_short"),
        (_is_pointwise_buffered, "conv1x1_s8_xtensa"),
        (_both(_conv_rv_fits, _small), "conv2d_s8_xtensa_short"),
        (_conv_rv_fits, "conv2d_s8_xtensa"),
    ],
    "depthwise_conv2d": [
        (_both(_depthwise_rv_fits, _small), "depthwise_conv2d_s8_xtensa_short"),
        (_depthwise_rv_fits, "depthwise_conv2d_s8_xtensa"),
    ],
    "dense": [(_both(_dense_fits, _small), "dense_s8_xtensa_short"), (_dense_fits, "dense_s8_xtensa"),
              *_RISCV_RULES["dense"]],
    "squeeze_excite": [(_both(_se_xt_fits, _se_small), "squeeze_excite_s8_xtensa_short"),
                       (_se_xt_fits, "squeeze_excite_s8_xtensa"), *_RISCV_RULES["squeeze_excite"]],
}
# ESP32 (LX6, MAC16): the LX106's kernels, with the convolutions on MAC16 (int16 weights, about
# twice their flash: a convolution's MACs per weight are its output pixel count, so it pays; the
# dense layers, one MAC per weight, keep int8).
_ESP32_RULES: dict[str, list[Rule]] = {
    **_XTENSA_RULES,
    "conv2d": [
        (_both(_is_pointwise_buffered, _small), "conv1x1_s8_xtensa_mac16_short"),
        (_is_pointwise_buffered, "conv1x1_s8_xtensa_mac16"),
        (_both(_conv_rv_fits, _small), "conv2d_s8_xtensa_mac16_short"),
        (_conv_rv_fits, "conv2d_s8_xtensa_mac16"),
    ],
}
TARGET_RULES: dict[str, dict[str, list[Rule]]] = {
    "cortex-m4": _ARM_DSP_RULES,
    "cortex-m7": _ARM_DSP_RULES,
    "cortex-m33": _ARM_DSP_RULES,
    "cortex-m55": _ARM_MVE_RULES,
    "riscv32": _RISCV_RULES,
    "esp8266": _XTENSA_RULES,
    "esp32": _ESP32_RULES,
}


def _int16_output(node: Node, graph: Graph) -> bool:
    return graph.tensors[node.outputs[0]].dtype == "int16"


# 16x8 layers of a mixed-precision graph (portable C only) and its boundary converters.
INT16_RULES: dict[str, list[Rule]] = {
    "conv2d": [(_always, "conv2d_s16")],
    "depthwise_conv2d": [(_always, "depthwise_conv2d_s16")],
    "dense": [(_is_sequence, "conv2d_s16"), (_always, "dense_s16")],
    "add": [(_same_shapes, "add_s16")],
    "mul": [(_has_table, "lut_s16"), (_always, "mul_s16")],
    "squeeze_excite": [(_always, "squeeze_excite_s16")],
    "global_avg_pool": [(_always, "global_avg_pool_s16")],
    "avg_pool": [(_always, "avg_pool_s16")],
    "max_pool": [(_always, "max_pool_s16")],
    "layer_norm": [(_always, "layer_norm_s16")],
    **{op: [(_always, "lut_s16")] for op in LUT_OPS},
    "concat": [(_not_on_batch, "concat_s16")],
    "slice": [(_unit_steps, "slice_s16")],
    "transpose": [(_is_box, "transpose_s16")],
    "reshape": [(_is_box, "transpose_s16")],
    "matmul": [(_always, "batch_matmul_s16")],
    "softmax": [(_always, "softmax_s16")],
}
CONVERTER_RULES: list[Rule] = [(_int16_output, "requantize_s8_s16"), (_always, "requantize_s16_s8")]


def choose_kernel(node: Node, graph: Graph, target: str = "host") -> Kernel:
    if node.op == "requantize":
        rules = CONVERTER_RULES
    elif _int16_output(node, graph):
        rules = INT16_RULES.get(node.op, [])
    else:
        rules = TARGET_RULES.get(target, {}).get(node.op, []) + PORTABLE_RULES.get(node.op, [])
    for applies, name in rules:
        if applies(node, graph):
            return KERNELS[name]
    hint = _NO_KERNEL_HINTS.get(node.op, "with these shapes and attributes")
    raise UnsupportedModelError(f"node {shown(node.name)}: no C kernel for op {shown(node.op)} {hint}")


def choose_kernels(graph: Graph, sched: Schedule, target: str = "host") -> list[Kernel]:
    """The kernel of every step, indexed like ``sched.steps``."""
    return [choose_kernel(graph.node(s.node), graph, target) for s in sched.steps]
