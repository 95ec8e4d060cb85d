/* libFuzzer harness: the input is a segment file (src/store/segment.c), read
 * as a scan reads it, with the site, day and part its file name would give
 * taken from its own header, and its checksums recomputed first, as a
 * forger would, so that what they guard gets fuzzed. Checks: a file
 * accepted yields every row of its site and day with every string readable
 * to its end; any other is refused with a reason. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/store/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reseal(unsigned char *m, size_t size)
{
    uint32_t ncols = store_le32(m + 12);
    if (ncols > 4096 || 48 + (size_t)ncols * 72 + 4 > size) return;
    for (uint32_t i = 0; i < ncols; i++) {
        unsigned char *e = m + 48 + (size_t)i * 72;
        uint64_t off = store_le64(e + 40), len = store_le64(e + 48);
        if (off <= size && len <= size - off) store_put32(e + 36, crc32c(0, m + off, len));
    }
    size_t header = 48 + (size_t)ncols * 72;
    store_put32(m + header, crc32c(0, m, header));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 48) return 0;
    unsigned char *m = malloc(size);
    if (!m) return 0;
    memcpy(m, data, size);
    reseal(m, size);
    struct segment seg = {.site = store_le32(m + 16),
                          .n = store_le32(m + 20),
                          .day = (int64_t)store_le64(m + 24),
                          .rows = store_le64(m + 32),
                          .sealed_through_seq = store_le64(m + 40),
                          .map = m,
                          .map_len = size};
    struct seg_view view;
    seg_view_init(&view);
    char why[256] = "";
    int rc = segment_view(&seg, &view, why, sizeof why);
    if (rc == 0) {
        size_t total = 0;
        for (uint64_t r = 0; r < view.rows; r++) {
            struct hit hit;
            seg_view_row(&view, r, &hit);
#define FUZZ_TOUCH_U8(name)
#define FUZZ_TOUCH_U16(name)
#define FUZZ_TOUCH_U32(name)
#define FUZZ_TOUCH_I32(name)
#define FUZZ_TOUCH_U64(name)
#define FUZZ_TOUCH_I64(name)
#define FUZZ_TOUCH_F64(name)
#define FUZZ_TOUCH_STR(name) total += strlen(hit.name);
#define FUZZ_TOUCH(type, name) FUZZ_TOUCH_##type(name)
            HIT_FIELDS(FUZZ_TOUCH)
            if (hit.site_id != seg.site || store_day_of(hit.time_ms) != seg.day) __builtin_trap();
        }
        if (total == SIZE_MAX) __builtin_trap(); /* keeps the reads */
    } else if ((rc != -EBADMSG && rc != -ENOMEM) || why[0] == '\0') {
        __builtin_trap();
    }
    seg_view_free(&view);
    free(m);
    return 0;
}
