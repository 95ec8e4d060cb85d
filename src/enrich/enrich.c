/* enrich: anonymised IP, language, browser/OS/device and acquisition
 * (campaign or referrer) for one hit.
 *
 * Issue 2 scope: device detection here is a handful of documented rules
 * (client hints first, then user-agent substrings); issue 3 replaces it with
 * uap-core and adds geolocation and search/social referrers. Every input is
 * hostile: nothing is copied from the user agent except a recognised name
 * and a major version made of digits, so the raw string never survives. */
#include "enrich.h"

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
/* Brand and model names from client hints are free text chosen by the
 * browser; we keep at most this many bytes of them. */
#define HINT_TEXT_MAX 40

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
        return inet_ntop(AF_INET, addr, out, ENRICH_IP_TEXT_MAX) ? 0 : -EINVAL;
    }
    if (inet_pton(AF_INET6, ip, addr) != 1) return -EINVAL;

    /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. Masking 80
     * bits of that would keep the whole IPv4 address, so such peers get the
     * IPv4 rule and are written as plain IPv4. */
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, v4_mapped, sizeof v4_mapped) == 0) {
        memset(addr + 16 - v4_bytes, 0, v4_bytes);
        return inet_ntop(AF_INET, addr + 12, out, ENRICH_IP_TEXT_MAX) ? 0 : -EINVAL;
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

/* ---- device: user agent rules ----------------------------------------- */

struct device {
    const char *browser;
    char browser_version[12];
    const char *os;
    char os_version[12];
    const char *device_type;
    char device_model[HINT_TEXT_MAX + 1];
};

/* Copies the leading digits after `marker` in ua ("Chrome/120.0.1" -> "120").
 * Only digits are copied, so nothing else of the user agent is kept. */
static void major_after(const char *ua, const char *marker, char out[12])
{
    out[0] = '\0';
    const char *p = strstr(ua, marker);
    if (!p) return;
    p += strlen(marker);
    size_t n = 0;
    while (n < 11 && isdigit((unsigned char)p[n])) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
}

static void copy_digits(const char *s, char out[12])
{
    size_t n = 0;
    while (s && n < 11 && isdigit((unsigned char)s[n])) {
        out[n] = s[n];
        n++;
    }
    out[n] = '\0';
}

/* Order matters: Edge, Opera and Samsung Internet also say "Chrome/" and
 * "Safari/"; Chrome also says "Safari/"; iOS also says "like Mac OS X";
 * Android also says "Linux". */
static void device_from_user_agent(const char *ua, struct device *d)
{
    if (!ua || !*ua) return;

    static const struct {
        const char *marker;
        const char *name;
    } browsers[] = {
        {"EdgA/", "Edge"},
        {"EdgiOS/", "Edge"},
        {"Edg/", "Edge"},
        {"Edge/", "Edge"},
        {"OPR/", "Opera"},
        {"OPiOS/", "Opera"},
        {"SamsungBrowser/", "Samsung Internet"},
        {"FxiOS/", "Firefox"},
        {"Firefox/", "Firefox"},
        {"CriOS/", "Chrome"},
        {"Chrome/", "Chrome"},
    };
    for (size_t i = 0; i < sizeof browsers / sizeof browsers[0]; i++) {
        if (strstr(ua, browsers[i].marker)) {
            d->browser = browsers[i].name;
            major_after(ua, browsers[i].marker, d->browser_version);
            break;
        }
    }
    if (!d->browser && strstr(ua, "Safari/") && strstr(ua, "Version/")) {
        d->browser = "Safari";
        major_after(ua, "Version/", d->browser_version);
    } else if (!d->browser && strncmp(ua, "Opera/", 6) == 0) {
        d->browser = "Opera";
        major_after(ua, "Version/", d->browser_version);
    }

    bool ipad = strstr(ua, "iPad") != NULL;
    bool iphone = strstr(ua, "iPhone") != NULL || strstr(ua, "iPod") != NULL;
    bool android = strstr(ua, "Android") != NULL;
    bool mobile = strstr(ua, "Mobile") != NULL;
    if (ipad || iphone) {
        d->os = "iOS";
        major_after(ua, " OS ", d->os_version); /* "CPU iPhone OS 17_2 like" */
        d->device_type = ipad ? "tablet" : "smartphone";
    } else if (android) {
        d->os = "Android";
        major_after(ua, "Android ", d->os_version);
        d->device_type = mobile ? "smartphone" : "tablet";
    } else if (strstr(ua, "Windows")) {
        d->os = "Windows";
        static const struct {
            const char *nt, *name;
        } versions[] = {{"Windows NT 10.0", "10"},
                        {"Windows NT 6.3", "8.1"},
                        {"Windows NT 6.2", "8"},
                        {"Windows NT 6.1", "7"}};
        for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
            if (strstr(ua, versions[i].nt)) {
                snprintf(d->os_version, sizeof d->os_version, "%s", versions[i].name);
                break;
            }
        d->device_type = "desktop";
    } else if (strstr(ua, "CrOS")) {
        d->os = "ChromeOS";
        d->device_type = "desktop";
    } else if (strstr(ua, "Macintosh") || strstr(ua, "Mac OS X")) {
        /* iPadOS 13+ Safari sends this desktop user agent too; without
         * touch information (issue 3) such iPads count as macOS desktops. */
        d->os = "macOS";
        /* Browsers froze this at 10_15_7; "10" alone would lump sixteen
         * releases together, so 10.x keeps its minor number. */
        const char *p = strstr(ua, "Mac OS X ");
        if (p) {
            int major = 0, minor = 0;
            p += strlen("Mac OS X ");
            if (sscanf(p, "%3d%*[._]%3d", &major, &minor) == 2 && major == 10)
                snprintf(d->os_version, sizeof d->os_version, "10.%d", minor);
            else if (major > 0)
                snprintf(d->os_version, sizeof d->os_version, "%d", major);
        }
        d->device_type = "desktop";
    } else if (strstr(ua, "Linux")) {
        d->os = "Linux";
        d->device_type = mobile ? "smartphone" : "desktop";
    } else if (mobile) {
        d->device_type = "smartphone";
    }
}

/* ---- device: client hints ---------------------------------------------- */

/* "Not_A Brand", "Not A(Brand", "Not)A;Brand", "Not/A)Brand": GREASE
 * entries Chromium adds so servers do not hard-code the list. */
static bool brand_is_grease(const char *brand)
{
    return strncasecmp(brand, "not", 3) == 0 && strcasestr(brand, "brand") != NULL;
}

static const char *brand_name(const char *brand, struct arena *arena)
{
    static const struct {
        const char *brand, *name;
    } known[] = {
        {"Google Chrome", "Chrome"},
        {"Microsoft Edge", "Edge"},
        {"Opera", "Opera"},
        {"Opera GX", "Opera"},
        {"Brave", "Brave"},
        {"Chromium", "Chromium"},
        {"Samsung Internet", "Samsung Internet"},
        {"YaBrowser", "Yandex Browser"},
        {"Yandex", "Yandex Browser"},
        {"Vivaldi", "Vivaldi"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(brand, known[i].brand) == 0) return known[i].name;
    /* An unknown brand is kept, but only as short printable ASCII. */
    char clean[HINT_TEXT_MAX + 1];
    size_t n = 0;
    for (const char *p = brand; *p && n < HINT_TEXT_MAX; p++)
        if (*p >= 0x20 && *p < 0x7f) clean[n++] = *p;
    clean[n] = '\0';
    return n ? arena_strdup(arena, clean) : NULL;
}

static void hint_text(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    for (; s && *s && n + 1 < outlen; s++)
        if (*s >= 0x20 && *s < 0x7f) out[n++] = *s;
    out[n] = '\0';
}

/* Applies platform name, platform version, mobile flag and model, which the
 * JSON hints and the Sec-CH-UA-* headers both carry. */
static void device_from_platform(const char *platform, const char *version, int mobile,
                                 const char *model, struct device *d)
{
    static const struct {
        const char *platform, *os;
    } platforms[] = {{"Windows", "Windows"}, {"macOS", "macOS"},        {"Android", "Android"},
                     {"Linux", "Linux"},     {"Chrome OS", "ChromeOS"}, {"Chromium OS", "ChromeOS"},
                     {"iOS", "iOS"}};
    const char *os = NULL;
    for (size_t i = 0; platform && i < sizeof platforms / sizeof platforms[0]; i++)
        if (strcmp(platform, platforms[i].platform) == 0) os = platforms[i].os;

    if (os) {
        d->os = os;
        char major[12];
        copy_digits(version, major);
        if (strcmp(os, "Windows") == 0 && major[0]) {
            /* Sec-CH-UA-Platform-Version: 13 and above is Windows 11,
             * 1..10 is Windows 10, 0 is 7/8/8.1 (not told apart). */
            int v = atoi(major);
            snprintf(d->os_version, sizeof d->os_version, "%s",
                     v >= 13  ? "11"
                     : v >= 1 ? "10"
                              : "");
        } else if (major[0]) {
            snprintf(d->os_version, sizeof d->os_version, "%s", major);
        }
    }
    if (mobile == 1)
        d->device_type = "smartphone";
    else if (mobile == 0 && os)
        d->device_type = strcmp(os, "Android") == 0 ? "tablet" : "desktop";
    if (model && *model) hint_text(model, d->device_model, sizeof d->device_model);
}

/* ---- a small JSON scanner for uadata --------------------------------------
 * uadata arrives with most Chromium hits, so it is read by this allocation-
 * free scanner rather than a DOM parser (which cost 4 us a hit). It accepts
 * exactly JSON; strings are decoded into bounded buffers (longer ones are
 * cut: we keep 40 bytes at most anyway). Nesting is capped. */

#define JSON_MAX_DEPTH 16

struct jscan {
    const char *p;
    int depth;
};

static void js_ws(struct jscan *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
        s->p++;
}

static int js_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A string at s->p into out (NUL-terminated, cut at outlen - 1; out may be
 * NULL to skip). Control characters and anything beyond ASCII are dropped. */
static bool js_string(struct jscan *s, char *out, size_t outlen)
{
    size_t n = 0;
    if (*s->p != '"') return false;
    for (const char *p = s->p + 1;; p++) {
        unsigned char c = (unsigned char)*p;
        int ch = c;
        if (c == '"') {
            if (out) out[n] = '\0';
            s->p = p + 1;
            return true;
        }
        if (c < 0x20) return false; /* includes the terminating NUL */
        if (c == '\\') {
            c = (unsigned char)*++p;
            switch (c) {
            case '"':
            case '\\':
            case '/':
                ch = c;
                break;
            case 'b':
                ch = '\b';
                break;
            case 'f':
                ch = '\f';
                break;
            case 'n':
                ch = '\n';
                break;
            case 'r':
                ch = '\r';
                break;
            case 't':
                ch = '\t';
                break;
            case 'u':
                ch = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = js_hex(p[i]);
                    if (h < 0) return false;
                    ch = ch * 16 + h;
                }
                p += 4;
                break;
            default:
                return false;
            }
        }
        /* Only printable ASCII is ever kept from client hints. */
        if (out && ch >= 0x20 && ch < 0x7f && n + 1 < outlen) out[n++] = (char)ch;
    }
}

static bool js_value(struct jscan *s);

/* Calls on_key for each member of the object at s->p; on_key must consume
 * the member's value. */
typedef bool (*js_member_fn)(struct jscan *s, const char *key, void *arg);

static bool js_object(struct jscan *s, js_member_fn on_key, void *arg)
{
    if (*s->p != '{' || ++s->depth > JSON_MAX_DEPTH) return false;
    s->p++;
    js_ws(s);
    if (*s->p == '}') {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        char key[32];
        js_ws(s);
        if (!js_string(s, key, sizeof key)) return false;
        js_ws(s);
        if (*s->p++ != ':') return false;
        js_ws(s);
        if (!(on_key ? on_key(s, key, arg) : js_value(s))) return false;
        js_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p++ != '}') return false;
        s->depth--;
        return true;
    }
}

