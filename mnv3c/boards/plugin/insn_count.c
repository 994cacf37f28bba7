/*
 * insn_count.c - QEMU TCG plugin: exact guest instruction count between two
 * marker addresses.  Built by mnv3c/boards/qemu.py with the host gcc.
 *
 *   -plugin insn_count.so,begin=0xADDR,end=0xADDR,out=FILE
 *
 * Every executed guest instruction adds 1 to a counter (inline, per
 * instruction, so a translation block left early by an exception is still
 * counted exactly).  When the instruction at `begin` executes the counter is
 * latched; when the instruction at `end` executes, `INSN <delta>` is
 * appended to FILE.  The delta is the number of instructions from the first
 * instruction of mnv3c_marker_begin() up to, not including, the first
 * instruction of mnv3c_marker_end().
 *
 * Per-layer profile (optional):  ...,glue=0xLO-0xHI
 *   [LO, HI) is the code of mnv3c_model_run, which does nothing but call one
 *   kernel per layer.  A translation block of that range that starts at a
 *   count other than where the previous one ended means control left the
 *   range and came back: a kernel call returned.  Each such re-entry (and the
 *   first entry) appends its count, relative to `begin`, to a
 *   `MARKS m0 m1 ...` line written just before the INSN line, so layer k owns
 *   exactly [m(k-1), m(k)): the glue code that sets up its call plus the
 *   kernel.  A re-entry at an address inside the previous glue block is that
 *   block restarting after an exception (Xtensa's window overflow at the
 *   ENTRY, underflow at the RETW of mnv3c_model_run), not a return: no mark.  Only blocks of mnv3c_model_run get a callback (a few per layer),
 *   so the profile costs nothing measurable and changes no guest instruction.
 *
 * No QEMU headers are installed on Debian, so the handful of plugin API
 * declarations used (QEMU 7.2, plugin API version 1, include/qemu/qemu-plugin.h)
 * are written out here; the symbols are exported by the qemu-system binary.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* not inspected */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed; /* all guest instructions so far (single vCPU boards) */
static uint64_t latched;
static uint64_t begin_addr, end_addr;
static FILE *out;

static uint64_t glue_lo, glue_hi;     /* [lo, hi): mnv3c_model_run; 0, 0 = no profile */
static uint64_t glue_next = UINT64_MAX; /* count where the last glue block would end */
static uint64_t glue_prev_start = 1, glue_prev_last = 0; /* pc range of the last glue block (empty) */
struct glue_block {
    uint64_t n, start, last; /* instructions, first and last instruction's address */
};
static bool measuring;
#define MAX_MARKS 4096
static uint64_t marks[MAX_MARKS];
static size_t n_marks;

static void on_begin(unsigned int vcpu, void *udata)
{
    (void)vcpu, (void)udata;
    latched = executed;
    measuring = true;
    n_marks = 0;
    glue_next = UINT64_MAX;
    glue_prev_start = 1, glue_prev_last = 0;
}

static void on_glue_block(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    const struct glue_block *b = udata;
    const bool restarted = b->start >= glue_prev_start && b->start <= glue_prev_last;
    if (measuring && executed != glue_next && !restarted && n_marks < MAX_MARKS) {
        marks[n_marks++] = executed - latched;
    }
    glue_next = executed + b->n;
    glue_prev_start = b->start, glue_prev_last = b->last;
}

static void on_end(unsigned int vcpu, void *udata)
{
    (void)vcpu, (void)udata;
    measuring = false;
    if (glue_hi != 0) {
        fprintf(out, "MARKS");
        for (size_t i = 0; i < n_marks; i++) {
            fprintf(out, " %" PRIu64, marks[i]);
        }
        fprintf(out, n_marks < MAX_MARKS ? "\n" : " OVERFLOW\n");
    }
    fprintf(out, "INSN %" PRIu64 "\n", executed - latched);
    fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t start = qemu_plugin_tb_vaddr(tb);
    if (start >= glue_lo && start < glue_hi) {
        struct glue_block *b = malloc(sizeof *b); /* a few per model: kept for the emulator's lifetime */
        if (b == NULL) {
            abort();
        }
        b->n = n, b->start = start, b->last = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, n - 1));
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_glue_block, QEMU_PLUGIN_CB_NO_REGS, b);
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        /* Callbacks first, then the increment: the latch excludes the
         * instruction it sits on, so begin is counted and end is not. */
        if (pc == begin_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (pc == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id, (void)udata;
    fclose(out);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "begin=", 6) == 0) begin_addr = strtoull(argv[i] + 6, NULL, 0);
        else if (strncmp(argv[i], "end=", 4) == 0) end_addr = strtoull(argv[i] + 4, NULL, 0);
        else if (strncmp(argv[i], "out=", 4) == 0) path = argv[i] + 4;
        else if (strncmp(argv[i], "glue=", 5) == 0) {
            char *rest;
            glue_lo = strtoull(argv[i] + 5, &rest, 0);
            glue_hi = *rest == '-' ? strtoull(rest + 1, NULL, 0) : 0;
        }
    }
    if (path == NULL || begin_addr == 0 || end_addr == 0) {
        fprintf(stderr, "insn_count: need begin=, end= and out= arguments\n");
        return -1;
    }
    out = fopen(path, "w");
    if (out == NULL) {
        perror(path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
