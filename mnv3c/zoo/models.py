"""MobileNet V1/V2/V3 in plain torch, layer for layer the torchvision (V2, V3) and Keras (V1) architectures.

torchvision cannot be imported beside torch 2.13 here, so the zoo carries its own definitions; module
names (`features`, `classifier`, `block`, `fc1`/`fc2`) follow torchvision so state dicts line up.
Every model takes any input resolution (global average pooling before the classifier).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

FAMILIES = ("mobilenet_v3_small", "mobilenet_v3_large", "mobilenet_v2", "mobilenet_v1")


def _make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's channel rounding: nearest multiple of `divisor`, never more than 10 % below `v`."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvBNAct(nn.Sequential):
    """torchvision's Conv2dNormActivation: bias-free conv, BatchNorm, optional activation."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: Callable[[], nn.Module] | None = nn.ReLU,
        norm: Callable[[int], nn.Module] = nn.BatchNorm2d,
        dilation: int = 1,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2 * dilation, dilation=dilation, groups=groups,
                      bias=False),
            norm(cout),
        ]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)
        self.out_channels = cout


def _stem_pool(enabled: bool) -> list[nn.Module]:
    """An optional ResNet-style 3x3/2 MaxPool after the stem: in no reference model, the "rewritten" export uses it."""
    return [nn.MaxPool2d(3, 2, 1)] if enabled else []


class _HardSigmoidFn(torch.autograd.Function):
    """clip(alpha*x + 0.5, 0, 1); the legacy exporter emits it as one ONNX HardSigmoid(alpha, beta=0.5)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # type: ignore[override]
        t = x * alpha + 0.5
        ctx.save_for_backward(t)
        ctx.alpha = alpha
        return torch.clamp(t, 0.0, 1.0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        """Slope alpha inside (0, 1), flat outside: trainable (scripts/train_default.py --hsigmoid-alpha)."""
        (t,) = ctx.saved_tensors
        return grad * ctx.alpha * ((t > 0) & (t < 1)).to(grad.dtype), None

    @staticmethod
    def symbolic(g, x, alpha: float):  # type: ignore[no-untyped-def]
        return g.op("HardSigmoid", x, alpha_f=alpha, beta_f=0.5)


class HardSigmoid(nn.Module):
    """h-sigmoid with a configurable slope: 1/6 is torchvision's nn.Hardsigmoid, 0.2 is PaddleClas' SE gate."""

    def __init__(self, alpha: float = 1 / 6) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.alpha == 1 / 6:
            return F.hardsigmoid(x)
        return _HardSigmoidFn.apply(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with the V3 gate: avgpool, fc1, ReLU, fc2, h-sigmoid, scale."""

    def __init__(self, channels: int, squeeze: int, hsigmoid_alpha: float = 1 / 6) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = HardSigmoid(hsigmoid_alpha)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


@dataclass(frozen=True)
class V3Block:
    """One row of torchvision's inverted-residual table (channels before the width multiplier)."""

    cin: int
    kernel: int
    expanded: int
    cout: int
    use_se: bool
    hard_swish: bool
    stride: int


