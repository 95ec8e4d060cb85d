/* libFuzzer harness: one Reporting API query string ("method=...&period=
 * ...&date=...&segment=...&filter_...") through api_handle, on a server
 * state made once with a few days of hits. Checks: every answer is 200,
 * 400, 401 or 413, and with format=json (the default) the body is valid
 * JSON — an error included. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../src/api/api.h"
#include "../src/config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct api *api;
static char data_dir[64];
static char token[33];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    api_destroy(api);
    nftw(data_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Two visitors over three days: pages, an event, an outlink, a search, a
 * product view, a cart, an order (sent twice) and a tracked goal. */
static void seed_hits(void)
{
    static const char *const hits[] = {
        "idsite=1&rec=1&cid=aaaaaaaaaaaaaaaa&cdt=%lld&url=https://shop.example/&action_name=Home",
        "idsite=1&rec=1&cid=aaaaaaaaaaaaaaaa&cdt=%lld&url=https://shop.example/a/b&e_c=Video&e_a=Play&e_v=3",
        "idsite=1&rec=1&cid=aaaaaaaaaaaaaaaa&cdt=%lld&url=https://shop.example/a/b&link=https://x.example/",
        "idsite=1&rec=1&cid=bbbbbbbbbbbbbbbb&cdt=%lld&url=https://shop.example/s&search=tea&search_count=0"
        "&urlref=https://www.google.com/&dimension1=gold",
        "idsite=1&rec=1&cid=bbbbbbbbbbbbbbbb&cdt=%lld&url=https://shop.example/?mtm_campaign=c"
        "&new_visit=1&c_n=Banner&c_p=p",
        "idsite=1&rec=1&cid=bbbbbbbbbbbbbbbb&cdt=%lld&url=https://shop.example/tea&_pks=T1&_pkn=Tea"
        "&_pkc=%%5B%%22Tea%%22%%2C%%22Green%%22%%5D",
        "idsite=1&rec=1&cid=bbbbbbbbbbbbbbbb&cdt=%lld&url=https://shop.example/cart&idgoal=0"
        "&revenue=9&ec_items=%%5B%%5B%%22T1%%22%%2C%%22Tea%%22%%2C%%22Tea%%22%%2C4.5%%2C2%%5D%%5D",
        "idsite=1&rec=1&cid=bbbbbbbbbbbbbbbb&cdt=%lld&url=https://shop.example/ok&idgoal=0&ec_id=A1"
        "&revenue=12&ec_st=9&ec_tx=1&ec_sh=2&ec_items=%%5B%%5B%%22T1%%22%%2C%%22Tea%%22%%2C%%22Tea%%22"
        "%%2C4.5%%2C2%%5D%%5D",
        "idsite=1&rec=1&cid=aaaaaaaaaaaaaaaa&cdt=%lld&url=https://shop.example/a&idgoal=1&revenue=3",
    };
    long long now = (long long)(now_ms() / 1000);
    struct arena arena;
    arena_init(&arena, 0);
    for (int day = 0; day < 3; day++) {
        for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
            char query[512], err[256];
            snprintf(query, sizeof query, hits[i], now - day * 86400 - 3600 + (long long)i * 60);
            struct track_params p;
            track_params_init(&p, &arena);
            if (track_params_parse_query(&p, query, strlen(query), err, sizeof err)) abort();
            struct api_hit hit = {.params = &p};
            struct track_context ctx = {.ip = "192.0.2.1", .user_agent = "Mozilla/5.0 (X11; Linux "
                                        "x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
                                        .accept_language = "de-DE", .now_ms = now_ms(), .trusted = true,
                                        .sec_ch_ua = "", .sec_ch_ua_mobile = "", .sec_ch_ua_platform = "",
                                        .sec_ch_ua_platform_version = "", .sec_ch_ua_model = ""};
            if (api_track(api, &hit, 1, &ctx, err, sizeof err)) abort();
        }
    }
    arena_free(&arena);
}

