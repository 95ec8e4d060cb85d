/* enrich: anonymised IP and language here; device and bots (ua.c),
 * location (geo.c), channel, campaign and URL normalisation (channel.c)
 * through their modules. Every input is hostile; only derived values
 * survive, never the raw IP or user agent. */
#include "enrich.h"

#include "channel.h"
#include "geo.h"
#include "ua.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest language tag we keep ("zh-hant-tw" is 10; BCP 47 allows more, but
 * anything longer than this is not a real browser preference). */
#define LANG_TAG_MAX 35

/* inet_ntop formats through sprintf; this runs for every hit. */
static void format_ipv4(const unsigned char addr[4], char out[ENRICH_IP_TEXT_MAX])
{
    char *p = out;
    for (int i = 0; i < 4; i++) {
        unsigned v = addr[i];
        if (v >= 100) *p++ = (char)('0' + v / 100);
        if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
}

int enrich_anonymize_ip(const char *ip, unsigned v4_bytes, unsigned v6_bits,
                        char out[ENRICH_IP_TEXT_MAX])
{
    unsigned char addr[16];

    out[0] = '\0';
    if (!ip) return -EINVAL;
    if (v4_bytes > 4) v4_bytes = 4;
    if (v6_bits > 128) v6_bits = 128;

    if (inet_pton(AF_INET, ip, addr) == 1) {
        memset(addr + 4 - v4_bytes, 0, v4_bytes);
        format_ipv4(addr, out);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, addr) != 1) return -EINVAL;

    /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. Masking 80
     * bits of that would keep the whole IPv4 address, so such peers get the
     * IPv4 rule and are written as plain IPv4. */
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, v4_mapped, sizeof v4_mapped) == 0) {
        memset(addr + 16 - v4_bytes, 0, v4_bytes);
        format_ipv4(addr + 12, out);
        return 0;
    }

    unsigned keep_bits = 128 - v6_bits;
    for (unsigned i = 0; i < 16; i++) {
        unsigned byte_start = i * 8;
        if (byte_start >= keep_bits)
            addr[i] = 0;
        else if (byte_start + 8 > keep_bits)
            addr[i] &= (unsigned char)(0xff << (8 - (keep_bits - byte_start)));
    }
    return inet_ntop(AF_INET6, addr, out, ENRICH_IP_TEXT_MAX) ? 0 : -EINVAL;
}

/* ---- language ---------------------------------------------------------- */

/* Takes the first usable preference of an Accept-Language style list
 * ("de-AT,de;q=0.9,en;q=0.8"): a primary subtag of 2..8 letters, then
 * subtags of letters or digits ("es-419"). '_' is read as '-' because app
 * SDKs send "de_AT". Entries with q=0 and "*" are skipped. Returns false
 * when nothing usable is there. */
static bool parse_language(const char *s, char tag[LANG_TAG_MAX + 1], size_t *primary_len)
{
    while (s && *s) {
        const char *end = s + strcspn(s, ",");
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *tag_end = semi ? semi : end;
        const char *p = s;
        while (p < tag_end && (*p == ' ' || *p == '\t'))
            p++;
        while (tag_end > p && (tag_end[-1] == ' ' || tag_end[-1] == '\t'))
            tag_end--;

        bool refused = false;
        if (semi) {
            /* q=0 means "not acceptable". */
            const char *q = semi + 1;
            while (q < end && *q == ' ')
                q++;
            if (end - q >= 3 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                const char *v = q + 2;
                bool nonzero = false;
                for (; v < end && (isdigit((unsigned char)*v) || *v == '.'); v++)
                    if (*v >= '1' && *v <= '9') nonzero = true;
                refused = !nonzero;
            }
        }

        size_t len = (size_t)(tag_end - p);
        bool ok = !refused && len >= 2 && len <= LANG_TAG_MAX;
        size_t primary = 0, subtag = 0;
        bool in_primary = true;
        for (size_t i = 0; ok && i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '-' || c == '_') {
                ok = subtag > 0 && i + 1 < len;
                in_primary = false;
                subtag = 0;
                tag[i] = '-';
                continue;
            }
            if (in_primary ? !isalpha(c) : !isalnum(c)) ok = false;
            if (++subtag > 8) ok = false;
            if (in_primary) primary++;
            tag[i] = (char)tolower(c);
        }
        if (ok && primary >= 2) {
            tag[len] = '\0';
            *primary_len = primary;
            return true;
        }
        s = *end ? end + 1 : end;
    }
    return false;
}

