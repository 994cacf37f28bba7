"""Host-side SSDLite post-processing: anchors, box decoding, score threshold and NMS.

The model (`mnv3c.zoo.heads.SSDLite`) ends at the raw head outputs [N, anchors, 4 + classes]; this
turns them into detections the way torchvision's SSD does (DefaultBoxGenerator with aspect ratios
[2, 3] per map, scales 0.2..0.95, clipped; BoxCoder weights (10, 10, 5, 5); softmax; per class:
score threshold, top-k, then class-wise NMS). `nms` is also the exact reference of the firmware's
integer C function (mnv3c/postprocess_c/mnv3c_nms.c): same candidate order, same IoU test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ASPECT_RATIOS = (2, 3)
MIN_RATIO, MAX_RATIO = 0.2, 0.95
BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)
BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def feature_map_sizes(resolution: int, maps: int = 6) -> list[int]:
    """The side of each SSDLite feature map for a square input: every stride-2 layer (3x3, padding
    1) maps a side s to (s - 1) // 2 + 1; the maps come after 4 and 5 of them (strides 16 and 32),
    then one more per extra block."""
    sizes, side = [], resolution
    for halvings in range(1, maps + 4):
        side = (side - 1) // 2 + 1
        if halvings >= 4:
            sizes.append(side)
    return sizes


def anchors(resolution: int, maps: int = 6) -> np.ndarray:
    """torchvision's default boxes for a square image, [A, 4] as (x0, y0, x1, y1) in pixels, in the
    head's order: map by map, row-major cells, 6 boxes per cell."""
    scales = [MIN_RATIO + (MAX_RATIO - MIN_RATIO) * k / (maps - 1.0) for k in range(maps)] + [1.0]
    out = []
    for k, f in enumerate(feature_map_sizes(resolution, maps)):
        s, s_next = scales[k], math.sqrt(scales[k] * scales[k + 1])
        wh = [(s, s), (s_next, s_next)]
        for ar in ASPECT_RATIOS:
            r = math.sqrt(ar)
            wh += [(s * r, s / r), (s / r, s * r)]
        wh_arr = np.clip(np.array(wh, np.float32), 0, 1)
        centers = (np.arange(f, dtype=np.float32) + 0.5) / np.float32(f)
        cy, cx = np.meshgrid(centers, centers, indexing="ij")
        cells = np.stack([cx.ravel(), cy.ravel()], axis=1)  # [f*f, 2]
        ctr = np.repeat(cells, len(wh), axis=0)
        size = np.tile(wh_arr, (f * f, 1))
        out.append(np.concatenate([ctr - 0.5 * size, ctr + 0.5 * size], axis=1) * np.float32(resolution))
    return np.concatenate(out).astype(np.float32)


def decode(regression: np.ndarray, anchor_boxes: np.ndarray, resolution: int) -> np.ndarray:
    """BoxCoder.decode_single, then clipped to the image: [A, 4] (x0, y0, x1, y1)."""
    wx, wy, ww, wh = BOX_WEIGHTS
    w = anchor_boxes[:, 2] - anchor_boxes[:, 0]
    h = anchor_boxes[:, 3] - anchor_boxes[:, 1]
    cx, cy = anchor_boxes[:, 0] + 0.5 * w, anchor_boxes[:, 1] + 0.5 * h
    dx, dy = regression[:, 0] / wx, regression[:, 1] / wy
    dw = np.minimum(regression[:, 2] / ww, BBOX_XFORM_CLIP)
    dh = np.minimum(regression[:, 3] / wh, BBOX_XFORM_CLIP)
    px, py, pw, ph = dx * w + cx, dy * h + cy, np.exp(dw) * w, np.exp(dh) * h
    boxes = np.stack([px - 0.5 * pw, py - 0.5 * ph, px + 0.5 * pw, py + 0.5 * ph], axis=1)
    return np.clip(boxes, 0, resolution)


def iou_above(a: np.ndarray, b: np.ndarray, num: int, den: int) -> bool:
    """IoU(a, b) > num / den for integer boxes, exactly: inter·den > num·union (what the C does)."""
    iw = max(0, min(int(a[2]), int(b[2])) - max(int(a[0]), int(b[0])))
    ih = max(0, min(int(a[3]), int(b[3])) - max(int(a[1]), int(b[1])))
    inter = iw * ih
    area = lambda r: max(0, int(r[2]) - int(r[0])) * max(0, int(r[3]) - int(r[1]))  # noqa: E731
    union = area(a) + area(b) - inter
    return inter * den > num * union


def nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, score_threshold: int, iou_num: int,
        iou_den: int, max_out: int) -> list[int]:
    """Indices kept by class-wise greedy NMS over integer boxes [n, 4] and integer scores: the
    candidates are those with score > score_threshold, visited by descending score (equal scores
    by ascending index); one is kept unless a kept box of its label overlaps it with IoU > num/den."""
    cand = [i for i in range(len(scores)) if int(scores[i]) > score_threshold]
    cand.sort(key=lambda i: (-int(scores[i]), i))
    kept: list[int] = []
    for i in cand:
        if len(kept) == max_out:
            break
        if not any(labels[j] == labels[i] and iou_above(boxes[i], boxes[j], iou_num, iou_den) for j in kept):
            kept.append(i)
    return kept


@dataclass
class Detections:
    boxes: np.ndarray  # [D, 4] float32 (x0, y0, x1, y1) pixels
    scores: np.ndarray  # [D] float32
    labels: np.ndarray  # [D] int64, 1..classes-1 (0 is the background)


def postprocess(raw: np.ndarray, resolution: int, score_threshold: float = 0.001, iou_threshold: float = 0.55,
                topk: int = 300, max_detections: int = 300) -> Detections:
    """torchvision SSD.postprocess_detections for one image's raw [A, 4 + classes] output."""
    boxes = decode(raw[:, :4].astype(np.float32), anchors(resolution), resolution)
    logits = raw[:, 4:].astype(np.float32)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    cand_boxes, cand_scores, cand_labels = [], [], []
    for label in range(1, probs.shape[1]):
        score = probs[:, label]
        idx = np.nonzero(score > score_threshold)[0]
        idx = idx[np.argsort(-score[idx], kind="stable")][:topk]
        cand_boxes.append(boxes[idx])
        cand_scores.append(score[idx])
        cand_labels.append(np.full(len(idx), label, np.int64))
    b, s, lab = np.concatenate(cand_boxes), np.concatenate(cand_scores), np.concatenate(cand_labels)
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    for i in order:
        if len(keep) == max_detections:
            break
        same = [j for j in keep if lab[j] == lab[i]]
        if not same or _iou(b[i], b[same]).max() <= iou_threshold:
            keep.append(int(i))
    return Detections(b[keep], s[keep], lab[keep])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    iw = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = iw * ih
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)
