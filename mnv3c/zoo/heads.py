"""MobileNetV3-Large with the paper's dense-prediction heads, layer for layer torchvision's
`lraspp_mobilenet_v3_large` and `ssdlite320_mobilenet_v3_large` (own definitions: torchvision is
not importable beside torch 2.13 here).

- `LRASPP`: the dilated backbone (output stride 16), a 1x1 conv-BN-ReLU branch gated by
  sigmoid(conv(global average pool)) -- torchvision pools globally where the paper uses a large
  49x49 kernel --, bilinear upsampling to the stride-8 features, two 1x1 classifiers added, and a
  bilinear upsampling to the input size.
- `SSDLite`: the backbone cut at the C4 expansion (stride 16) and at its end (stride 32), four extra
  blocks (1x1 / depthwise 3x3 stride 2 / 1x1, ReLU6), and per feature map depthwise-separable box and
  class predictors for 6 anchors per cell. The raw head outputs are returned as ONE tensor
  [N, anchors, 4 + classes]: box regression (dx, dy, dw, dh) then class logits, so the C model
  keeps one output buffer. Anchors, decoding and NMS: `mnv3c.zoo.detection`.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn
from torch.nn import functional as F

from mnv3c.zoo.models import _V3_LARGE, ConvBNAct, MobileNetV3, v3_tail

HEADS = ("lraspp_mobilenet_v3_large", "ssdlite320_mobilenet_v3_large")
ANCHORS_PER_CELL = 6  # aspect ratios 1, 1 (next scale), 2, 1/2, 3, 1/3


def _stage_ends(backbone: MobileNetV3) -> list[int]:
    """torchvision's stage_indices: the stem, every strided block (C1..Cn-1), the last layer."""
    strided = [i + 1 for i, cfg in enumerate(_V3_LARGE) if cfg.stride > 1]  # features[0] is the stem
    return [0] + strided + [len(backbone.features) - 1]


class LRASPP(nn.Module):
    """Lite R-ASPP segmentation: `num_classes` logit maps at the input resolution."""

    def __init__(self, width: float = 1.0, num_classes: int = 21, inter_channels: int = 128, in_channels: int = 3) -> None:
        super().__init__()
        backbone = MobileNetV3(_V3_LARGE, 1280, width, in_channels=in_channels, dilated=True)
        stages = _stage_ends(backbone)
        self.low_pos, self.high_pos = stages[-4], stages[-1]  # stride 8 (C2) and stride 16 (C5)
        self.backbone = backbone.features[: self.high_pos + 1]
        low = backbone.features[self.low_pos].out_channels
        high = backbone.features[self.high_pos].out_channels
        self.cbr = nn.Sequential(nn.Conv2d(high, inter_channels, 1, bias=False), nn.BatchNorm2d(inter_channels), nn.ReLU())
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(high, inter_channels, 1, bias=False), nn.Sigmoid())
        self.low_classifier = nn.Conv2d(low, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, low = x, x
        for i, layer in enumerate(self.backbone):
            y = layer(y)
            if i == self.low_pos:
                low = y
        gated = self.cbr(y) * self.scale(y)
        up = F.interpolate(gated, size=low.shape[-2:], mode="bilinear", align_corners=False)
        out = self.low_classifier(low) + self.high_classifier(up)
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


def _extra_block(cin: int, cout: int, norm: partial) -> nn.Sequential:
    mid = cout // 2
    return nn.Sequential(
        ConvBNAct(cin, mid, 1, act=nn.ReLU6, norm=norm),
        ConvBNAct(mid, mid, 3, 2, groups=mid, act=nn.ReLU6, norm=norm),
        ConvBNAct(mid, cout, 1, act=nn.ReLU6, norm=norm),
    )


def _prediction_block(cin: int, cout: int, norm: partial) -> nn.Sequential:
    return nn.Sequential(ConvBNAct(cin, cin, 3, groups=cin, act=nn.ReLU6, norm=norm), nn.Conv2d(cin, cout, 1))


class SSDLite(nn.Module):
    """SSDLite320: raw [N, anchors, 4 + num_classes] (class 0 is the background)."""

    def __init__(self, width: float = 1.0, num_classes: int = 91, reduced_tail: bool = False, in_channels: int = 3,
                 extra_width: float = 1.0) -> None:
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
        blocks = v3_tail(_V3_LARGE, reduced_tail)
        backbone = MobileNetV3(blocks, 1280, width, in_channels=in_channels, norm=norm)
        c4 = _stage_ends(backbone)[-2]
        feats = backbone.features
        self.features = nn.ModuleList([
            nn.Sequential(*feats[:c4], feats[c4].block[0]),  # up to the C4 expansion: stride 16
            nn.Sequential(*feats[c4].block[1:], *feats[c4 + 1:]),  # the rest: stride 32
        ])
        depth = [max(16, int(d * extra_width)) for d in (512, 256, 256, 128)]
        last = feats[-1].out_channels
        self.extra = nn.ModuleList(_extra_block(a, b, norm) for a, b in zip([last] + depth[:-1], depth))
        channels = [feats[c4].block[0].out_channels, last] + depth
        self.num_classes = num_classes
        self.box_head = nn.ModuleList(_prediction_block(c, 4 * ANCHORS_PER_CELL, norm) for c in channels)
        self.cls_head = nn.ModuleList(_prediction_block(c, num_classes * ANCHORS_PER_CELL, norm) for c in channels)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for block in [*self.features, *self.extra]:
            x = block(x)
            maps.append(x)
        return maps

    @staticmethod
    def _flatten(y: torch.Tensor, columns: int) -> torch.Tensor:
        """torchvision's SSDScoringHead: (N, A*K, H, W) -> (N, H*W*A, K)."""
        n, _, h, w = y.shape
        return y.view(n, -1, columns, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, columns)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.feature_maps(x)
        boxes = torch.cat([self._flatten(head(m), 4) for head, m in zip(self.box_head, maps)], dim=1)
        logits = torch.cat([self._flatten(head(m), self.num_classes) for head, m in zip(self.cls_head, maps)], dim=1)
        return torch.cat([boxes, logits], dim=2)


def build_head(name: str, width: float = 1.0, num_classes: int = 21, in_channels: int = 3) -> nn.Module:
    """A fresh model of `name` (see HEADS); `width` scales the backbone (and SSDLite's extra blocks)."""
    if name == "lraspp_mobilenet_v3_large":
        return LRASPP(width, num_classes, in_channels=in_channels)
    if name == "ssdlite320_mobilenet_v3_large":
        return SSDLite(width, num_classes, in_channels=in_channels, extra_width=width)
    raise ValueError(f"unknown model {name!r}; expected one of {HEADS}")
