"""Target kernel variants (runtime_c/<variant>/, chosen by plan/kernels.py's TARGET_RULES) give the
same bytes as the portable kernels.

Per kernel: random cases from test_kernels_c.py's builders (odd sizes, channel counts that are not
a multiple of the variants' blocks, every stride and padding the variant covers), weights re-laid
out as the code generator does, run under QEMU on every target whose rules choose the variant,
compared with mnv3c.quant.intops (which the portable kernels match byte for byte) and checked for
writes past the output. Whole models: the zoo's networks under QEMU on those targets, bit-exact
with the integer simulator, and every layer the rules claim for a variant really runs it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_codegen_models import ZOO, quantized
from test_kernels_c import (BUILDERS, STRUCTS, Case, _activation, _bias, _c_array, _c_init, _geometry, _out, _requant,
                            _weights, _zp, nhwc, squeeze_excite_case)

import mnv3c
from mnv3c.boards.qemu import run_elf
from mnv3c.boards.toolchain import build
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.codegen.layouts import LAYOUTS, OUT_STAGES, dsp_out_table, mve_out_table
from mnv3c.compiler import build_project, resolve_board, run_project, write_project
from mnv3c.plan.kernels import KERNELS, TARGET_RULES, Kernel, add_arm_exact, se_scale_exact, short_requant_exact, small_requant_exact
from mnv3c.quant import intops as q
from mnv3c.quant.simulate import simulate

pytestmark = pytest.mark.qemu

RUNTIME = Path(mnv3c.__file__).parent / "runtime_c"
CASES_PER_KERNEL = 25
GUARD = 16  # bytes after each output that a kernel must not touch


def _variant_targets() -> dict[str, list[str]]:
    """Variant kernel name -> the targets whose rules can choose it."""
    out: dict[str, list[str]] = {}
    for target, rules in TARGET_RULES.items():
        for op_rules in rules.values():
            for _, name in op_rules:
                out.setdefault(name, [])
                if target not in out[name]:
                    out[name].append(target)
    return out


VARIANTS = _variant_targets()


def _per_out_and_bias(c: Case) -> tuple[np.ndarray, np.ndarray]:
    """The case's weights per output channel and its unfolded bias."""
    w = np.asarray(c.params["weights"], np.int64)
    per_out = w.reshape(-1, w.shape[-1]).T if c.struct == "depthwise_conv2d" else w.reshape(w.shape[0], -1)
    return per_out, np.asarray(c.params["bias_folded"], np.int64) + c.params["input_zp"] * per_out.sum(1)


def _short(c: Case) -> bool:
    """The short-output-stage rule (the Arm variants) on the case."""
    per_out, bias = _per_out_and_bias(c)
    return short_requant_exact(per_out, bias, np.asarray(c.params["out_mult"]), np.asarray(c.params["out_shift"]),
                               c.params["output_zp"])


def _small(c: Case) -> bool:
    """The riscv variants' one-MULH rule (plan/kernels.py small_requant_exact) on the case."""
    per_out, bias = _per_out_and_bias(c)
    return small_requant_exact(per_out, bias, np.asarray(c.params["out_shift"]))


def _se_small(c: Case) -> bool:
    """Both dense layers of a squeeze-excite case meet the one-MULH rule."""
    return all(_small(replace(c, struct="dense", params=c.params[fc])) for fc in ("fc1", "fc2"))


def _se_scale(c: Case) -> bool:
    """The Arm squeeze-excite variants' rule (plan/kernels.py se_scale_exact) on the case."""
    return se_scale_exact(c.params["mul_mult"], c.params["mul_shift"])


def _se_tall(pick, rng: np.random.Generator) -> Case:
    """A squeeze-excite case, sometimes over more than 256 pixels (the arm_dsp pool's int16 chunks)."""
    return squeeze_excite_case(pick, rng, (1, 3, 5, 17), (1, 2, 4, 19))


def _add_arm(c: Case) -> bool:
    p = c.params
    return add_arm_exact(p["a_shift"], p["b_shift"], p["out_shift"], p["out_mult"])


