#include "demo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "session/session.h"

/* A small tea shop: pages, products and the ways people find it. The
 * weights follow what a typical small commerce site sees: a third direct,
 * a third search, the rest social, links, campaigns and AI assistants. */

struct page {
    const char *path, *title;
    int product; /* index into products, or -1 */
};

struct product {
    const char *sku, *name, *category;
    double price;
};

static const struct product products[] = {
    {"TEA-SENCHA", "Sencha Green Tea", "Green tea", 12.50},
    {"TEA-DARJ", "Darjeeling First Flush", "Black tea", 16.90},
    {"TEA-EARL", "Earl Grey", "Black tea", 9.90},
    {"TEA-ROOI", "Rooibos Vanilla", "Herbal tea", 8.50},
    {"MUG-BLUE", "Blue Mug", "Mugs", 14.00},
    {"POT-CAST", "Cast Iron Teapot", "Teapots", 49.00},
};

static const struct page pages[] = {
    {"/", "Leaf & Cup - Fine Teas", -1},
    {"/shop", "Shop", -1},
    {"/shop/green-tea/sencha", "Sencha Green Tea", 0},
    {"/shop/black-tea/darjeeling", "Darjeeling First Flush", 1},
    {"/shop/black-tea/earl-grey", "Earl Grey", 2},
    {"/shop/herbal/rooibos-vanilla", "Rooibos Vanilla", 3},
    {"/shop/accessories/blue-mug", "Blue Mug", 4},
    {"/shop/accessories/cast-iron-teapot", "Cast Iron Teapot", 5},
    {"/blog", "Blog", -1},
    {"/blog/how-to-brew-green-tea", "How to brew green tea", -1},
    {"/blog/caffeine-in-tea", "How much caffeine is in tea?", -1},
    {"/blog/history-of-earl-grey", "The history of Earl Grey", -1},
    {"/about", "About us", -1},
    {"/contact", "Contact", -1},
    {"/shipping", "Shipping & returns", -1},
    /* Reached from a cart only, never by browsing: */
    {"/cart", "Your cart", -1},
    {"/checkout", "Checkout", -1},
};
#define PAGE_COUNT ((unsigned)(sizeof pages / sizeof pages[0]))
#define PAGE_CONTACT 13
#define PAGE_CART 15
#define PAGE_CHECKOUT 16
#define PAGE_BROWSABLE PAGE_CART /* pages[0 .. PAGE_CART-1] */

/* Page `index` of the site: the shop's own below PAGE_COUNT, then the
 * catalogue's, named into path and title (PAGE_NAME_MAX bytes each). */
#define PAGE_NAME_MAX 48
static struct page page_at(unsigned index, char *path, char *title)
{
    if (index < PAGE_COUNT) return pages[index];
    unsigned k = index - PAGE_COUNT, n = k / 3 + 1;
    switch (k % 3) {
    case 0:
        snprintf(path, PAGE_NAME_MAX, "/blog/notes-%u", n);
        snprintf(title, PAGE_NAME_MAX, "Tea notes %u", n);
        break;
    case 1:
        snprintf(path, PAGE_NAME_MAX, "/shop/teas/tea-%u", n);
        snprintf(title, PAGE_NAME_MAX, "Tea no. %u", n);
        break;
    default:
        snprintf(path, PAGE_NAME_MAX, "/recipes/recipe-%u", n);
        snprintf(title, PAGE_NAME_MAX, "Recipe %u", n);
        break;
    }
    return (struct page){path, title, -1};
}

struct device {
    const char *user_agent;
    const char *resolution;
    unsigned weight;
};

static const struct device devices[] = {
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36",
     "1920x1080", 24},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
     "393x852", 20},
    {"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.6778.81 Mobile Safari/537.36",
     "412x915", 16},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Safari/605.1.15",
     "1440x900", 10},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
     "1536x864", 8},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
     "1920x1080", 8},
    {"Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.6 Mobile/15E148 Safari/604.1",
     "820x1180", 5},
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
     "384x854", 5},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36",
     "2560x1440", 4},
};