static void enrich_language(struct track_request *req, struct arena *arena)
{
    char tag[LANG_TAG_MAX + 1];
    size_t primary = 0;
    const char *header = req->ctx ? req->ctx->accept_language : NULL;

    /* lang= (set by the tracker or an SDK) wins over the header. */
    bool found =
        parse_language(req->hit.language, tag, &primary) || parse_language(header, tag, &primary);
    if (!found) {
        req->hit.language = "";
        req->hit.locale = "";
        return;
    }
    const char *language = arena_strndup(arena, tag, primary);
    const char *locale = arena_strdup(arena, tag);
    req->hit.language = language ? language : "";
    req->hit.locale = locale ? locale : "";
}

/* ---- the enrich object ------------------------------------------------- */

struct enrich {
    struct ua_parser *ua;
    struct geo *geo;            /* NULL: no usable database, locations unknown */
    struct channel_data *channels;
};

int enrich_create(const struct enrich_options *opts, struct enrich **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    struct enrich *e = calloc(1, sizeof *e);
    if (!e) return -ENOMEM;
    int rc = ua_parser_open(opts->assets_dir, &e->ua, err, errlen);
    if (!rc) rc = channel_open(opts->assets_dir, &e->channels, err, errlen);
    if (rc) {
        enrich_destroy(e);
        return rc;
    }
    /* Without a geo database Tally still counts everything; only locations
     * stay unknown, so this is a loud warning rather than a refusal. */
    char why[512];
    if (geo_open(opts->assets_dir, opts->geoip_path, &e->geo, why, sizeof why)) {
        log_error("%s; locations will be unknown", why);
        e->geo = NULL;
    }
    *out = e;
    return 0;
}

void enrich_destroy(struct enrich *e)
{
    if (!e) return;
    ua_parser_close(e->ua);
    geo_close(e->geo);
    channel_close(e->channels);
    free(e);
}

static const char *arena_or_empty(struct arena *arena, const char *s)
{
    if (!s || !*s) return "";
    const char *copy = arena_strdup(arena, s);
    return copy ? copy : "";
}

static void enrich_device(struct enrich *e, struct track_request *req, struct arena *arena)
{
    const struct track_context *ctx = req->ctx;
    struct ua_hints hints = {
        .uadata = req->uadata ? req->uadata : "",
        .sec_ch_ua = ctx && ctx->sec_ch_ua ? ctx->sec_ch_ua : "",
        .sec_ch_ua_mobile = ctx && ctx->sec_ch_ua_mobile ? ctx->sec_ch_ua_mobile : "",
        .sec_ch_ua_platform = ctx && ctx->sec_ch_ua_platform ? ctx->sec_ch_ua_platform : "",
        .sec_ch_ua_platform_version =
            ctx && ctx->sec_ch_ua_platform_version ? ctx->sec_ch_ua_platform_version : "",
        .sec_ch_ua_model = ctx && ctx->sec_ch_ua_model ? ctx->sec_ch_ua_model : "",
    };
    struct ua_result r;
    ua_parse(e->ua, req->user_agent ? req->user_agent : "", &hints, &r);
    struct hit *h = &req->hit;
    h->browser = arena_or_empty(arena, r.browser);
    h->browser_version = arena_or_empty(arena, r.browser_version);
    h->browser_engine = arena_or_empty(arena, r.engine);
    h->os = arena_or_empty(arena, r.os);
    h->os_version = arena_or_empty(arena, r.os_version);
    h->device_type = arena_or_empty(arena, r.device_type);
    h->device_brand = arena_or_empty(arena, r.device_brand);
    h->device_model = arena_or_empty(arena, r.device_model);
    req->bot = r.bot;
    req->bot_name = arena_or_empty(arena, r.bot_name);
}

static void enrich_location(struct enrich *e, struct track_request *req, struct arena *arena)
{
    struct geo_result g = {0};
    /* The raw IP is read here and nowhere else; only the result is kept. */
    if (e->geo && req->ip) geo_lookup(e->geo, req->ip, &g);
    struct hit *h = &req->hit;
    h->country_code = arena_or_empty(arena, g.country_code);
    h->region_code = arena_or_empty(arena, g.region_code);
    h->city = arena_or_empty(arena, g.city);
    h->continent_code = arena_or_empty(arena, g.continent_code);
}