def _conv_fits(c: Case) -> bool:
    p = c.params
    return (p["dilation_h"], p["dilation_w"]) == (1, 1) and -(-p["kernel_h"] * p["kernel_w"] * p["in_c"] // 4) * 4 <= 1024


def _dsp16_fits(c: Case) -> bool:
    p = c.params
    return -(-p["out_c"] // 4) * 4 * (-(-p["kernel_h"] * p["kernel_w"] * p["in_c"] // 4) * 4) <= 4096


def _conv_mve_fits(c: Case) -> bool:
    p = c.params
    return (p["dilation_h"], p["dilation_w"]) == (1, 1) and p["kernel_h"] * p["kernel_w"] * p["in_c"] <= 1024


def _rgb_case(pick, rng: np.random.Generator) -> Case:
    """A 3x3 convolution of three input channels (conv2d_s8_arm_dsp_rgb's shape): strides 1 and 2, odd
    and even sizes, symmetric, one-sided and no padding, out_c a multiple of 4 or not (its sums path),
    every activation (plain, clamp, table)."""
    stride, pads = pick((1, 2)), pick([(0, 0, 0, 0), (1, 1, 1, 1), (0, 0, 1, 1), (1, 0, 0, 1), (2, 1, 0, 2)])
    h, w, o = pick(range(3, 10)), pick(range(3, 12)), pick((4, 5, 8, 16, 7))
    g = dict(kernel=(3, 3), strides=(stride, stride), dilations=(1, 1), pads=pads, h=h, w=w,
             oh=_out(h, 3, stride, pads[0], pads[2], 1), ow=_out(w, 3, stride, pads[1], pads[3], 1))
    x = rng.integers(-128, 128, (1, 3, h, w)).astype(np.int8)
    wt = _weights(pick, rng, (o, 3, 3, 3))
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
    bias = _bias(pick, rng, abs_sums)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    mult, shift = _requant(pick, rng, o, int((abs_sums * 255 + np.abs(bias)).max()))
    lo, hi, lut = _activation(pick, rng, zy)
    y = q.conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], g["pads"], g["dilations"], lo, hi, lut)
    params = dict(_geometry(g), in_c=3, out_c=o, input_zp=zx, output_zp=zy, act_min=lo, act_max=hi,
                  weights=wt.transpose(0, 2, 3, 1), bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                  out_mult=mult, out_shift=shift, lut=lut)
    return Case("conv2d_s8", "conv2d", params, [nhwc(x)], nhwc(y))


def _dw_fits(c: Case) -> bool:
    return c.params["ch_mult"] == 1


# variant -> (portable builder, does the case meet the variant's rule in plan/kernels.py?)
APPLIES = {
    "conv1x1_s8_arm_dsp": ("conv1x1_s8", lambda c: True),
    "conv1x1_s8_arm_dsp_short": ("conv1x1_s8", _short),
    "conv2d_s8_arm_dsp": ("conv2d_s8", _conv_fits),
    "conv2d_s8_arm_dsp_short": ("conv2d_s8", lambda c: _conv_fits(c) and _short(c)),
    "conv2d_s8_arm_dsp16": ("conv2d_s8", lambda c: _conv_fits(c) and _dsp16_fits(c)),
    "conv2d_s8_arm_dsp16_short": ("conv2d_s8", lambda c: _conv_fits(c) and _dsp16_fits(c) and _short(c)),
    "conv2d_s8_arm_dsp_rgb_short": (_rgb_case, _short),
    "depthwise_conv2d_s8_arm_dsp": ("depthwise_conv2d_s8", _dw_fits),
    "depthwise_conv2d_s8_arm_dsp_short": ("depthwise_conv2d_s8", lambda c: _dw_fits(c) and _short(c)),
    "dense_s8_arm_dsp": ("dense_s8", lambda c: c.params["in_features"] <= 1024),
    "dense_s8_arm_dsp_short": ("dense_s8", _short),
    "conv2d_s8_arm_mve": ("conv2d_s8", _conv_mve_fits),
    "conv2d_s8_arm_mve_short": ("conv2d_s8", lambda c: _conv_mve_fits(c) and _short(c)),
    "dense_s8_arm_mve": ("dense_s8", lambda c: True),
    "dense_s8_arm_mve_short": ("dense_s8", _short),
    "conv1x1_s8_arm_mve": ("conv1x1_s8", lambda c: True),
    "conv1x1_s8_arm_mve_short": ("conv1x1_s8", _short),
    "depthwise_conv2d_s8_arm_mve": ("depthwise_conv2d_s8", _dw_fits),
    "depthwise_conv2d_s8_arm_mve_short": ("depthwise_conv2d_s8", lambda c: _dw_fits(c) and _short(c)),
    "conv1x1_s8_riscv": ("conv1x1_s8", lambda c: True),
    "conv1x1_s8_riscv_short": ("conv1x1_s8", _small),
    "conv2d_s8_riscv": ("conv2d_s8", lambda c: c.params["kernel_h"] * c.params["kernel_w"] * c.params["in_c"] <= 1024),
    "conv2d_s8_riscv_short": ("conv2d_s8", _small),
    "depthwise_conv2d_s8_riscv": ("depthwise_conv2d_s8", lambda c: _dw_fits(c) and c.params["in_c"] % 4 == 0),
    "dense_s8_riscv": ("dense_s8", lambda c: True),
    "dense_s8_riscv_short": ("dense_s8", _small),
    "squeeze_excite_s8_riscv": ("squeeze_excite_s8", lambda c: True),
    "squeeze_excite_s8_arm_dsp": (_se_tall, lambda c: _se_scale(c) and c.params["channels"] <= 1024),
    "squeeze_excite_s8_arm_mve": (_se_tall, _se_scale),
    "add_s8_arm_dsp": ("add_s8", _add_arm),
    "add_s8_arm_mve": ("add_s8", _add_arm),
    "squeeze_excite_s8_riscv_short": ("squeeze_excite_s8", _se_small),
    "depthwise_conv2d_s8_riscv_short": ("depthwise_conv2d_s8",
                                        lambda c: _dw_fits(c) and c.params["in_c"] % 4 == 0 and _small(c)),
    "conv1x1_s8_xtensa": ("conv1x1_s8", lambda c: True),
    "conv1x1_s8_xtensa_short": ("conv1x1_s8", _small),
    "conv2d_s8_xtensa": ("conv2d_s8", lambda c: c.params["kernel_h"] * c.params["kernel_w"] * c.params["in_c"] <= 1024),
    "conv2d_s8_xtensa_short": ("conv2d_s8", _small),
    "depthwise_conv2d_s8_xtensa": ("depthwise_conv2d_s8", lambda c: _dw_fits(c) and c.params["in_c"] % 4 == 0),
    "depthwise_conv2d_s8_xtensa_short": ("depthwise_conv2d_s8",
                                         lambda c: _dw_fits(c) and c.params["in_c"] % 4 == 0 and _small(c)),
    "squeeze_excite_s8_xtensa": ("squeeze_excite_s8", lambda c: True),
    "squeeze_excite_s8_xtensa_short": ("squeeze_excite_s8", _se_small),
    "conv1x1_s8_xtensa_mac16": ("conv1x1_s8", lambda c: True),
    "conv1x1_s8_xtensa_mac16_short": ("conv1x1_s8", _small),
    "conv2d_s8_xtensa_mac16": ("conv2d_s8", lambda c: c.params["kernel_h"] * c.params["kernel_w"] * c.params["in_c"] <= 1024),
    "conv2d_s8_xtensa_mac16_short": ("conv2d_s8", _small),
    "dense_s8_xtensa": ("dense_s8", lambda c: c.params["in_features"] <= 1024),
    "dense_s8_xtensa_short": ("dense_s8", lambda c: c.params["in_features"] <= 1024 and _small(c)),
}