/* Calls on_item for each element of the array at s->p. */
typedef bool (*js_item_fn)(struct jscan *s, void *arg);

static bool js_array(struct jscan *s, js_item_fn on_item, void *arg)
{
    if (*s->p != '[' || ++s->depth > JSON_MAX_DEPTH) return false;
    s->p++;
    js_ws(s);
    if (*s->p == ']') {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        js_ws(s);
        if (!(on_item ? on_item(s, arg) : js_value(s))) return false;
        js_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p++ != ']') return false;
        s->depth--;
        return true;
    }
}

static bool js_number(struct jscan *s)
{
    const char *p = s->p;
    if (*p == '-') p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return false;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p)) return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    s->p = p;
    return true;
}

/* 1 true, 0 false, -1 null; -2 when not a literal. */
static int js_literal(struct jscan *s)
{
    static const struct {
        const char *word;
        int value;
    } words[] = {{"true", 1}, {"false", 0}, {"null", -1}};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(words[i].word);
        if (strncmp(s->p, words[i].word, len) == 0) {
            s->p += len;
            return words[i].value;
        }
    }
    return -2;
}

static bool js_value(struct jscan *s)
{
    switch (*s->p) {
    case '{':
        return js_object(s, NULL, NULL);
    case '[':
        return js_array(s, NULL, NULL);
    case '"':
        return js_string(s, NULL, 0);
    default:
        return js_literal(s) != -2 || js_number(s);
    }
}