_V3_SMALL = [
    V3Block(16, 3, 16, 16, True, False, 2),
    V3Block(16, 3, 72, 24, False, False, 2),
    V3Block(24, 3, 88, 24, False, False, 1),
    V3Block(24, 5, 96, 40, True, True, 2),
    V3Block(40, 5, 240, 40, True, True, 1),
    V3Block(40, 5, 240, 40, True, True, 1),
    V3Block(40, 5, 120, 48, True, True, 1),
    V3Block(48, 5, 144, 48, True, True, 1),
    V3Block(48, 5, 288, 96, True, True, 2),
    V3Block(96, 5, 576, 96, True, True, 1),
    V3Block(96, 5, 576, 96, True, True, 1),
]
_V3_LARGE = [
    V3Block(16, 3, 16, 16, False, False, 1),
    V3Block(16, 3, 64, 24, False, False, 2),
    V3Block(24, 3, 72, 24, False, False, 1),
    V3Block(24, 5, 72, 40, True, False, 2),
    V3Block(40, 5, 120, 40, True, False, 1),
    V3Block(40, 5, 120, 40, True, False, 1),
    V3Block(40, 3, 240, 80, False, True, 2),
    V3Block(80, 3, 200, 80, False, True, 1),
    V3Block(80, 3, 184, 80, False, True, 1),
    V3Block(80, 3, 184, 80, False, True, 1),
    V3Block(80, 3, 480, 112, True, True, 1),
    V3Block(112, 3, 672, 112, True, True, 1),
    V3Block(112, 5, 672, 160, True, True, 2),
    V3Block(160, 5, 960, 160, True, True, 1),
    V3Block(160, 5, 960, 160, True, True, 1),
]