def test_every_variant_has_a_case_builder() -> None:
    assert set(VARIANTS) == set(APPLIES)


def variant_cases(name: str, n: int) -> list[Case]:
    builder, applies = APPLIES[name]
    cases: list[Case] = []
    seed = 0
    while len(cases) < n:
        rng = np.random.default_rng([seed, len(name)])
        build = BUILDERS[builder] if isinstance(builder, str) else builder
        case = build(lambda options: list(options)[rng.integers(len(options))], rng)
        seed += 1
        if applies(case):
            cases.append(replace(case, kernel=name))
    return cases


def _driver(cases: list[tuple[Kernel, Case]]) -> str:
    """A freestanding C program: every case into a guarded buffer, then `N passed, M failed`."""
    largest = max(c.expected.size for _, c in cases)
    headers = sorted({Path(h).name for k, _ in cases for h in k.headers})
    src = ["#include <stdint.h>", '#include "mnv3c_io.h"', '#include "mnv3c_kernels.h"',
           *[f'#include "{h}"' for h in headers],
           f"static int8_t out[{largest + GUARD}];", "static uint8_t scratch[16384] __attribute__((aligned(8)));"]
    for i, (kernel, case) in enumerate(cases):
        params = dict(case.params)
        if kernel.layout and case.struct == "squeeze_excite":  # both dense layers are re-laid out
            for fc in ("fc1", "fc2"):
                params[fc] = {**params[fc], "weights": LAYOUTS[kernel.layout](np.asarray(params[fc]["weights"]))}
        elif kernel.layout:
            params["weights"] = LAYOUTS[kernel.layout](np.asarray(params["weights"]))
        if kernel.out_stage:
            params["out_mult"] = OUT_STAGES[kernel.out_stage](params["bias_folded"], params["out_mult"],
                                                              params["out_shift"], params["output_zp"])
        decls: list[str] = []
        init = _c_init(f"c{i}", case.struct, params, decls)
        src += decls
        src.append(f"static const mnv3c_{case.struct}_params c{i}_p = {init};")
        src += [_c_array(f"c{i}_in{j}", "int8_t", a) for j, a in enumerate(case.inputs)]
        src.append(_c_array(f"c{i}_exp", "int8_t", case.expected))
        ins = ", ".join(f"c{i}_in{j}" for j in range(len(case.inputs)))
        src += [f"static int case{i}(void)", "{", "    uint32_t k;",
                f"    if ({kernel.function}_scratch_bytes(&c{i}_p) > sizeof scratch) return 1;",
                "    for (k = 0; k < sizeof out; ++k) out[k] = 0x5a;",
                f"    {kernel.function}(&c{i}_p, {ins}, out, scratch);",
                f"    for (k = 0; k < sizeof c{i}_exp; ++k) if (out[k] != c{i}_exp[k]) return 1;",
                f"    for (; k < sizeof c{i}_exp + {GUARD}; ++k) if (out[k] != 0x5a) return 1; /* no stray write */",
                "    return 0;", "}"]
    src += ["int main(void)", "{", "    uint32_t failed = 0;",
            *[f'    if (case{i}()) {{ io_write("case {i} ({k.name}) differs\\n"); ++failed; }}'
              for i, (k, _) in enumerate(cases)],
            f"    io_write_u32({len(cases)}u - failed);", '    io_write(" passed, ");', "    io_write_u32(failed);",
            '    io_write(" failed\\n");', "    return 0;", "}", ""]
    return "\n".join(src)