/* What uadata says, collected before anything is applied, so a malformed
 * document changes nothing. */
struct uadata {
    char brand[2][HINT_TEXT_MAX + 1]; /* [0] fullVersionList, [1] brands */
    char version[2][12];
    char chromium_version[2][12];
    bool have_chromium[2];
    int list; /* the list being read */
    char item_brand[HINT_TEXT_MAX + 1], item_version[12];
    int mobile; /* 1, 0, -1 unknown */
    char platform[HINT_TEXT_MAX + 1], platform_version[HINT_TEXT_MAX + 1];
    char model[HINT_TEXT_MAX + 1];
};

static bool ua_brand_member(struct jscan *s, const char *key, void *arg)
{
    struct uadata *u = arg;
    char version[HINT_TEXT_MAX + 1];
    if (strcmp(key, "brand") == 0 && *s->p == '"')
        return js_string(s, u->item_brand, sizeof u->item_brand);
    if (strcmp(key, "version") == 0 && *s->p == '"') {
        if (!js_string(s, version, sizeof version)) return false;
        copy_digits(version, u->item_version);
        return true;
    }
    return js_value(s);
}

/* First real brand; "Chromium" only when nothing more specific is there
 * (Chrome, Edge, Opera all list Chromium beside their own name). */
static bool ua_brand_item(struct jscan *s, void *arg)
{
    struct uadata *u = arg;
    u->item_brand[0] = u->item_version[0] = '\0';
    if (*s->p != '{') return js_value(s);
    if (!js_object(s, ua_brand_member, u)) return false;
    int l = u->list;
    if (!u->item_brand[0] || brand_is_grease(u->item_brand)) return true;
    if (strcmp(u->item_brand, "Chromium") == 0) {
        u->have_chromium[l] = true;
        memcpy(u->chromium_version[l], u->item_version, sizeof u->item_version);
    } else if (!u->brand[l][0]) {
        memcpy(u->brand[l], u->item_brand, sizeof u->item_brand);
        memcpy(u->version[l], u->item_version, sizeof u->item_version);
    }
    return true;
}