/* Address blocks allocated to providers in each country, so that a geo
 * database (issue 3) places visitors plausibly. */
struct country {
    const char *language;
    uint8_t first_octet, second_lo, second_hi;
    unsigned weight;
};

static const struct country countries[] = {
    {"en-US,en;q=0.9", 73, 0, 255, 30},    /* US, Comcast */
    {"de-DE,de;q=0.9,en;q=0.8", 87, 128, 191, 18}, /* DE, Deutsche Telekom */
    {"en-GB,en;q=0.9", 86, 128, 191, 12},  /* GB, BT */
    {"fr-FR,fr;q=0.9,en;q=0.7", 90, 0, 127, 10},   /* FR, Orange */
    {"nl-NL,nl;q=0.9,en;q=0.8", 145, 128, 159, 6},
    {"ja-JP,ja;q=0.9", 126, 0, 255, 6},    /* JP, SoftBank */
    {"pt-BR,pt;q=0.9", 177, 0, 255, 6},
    {"en-IN,en;q=0.9,hi;q=0.8", 49, 32, 63, 6},
    {"en-CA,en;q=0.9,fr-CA;q=0.8", 24, 48, 79, 6},
};

enum acquisition { ACQ_DIRECT, ACQ_SEARCH, ACQ_SOCIAL, ACQ_WEBSITE, ACQ_CAMPAIGN, ACQ_AI };

static const char *const search_referrers[] = {
    "https://www.google.com/", "https://www.google.de/", "https://www.bing.com/search?q=sencha+tea",
    "https://duckduckgo.com/", "https://search.yahoo.com/search?p=earl+grey+tea",
};
static const char *const social_referrers[] = {
    "https://www.facebook.com/", "https://t.co/x7Qz3", "https://www.linkedin.com/",
    "https://www.reddit.com/r/tea/comments/abc123/best_sencha/", "https://www.instagram.com/",
};
static const char *const website_referrers[] = {
    "https://news.ycombinator.com/item?id=41234567", "https://www.seriouseats.com/tea-guide",
    "https://teaforum.example.org/t/where-to-buy-darjeeling/1234",
};
static const char *const ai_referrers[] = {
    "https://chatgpt.com/", "https://www.perplexity.ai/", "https://gemini.google.com/",
    "https://claude.ai/",
};
static const char *const campaign_queries[] = {
    "utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale",
    "mtm_campaign=black-friday&mtm_source=google&mtm_medium=cpc&mtm_keyword=cast+iron+teapot",
    "utm_source=facebook&utm_medium=paid-social&utm_campaign=green-tea-launch&utm_content=video",
    "pk_campaign=partner-blog&pk_source=seriouseats",
    "gclid=Cj0KCQiA7se8BhCAARIsAKnF3rz",
};
static const char *const search_terms[] = {"sencha", "teapot", "caffeine", "gift card", "matcha",
                                           "earl grey decaf"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64: tiny, fast and good enough to make traffic look organic. */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r) { return hash_mix64(r->state += 0x9e3779b97f4a7c15ull); }

static unsigned rng_below(struct rng *r, unsigned n) { return (unsigned)(rng_next(r) % n); }

static bool rng_chance(struct rng *r, double p)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0 < p;
}

#define PICK(r, a) ((a)[rng_below((r), COUNT(a))])

static unsigned pick_weighted(struct rng *r, const unsigned *weights, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++) total += weights[i];
    unsigned x = rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i]) return (unsigned)i;
        x -= weights[i];
    }
    return (unsigned)n - 1;
}

struct visitor {
    char id_hex[17];        /* "" for a cookieless visitor */
    char user_id[24];       /* "" unless the visitor logs in */
    char ip[16];
    unsigned device, country;
    int64_t busy_until_ms;  /* end of the visitor's last visit */
};