def _run_cases(cases: list[tuple[Kernel, Case]], target: str, tmp_path: Path) -> None:
    """The cases in one image under QEMU on `target`: all pass."""
    kernels = {k.name: k for k, _ in cases}.values()
    driver = tmp_path / "driver.c"
    driver.write_text(_driver(cases))
    files = sorted({f for k in kernels for f in (*k.sources, *k.headers)})
    dirs = tuple(sorted({RUNTIME, *(RUNTIME / Path(f).parent for f in files)}))
    sources = [driver, *sorted({RUNTIME / s for k in kernels for s in k.sources})]
    board = resolve_board(target, None, run=True)
    elf = build(board, sources, tmp_path / "driver.elf", include_dirs=dirs).elf
    lines = run_elf(board, elf, timeout_s=120).stdout_lines
    assert f"{len(cases)} passed, 0 failed" in lines, "\n".join(lines[-8:])


@pytest.mark.parametrize("target", sorted({t for ts in VARIANTS.values() for t in ts}))
def test_variants_match_portable_under_qemu(target: str, tmp_path: Path) -> None:
    """Every variant the target's rules name, CASES_PER_KERNEL random cases each, in one image."""
    kernels = [KERNELS[n] for n, ts in sorted(VARIANTS.items()) if target in ts]
    cases = [(k, c) for k in kernels for c in variant_cases(k.name, CASES_PER_KERNEL)]
    assert {k.name for k, _ in cases} == {k.name for k in kernels}, "a variant without cases"
    _run_cases(cases, target, tmp_path)  # esp32: its emulated board


# --- the arm_dsp depthwise kernel's pixel pairs: widths 1, 2 and odd, lone last pixels, both strides ---

def _dw_pair_case(kernel: tuple[int, int], stride: int, out_w: int, channels: int, rng: np.random.Generator) -> Case:
    """A same-padded depthwise case with out_w output columns (rows: 1 to 3, so the pixel count is
    often odd and pairs cross rows); quantization drawn as in test_kernels_c.depthwise_case."""
    def pick(options):
        return list(options)[rng.integers(len(options))]

    (kh, kw), out_h = kernel, int(rng.integers(1, 4))
    pads = (kh // 2, kw // 2, (kh - 1) // 2, (kw - 1) // 2)
    h, w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    g = dict(kernel=kernel, strides=(stride, stride), dilations=(1, 1), pads=pads, h=h, w=w,
             oh=_out(h, kh, stride, pads[0], pads[2], 1), ow=_out(w, kw, stride, pads[1], pads[3], 1))
    x = rng.integers(-128, 128, (1, channels, h, w)).astype(np.int8)
    wt = _weights(pick, rng, (channels, 1) + kernel)
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
    bias = _bias(pick, rng, abs_sums)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    mult, shift = _requant(pick, rng, channels, int((abs_sums * 255 + np.abs(bias)).max()))
    lo, hi, lut = _activation(pick, rng, zy)
    y = q.depthwise_conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], g["pads"], g["dilations"], lo, hi, lut)
    params = dict(_geometry(g), in_c=channels, ch_mult=1, input_zp=zx, output_zp=zy, act_min=lo, act_max=hi,
                  weights=wt[:, 0].transpose(1, 2, 0), bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                  out_mult=mult, out_shift=shift, lut=lut)
    return Case("depthwise_conv2d_s8", "depthwise_conv2d", params, [nhwc(x)], nhwc(y))