static bool ua_member(struct jscan *s, const char *key, void *arg)
{
    struct uadata *u = arg;
    bool full = strcmp(key, "fullVersionList") == 0;
    if ((full || strcmp(key, "brands") == 0) && *s->p == '[') {
        u->list = full ? 0 : 1;
        return js_array(s, ua_brand_item, u);
    }
    if (strcmp(key, "mobile") == 0 && (*s->p == 't' || *s->p == 'f')) {
        u->mobile = js_literal(s);
        return u->mobile >= 0;
    }
    if (strcmp(key, "platform") == 0 && *s->p == '"')
        return js_string(s, u->platform, sizeof u->platform);
    if (strcmp(key, "platformVersion") == 0 && *s->p == '"')
        return js_string(s, u->platform_version, sizeof u->platform_version);
    if (strcmp(key, "model") == 0 && *s->p == '"') return js_string(s, u->model, sizeof u->model);
    return js_value(s);
}

/* uadata from Matomo's JS tracker: {"fullVersionList":[{"brand":..,
 * "version":..}],"mobile":bool,"model":..,"platform":..,"platformVersion":..}.
 * Older trackers send "brands" with major versions only. */
static void device_from_uadata(const char *uadata, struct device *d, struct arena *arena)
{
    struct uadata u;
    memset(&u, 0, sizeof u);
    u.mobile = -1;
    struct jscan s = {uadata, 0};
    js_ws(&s);
    if (!js_object(&s, ua_member, &u)) return;
    js_ws(&s);
    if (*s.p) return; /* trailing garbage */

    int l = u.brand[0][0] || u.have_chromium[0] ? 0 : 1;
    const char *chosen = u.brand[l][0] ? u.brand[l] : u.have_chromium[l] ? "Chromium" : NULL;
    const char *version = u.brand[l][0] ? u.version[l] : u.chromium_version[l];
    if (chosen) {
        const char *name = brand_name(chosen, arena);
        if (name) {
            d->browser = name;
            copy_digits(version, d->browser_version);
        }
    }
    device_from_platform(u.platform[0] ? u.platform : NULL, u.platform_version, u.mobile, u.model,
                         d);
}

