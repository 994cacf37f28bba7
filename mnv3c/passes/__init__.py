"""Graph-to-graph optimisation passes (one per module) and the pipeline that runs them in order."""

from mnv3c.passes.pipeline import PIPELINE, optimize

__all__ = ["PIPELINE", "optimize"]