def _dw_pair_cases() -> list[tuple[Kernel, Case]]:
    """3x3 and 5x5 (the last 9 and all 25 of the written-out taps) at output widths 1, 2, 3, 5 and strides
    1, 2, with 4, 7 (a partial last group) and 36 channels (more groups than one chunk of sums); 1x3 and
    2x2 (fewer written-out taps) and 7x7 (more than written out: one tap per iteration). Each case on the
    general entry point and, where the rule holds, the _short one."""
    rng = np.random.default_rng(2026)
    shapes = [(k, s, w, c) for k in ((3, 3), (5, 5)) for s in (1, 2) for w in (1, 2, 3, 5) for c in (4, 7, 36)]
    shapes += [(k, s, 3, c) for k in ((1, 3), (2, 2)) for s in (1, 2) for c in (7, 36)]
    shapes += [((7, 7), s, w, c) for s in (1, 2) for w, c in ((3, 7), (4, 36))]
    out = []
    for shape in shapes:
        case = _dw_pair_case(*shape, rng)
        out.append((KERNELS["depthwise_conv2d_s8_arm_dsp"], replace(case, kernel="depthwise_conv2d_s8_arm_dsp")))
        if _short(case):
            out.append((KERNELS["depthwise_conv2d_s8_arm_dsp_short"],
                        replace(case, kernel="depthwise_conv2d_s8_arm_dsp_short")))
    return out


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_arm_dsp_depthwise_pairs_under_qemu(target: str, tmp_path: Path) -> None:
    """depthwise_conv2d_s8_arm_dsp's pair paths (rows that pair across, a lone last pixel, both
    strides, every written-out tap loop, chunked sums) give the bytes of mnv3c.quant.intops."""
    cases = _dw_pair_cases()
    assert {c.kernel for _, c in cases} == {"depthwise_conv2d_s8_arm_dsp", "depthwise_conv2d_s8_arm_dsp_short"}
    _run_cases(cases, target, tmp_path)


# --- the arm_dsp depthwise kernel's runs of inside pairs: band calls (any rows, a padded side or not) ---

def _dw_band_case(kernel: tuple[int, int], stride: int, out_hw: tuple[int, int], pads: tuple[int, int, int, int],
                  channels: int, activation: str, seed: int) -> Case:
    """A depthwise case of out_hw outputs under pads (top, left, bottom, right), as a patched schedule's
    band calls see them (padding on some sides only, one output row, an input row or column the
    windows do not reach at stride 2); activation "none" and "lut" run the SHORT and SHORT_LUT stages
    (the runs inside pair_sums), "clamp" the C stage. Quantization as in test_kernels_c.depthwise_case,
    redrawn until the short stage is proven exact (both entry points then run the case)."""
    (kh, kw), (out_h, out_w) = kernel, out_hw
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])

        def pick(options):
            return list(options)[rng.integers(len(options))]

        extra = (stride - 1) * int(rng.integers(2)), (stride - 1) * int(rng.integers(2))
        h, w = (out_h - 1) * stride + kh - pads[0] - pads[2] + extra[0], (out_w - 1) * stride + kw - pads[1] - pads[3] + extra[1]
        g = dict(kernel=kernel, strides=(stride, stride), dilations=(1, 1), pads=pads, h=h, w=w, oh=out_h, ow=out_w)
        x = rng.integers(-128, 128, (1, channels, h, w)).astype(np.int8)
        wt = _weights(pick, rng, (channels, 1) + kernel)
        abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
        bias = _bias(pick, rng, abs_sums)
        zx, zy = _zp(pick, rng), _zp(pick, rng)
        mult, shift = _requant(pick, rng, channels, int((abs_sums * 255 + np.abs(bias)).max()))
        lo, hi, lut = {"none": (-128, 127, None), "lut": (-128, 127, rng.integers(-128, 128, 256).astype(np.int8)),
                       "clamp": (zy, min(127, zy + 40), None)}[activation]
        y = q.depthwise_conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], pads, g["dilations"], lo, hi, lut)
        assert y.shape[2:] == out_hw
        params = dict(_geometry(g), in_c=channels, ch_mult=1, input_zp=zx, output_zp=zy, act_min=lo, act_max=hi,
                      weights=wt[:, 0].transpose(1, 2, 0),
                      bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                      out_mult=mult, out_shift=shift, lut=lut)
        case = Case("depthwise_conv2d_s8", "depthwise_conv2d", params, [nhwc(x)], nhwc(y))
        if _short(case):
            return case
    raise AssertionError("no short-exact case")