static void enrich_acquisition(struct enrich *e, struct track_request *req, struct arena *arena)
{
    struct hit *h = &req->hit;
    const struct site *site = req->site;
    struct channel_result c;
    channel_classify(e->channels, h->url ? h->url : "", h->urlref ? h->urlref : "",
                     site ? (const char *const *)site->urls : NULL, site ? site->url_count : 0,
                     arena, &c);
    /* Matomo's tracker remembers a visit's campaign in a cookie and sends
     * it as _rcn/_rck on later pages; it counts when the page itself shows
     * no campaign. */
    if (c.type != REFERRER_CAMPAIGN && req->cookie_campaign_name && req->cookie_campaign_name[0]) {
        c.type = REFERRER_CAMPAIGN;
        c.campaign_name = c.name = channel_campaign_value(req->cookie_campaign_name, arena);
        c.campaign_keyword = req->cookie_campaign_keyword && req->cookie_campaign_keyword[0]
                                 ? channel_campaign_value(req->cookie_campaign_keyword, arena)
                                 : "";
        c.keyword = "";
    }
    h->referrer_type = c.type;
    h->referrer_name = c.name;
    h->referrer_keyword = c.keyword;
    h->referrer_url = c.url;
    h->campaign_name = c.campaign_name;
    h->campaign_keyword = c.campaign_keyword;
    h->campaign_source = c.campaign_source;
    h->campaign_medium = c.campaign_medium;
    h->campaign_content = c.campaign_content;
    h->campaign_id = c.campaign_id;
    h->campaign_group = c.campaign_group;
    h->campaign_placement = c.campaign_placement;
    /* Campaign, click-id and session parameters leave the stored URL only
     * after the campaign was read from it. */
    if (h->url && h->url[0])
        h->url = channel_normalize_url(h->url, site ? (const char *const *)site->excluded_params : NULL,
                                       site ? site->excluded_param_count : 0, arena);
}

void enrich_hit(struct enrich *e, struct track_request *req, struct arena *arena)
{
    char ip[ENRICH_IP_TEXT_MAX];
    unsigned v4 = req->site ? req->site->ipv4_mask_bytes : 2;
    unsigned v6 = req->site ? req->site->ipv6_mask_bits : 80;
    if (enrich_anonymize_ip(req->ip, v4, v6, ip) == 0)
        req->hit.ip_anon = arena_or_empty(arena, ip);
    else
        req->hit.ip_anon = "";

    enrich_language(req, arena);
    enrich_device(e, req, arena);
    enrich_location(e, req, arena);
    enrich_acquisition(e, req, arena);
}

/* ---- tree levels and buckets -------------------------------------------- */

/* Splits [s, s+len) on sep into at most max levels (the last takes the
 * rest), skipping empty pieces. */
static size_t split_levels(const char *s, size_t len, const char *sep, struct arena *arena,
                           const char **levels, size_t max)
{
    size_t n = 0, sep_len = strlen(sep);
    const char *end = s + len;
    while (s < end && n < max) {
        const char *cut = n + 1 == max ? NULL : memmem(s, (size_t)(end - s), sep, sep_len);
        const char *piece_end = cut ? cut : end;
        if (piece_end > s) {
            const char *piece = arena_strndup(arena, s, (size_t)(piece_end - s));
            if (!piece) break;
            levels[n++] = piece;
        }
        s = cut ? cut + sep_len : end;
    }
    return n;
}

size_t enrich_path_levels(const char *url, struct arena *arena, const char **levels, size_t max)
{
    if (!url || max == 0) return 0;
    const char *path = url;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        path = strchr(scheme + 3, '/');
        if (!path) path = url + strlen(url);
    }
    size_t len = strcspn(path, "?#");
    size_t n = split_levels(path, len, "/", arena, levels, max);
    if (n == 0) levels[n++] = "/";
    return n;
}

size_t enrich_title_levels(const char *title, struct arena *arena, const char **levels,
                           size_t max)
{
    if (!title || max == 0) return 0;
    return split_levels(title, strlen(title), " / ", arena, levels, max);
}

const char *enrich_resolution_bucket(unsigned width)
{
    static const struct {
        unsigned below;
        const char *name;
    } buckets[] = {{640, "< 640"},      {1024, "640-1023"},  {1280, "1024-1279"},
                   {1440, "1280-1439"}, {1920, "1440-1919"}, {2560, "1920-2559"}};
    if (width == 0) return "";
    for (size_t i = 0; i < sizeof buckets / sizeof *buckets; i++)
        if (width < buckets[i].below) return buckets[i].name;
    return "2560+";
}
