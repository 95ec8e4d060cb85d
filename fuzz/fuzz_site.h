/* The one in-memory site the track harnesses parse against: no disk, so a
 * fuzz run is fast and the harness has no state between inputs. */
#ifndef TALLY_FUZZ_SITE_H
#define TALLY_FUZZ_SITE_H

#include "../src/config/config.h"
#include "../src/track/track.h"

static struct site fuzz_site_one = {
    .id = 1,
    .name = "Fuzz shop",
    .urls = {"https://shop.example.com"},
    .url_count = 1,
    .timezone = "UTC",
    .currency = "EUR",
    .honour_dnt = true,
    .ipv4_mask_bytes = 2,
    .ipv6_mask_bits = 80,
};
static const struct sites fuzz_sites = {.items = &fuzz_site_one, .count = 1};

/* Parses params twice, as an anonymous tracker and as a trusted caller
 * (which unlocks cdt and cip), and checks what track_parse promises. */
static void fuzz_parse(const struct track_params *params, struct arena *arena)
{
    for (int trusted = 0; trusted < 2; trusted++) {
        struct track_context ctx = {
            .ip = "198.51.100.7",
            .user_agent = "FuzzAgent/1.0",
            .accept_language = "",
            .sec_ch_ua = "",
            .sec_ch_ua_mobile = "",
            .sec_ch_ua_platform = "",
            .sec_ch_ua_platform_version = "",
            .sec_ch_ua_model = "",
            .now_ms = 1767225600000LL,
            .token_auth = "",
            .trusted = trusted == 1,
        };
        struct track_request req;
        char err[512];
        err[0] = '\0';
        int rc = track_parse(params, &ctx, &fuzz_sites, NULL, NULL, arena, &req, err, sizeof err);
        if (rc == TRACK_INVALID && !err[0]) __builtin_trap(); /* every refusal says why */
        if (rc != TRACK_OK) continue;
        const struct hit *h = &req.hit;
        if (h->site_id != 1 || h->kind < HIT_PAGEVIEW || h->kind >= HIT_KIND_COUNT)
            __builtin_trap();
            /* Every string is set and can be read to its end. */
#define FUZZ_TOUCH_U8(name)
#define FUZZ_TOUCH_U16(name)
#define FUZZ_TOUCH_U32(name)
#define FUZZ_TOUCH_U64(name)
#define FUZZ_TOUCH_I32(name)
#define FUZZ_TOUCH_I64(name)
#define FUZZ_TOUCH_F64(name)
#define FUZZ_TOUCH_STR(name)                                                                       \
    if (!h->name || strlen(h->name) > (1u << 24)) __builtin_trap();
#define FUZZ_TOUCH(type, name) FUZZ_TOUCH_##type(name)
        HIT_FIELDS(FUZZ_TOUCH)
        if (strlen(req.ip) + strlen(req.user_agent) + strlen(req.uadata) + strlen(req.visitor_hex) +
                strlen(req.forced_visitor_hex) >
            (1u << 26))
            __builtin_trap();
    }
}

#endif
