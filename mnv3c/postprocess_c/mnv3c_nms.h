/*
 * mnv3c_nms.h - score threshold + class-wise non-maximum suppression for detection heads, in
 * portable C99 with integer arithmetic only (no float, no malloc, no libc).
 *
 * The firmware decodes the model's raw box regression into integer boxes (e.g. pixels, with its
 * anchors; mnv3c.zoo.detection.decode is the reference) and passes integer scores (any monotone
 * score works, e.g. the int8 class logits). Exact reference: mnv3c.zoo.detection.nms.
 */
#ifndef MNV3C_NMS_H
#define MNV3C_NMS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t x0, y0, x1, y1; /* x1 >= x0, y1 >= y0 for a real box; empty boxes have area 0 */
} mnv3c_box;

/*
 * Candidates are the boxes with scores[i] > score_threshold, visited by descending score (equal
 * scores by ascending index); each is kept unless an already kept box with the same label overlaps
 * it with IoU > iou_num / iou_den (tested exactly as inter * iou_den > iou_num * union in 64 bits).
 * Writes at most max_out indices to keep[] in that order and returns how many. order[] is scratch
 * of n entries. Coordinates must lie in [0, 2^15) (areas then fit 31 bits).
 */
int32_t mnv3c_nms(const mnv3c_box *boxes, const int32_t *scores, const int32_t *labels, int32_t n,
                  int32_t score_threshold, int32_t iou_num, int32_t iou_den, int32_t max_out,
                  int32_t *order, int32_t *keep);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_NMS_H */
