"""The zoo configurations the zoo tests export (through the `zoo_model` fixture, so they are shared)."""

RESOLUTION = 96
WIDTH = {"mobilenet_v3_small": 1.0, "mobilenet_v3_large": 0.5, "mobilenet_v2": 0.5, "mobilenet_v1": 0.25}
