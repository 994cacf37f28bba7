/*
 * mnv3c_nms.c - see mnv3c_nms.h. Candidates are ordered by insertion sort (stable, no recursion,
 * no scratch beyond order[]): detection heads leave few boxes above a useful threshold.
 */
#include "mnv3c_nms.h"

static int32_t area(const mnv3c_box *b)
{
    const int32_t w = b->x1 - b->x0, h = b->y1 - b->y0;
    return (w > 0 && h > 0) ? w * h : 0;
}

static int iou_above(const mnv3c_box *a, const mnv3c_box *b, int32_t num, int32_t den)
{
    const int32_t ix0 = a->x0 > b->x0 ? a->x0 : b->x0, ix1 = a->x1 < b->x1 ? a->x1 : b->x1;
    const int32_t iy0 = a->y0 > b->y0 ? a->y0 : b->y0, iy1 = a->y1 < b->y1 ? a->y1 : b->y1;
    const int64_t inter = (ix1 > ix0 && iy1 > iy0) ? (int64_t)(ix1 - ix0) * (iy1 - iy0) : 0;
    const int64_t uni = (int64_t)area(a) + area(b) - inter;
    return inter * den > (int64_t)num * uni;
}

int32_t mnv3c_nms(const mnv3c_box *boxes, const int32_t *scores, const int32_t *labels, int32_t n,
                  int32_t score_threshold, int32_t iou_num, int32_t iou_den, int32_t max_out,
                  int32_t *order, int32_t *keep)
{
    int32_t count = 0, kept = 0, i, j;
    for (i = 0; i < n; ++i) {
        if (scores[i] > score_threshold) {
            /* insert i after every candidate with a score >= its own (stable: lower index first) */
            j = count++;
            while (j > 0 && scores[order[j - 1]] < scores[i]) {
                order[j] = order[j - 1];
                --j;
            }
            order[j] = i;
        }
    }
    for (i = 0; i < count && kept < max_out; ++i) {
        const int32_t c = order[i];
        int suppressed = 0;
        for (j = 0; j < kept && !suppressed; ++j) {
            suppressed = labels[keep[j]] == labels[c] && iou_above(&boxes[c], &boxes[keep[j]], iou_num, iou_den);
        }
        if (!suppressed) {
            keep[kept++] = c;
        }
    }
    return kept;
}
