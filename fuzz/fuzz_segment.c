/* libFuzzer harness: the input is a segment as the Reporting API receives
 * it, through segment_parse. Checks: a failure leaves *out NULL and a
 * message whose position lies inside the text (or names a limit); a
 * success gives sane conditions, and writing the segment back out with
 * every special byte percent-encoded parses to the same segment. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base/base.h"
#include "../src/query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const op_texts[] = {
    [SEGMENT_EQ] = "==",       [SEGMENT_NE] = "!=",
    [SEGMENT_LE] = "<=",       [SEGMENT_GE] = ">=",
    [SEGMENT_LT] = "<",        [SEGMENT_GT] = ">",
    [SEGMENT_CONTAINS] = "=@", [SEGMENT_NOT_CONTAINS] = "!@",
    [SEGMENT_STARTS] = "=^",   [SEGMENT_ENDS] = "=$",
};

static void write_segment(const struct segment *seg, struct buf *b)
{
    for (size_t g = 0; g < seg->count; g++) {
        for (size_t i = 0; i < seg->groups[g].count; i++) {
            const struct segment_condition *c = &seg->groups[g].conditions[i];
            if (g || i) buf_putc(b, i ? ',' : ';');
            buf_puts(b, segment_dimension_infos[c->dimension].name);
            if (c->dimension == SEGMENT_DIM_DIMENSION) buf_printf(b, "%u", c->dimension_index);
            buf_puts(b, op_texts[c->op]);
            for (const unsigned char *v = (const unsigned char *)c->value; *v; v++) {
                if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
                    (*v >= '0' && *v <= '9') || *v == '.' || *v == '-')
                    buf_putc(b, (char)*v);
                else
                    buf_printf(b, "%%%02X", *v);
            }
        }
    }
}

static bool same_segment(const struct segment *a, const struct segment *b)
{
    if (a->count != b->count) return false;
    for (size_t g = 0; g < a->count; g++) {
        if (a->groups[g].count != b->groups[g].count) return false;
        for (size_t i = 0; i < a->groups[g].count; i++) {
            const struct segment_condition *x = &a->groups[g].conditions[i];
            const struct segment_condition *y = &b->groups[g].conditions[i];
            if (x->dimension != y->dimension || x->dimension_index != y->dimension_index ||
                x->op != y->op || strcmp(x->value, y->value) != 0 || x->is_number != y->is_number ||
                (x->is_number && x->number != y->number))
                return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) __builtin_trap();
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);

    char err[512];
    struct segment *seg = (struct segment *)&err;
    if (segment_parse(text, &seg, err, sizeof err) != 0) {
        const char *at = strstr(err, " at position ");
        unsigned long pos = at ? strtoul(at + 13, NULL, 10) : 0;
        bool limit = strstr(err, "limit of") != NULL;
        if (seg || strncmp(err, "segment: ", 9) != 0 || (!limit && (pos < 1 || pos > len + 1)))
            __builtin_trap();
        free(text);
        return 0;
    }

    size_t conditions = 0;
    for (size_t g = 0; g < seg->count; g++) {
        if (seg->groups[g].count == 0) __builtin_trap();
        for (size_t i = 0; i < seg->groups[g].count; i++) {
            const struct segment_condition *c = &seg->groups[g].conditions[i];
            if ((unsigned)c->dimension >= SEGMENT_DIM_COUNT || !c->value ||
                strlen(c->value) > len ||
                (c->dimension == SEGMENT_DIM_DIMENSION) != (c->dimension_index != 0) ||
                (segment_dimension_infos[c->dimension].type == SEGMENT_TYPE_NUMBER && *c->value &&
                 !c->is_number))
                __builtin_trap();
            conditions++;
        }
    }
    if (conditions > 256 || (len && !seg->count)) __builtin_trap();

    struct buf again;
    buf_init(&again);
    buf_puts(&again, ""); /* data is NULL until something is appended */
    write_segment(seg, &again);
    struct segment *reparsed;
    /* Percent-encoding can triple a value past the length limit. */
    if (again.len <= 8192) {
        if (segment_parse(again.data, &reparsed, err, sizeof err) != 0 ||
            !same_segment(seg, reparsed))
            __builtin_trap();
        segment_free(reparsed);
    }
    buf_free(&again);
    segment_free(seg);
    free(text);
    return 0;
}