struct demo {
    struct api *api;
    const struct site *site;
    const struct tz *tz;
    struct rng rng;
    struct arena arena;
    struct demo_result *result;
    int64_t now_ms;       /* arrival time of every hit (their cdt says when they happened) */
    int64_t end_ms;       /* end of the traffic */
    double *popularity;   /* cumulative Zipf weights of the browsable pages */
    unsigned browsable;   /* PAGE_BROWSABLE + the catalogue */
    unsigned orders;
    /* The current visit's hits, not yet tracked; their strings are in arena. */
#define DEMO_BATCH 64
    struct track_params params[DEMO_BATCH];
    struct api_hit hits[DEMO_BATCH];
    size_t pending;
    char err[256];
};

/* A visit's hits go to api_track together, as a bulk request would send
 * them: one log write for the lot. */
static int demo_flush(struct demo *d, const struct visitor *v)
{
    if (!d->pending) return 0;
    struct track_context ctx = {
        .ip = v->ip,
        .user_agent = devices[v->device].user_agent,
        .accept_language = countries[v->country].language,
        .sec_ch_ua = "", .sec_ch_ua_mobile = "", .sec_ch_ua_platform = "",
        .sec_ch_ua_platform_version = "", .sec_ch_ua_model = "",
        .now_ms = d->now_ms,
        .token_auth = "",
        .trusted = true,
    };
    size_t count = d->pending;
    d->pending = 0;
    int rc = api_track(d->api, d->hits, count, &ctx, d->err, sizeof d->err);
    arena_reset(&d->arena);
    if (rc) return rc;
    for (size_t i = 0; i < count; i++) {
        if (d->hits[i].result == API_HIT_INVALID) {
            d->result->hits_refused++;
            log_warn("demo: a generated hit was refused: %s", d->err);
        }
        if (d->hits[i].result == API_HIT_STORED) d->result->hits_stored++;
    }
    return 0;
}

/* Queues one hit of visitor v: common parameters from the visitor, then
 * `extra` ("name=value&..." already URL-encoded). */
static int demo_send(struct demo *d, const struct visitor *v, int64_t time_ms, const char *extra)
{
    int rc;
    if (d->pending == DEMO_BATCH && (rc = demo_flush(d, v))) return rc;
    struct buf q;
    buf_init(&q);
    /* h/m/s are the visitor's clock; the site's zone stands in for it. */
    int64_t local = time_ms + tz_offset_ms(d->tz, time_ms);
    int64_t secs = (local / 1000) % 86400;
    buf_printf(&q, "idsite=%" PRIu32 "&rec=1&send_image=0&res=%s&h=%d&m=%d&s=%d&cdt=%.3f",
               d->site->id, devices[v->device].resolution, (int)(secs / 3600),
               (int)(secs / 60 % 60), (int)(secs % 60), (double)time_ms / 1000.0);
    if (v->id_hex[0]) buf_printf(&q, "&_id=%s", v->id_hex);
    if (v->user_id[0]) buf_printf(&q, "&uid=%s", v->user_id);
    buf_printf(&q, "&r=%06u&%s", rng_below(&d->rng, 1000000), extra);

    struct track_params *params = &d->params[d->pending];
    track_params_init(params, &d->arena);
    rc = track_params_parse_query(params, q.data, q.len, d->err, sizeof d->err);
    buf_free(&q);
    if (rc) return rc;
    d->hits[d->pending++] = (struct api_hit){.params = params};
    d->result->hits_sent++;
    return 0;
}

static void url_of(const struct demo *d, const struct page *p, const char *query, struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "%s%s%s%s", d->site->urls[0], p->path, query[0] ? "?" : "", query);
}