static void setup_once(void)
{
    if (api) return;
    snprintf(data_dir, sizeof data_dir, "/tmp/tally-fuzz-reporting-XXXXXX");
    if (!mkdtemp(data_dir)) abort();
    char err[512];
    struct site draft = {.name = "Shop", .timezone = "Europe/Berlin", .currency = "EUR",
                         .honour_dnt = true, .ipv4_mask_bytes = 2, .ipv6_mask_bits = 80};
    draft.urls[draft.url_count++] = "https://shop.example";
    uint32_t id;
    struct goal manual = {.site_id = 1, .name = "Lead", .description = "", .pattern = "",
                          .match = GOAL_MATCH_MANUAL};
    struct goal pages = {.site_id = 1, .name = "A pages", .description = "", .pattern = "/a(/|$)",
                         .match = GOAL_MATCH_URL, .pattern_type = GOAL_PATTERN_REGEX,
                         .allow_multiple = true, .revenue = 1};
    /* A funnel over what seed_hits sends, for the Funnels reports. */
    struct funnel funnel = {.site_id = 1, .name = "Shop", .goal_id = 1, .step_count = 3};
    funnel.steps[0] = (struct funnel_step){.name = "A", .match = FUNNEL_MATCH_PATH,
                                           .pattern_type = GOAL_PATTERN_STARTS_WITH,
                                           .pattern = "/a", .required = true};
    funnel.steps[1] = (struct funnel_step){.name = "Play", .match = FUNNEL_MATCH_EVENT_ACTION,
                                           .pattern_type = GOAL_PATTERN_EXACT, .pattern = "Play"};
    funnel.steps[2] = (struct funnel_step){.name = "Pages", .match = FUNNEL_MATCH_GOAL,
                                           .pattern_type = GOAL_PATTERN_EXACT, .pattern = "2"};
    if (sites_add(data_dir, &draft, &id, err, sizeof err) ||
        tokens_create(data_dir, &(struct token_draft){.site_id = id}, token, NULL, err,
                      sizeof err) ||
        goals_add(data_dir, &manual, &id, err, sizeof err) ||
        goals_add(data_dir, &pages, &id, err, sizeof err) ||
        funnels_add(data_dir, &funnel, &id, err, sizeof err)) {
        fprintf(stderr, "fuzz_reporting: %s\n", err);
        abort();
    }
    const char *assets = getenv("TALLY_ASSETS");
    struct api_options opts = {.data_dir = data_dir,
                               .fsync = STORE_FSYNC_NEVER,
                               .seal_grace_ms = MS_PER_DAY,
                               .assets_dir = assets && *assets ? assets : NULL};
    if (api_create(&opts, &api, err, sizeof err)) {
        fprintf(stderr, "fuzz_reporting: %s\n", err);
        abort();
    }
    atexit(cleanup);
    seed_hits();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    struct arena arena;
    arena_init(&arena, 8u << 20);
    struct track_params p;
    track_params_init(&p, &arena);
    char err[256];
    /* The token first: the input may replace it (the last value wins). */
    track_params_add(&p, "token_auth", token);
    track_params_add(&p, "idSite", "1");
    if (track_params_parse_query(&p, (const char *)data, size, err, sizeof err) ||
        !track_params_get(&p, "method")) {
        arena_free(&arena);
        return 0;
    }
    track_params_add(&p, "module", "API");
    struct api_request req = {.method = "GET", .path = "/index.php", .query = &p,
                              .content_type = "", .origin = "",
                              .ctx = {.ip = "127.0.0.1", .user_agent = "", .accept_language = "",
                                      .sec_ch_ua = "", .sec_ch_ua_mobile = "",
                                      .sec_ch_ua_platform = "", .sec_ch_ua_platform_version = "",
                                      .sec_ch_ua_model = "", .now_ms = now_ms()}};
    struct api_response resp = {0};
    buf_init(&resp.body);
    api_handle(api, &req, &resp);
    if (resp.status != 200 && resp.status != 400 && resp.status != 401 && resp.status != 413)
        __builtin_trap();
    const char *format = track_params_get(&p, "format");
    bool json = resp.status != 200 || !format || strcasecmp(format, "json") == 0;
    if (json) {
        json_t *j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        if (!j) __builtin_trap();
        json_decref(j);
    }
    buf_free(&resp.body);
    arena_free(&arena);
    return 0;
}
