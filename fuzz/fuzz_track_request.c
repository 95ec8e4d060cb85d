/* libFuzzer harness: a query string (GET query or form body) through
 * track_params_parse_query and track_parse. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena arena;
    arena_init(&arena, 8u << 20);
    struct track_params params;
    track_params_init(&params, &arena);
    char err[512];
    err[0] = '\0';
    int rc = track_params_parse_query(&params, (const char *)data, size, err, sizeof err);
    if (rc && !err[0]) __builtin_trap();
    if (!rc) fuzz_parse(&params, &arena);
    arena_free(&arena);
    return 0;
}
