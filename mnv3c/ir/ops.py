"""The closed op set of the mnv3c IR.

Every node's ``op`` is one of the names below. Semantics are those of the float reference
(`mnv3c.reference.float_exec`), layout is NCHW like ONNX. Later stages (quantizer, code
generator) accept a subset and reject the rest with a clear error.

Attribute conventions (all attributes are plain Python values: int, float, str, tuples, or numpy
arrays for quantization tables):

- ``strides``: (sh, sw); ``pads``: (top, left, bottom, right); ``dilations``: (dh, dw);
  ``kernel``: (kh, kw).
- ``act``: activation fused into the producing layer, one of ``ACTIVATIONS``; absent or "none"
  means identity. ``act_params`` holds its parameters: relu6/clip -> {"min", "max"};
  hard_sigmoid -> {"alpha", "beta"}; hard_swish -> {} (always x*relu6(x+3)/6); gelu -> {"approximate"}.
"""

from __future__ import annotations

ACTIVATIONS = ("none", "relu", "clip", "hard_swish", "hard_sigmoid", "sigmoid", "gelu")

# name -> one-line description (inputs; attributes). Keep sorted by family.
OPS: dict[str, str] = {
    # --- layers with weights -------------------------------------------------------------------
    "conv2d": "x[N,C,H,W], w[O,C/group,kh,kw], b[O]?; strides, pads, dilations, group, act, act_params",
    "depthwise_conv2d": "x[N,C,H,W], w[C*m,1,kh,kw], b[C*m]?; strides, pads, dilations, act, act_params "
    "(conv2d with group == C)",
    "conv_transpose": "x[N,C,H,W], w[O,C/group,kh,kw] (output channel first, unlike ONNX), b[O]?; strides, "
    "pads, dilations, output_padding, group, act, act_params",
    "dense": "x[N,K] or x[N,T,K] (over the last axis), w[M,K], b[M]?; act, act_params  (y = x @ w.T + b)",
    "matmul": "a, b (numpy matmul semantics, both may be runtime tensors)",
    "batch_norm": "x[N,C,...], scale[C], bias[C], mean[C], var[C]; epsilon (inference semantics)",
    "affine": "x[N,C,H,W], scale[C], shift[C]; act, act_params (per-channel y = x*scale + shift)",
    "squeeze_excite": "x[N,C,H,W], w1[R,C], b1[R], w2[C,R], b2[C]; act1, act1_params, act2, act2_params "
    "(y = x * act2(w2 @ act1(w1 @ mean_hw(x) + b1) + b2))",
    # --- elementwise (numpy broadcasting) ------------------------------------------------------
    "add": "a, b; act, act_params",
    "sub": "a, b",
    "mul": "a, b",
    "div": "a, b",
    "max": "a, b (elementwise maximum)",
    "min": "a, b (elementwise minimum)",
    "pow": "a, b (float base; result has a's dtype)",
    "sqrt": "x",
    "erf": "x",
    # --- activations ---------------------------------------------------------------------------
    "relu": "x",
    "clip": "x; min, max (either may be -inf/inf)",
    "hard_swish": "x (x * clip(x + 3, 0, 6) / 6)",
    "hard_sigmoid": "x; alpha, beta (clip(alpha*x + beta, 0, 1))",
    "sigmoid": "x",
    "softmax": "x; axis",
    "gelu": "x; approximate ('none': x * 0.5 * (1 + erf(x / sqrt(2))), or 'tanh')",
    "layer_norm": "x, scale?, bias?; axis (normalised over axis..last), epsilon "
    "((x - mean) / sqrt(var + epsilon) * scale + bias)",
    # --- pooling and reductions ----------------------------------------------------------------
    "global_avg_pool": "x[N,C,H,W] -> [N,C,1,1]",
    "reduce_mean": "x; axes (tuple), keepdims (bool)",
    "avg_pool": "x; kernel, strides, pads, count_include_pad, ceil_mode",
    "max_pool": "x; kernel, strides, pads, dilations, ceil_mode",
    # --- data movement -------------------------------------------------------------------------
    "reshape": "x; shape (static tuple, the output shape)",
    "transpose": "x; perm",
    "channels_last_reshape": "x[N,C,H,W]; shape (y = reshape(transpose(x, (0, 2, 3, 1)), shape): a view "
    "in the C layout, NHWC)",
    "pad": "x; pads (ONNX order: begins then ends per axis), mode ('constant'|'reflect'|'edge'), value",
    "concat": "x0, x1, ...; axis",
    "resize": "x[N,C,H,W]; mode ('nearest'|'linear'), coordinate_transformation_mode, nearest_mode, "
    "scales (sh, sw: the coordinate transform's), size (oh, ow)",
    "identity": "x (Identity, and Dropout at inference)",
    "requantize": "x (quantized graphs only: an int8 tensor as int16 or back, at a mixed-precision boundary)",
    # --- shape computation (normally folded to constants by the frontend) ----------------------
    "shape": "x; start, end -> int64 vector of x.shape[start:end]",
    "gather": "x, indices; axis",
    "slice": "x; starts, ends, axes, steps (static tuples)",
    "cast": "x; to (numpy dtype name)",
}