class V3InvertedResidual(nn.Module):
    """Expand 1x1 (skipped when expanded == cin), depthwise kxk, optional SE, linear project 1x1.

    A dilated block (torchvision's `dilated=True` tail) keeps stride 1 and dilates its depthwise conv."""

    def __init__(self, cfg: V3Block, width: float, norm: Callable[[int], nn.Module], hsigmoid_alpha: float,
                 dilation: int = 1) -> None:
        super().__init__()
        cin, exp, cout = (_make_divisible(c * width) for c in (cfg.cin, cfg.expanded, cfg.cout))
        act = nn.Hardswish if cfg.hard_swish else nn.ReLU
        stride = 1 if dilation > 1 else cfg.stride
        self.use_res_connect = stride == 1 and cin == cout
        self.out_channels = cout
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(ConvBNAct(cin, exp, 1, act=act, norm=norm))
        layers.append(ConvBNAct(exp, exp, cfg.kernel, stride, groups=exp, act=act, norm=norm, dilation=dilation))
        if cfg.use_se:
            layers.append(SqueezeExcitation(exp, _make_divisible(exp // 4, 8), hsigmoid_alpha))
        layers.append(ConvBNAct(exp, cout, 1, act=None, norm=norm))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return y + x if self.use_res_connect else y


def v3_tail(blocks: list[V3Block], reduced_tail: bool) -> list[V3Block]:
    """torchvision's `reduced_tail`: the last three blocks (the last stage) with half the channels."""
    if not reduced_tail:
        return blocks
    *head, a, b, c = blocks
    half = [replace(a, cout=a.cout // 2), replace(b, cin=b.cin // 2, expanded=b.expanded // 2, cout=b.cout // 2),
            replace(c, cin=c.cin // 2, expanded=c.expanded // 2, cout=c.cout // 2)]
    return head + half


class MobileNetV3(nn.Module):
    """torchvision MobileNetV3 (BatchNorm eps 1e-3, momentum 0.01; classifier Linear-Hardswish-Dropout-Linear).

    `stem_pool`: see _stem_pool. `dilated`: torchvision's segmentation backbone, the last three blocks
    dilated 2 instead of strided (output stride 16). `norm`: the BatchNorm of every layer.
    """

    def __init__(
        self,
        blocks: list[V3Block],
        last_channel: int,
        width: float = 1.0,
        num_classes: int = 1000,
        in_channels: int = 3,
        dropout: float = 0.2,
        hsigmoid_alpha: float = 1 / 6,
        stem_pool: bool = False,
        dilated: bool = False,
        norm: Callable[[int], nn.Module] = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01),
    ) -> None:
        super().__init__()
        stem = _make_divisible(blocks[0].cin * width)
        layers: list[nn.Module] = [ConvBNAct(in_channels, stem, 3, 2, act=nn.Hardswish, norm=norm)] + _stem_pool(stem_pool)
        layers += [V3InvertedResidual(cfg, width, norm, hsigmoid_alpha, 2 if dilated and i >= len(blocks) - 3 else 1)
                   for i, cfg in enumerate(blocks)]
        last_in = _make_divisible(blocks[-1].cout * width)
        layers.append(ConvBNAct(last_in, 6 * last_in, 1, act=nn.Hardswish, norm=norm))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        hidden = _make_divisible(last_channel * width)
        self.classifier = nn.Sequential(
            nn.Linear(6 * last_in, hidden),
            nn.Hardswish(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class V2InvertedResidual(nn.Module):
    """torchvision MobileNetV2 block: expand 1x1 ReLU6 (if t != 1), depthwise 3x3 ReLU6, linear project."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1, act=nn.ReLU6))
        layers += [
            ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y + x if self.use_res_connect else y


class MobileNetV2(nn.Module):
    """torchvision MobileNetV2: channels rounded to multiples of 8, last 1280 scaled only when width > 1."""

    SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(
        self, width: float = 1.0, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2, stem_pool: bool = False
    ) -> None:
        super().__init__()
        cin = _make_divisible(32 * width)
        self.last_channel = _make_divisible(1280 * max(1.0, width))
        layers: list[nn.Module] = [ConvBNAct(in_channels, cin, 3, 2, act=nn.ReLU6)] + _stem_pool(stem_pool)
        for t, c, n, s in self.SETTING:
            cout = _make_divisible(c * width)
            for i in range(n):
                layers.append(V2InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        layers.append(ConvBNAct(cin, self.last_channel, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.last_channel, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class MobileNetV1(nn.Module):
    """MobileNetV1 as in Keras `applications.MobileNet` (4,231,976 trainable parameters at width 1.0).

    Depthwise-separable blocks with BatchNorm and ReLU6 (Keras/TF-slim; the paper says ReLU). Channels
    scale as int(c * width) like Keras. Padding is symmetric (torch) where Keras pads stride-2 convs
    bottom/right only: same layers and weights, not the same border arithmetic.
    """

    SETTING = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]

    def __init__(
        self, width: float = 1.0, num_classes: int = 1000, in_channels: int = 3, dropout: float = 1e-3, stem_pool: bool = False
    ) -> None:
        super().__init__()
        cin = int(32 * width)
        layers: list[nn.Module] = [ConvBNAct(in_channels, cin, 3, 2, act=nn.ReLU6)] + _stem_pool(stem_pool)
        for c, s in self.SETTING:
            cout = int(c * width)
            layers += [ConvBNAct(cin, cin, 3, s, groups=cin, act=nn.ReLU6), ConvBNAct(cin, cout, 1, act=nn.ReLU6)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def build(
    name: str,
    width: float = 1.0,
    num_classes: int = 1000,
    in_channels: int = 3,
    *,
    hsigmoid_alpha: float = 1 / 6,
    stem_pool: bool = False,
) -> nn.Module:
    """A fresh (torch-default-initialised) model of family `name`; see FAMILIES.

    `hsigmoid_alpha` (SE gate slope) only exists for the V3 families; `stem_pool`: see _stem_pool.
    """
    if name in ("mobilenet_v3_small", "mobilenet_v3_large"):
        small = name == "mobilenet_v3_small"
        return MobileNetV3(
            _V3_SMALL if small else _V3_LARGE,
            1024 if small else 1280,
            width,
            num_classes,
            in_channels,
            hsigmoid_alpha=hsigmoid_alpha,
            stem_pool=stem_pool,
        )
    if name not in FAMILIES:
        raise ValueError(f"unknown model {name!r}; expected one of {FAMILIES}")
    if hsigmoid_alpha != 1 / 6:
        raise ValueError(f"hsigmoid_alpha is a V3-only option, not for {name}")
    cls = MobileNetV2 if name == "mobilenet_v2" else MobileNetV1
    return cls(width, num_classes, in_channels, stem_pool=stem_pool)