/* Percent-encodes s for a query value. */
static void put_encoded(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p)) {
            buf_putc(b, (char)*p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
}

static void put_param(struct buf *b, const char *name, const char *value)
{
    buf_printf(b, "&%s=", name);
    put_encoded(b, value);
}

/* Zipf's law: the k-th most visited page gets 1/k of the first one's
 * visits. Ranks follow the page order: the home page first, the shop's own
 * pages, then the catalogue. */
static double *page_popularity(unsigned browsable)
{
    double *cumulative = malloc(browsable * sizeof *cumulative), sum = 0;
    if (!cumulative) return NULL;
    for (unsigned k = 0; k < browsable; k++) cumulative[k] = sum += 1.0 / (k + 1);
    return cumulative;
}

/* A browsable page, by popularity: its index for page_at. */
static unsigned pick_page(struct demo *d)
{
    double x = (double)(rng_next(&d->rng) >> 11) / 9007199254740992.0 *
               d->popularity[d->browsable - 1];
    unsigned lo = 0, hi = d->browsable - 1;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (d->popularity[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < PAGE_BROWSABLE ? lo : PAGE_COUNT + (lo - PAGE_BROWSABLE);
}

/* One visit: landing page from its acquisition, a few more pages, and the
 * events, searches, downloads, goals and orders real visits contain. */
static int demo_visit(struct demo *d, struct visitor *v, int64_t start_ms)
{
    struct rng *r = &d->rng;
    static const unsigned acq_weights[] = {34, 30, 10, 8, 12, 6};
    enum acquisition acq = pick_weighted(r, acq_weights, COUNT(acq_weights));
    const char *referrer = "";
    const char *landing_query = "";
    switch (acq) {
    case ACQ_DIRECT: break;
    case ACQ_SEARCH: referrer = PICK(r, search_referrers); break;
    case ACQ_SOCIAL: referrer = PICK(r, social_referrers); break;
    case ACQ_WEBSITE: referrer = PICK(r, website_referrers); break;
    case ACQ_CAMPAIGN: landing_query = PICK(r, campaign_queries); break;
    case ACQ_AI: referrer = PICK(r, ai_referrers); break;
    }

    /* About 42% bounce; the others read 4 pages on average. */
    unsigned page_count = 1;
    while (page_count < 40 && rng_chance(r, page_count == 1 ? 0.58 : 0.75)) page_count++;
    unsigned page = acq == ACQ_DIRECT ? 0 : pick_page(d);

    struct buf url, prev_url, extra, items;
    buf_init(&url);
    buf_init(&prev_url);
    buf_init(&extra);
    buf_init(&items);
    int64_t t = start_ms;
    int rc = 0;
    int cart_product = -1;
    for (unsigned i = 0; i < page_count && !rc && t < d->end_ms; i++) {
        char path[PAGE_NAME_MAX], title[PAGE_NAME_MAX];
        const struct page at = page_at(page, path, title), *p = &at;
        url_of(d, p, i == 0 ? landing_query : "", &url);
        char pv_id[7];
        snprintf(pv_id, sizeof pv_id, "%06x", rng_below(r, 0xffffff));
        buf_reset(&extra);
        put_param(&extra, "url", url.data);
        put_param(&extra, "action_name", p->title);
        put_param(&extra, "urlref", i == 0 ? referrer : prev_url.data);
        put_param(&extra, "pv_id", pv_id);
        if (i == 0)
            buf_printf(&extra, "&pf_net=%u&pf_srv=%u&pf_tfr=%u&pf_dm1=%u", rng_below(r, 80),
                       40 + rng_below(r, 300), rng_below(r, 40), 200 + rng_below(r, 1500));
        if (p->product >= 0) {
            const struct product *pr = &products[p->product];
            put_param(&extra, "_pks", pr->sku);
            put_param(&extra, "_pkn", pr->name);
            put_param(&extra, "_pkc", pr->category);
            buf_printf(&extra, "&_pkp=%.2f", pr->price);
        }
        rc = demo_send(d, v, t, extra.data);

        /* What happens on the page. */
        int64_t on_page = 1000 * (int64_t)(8 + rng_below(r, 170));
        if (!rc && rng_chance(r, 0.10)) {
            buf_reset(&extra);
            buf_printf(&extra, "ca=1&e_c=Video&e_a=%s&e_v=%u", rng_chance(r, 0.7) ? "Play" : "Pause",
                       rng_below(r, 120));
            put_param(&extra, "e_n", p->title);
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page / 3, extra.data);
        }
        if (!rc && rng_chance(r, 0.06)) {
            const char *term = PICK(r, search_terms);
            buf_reset(&extra);
            put_param(&extra, "search", term);
            buf_printf(&extra, "&search_cat=Shop&search_count=%u", rng_below(r, 9));
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page / 2, extra.data);
        }
        if (!rc && rng_chance(r, 0.03)) {
            buf_reset(&extra);
            buf_printf(&extra, "download=%s/files/brewing-guide.pdf", d->site->urls[0]);
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page / 2, extra.data);
        }
        if (!rc && rng_chance(r, 0.03)) {
            buf_reset(&extra);
            put_param(&extra, "link", "https://www.instagram.com/leafandcup/");
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page / 2, extra.data);
        }
        if (!rc && i == 0 && rng_chance(r, 0.05)) {
            buf_reset(&extra);
            buf_puts(&extra, "ca=1&c_n=Spring%20banner&c_p=%2Fimg%2Fspring.jpg&c_t=%2Fshop");
            if (rng_chance(r, 0.3)) buf_puts(&extra, "&c_i=click");
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + 2000, extra.data);
        }
        if (!rc && rng_chance(r, 0.15)) {
            buf_reset(&extra);
            buf_puts(&extra, "ping=1");
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page - 1000, extra.data);
        }
        if (!rc && p->product >= 0 && rng_chance(r, 0.25)) {
            const struct product *pr = &products[p->product];
            cart_product = p->product;
            buf_reset(&items);
            buf_printf(&items, "[[\"%s\",\"%s\",\"%s\",%.2f,1]]", pr->sku, pr->name, pr->category,
                       pr->price);
            buf_reset(&extra);
            buf_printf(&extra, "idgoal=0&revenue=%.2f", pr->price);
            put_param(&extra, "ec_items", items.data);
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page * 2 / 3, extra.data);
        }
        if (!rc && page == PAGE_CONTACT && rng_chance(r, 0.3)) { /* newsletter sign-up goal */
            buf_reset(&extra);
            buf_puts(&extra, "idgoal=1&revenue=2");
            put_param(&extra, "url", url.data);
            rc = demo_send(d, v, t + on_page / 2, extra.data);
        }
        t += on_page;
        buf_reset(&prev_url);
        buf_append(&prev_url, url.data, url.len);
        page = cart_product >= 0 && rng_chance(r, 0.4) ? PAGE_CART : pick_page(d);
    }

    /* Some carts become orders: the checkout page, then the order on it. */
    if (!rc && cart_product >= 0 && rng_chance(r, 0.55) && t + 60000 < d->end_ms) {
        url_of(d, &pages[PAGE_CHECKOUT], "", &url);
        buf_reset(&extra);
        put_param(&extra, "url", url.data);
        put_param(&extra, "action_name", pages[PAGE_CHECKOUT].title);
        put_param(&extra, "urlref", prev_url.data);
        rc = demo_send(d, v, t, extra.data);
        t += 30000;

        const struct product *pr = &products[cart_product];
        unsigned quantity = 1 + rng_below(r, 3);
        double subtotal = pr->price * quantity, shipping = subtotal >= 40 ? 0 : 4.90;
        double tax = subtotal * 0.19 / 1.19, discount = rng_chance(r, 0.2) ? 5 : 0;
        buf_reset(&items);
        buf_printf(&items, "[[\"%s\",\"%s\",\"%s\",%.2f,%u]]", pr->sku, pr->name, pr->category,
                   pr->price, quantity);
        buf_reset(&extra);
        buf_printf(&extra,
                   "idgoal=0&ec_id=D%06u&revenue=%.2f&ec_st=%.2f&ec_tx=%.2f&ec_sh=%.2f&ec_dt=%.2f",
                   ++d->orders, subtotal + shipping - discount, subtotal, tax, shipping, discount);
        put_param(&extra, "ec_items", items.data);
        put_param(&extra, "url", url.data);
        if (!rc) rc = demo_send(d, v, t, extra.data);
        t += 5000;
    }
    if (!rc) rc = demo_flush(d, v);
    v->busy_until_ms = t + SESSION_TIMEOUT_MS + 60000;
    buf_free(&url);
    buf_free(&prev_url);
    buf_free(&extra);
    buf_free(&items);
    return rc;
}

