/* libFuzzer harness: "page URL\nreferrer URL" through channel_classify and
 * channel_normalize_url. The referrer data is read once from $TALLY_ASSETS
 * or ./node_modules; without it the URL-only rules are fuzzed. Checks: no
 * NULL strings in a result, and normalising is idempotent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/enrich/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct channel_data *channel_data_once(void)
{
    static bool tried;
    static struct channel_data *d;
    if (!tried) {
        tried = true;
        char err[512];
        const char *dir = getenv("TALLY_ASSETS");
        if (channel_open(dir && *dir ? dir : "node_modules", &d, err, sizeof err) != 0) d = NULL;
    }
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sites[] = {"https://shop.example.com", "*.example.org", "garbage"};
    struct arena arena;
    arena_init(&arena, 8u << 20);
    char *input = arena_strndup(&arena, (const char *)data, size);
    if (!input) __builtin_trap();
    char *ref = strchr(input, '\n');
    if (ref) *ref++ = '\0';

    struct channel_result c;
    channel_classify(channel_data_once(), input, ref, sites, 3, &arena, &c);
    const char *const strings[] = {c.name, c.keyword, c.url, c.campaign_name, c.campaign_keyword,
                                   c.campaign_source, c.campaign_medium, c.campaign_content,
                                   c.campaign_id, c.campaign_group, c.campaign_placement};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (!strings[i]) __builtin_trap();

    const char *once = channel_normalize_url(input, sites, 3, &arena);
    const char *twice = channel_normalize_url(once, sites, 3, &arena);
    if (!once || strcmp(once, twice) != 0) __builtin_trap();
    arena_free(&arena);
    return 0;
}