/* Structured-header string: `"Windows"` -> Windows. */
static void unquote(const char *s, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!s) return;
    while (*s == ' ')
        s++;
    if (*s == '"') s++;
    size_t n = 0;
    while (*s && *s != '"' && n + 1 < outlen)
        out[n++] = *s++;
    out[n] = '\0';
}

/* Sec-CH-UA: "Chromium";v="120", "Google Chrome";v="120", "Not_A Brand";v="8"
 * and its companions, used when the tracker sent no uadata. */
static void device_from_headers(const struct track_context *ctx, struct device *d,
                                struct arena *arena)
{
    const char *p = ctx->sec_ch_ua;
    char chosen[HINT_TEXT_MAX + 1] = "", chosen_version[12] = "", chromium_version[12] = "";
    bool have_chromium = false;
    while (p && *p) {
        const char *q = strchr(p, '"');
        if (!q) break;
        const char *q_end = strchr(q + 1, '"');
        if (!q_end) break;
        char brand[HINT_TEXT_MAX + 1];
        size_t n = (size_t)(q_end - q - 1);
        if (n > HINT_TEXT_MAX) n = HINT_TEXT_MAX;
        memcpy(brand, q + 1, n);
        brand[n] = '\0';
        char version[12] = "";
        const char *v = strstr(q_end, ";v=\"");
        const char *next = strchr(q_end, ',');
        if (v && (!next || v < next)) copy_digits(v + 4, version);
        if (!brand_is_grease(brand)) {
            if (strcmp(brand, "Chromium") == 0) {
                have_chromium = true;
                memcpy(chromium_version, version, sizeof version);
            } else if (!chosen[0]) {
                memcpy(chosen, brand, n + 1);
                memcpy(chosen_version, version, sizeof version);
            }
        }
        p = next ? next + 1 : NULL;
    }
    if (!chosen[0] && have_chromium) {
        strcpy(chosen, "Chromium");
        memcpy(chosen_version, chromium_version, sizeof chosen_version);
    }
    if (chosen[0]) {
        const char *name = brand_name(chosen, arena);
        if (name) {
            d->browser = name;
            memcpy(d->browser_version, chosen_version, sizeof chosen_version);
        }
    }

    char platform[HINT_TEXT_MAX + 1], version[HINT_TEXT_MAX + 1], model[HINT_TEXT_MAX + 1];
    unquote(ctx->sec_ch_ua_platform, platform, sizeof platform);
    unquote(ctx->sec_ch_ua_platform_version, version, sizeof version);
    unquote(ctx->sec_ch_ua_model, model, sizeof model);
    int mobile = -1;
    if (ctx->sec_ch_ua_mobile && strcmp(ctx->sec_ch_ua_mobile, "?1") == 0) mobile = 1;
    if (ctx->sec_ch_ua_mobile && strcmp(ctx->sec_ch_ua_mobile, "?0") == 0) mobile = 0;
    device_from_platform(platform, version, mobile, model, d);
}