static size_t demo_total_visits(const struct demo_options *opts)
{
    return (size_t)opts->visits + (opts->history_days ? opts->history_visits : 0);
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Visit start times: more on weekdays and in the local afternoon and
 * evening, as shop traffic is. */
static int64_t *visit_starts(struct demo *d, const struct demo_options *opts, const struct tz *tz)
{
    static const unsigned hour_weights[24] = {2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9,
                                              10, 10, 9, 9, 9, 10, 11, 12, 12, 10, 7, 4};
    size_t total = demo_total_visits(opts);
    int64_t *starts = malloc(sizeof *starts * (total ? total : 1));
    if (!starts) return NULL;
    int64_t last_day = tz_local_day(tz, d->end_ms - 1);
    for (size_t i = 0; i < total; i++) {
        bool history = i < total - opts->visits;
        int64_t start;
        do {
            int64_t day = last_day - (history ? (int64_t)opts->days +
                                                    rng_below(&d->rng, opts->history_days)
                                              : rng_below(&d->rng, opts->days));
            int weekday = (int)((day + 4) % 7); /* 0 = Sunday */
            if ((weekday == 0 || weekday == 6) && rng_chance(&d->rng, 0.3)) continue;
            unsigned hour = pick_weighted(&d->rng, hour_weights, 24);
            start = tz_day_start_ms(tz, day) + (int64_t)hour * 3600000 +
                    (int64_t)rng_below(&d->rng, 3600000);
            if (start < d->end_ms - 60000) break;
        } while (1);
        starts[i] = start;
    }
    qsort(starts, total, sizeof *starts, compare_i64);
    return starts;
}

static void new_visitor(struct demo *d, struct visitor *v)
{
    static const unsigned device_weights[COUNT(devices)] = {24, 20, 16, 10, 8, 8, 5, 5, 4};
    static const unsigned country_weights[COUNT(countries)] = {30, 18, 12, 10, 6, 6, 6, 6, 6};
    struct rng *r = &d->rng;
    memset(v, 0, sizeof *v);
    if (rng_chance(r, 0.75))
        snprintf(v->id_hex, sizeof v->id_hex, "%016" PRIx64, rng_next(r));
    if (rng_chance(r, 0.05)) snprintf(v->user_id, sizeof v->user_id, "customer-%u", rng_below(r, 100000));
    v->device = pick_weighted(r, device_weights, COUNT(devices));
    v->country = pick_weighted(r, country_weights, COUNT(countries));
    const struct country *c = &countries[v->country];
    snprintf(v->ip, sizeof v->ip, "%u.%u.%u.%u", c->first_octet,
             c->second_lo + rng_below(r, (unsigned)(c->second_hi - c->second_lo) + 1),
             rng_below(r, 256), 1 + rng_below(r, 254));
}

int demo_goals(const char *data_dir, uint32_t site_id, char *err, size_t errlen)
{
    static const struct goal goals[] = {
        /* first: the traffic tracks it as idgoal=1 */
        {.name = "Newsletter sign-up", .match = GOAL_MATCH_MANUAL, .revenue = 2},
        {.name = "Contact page", .match = GOAL_MATCH_URL, .pattern_type = GOAL_PATTERN_CONTAINS,
         .pattern = "/contact"},
        {.name = "Blog reader", .match = GOAL_MATCH_URL,
         .pattern_type = GOAL_PATTERN_REGEX, .pattern = "/blog/[a-z-]+$"},
        {.name = "Brewing guide", .match = GOAL_MATCH_DOWNLOAD,
         .pattern_type = GOAL_PATTERN_ENDS_WITH, .pattern = "brewing-guide.pdf", .revenue = 1,
         .allow_multiple = true},
    };
    struct goals *existing;
    int rc = goals_load(data_dir, &existing, err, errlen);
    if (rc) return rc;
    size_t cursor = 0;
    bool has_goals = goals_for_site(existing, site_id, &cursor) != NULL;
    goals_free(existing);
    for (size_t i = 0; !has_goals && i < sizeof goals / sizeof *goals; i++) {
        struct goal draft = goals[i];
        uint32_t id;
        draft.site_id = site_id;
        draft.description = "";
        if (!draft.pattern) draft.pattern = "";
        rc = goals_add(data_dir, &draft, &id, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

int demo_funnel(const char *data_dir, uint32_t site_id, char *err, size_t errlen)
{
    struct funnels *existing;
    int rc = funnels_load(data_dir, &existing, err, errlen);
    if (rc) return rc;
    size_t cursor = 0;
    bool has_funnel = funnels_for_site(existing, site_id, &cursor) != NULL;
    funnels_free(existing);
    if (has_funnel) return 0;
    struct funnel draft = {
        .site_id = site_id,
        .name = "Checkout",
        .steps =
            {
                {.name = "Product page", .match = FUNNEL_MATCH_PATH,
                 .pattern_type = GOAL_PATTERN_REGEX, .pattern = "^/shop/[a-z-]+/[a-z-]+$"},
                {.name = "Cart", .match = FUNNEL_MATCH_PATH, .pattern_type = GOAL_PATTERN_EXACT,
                 .pattern = "/cart", .required = true},
                {.name = "Checkout", .match = FUNNEL_MATCH_PATH,
                 .pattern_type = GOAL_PATTERN_EXACT, .pattern = "/checkout", .required = true},
            },
        .step_count = 3,
    };
    uint32_t id;
    return funnels_add(data_dir, &draft, &id, err, errlen);
}

int demo_run(struct api *api, const struct site *site, const struct demo_options *opts,
             struct demo_result *result, char *err, size_t errlen)
{
    *result = (struct demo_result){0};
    size_t total = demo_total_visits(opts);
    if (!total || !opts->days) return 0;
    struct tz *tz;
    if (tz_load(site->timezone, &tz)) {
        snprintf(err, errlen, "time zone %s of site %" PRIu32 " cannot be read", site->timezone,
                 site->id);
        return -EINVAL;
    }
    struct demo d = {.api = api, .site = site, .tz = tz, .rng = {opts->seed}, .result = result,
                     .now_ms = now_ms(), .browsable = PAGE_BROWSABLE + opts->catalogue};
    d.end_ms = opts->end_ms ? opts->end_ms : d.now_ms;
    arena_init(&d.arena, 0);
    d.popularity = page_popularity(d.browsable);
    int64_t *starts = visit_starts(&d, opts, tz);
    /* About 35% of visits come from people who were here before. */
    struct visitor *visitors = calloc(total, sizeof *visitors);
    int rc = starts && visitors && d.popularity ? 0 : -ENOMEM;
    size_t visitor_count = 0;
    int64_t day = INT64_MIN;
    for (size_t i = 0; i < total && !rc; i++) {
        if (tz_local_day(tz, starts[i]) != day) {
            /* Every hit of the visits started so far is stored: the days
             * before this one are complete, and sealing them keeps the
             * memory tables to a day or two. */
            if (day != INT64_MIN) {
                api_maintain(api, starts[i]);
                if (opts->progress) opts->progress(result, starts[i], opts->progress_arg);
            }
            day = tz_local_day(tz, starts[i]);
        }
        struct visitor *v = NULL;
        if (visitor_count && rng_chance(&d.rng, 0.35)) {
            /* The newer a visitor, the likelier the return: the age rank
             * (0 the newest) is a uniform draw below a uniform draw, so
             * retention falls off month after month as a shop's does. */
            unsigned age = rng_below(&d.rng, rng_below(&d.rng, (unsigned)visitor_count) + 1);
            struct visitor *candidate = &visitors[visitor_count - 1 - age];
            if (candidate->busy_until_ms < starts[i]) v = candidate;
        }
        if (!v) {
            v = &visitors[visitor_count++];
            new_visitor(&d, v);
        }
        rc = demo_visit(&d, v, starts[i]);
    }
    if (rc) snprintf(err, errlen, "storing demo hits failed: %s", d.err[0] ? d.err : strerror(-rc));
    free(starts);
    free(visitors);
    free(d.popularity);
    arena_free(&d.arena);
    tz_free(tz);
    return rc;
}
