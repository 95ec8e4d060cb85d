/* libFuzzer harness: a bulk JSON body through track_bulk_open, and every
 * item through track_bulk_item and track_parse. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct track_bulk *bulk;
    char err[512];
    err[0] = '\0';
    if (track_bulk_open((const char *)data, size, &bulk, err, sizeof err)) {
        if (!err[0]) __builtin_trap();
        return 0;
    }
    if (!track_body_is_json((const char *)data, size)) __builtin_trap();
    (void)strlen(track_bulk_token(bulk));
    struct arena arena;
    arena_init(&arena, 8u << 20);
    for (size_t i = 0; i < track_bulk_count(bulk); i++) {
        arena_reset(&arena);
        struct track_params params;
        track_params_init(&params, &arena);
        err[0] = '\0';
        int rc = track_bulk_item(bulk, i, &params, err, sizeof err);
        if (rc && !err[0]) __builtin_trap();
        if (!rc) fuzz_parse(&params, &arena);
    }
    arena_free(&arena);
    track_bulk_free(bulk);
    return 0;
}