static const char *arena_or_empty(struct arena *arena, const char *s)
{
    if (!s || !*s) return "";
    const char *copy = arena_strdup(arena, s);
    return copy ? copy : "";
}

static void enrich_device(struct track_request *req, struct arena *arena)
{
    struct device hints = {0}, d = {0};
    /* Client hints, where present, are more precise than the user agent
     * (Windows 11, real Android versions and models) and win; the user agent
     * fills what they leave out, and is not read at all when they are
     * complete (the common case with Matomo's tracker on Chromium). */
    if (req->uadata && req->uadata[0] == '{')
        device_from_uadata(req->uadata, &hints, arena);
    else if (req->ctx && req->ctx->sec_ch_ua && req->ctx->sec_ch_ua[0])
        device_from_headers(req->ctx, &hints, arena);
    if (!hints.browser || !hints.os || !hints.os_version[0] || !hints.device_type)
        device_from_user_agent(req->user_agent, &d);

    if (hints.browser) {
        d.browser = hints.browser;
        memcpy(d.browser_version, hints.browser_version, sizeof d.browser_version);
    }
    if (hints.os) {
        /* A platform without its version keeps the user agent's version
         * of the same OS. */
        if (hints.os_version[0] || !d.os || strcmp(d.os, hints.os) != 0)
            memcpy(d.os_version, hints.os_version, sizeof d.os_version);
        d.os = hints.os;
    }
    if (hints.device_type) d.device_type = hints.device_type;
    if (hints.device_model[0]) memcpy(d.device_model, hints.device_model, sizeof d.device_model);

    req->hit.browser = d.browser ? d.browser : "";
    req->hit.browser_version = d.browser ? arena_or_empty(arena, d.browser_version) : "";
    req->hit.os = d.os ? d.os : "";
    req->hit.os_version = d.os ? arena_or_empty(arena, d.os_version) : "";
    req->hit.device_type = d.device_type ? d.device_type : "";
    req->hit.device_model = arena_or_empty(arena, d.device_model);
}

/* ---- acquisition: campaign, referrer ----------------------------------- */

/* Parameter names per campaign field, in priority order. */
static const char *const campaign_names[] = {"mtm_campaign", "mtm_cpn", "utm_campaign",
                                             "pk_campaign",  "pk_cpn",  "matomo_campaign",
                                             "_rcn",         NULL};
static const char *const campaign_keywords[] = {"mtm_kwd",    "mtm_keyword", "utm_term", "pk_kwd",
                                                "pk_keyword", "matomo_kwd",  "_rck",     NULL};
static const char *const campaign_sources[] = {"mtm_source", "utm_source", "pk_source",
                                               "matomo_source", NULL};
static const char *const campaign_mediums[] = {"mtm_medium", "utm_medium", "pk_medium",
                                               "matomo_medium", NULL};
static const char *const campaign_contents[] = {"mtm_content", "utm_content", "pk_content",
                                                "matomo_content", NULL};
static const char *const campaign_ids[] = {"mtm_cid", "utm_id", "pk_cid", "matomo_cid", NULL};

static const char *first_param(const struct track_params *p, const char *const *names)
{
    for (; *names; names++) {
        const char *v = track_params_get(p, *names);
        if (v && *v) return v;
    }
    return "";
}

