"""The optimisation pipeline: every pass, in order, in one visible list.

Order matters where one rewrite exposes the next:
- constants, identities and views are cleaned up first so patterns are contiguous; attention's
  5-D q/k/v split becomes per-head 4-D tensors (split_heads) before anything reads them;
- GELU and LayerNorm chains are recognised before any folding can merge their constants;
- hard sigmoid is recognised before hard swish (``x * (relu6(x+3)/6)`` then reads as
  ``x * hard_sigmoid(x)``) and both before scale folding (which would otherwise fold the ``+3``
  of ``relu6(conv(x) + 3) / 6`` into the conv's bias and break the pattern);
- batch norm before scale folding (a BN that sits behind a bias add becomes an `affine` that
  scale folding then moves into the conv);
- scales left behind activations move forward into the next layer before activations are fused;
- activations are fused before squeeze-excite recognition, which matches the fused layers;
- only then do the remaining constant scales/shifts become `affine` (nothing matches them any more);
- dead nodes and the explicit-bias form last.
"""

from __future__ import annotations

from typing import Callable

from mnv3c.ir.graph import Graph, GraphError
from mnv3c.passes.affine_from_constants import affine_from_constant_ops
from mnv3c.passes.canonical_bias import canonicalize_bias
from mnv3c.passes.channels_last_view import channels_last_view
from mnv3c.passes.clip_from_max_min import clip_from_max_min
from mnv3c.passes.dead_nodes import eliminate_dead_nodes
from mnv3c.passes.dense_from_matmul import dense_from_matmul
from mnv3c.passes.fold_batch_norm import fold_batch_norm
from mnv3c.passes.fold_constants import fold_constants
from mnv3c.passes.fold_pad import fold_pad_into_conv
from mnv3c.passes.fold_scale import fold_scale_into_conv
from mnv3c.passes.fold_scale_forward import fold_scale_into_next_layer
from mnv3c.passes.fuse_activation import fuse_activation
from mnv3c.passes.gelu import recognize_gelu
from mnv3c.passes.global_pool import global_pool_from_reduce_mean
from mnv3c.passes.hard_sigmoid import recognize_hard_sigmoid
from mnv3c.passes.hard_swish import recognize_hard_swish
from mnv3c.passes.layer_norm import recognize_layer_norm
from mnv3c.passes.remove_identity import remove_identity
from mnv3c.passes.simplify_views import simplify_views
from mnv3c.passes.split_heads import split_heads
from mnv3c.passes.squeeze_excite import recognize_squeeze_excite

Pass = Callable[[Graph], Graph]

PIPELINE: list[tuple[str, Pass]] = [
    ("fold_constants", fold_constants),
    ("remove_identity", remove_identity),
    ("global_pool_from_reduce_mean", global_pool_from_reduce_mean),
    ("simplify_views", simplify_views),
    ("channels_last_view", channels_last_view),
    ("split_heads", split_heads),
    ("dense_from_matmul", dense_from_matmul),
    ("clip_from_max_min", clip_from_max_min),
    ("recognize_gelu", recognize_gelu),
    ("recognize_layer_norm", recognize_layer_norm),
    ("fold_pad_into_conv", fold_pad_into_conv),
    ("recognize_hard_sigmoid", recognize_hard_sigmoid),
    ("recognize_hard_swish", recognize_hard_swish),
    ("fold_batch_norm", fold_batch_norm),
    ("fold_scale_into_conv", fold_scale_into_conv),
    ("fold_scale_into_next_layer", fold_scale_into_next_layer),
    ("fuse_activation", fuse_activation),
    ("recognize_squeeze_excite", recognize_squeeze_excite),
    ("affine_from_constant_ops", affine_from_constant_ops),
    ("eliminate_dead_nodes", eliminate_dead_nodes),
    ("canonicalize_bias", canonicalize_bias),
]


def optimize(graph: Graph, trace: Callable[[str, Graph], None] | None = None) -> Graph:
    """Run every pass of `PIPELINE` on a copy of ``graph``, validating after each; ``trace`` (if
    given) sees the graph after every pass, by pass name."""
    graph.validate()
    for name, run in PIPELINE:
        graph = run(graph)
        try:
            graph.validate()
        except GraphError as e:
            raise GraphError(f"after pass '{name}': {e}") from e
        if trace is not None:
            trace(name, graph)
    return graph