def _dw_band_cases() -> list[tuple[Kernel, Case]]:
    """3x3 and 5x5 at strides 1 and 2 under every padding a band call gets (all sides, top and sides,
    sides only, bottom and sides, one side alone, none), output rows of odd and even widths (runs of
    inside pairs, pairs crossing rows inside and into a padded column), 1 to 3 rows, 4, 7, 16 and 36
    channels, on both entry points."""
    sides = [(1, 1, 1, 1), (1, 1, 0, 1), (0, 1, 0, 1), (0, 1, 1, 1), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0),
             (0, 0, 0, 1), (0, 0, 0, 0)]
    sizes = [(1, 12), (1, 7), (2, 9), (3, 6), (1, 24), (2, 5), (3, 13)]
    out = []
    for i, (kernel, stride, side) in enumerate((k, s, p) for k in ((3, 3), (5, 5)) for s in (1, 2) for p in sides):
        pads = tuple(kernel[j % 2] // 2 * on for j, on in enumerate(side))
        case = _dw_band_case(kernel, stride, sizes[i % len(sizes)], pads, (4, 7, 16, 36)[i % 4],
                             ("none", "lut", "clamp")[i % 3], 100 + i)
        out.append((KERNELS["depthwise_conv2d_s8_arm_dsp"], replace(case, kernel="depthwise_conv2d_s8_arm_dsp")))
        out.append((KERNELS["depthwise_conv2d_s8_arm_dsp_short"],
                    replace(case, kernel="depthwise_conv2d_s8_arm_dsp_short")))
    return out


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_arm_dsp_depthwise_bands_under_qemu(target: str, tmp_path: Path) -> None:
    """depthwise_conv2d_s8_arm_dsp's runs of inside pairs and its padded-pair tables, on band-call
    geometries, give the bytes of mnv3c.quant.intops."""
    cases = _dw_band_cases()
    _run_cases(cases, target, tmp_path)


# --- the arm_dsp 1x1 convolution's channel-pair rows (mnv3c_dsp_quad_row): MobileNet channel counts ---

def _pw_case(in_c: int, out_c: int, pixels: int, act: str, kernel: str, seed: int) -> Case:
    """A conv1x1 case of in_c -> out_c over one row of `pixels` for `kernel` (the _short one: the short
    output stage proven exact, so that it runs), its activation `act`: "none" (no clamp, no table),
    "lut" (a table, no clamp) or "clamp" (a clamp, no table); the other picks random."""
    for attempt in range(1000):
        rng = np.random.default_rng([seed, attempt])
        forced = [in_c, out_c, 1, pixels]  # conv_case's first picks: channels in, out, then h, w

        def pick(options):
            return forced.pop(0) if forced else list(options)[rng.integers(len(options))]

        case = BUILDERS["conv1x1_s8"](pick, rng)
        p = case.params
        got = "clamp" if (p["act_min"], p["act_max"]) != (-128, 127) else "lut" if p["lut"] is not None else "none"
        if got == act and (not kernel.endswith("_short") or _short(case)):
            return replace(case, kernel=kernel)
    raise AssertionError(f"no {act} case of {kernel} for {in_c} -> {out_c}")


def _pw_row_case(in_c: int, out_c: int, pixels: int, lut: bool, seed: int) -> Case:
    """A case of conv1x1_s8_arm_dsp_short's rows: no clamp, with (lut) or without a table."""
    return _pw_case(in_c, out_c, pixels, "lut" if lut else "none", "conv1x1_s8_arm_dsp_short", seed)




# (in_c, out_c, pixels): in_c 5-8 (two groups, the fewest the rows take) to 96, odd and even numbers of
# remaining groups; out_c 2 (one stream of one pair), 3 and 5 (a last odd channel), 6 (a short odd
# stream), 72 and 88 (many blocks); pixel counts with and without a last one to three pixels
PW_ROW_SHAPES = [(16, 72, 13), (24, 88, 8), (40, 6, 4), (5, 2, 9), (6, 5, 4), (48, 3, 7), (96, 9, 6), (21, 30, 5),
                 (12, 4, 4), (8, 16, 11)]


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_arm_dsp_pointwise_rows_under_qemu(target: str, tmp_path: Path) -> None:
    """conv1x1_s8_arm_dsp_short's rows of channel pairs (both streams, both stages, the leftovers
    through the clamp body) give the bytes of mnv3c.quant.intops on MobileNet-like channel counts."""
    kernel = KERNELS["conv1x1_s8_arm_dsp_short"]
    _run_cases([(kernel, _pw_row_case(*shape, lut, 10 * i + lut))
                for i, shape in enumerate(PW_ROW_SHAPES) for lut in (False, True)], target, tmp_path)


# (in_c, out_c, pixels), every pixel count odd: a lone last pixel after groups of four and none (1),
# 1 or 3 (a pair first) left over; in_c 4 (one group) to 96, odd numbers of groups; out_c with a last
# partial block of channels (30, 3, 6, 21), an odd number of blocks (12, 20, 44: dense's last block twice)
PW_LONE_SHAPES = [(21, 30, 5), (96, 12, 9), (48, 3, 7), (9, 20, 1), (4, 6, 3), (40, 44, 11), (13, 21, 13)]
# (entry point, activation): the general stage, and the three modes of the short one
PW_LONE_MODES = [("conv1x1_s8_arm_dsp", "clamp"), ("conv1x1_s8_arm_dsp_short", "none"),
                 ("conv1x1_s8_arm_dsp_short", "lut"), ("conv1x1_s8_arm_dsp_short", "clamp")]


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_arm_dsp_pointwise_lone_pixel_under_qemu(target: str, tmp_path: Path) -> None:
    """conv1x1_s8_arm_dsp's lone last pixel (odd pixel counts: a dense layer on the conv's weights)
    gives the bytes of mnv3c.quant.intops in every output stage mode of both entry points."""
    _run_cases([(KERNELS[name], _pw_case(*shape, act, name, 100 * i + j))
                for i, shape in enumerate(PW_LONE_SHAPES) for j, (name, act) in enumerate(PW_LONE_MODES)],
               target, tmp_path)


# --- whole models: the rules really pick the variants, and the result stays bit-exact -------------

# target -> op -> the variant family every layer of that op must run on it (no silent fallback to
# the portable kernel: MobileNet layers all meet the variants' preconditions; arm_dsp's dense is
# bounded to 1024 inputs, which MobileNetV2's 1280-wide classifier exceeds, so it is not listed)
COVERAGE = {
    **{t: {"conv2d": "_arm_dsp", "depthwise_conv2d": "_arm_dsp", "squeeze_excite": "_arm_dsp", "add": "_arm_dsp"}
       for t in ("cortex-m4", "cortex-m7", "cortex-m33")},
    "cortex-m55": {"conv2d": "_arm_mve", "depthwise_conv2d": "_arm_mve", "dense": "_arm_mve",
                   "squeeze_excite": "_arm_mve", "add": "_arm_mve"},
    "riscv32": {"conv2d": "_riscv", "depthwise_conv2d": "_riscv", "dense": "_riscv", "squeeze_excite": "_riscv"},
    "esp8266": {"conv2d": "_xtensa", "depthwise_conv2d": "_xtensa", "dense": "_xtensa", "squeeze_excite": "_xtensa"},
    "esp32": {"conv2d": "_xtensa_mac16", "depthwise_conv2d": "_xtensa", "dense": "_xtensa",
              "squeeze_excite": "_xtensa"},
}
POINTWISE_COVERAGE = {"cortex-m55": "_arm_mve", "riscv32": "_riscv", "esp8266": "_xtensa",
                      "esp32": "_xtensa_mac16"}  # every 1x1 conv2d layer


def assert_variants_cover(report: dict, target: str) -> None:
    """Every int8 layer whose op the target's variants cover runs a variant kernel (the int16
    layers of mixed precision run the portable *_s16 kernels: no variant covers them yet)."""
    expected = COVERAGE.get(target, {})
    int8 = [layer for layer in report["layers"] if layer.get("precision", "int8") == "int8"]
    assert int8, "no int8 layer to check"
    wrong = [(layer["name"], layer["kernel"]) for layer in int8
             if layer["op"] in expected and expected[layer["op"]] not in layer["kernel"]]
    if target in POINTWISE_COVERAGE:
        wrong += [(layer["name"], layer["kernel"]) for layer in int8
                  if layer["kernel"].startswith("conv1x1") and POINTWISE_COVERAGE[target] not in layer["kernel"]]
    assert not wrong, f"{target}: layers fell back to portable kernels: {wrong}"


def test_coverage_names_only_targets_with_rules() -> None:
    assert set(COVERAGE) <= set(TARGET_RULES)


@pytest.fixture(scope="module")
def zoo_int8(tmp_path_factory: pytest.TempPathFactory):
    from mnv3c.zoo.export import export

    cache: dict[str, tuple] = {}

    def get(key: str) -> tuple:
        if key not in cache:
            family, variant, resolution, width = ZOO[key]
            path = export(family, variant, tmp_path_factory.mktemp(key) / f"{key}.onnx", resolution, width,
                          num_classes=100)
            cache[key] = quantized(path)
        return cache[key]

    return get


# one target per variant family (the per-kernel tests above run every target the rules name)
FAMILY_TARGETS = ("cortex-m7", "cortex-m55", "riscv32")
# V3-Small (and its exporter variants) already runs on all five targets in test_targets.py
ZOO_KEYS = sorted(k for k in ZOO if not k.startswith("v3_small"))


@pytest.mark.slow
@pytest.mark.parametrize("target", FAMILY_TARGETS)
@pytest.mark.parametrize("key", ZOO_KEYS)
def test_zoo_model_bit_exact_with_variants(zoo_int8, key: str, target: str, tmp_path: Path) -> None:
    qg, x = zoo_int8(key)
    board = resolve_board(target, None)
    x_c = nchw_to_nhwc(x)
    write_project(qg, target, board, tmp_path / "out", force=False, inputs_int8=x_c)
    report, image = build_project(tmp_path / "out")
    assert_variants_cover(report, target)
    ran = run_project(tmp_path / "out", image, x_c)
    np.testing.assert_array_equal(ran.outputs.reshape(len(x), -1), simulate(qg, x).reshape(len(x), -1))


# --- the short output stage on its own: edge values, exact ties, random values ------------------------

def _short_stage_values(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(acc, M, shift, zp) per value, each within short_requant_exact's proof (|acc| + |k| + 1 < 2^31)."""
    rows = []
    for m in (1 << 30, (1 << 30) + 1, int(rng.integers(1 << 30, 1 << 31)), (1 << 31) - 1):
        for r in (1, 2, 3, 7, 12, 22, 30, 31):
            for zp in (-128, -1, 0, 5, 127):
                k = (1 << (r - 1)) + zp * (1 << r)
                bound = (1 << 31) - 2 - abs(k)
                if bound < 0:
                    continue
                t = np.array([(1 << (r - 1)) + j * (1 << r) for j in range(-3, 3)], np.int64)  # RDBP ties
                ties = np.concatenate([t, -t])
                near = (ties << 31) // m  # acc with SRDHM(acc, M) at or next to a tie
                acc = np.concatenate([near - 1, near, near + 1, [0, 1, -1, bound, -bound, bound - 1, -bound + 1],
                                      rng.integers(-bound, bound + 1, 24), rng.integers(-999, 1000, 8)])
                acc = acc[np.abs(acc) <= bound]
                acc = np.concatenate([acc, np.zeros(-len(acc) % 4, np.int64)])  # fours share zp (the vector test)
                rows += [(int(a), m, -r, zp) for a in acc]
    acc, mult, shift, zp = (np.array(c, np.int64) for c in zip(*rows))
    return acc, mult, shift, zp


def _short_stage_driver(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: np.ndarray, expected: np.ndarray,
                        vector: bool) -> str:
    """A program checking the scalar stage (mnv3c_dsp_short) or the Helium one (mnv3c_mve_short, four
    values per vector, zp shared by each four) on every value; prints `N passed, M failed`."""
    n = len(acc)
    if vector:
        tab = np.concatenate([mve_out_table(np.zeros(4), mult[i:i + 4], shift[i:i + 4], int(zp[i]))
                              for i in range(0, n, 4)])
        check = ["    for (i = 0; i < N; i += 4) {", "        int32_t v[4]; uint32_t j;",
                 "        vst1q_s32(v, mnv3c_mve_short(vld1q_s32(acc + i), tab + 4 * i, -128, 127));",
                 "        for (j = 0; j < 4; ++j) if (v[j] != expected[i + j]) ++failed;", "    }"]
        head = ['#include "mnv3c_mve_requant.h"']
    else:
        tab = np.stack([dsp_out_table(np.zeros(1), mult[i:i + 1], shift[i:i + 1], int(zp[i]))[4:7] for i in range(n)])
        check = ["    for (i = 0; i < N; ++i) if (mnv3c_dsp_short(acc[i], tab + 3 * i) != expected[i]) ++failed;"]
        head = ['#include "mnv3c_dsp_requant.h"']
    return "\n".join([
        "#include <stdint.h>", '#include "mnv3c_io.h"', *head, f"#define N {n}u",
        _c_array("acc", "int32_t", acc), _c_array("tab", "int32_t", tab), _c_array("expected", "int8_t", expected),
        "int main(void)", "{", "    uint32_t i, failed = 0;", *check,
        "    io_write_u32(N - failed);", '    io_write(" passed, ");', "    io_write_u32(failed);",
        '    io_write(" failed\\n");', "    return 0;", "}", ""])


@pytest.mark.parametrize("target, vector", [("cortex-m7", False), ("cortex-m55", False), ("cortex-m55", True)])
def test_short_output_stage_matches_general(target: str, vector: bool, tmp_path: Path) -> None:
    """mnv3c_dsp_short (arm_dsp/mnv3c_dsp_requant.h) and mnv3c_mve_short (arm_mve/mnv3c_mve_requant.h) give
    SSAT8(MBQM(acc) + zp) of mnv3c.quant.intops on every value: both ends of the shift and multiplier
    ranges, ties of RDBP, the accumulator bound."""
    acc, mult, shift, zp = _short_stage_values(np.random.default_rng(13))
    expected = np.clip(q.mbqm(acc, mult, shift) + zp, -128, 127)
    driver = tmp_path / "short_stage.c"
    driver.write_text(_short_stage_driver(acc, mult, shift, zp, expected, vector))
    board = resolve_board(target, None)
    dirs = (RUNTIME, RUNTIME / "arm_dsp", RUNTIME / "arm_mve")
    elf = build(board, [driver], tmp_path / "short_stage.elf", include_dirs=dirs).elf
    lines = run_elf(board, elf, timeout_s=120).stdout_lines
    assert f"{len(acc)} passed, 0 failed" in lines, "\n".join(lines[-8:])


def test_short_output_stage_selection() -> None:
    """short_requant_exact takes the typical layer and refuses what the proof does not cover."""
    w, bias = np.full((2, 9), 100, np.int64), np.array([1000, -1000])
    mult, shift = np.array([1 << 30, (1 << 31) - 1]), np.array([-8, -1])
    assert short_requant_exact(w, bias, mult, shift, -128)
    assert short_requant_exact(w, np.array([(1 << 31) - 255 * 900 - 200, 0]), mult, shift, 0)  # just inside
    assert not short_requant_exact(w, bias, np.array([0, 1 << 30]), shift, 0)  # M = 0
    assert not short_requant_exact(w, bias, mult, np.array([0, -8]), 0)  # r = 0
    assert not short_requant_exact(w, bias, mult, np.array([2, -8]), 0)  # a left shift
    assert not short_requant_exact(w, np.array([(1 << 31) - 255 * 900 - 100, 0]), mult, shift, 0)  # |acc| bound
    assert not short_requant_exact(w, bias, mult, np.array([-31, -8]), 5)  # |k| = 2^30 + 5 * 2^31