/* ASCII lower-case copy (UTF-8 bytes above 0x7f are kept as they are). */
static const char *lower_copy(struct arena *arena, const char *s)
{
    if (!*s) return "";
    char *copy = arena_strdup(arena, s);
    if (!copy) return "";
    for (char *p = copy; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return copy;
}

/* Campaign parameters of the landing URL's query. Returns true when a
 * campaign name was found. */
static bool enrich_campaign(struct track_request *req, struct arena *arena)
{
    const char *url = req->hit.url;
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q) return false;
    q++;
    size_t len = strcspn(q, "#");
    /* Most page URLs carry no campaign: every name parameter contains one
     * of these (also when its '_' is percent-encoded), so the others are
     * not parsed at all. */
    if (!memmem(q, len, "campaign", 8) && !memmem(q, len, "cpn", 3) && !memmem(q, len, "rcn", 3))
        return false;

    struct track_params params;
    char err[128];
    track_params_init(&params, arena);
    /* A malformed escape elsewhere in the page URL is the page's business;
     * it only means no campaign is read from it. */
    if (track_params_parse_query(&params, q, len, err, sizeof err) != 0) return false;

    const char *name = first_param(&params, campaign_names);
    if (!*name) return false;
    struct hit *h = &req->hit;
    h->campaign_name = lower_copy(arena, name);
    h->campaign_keyword = lower_copy(arena, first_param(&params, campaign_keywords));
    h->campaign_source = lower_copy(arena, first_param(&params, campaign_sources));
    h->campaign_medium = lower_copy(arena, first_param(&params, campaign_mediums));
    h->campaign_content = arena_or_empty(arena, first_param(&params, campaign_contents));
    h->campaign_id = arena_or_empty(arena, first_param(&params, campaign_ids));
    return true;
}

/* Host of "scheme://[user@]host[:port]/..." into out, lower-cased; false
 * when there is no host. */
static bool url_host(const char *url, char *out, size_t outlen)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p) return false;
    for (const char *s = url; s < p; s++)
        if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' && *s != '.') return false;
    p += 3;
    size_t auth_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth_len);
    if (at) {
        auth_len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t host_len = auth_len;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', auth_len);
        if (close) host_len = (size_t)(close - p) + 1;
    } else {
        const char *colon = memchr(p, ':', auth_len);
        if (colon) host_len = (size_t)(colon - p);
    }
    while (host_len > 0 && p[host_len - 1] == '.')
        host_len--; /* "example.com." */
    if (host_len == 0 || host_len >= outlen) return false;
    for (size_t i = 0; i < host_len; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[host_len] = '\0';
    return true;
}

static const char *strip_www(const char *host)
{
    return strncmp(host, "www.", 4) == 0 ? host + 4 : host;
}

static bool host_is_site(const struct site *site, const char *host)
{
    char site_host[256];
    for (size_t i = 0; site && i < site->url_count; i++) {
        if (!url_host(site->urls[i], site_host, sizeof site_host)) continue;
        if (strcmp(host, site_host) == 0 || strcmp(strip_www(host), strip_www(site_host)) == 0)
            return true;
    }
    return false;
}

static void enrich_acquisition(struct track_request *req, struct arena *arena)
{
    struct hit *h = &req->hit;
    h->referrer_type = REFERRER_DIRECT;
    h->referrer_name = "";
    h->referrer_url = "";
    h->campaign_name = h->campaign_keyword = h->campaign_source = "";
    h->campaign_medium = h->campaign_content = h->campaign_id = "";

    if (enrich_campaign(req, arena)) {
        h->referrer_type = REFERRER_CAMPAIGN;
        h->referrer_name = h->campaign_name;
        h->referrer_url = h->urlref ? h->urlref : "";
        return;
    }
    char host[256];
    /* No referrer, one without a host (about:blank), or one of the site's
     * own pages: the visitor came directly. */
    if (!h->urlref || !url_host(h->urlref, host, sizeof host) || host_is_site(req->site, host))
        return;
    h->referrer_type = REFERRER_WEBSITE;
    h->referrer_name = arena_or_empty(arena, host);
    h->referrer_url = h->urlref;
}

void enrich_hit(struct track_request *req, struct arena *arena)
{
    char ip[ENRICH_IP_TEXT_MAX];
    unsigned v4 = req->site ? req->site->ipv4_mask_bytes : 2;
    unsigned v6 = req->site ? req->site->ipv6_mask_bits : 80;
    if (enrich_anonymize_ip(req->ip, v4, v6, ip) == 0)
        req->hit.ip_anon = arena_or_empty(arena, ip);
    else
        req->hit.ip_anon = "";

    enrich_language(req, arena);
    enrich_device(req, arena);
    enrich_acquisition(req, arena);
}
