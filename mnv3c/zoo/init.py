"""Deterministic, realistic weights for zoo models used in tests and benchmarks.

torch's default init leaves BatchNorm at mean 0 / var 1 / gamma 1 / beta 0, which an exporter folds
into identity scales: the compiler would never see realistic per-channel ranges, and activations
drift through the depth. Here weights are seeded He-normal, BN affine parameters are jittered around
1 and 0, and BN running statistics are measured on seeded synthetic images, so every BN normalises
its input to roughly unit variance and activations neither blow up nor die.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


NOISE = 1.0  # pixel noise std: tests feed standard-normal inputs, which must stay in the calibrated range
LOGIT_STD = 2.0  # the head is rescaled to this spread over classes, so a Softmax after it is not one-hot


def synthetic_images(gen: torch.Generator, n: int, channels: int, resolution: int) -> torch.Tensor:
    """Image-like noise: a per-image offset and low-frequency blobs (so that global pooling does not
    average every input to the same features) on top of unit pixel noise."""
    coarse = torch.randn(n, channels, 6, 6, generator=gen, dtype=torch.float64)
    x = F.interpolate(coarse, size=(resolution, resolution), mode="bilinear", align_corners=False)
    x = x + 0.5 * torch.randn(n, channels, 1, 1, generator=gen, dtype=torch.float64)
    return x + NOISE * torch.randn(n, channels, resolution, resolution, generator=gen, dtype=torch.float64)


def _first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


@torch.no_grad()
def init_deterministic(model: nn.Module, seed: int, resolution: int = 224, images: int = 16) -> nn.Module:
    """Seeded weights and measured BN statistics, in place; returns `model` in eval mode.

    One eval-mode pass over `images` synthetic images; each BN takes the statistics of its own input
    just before it runs, so it sees the eval-mode outputs of the BNs before it (train-mode batch
    statistics would not match eval mode, and the mismatch grows with depth). Float64 keeps the
    result independent of the thread count, so the ONNX export is byte-for-byte reproducible.
    Calibrate at the resolution the model will run at: the statistics of these synthetic images
    (and so of every layer) change with resolution.
    """
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
            if m.bias is not None:
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(1.0 + 0.2 * (torch.rand(m.weight.shape, generator=gen) - 0.5))
            m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))

    model.double().eval()
    hooks = [m.register_forward_pre_hook(_measure) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]  # dense-prediction heads have none
    logits: list[torch.Tensor] = []
    if linear:
        hooks.append(linear[-1].register_forward_hook(lambda _m, _i, out: logits.append(out)))
    try:
        model(synthetic_images(gen, images, _first_conv(model).in_channels, resolution))
    finally:
        for h in hooks:
            h.remove()
    if linear:
        gain = LOGIT_STD / logits[0].std(dim=1).mean()
        linear[-1].weight.mul_(gain)
        linear[-1].bias.mul_(gain)
    return model.float()


def _measure(bn: nn.BatchNorm2d, args: tuple[torch.Tensor]) -> None:
    """Set `bn`'s running statistics to those of the input it is about to normalise."""
    x = args[0]
    bn.running_mean.copy_(x.mean((0, 2, 3)))
    bn.running_var.copy_(x.var((0, 2, 3), unbiased=False))
