/* The ingest pipeline without HTTP: query-string parsing, track, enrich,
 * session, write-ahead log and memory tables, on one core, for hits shaped
 * like the Matomo JavaScript tracker's: one hit per call (one log write per
 * hit, as single tracking requests) and 100 per call (bulk requests and
 * imports). Prints "name hits_per_second" lines for scripts/bench.sh.
 *
 * usage: pipeline DATA_DIR [HITS] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/api/api.h"
#include "../src/config/config.h"
#include "../src/enrich/enrich.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 20,000 visitors, each with a few pages; what Matomo's tracker sends. */
static char **make_queries(size_t count)
{
    char **queries = malloc(count * sizeof *queries);
    if (!queries) return NULL;
    uint64_t x = 42;
    for (size_t i = 0; i < count; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned visitor = (unsigned)(x >> 33) % 20000, page = (unsigned)(x >> 20) % 40;
        char q[1024];
        snprintf(q, sizeof q,
                 "idsite=1&rec=1&r=%06u&h=14&m=%u&s=%u&url=https%%3A%%2F%%2Fshop.example.com%%2Fshop"
                 "%%2Fitem-%u%%3Fref%%3Dnav&action_name=Item%%20%u%%20-%%20Leaf%%20%%26%%20Cup"
                 "&urlref=https%%3A%%2F%%2Fwww.google.com%%2F&_id=%016x&_idn=0&send_image=0"
                 "&_refts=0&pv_id=a1B2c3&pdf=1&qt=0&realp=0&wma=0&fla=0&java=0&ag=0&cookie=1"
                 "&res=1920x1080&uadata=%%7B%%7D",
                 (unsigned)(x % 1000000), (unsigned)(i / 60 % 60), (unsigned)(i % 60), page, page,
                 visitor * 2654435761u);
        queries[i] = strdup(q);
    }
    return queries;
}

/* Feeds count queries through a fresh store in DIR, batch hits per
 * api_track call (one log write each); returns hits per second, or -1. */
static double run(const char *dir, char **queries, size_t count, size_t batch)
{
    char err[512];
    struct site draft = {.name = "bench", .urls = {"https://shop.example.com"}, .url_count = 1,
                         .timezone = "UTC", .currency = "EUR", .honour_dnt = true,
                         .ipv4_mask_bytes = 2, .ipv6_mask_bits = 80};
    uint32_t site_id;
    struct api_options opts = {.data_dir = dir, .fsync = STORE_FSYNC_NEVER,
                               .seal_grace_ms = 3600000};
    struct api *api;
    if (sites_add(dir, &draft, &site_id, err, sizeof err) ||
        api_create(&opts, &api, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    struct arena arena;
    arena_init(&arena, 0);
    struct track_params *params = calloc(batch, sizeof *params);
    struct api_hit *hits = calloc(batch, sizeof *hits);
    struct track_context ctx = {
        .ip = "198.51.100.23",
        .user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                      "Gecko) Chrome/131.0.0.0 Safari/537.36",
        .accept_language = "en-US,en;q=0.9",
        .sec_ch_ua = "", .sec_ch_ua_mobile = "", .sec_ch_ua_platform = "",
        .sec_ch_ua_platform_version = "", .sec_ch_ua_model = "",
        .now_ms = now_ms(), .token_auth = "",
    };
    size_t stored = 0;
    double start = seconds_now();
    for (size_t i = 0; i < count; i += batch) {
        size_t n = count - i < batch ? count - i : batch;
        arena_reset(&arena);
        for (size_t k = 0; k < n; k++) {
            track_params_init(&params[k], &arena);
            const char *q = queries[i + k];
            if (track_params_parse_query(&params[k], q, strlen(q), err, sizeof err)) goto fail;
            hits[k] = (struct api_hit){.params = &params[k]};
        }
        if (api_track(api, hits, n, &ctx, err, sizeof err)) goto fail;
        for (size_t k = 0; k < n; k++) {
            if (hits[k].result != API_HIT_STORED) goto fail;
            stored++;
        }
    }
fail:;
    double elapsed = seconds_now() - start;
    if (stored != count) fprintf(stderr, "bench: hit %zu not stored: %s\n", stored, err);
    free(params);
    free(hits);
    arena_free(&arena);
    api_destroy(api);
    return stored == count ? (double)stored / elapsed : -1;
}

/* enrich_hit alone: the same user agent each time (the cache answers) or
 * a different one each time (uap-core's regexes run). Nanoseconds a hit. */
static double enrich_cost(bool unique_agents, size_t count)
{
    char err[512];
    struct enrich_options eo = {.assets_dir = TALLY_ASSETS_DIR};
    struct enrich *enrich;
    if (enrich_create(&eo, &enrich, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    static char url_a[] = "https://shop.example.com";
    struct site site = {.id = 1, .urls = {url_a}, .url_count = 1, .ipv4_mask_bytes = 2,
                        .ipv6_mask_bits = 80};
    struct track_context ctx = {.accept_language = "en-US,en;q=0.9", .sec_ch_ua = "",
                                .sec_ch_ua_mobile = "", .sec_ch_ua_platform = "",
                                .sec_ch_ua_platform_version = "", .sec_ch_ua_model = ""};
    struct arena arena;
    arena_init(&arena, 0);
    char ua[256];
    double start = seconds_now();
    for (size_t i = 0; i < count; i++) {
        arena_reset(&arena);
        snprintf(ua, sizeof ua,
                 "Mozilla/5.0 (Linux; Android 14; SM-S%zu) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/131.0.%zu.0 Mobile Safari/537.36",
                 unique_agents ? 900 + i : 918, unique_agents ? i : 0);
        struct track_request req = {.site = &site, .ctx = &ctx, .ip = "81.2.69.160",
                                    .user_agent = ua, .uadata = ""};
        hit_clear(&req.hit);
        req.hit.url = "https://shop.example.com/shoes?utm_campaign=spring&color=red";
        req.hit.urlref = "https://www.google.com/search?q=running+shoes";
        enrich_hit(enrich, &req, &arena);
    }
    double ns = (seconds_now() - start) * 1e9 / (double)count;
    arena_free(&arena);
    enrich_destroy(enrich);
    return ns;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [HITS]\n", argv[0]);
        return 2;
    }
    size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    char **queries = make_queries(count);
    if (!queries) return 1;
    char single[4096], batched[4096];
    snprintf(single, sizeof single, "%s/single", argv[1]);
    snprintf(batched, sizeof batched, "%s/batched", argv[1]);
    double one = run(single, queries, count, 1), hundred = run(batched, queries, count, 100);
    printf("pipeline_single_hits_per_second %.0f\n", one);
    printf("pipeline_batched_hits_per_second %.0f\n", hundred);
    printf("enrich_warm_ns %.0f\n", enrich_cost(false, 200000));
    printf("enrich_unique_ns %.0f\n", enrich_cost(true, 20000));
    for (size_t i = 0; i < count; i++) free(queries[i]);
    free(queries);
    return one > 0 && hundred > 0 ? 0 : 1;
}
