/* ua rules: Tally's own decisions on top of uap-core: report names, the
 * browser engine, the device type, and reading client hints. Each rule is
 * listed in docs/devices.md and tested in tests/test_ua.c. */
#include "ua_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Nesting bound for the uadata scanner: real uadata is 3 levels deep. */
#define UA_JSON_MAX_DEPTH 8

void ua_copy_major(const char *v, char *out, size_t outlen)
{
    size_t n = 0;
    while (v && n + 1 < outlen && isdigit((unsigned char)v[n])) {
        out[n] = v[n];
        n++;
    }
    out[n] = '\0';
}

/* Printable ASCII only, cut to outlen - 1: hints are free text a browser
 * (or an attacker) chooses. */
static void ua_hint_copy(const char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < outlen; i++)
        if (s[i] >= 0x20 && s[i] < 0x7f) out[n++] = s[i];
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* ---- names ---------------------------------------------------------------- */

const char *ua_browser_name(const char *family)
{
    static const struct {
        const char *family, *name;
    } names[] = {
        {"Chrome Mobile", "Chrome"},
        {"Chrome Mobile iOS", "Chrome"},
        {"Chrome Mobile WebView", "Chrome WebView"},
        {"Mobile Safari", "Safari"},
        {"Mobile Safari UI/WKWebView", "Safari WebView"},
        {"Firefox Mobile", "Firefox"},
        {"Firefox iOS", "Firefox"},
        {"Edge Mobile", "Edge"},
        {"Opera Mobile", "Opera"},
        {"IE Mobile", "IE"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(family, names[i].family) == 0) return names[i].name;
    return family;
}

const char *ua_os_name(const char *family)
{
    static const struct {
        const char *family, *name;
    } names[] = {
        {"Mac OS X", "macOS"},
        {"Chrome OS", "ChromeOS"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(family, names[i].family) == 0) return names[i].name;
    return family;
}

/* Client-hint brands to report names. Unknown brands are kept as sent. */
static const char *ua_hint_brand_name(const char *brand)
{
    static const struct {
        const char *brand, *name;
    } names[] = {
        {"Google Chrome", "Chrome"},  {"Microsoft Edge", "Edge"},
        {"Opera GX", "Opera"},        {"YaBrowser", "Yandex Browser"},
        {"Yandex", "Yandex Browser"}, {"Android WebView", "Chrome WebView"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(brand, names[i].brand) == 0) return names[i].name;
    return brand;
}

/* ---- engine ------------------------------------------------------------- */

void ua_engine(struct ua_result *r, const char *ua)
{
    static const struct {
        const char *browser, *engine;
    } engines[] = {
        {"Chrome", "Blink"},          {"Chromium", "Blink"},
        {"Chrome WebView", "Blink"},  {"Samsung Internet", "Blink"},
        {"Yandex Browser", "Blink"},  {"Brave", "Blink"},
        {"Vivaldi", "Blink"},         {"Silk", "Blink"},
        {"HeadlessChrome", "Blink"},  {"Firefox", "Gecko"},
        {"Firefox Focus", "Gecko"},   {"Pale Moon", "Gecko"},
        {"SeaMonkey", "Gecko"},       {"Waterfox", "Gecko"},
        {"Thunderbird", "Gecko"},     {"Safari", "WebKit"},
        {"Safari WebView", "WebKit"}, {"IE", "Trident"},
        {"Opera Mini", "Presto"},     {"Android", "WebKit"},
    };
    const char *b = r->browser, *engine = NULL;
    int version = atoi(r->browser_version);
    r->engine[0] = '\0';
    if (!b[0] && !strstr(ua, "Mozilla/") && !strcasestr(ua, "AppleWebKit")) return;

    /* Every browser on iOS must use WebKit. */
    if ((strcmp(r->os, "iOS") == 0 || strcmp(r->os, "iPadOS") == 0) &&
        strcasestr(ua, "AppleWebKit"))
        engine = "WebKit";
    else if (strcmp(b, "Edge") == 0)
        engine = version > 0 && version < 79 ? "EdgeHTML" : "Blink";
    else if (strcmp(b, "Opera") == 0)
        engine = version > 0 && version < 15 ? "Presto" : "Blink";
    for (size_t i = 0; !engine && i < sizeof engines / sizeof engines[0]; i++)
        if (strcmp(b, engines[i].browser) == 0) engine = engines[i].engine;
    /* Anything else (in-app browsers, smaller Chromium forks) by its
     * engine tokens; Chromium still says "AppleWebKit", so Chrome/ first. */
    if (!engine) {
        if (strstr(ua, "Trident/") || strstr(ua, "MSIE "))
            engine = "Trident";
        else if (strstr(ua, "Edge/"))
            engine = "EdgeHTML";
        else if (strstr(ua, "Presto/"))
            engine = "Presto";
        else if (strcasestr(ua, "AppleWebKit") &&
                 (strstr(ua, "Chrome/") || strstr(ua, "Chromium/")))
            engine = "Blink";
        else if (strcasestr(ua, "AppleWebKit"))
            engine = "WebKit";
        else if (strstr(ua, "Gecko/") && strstr(ua, "rv:"))
            engine = "Gecko";
    }
    if (engine) snprintf(r->engine, sizeof r->engine, "%s", engine);
}

/* ---- device type -------------------------------------------------------- */

static bool has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

static bool has_i(const char *s, const char *needle)
{
    return strcasestr(s, needle) != NULL;
}

static bool is_tv(const char *ua, const char *model)
{
    static const char *const markers[] = {
        "SmartTV", "SMART-TV", "Smart TV",  "SmartTv",   "BRAVIA",     "AppleTV",   "Apple TV",
        "tvOS",    "CrKey",    "GoogleTV",  "Google TV", "Android TV", "AndroidTV", "HbbTV",
        "Roku",    "NetCast",  "PhilipsTV", "DTV",       "Viera"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (has(ua, markers[i])) return true;
    /* Tizen and webOS run phones and watches too; only their TV builds. */
    if ((has(ua, "Tizen") || has(ua, "Web0S") || has(ua, "WebOS") || has(ua, "webOS")) &&
        (has(ua, "TV") || has(ua, "SmartTV")))
        return true;
    /* Fire TV sticks: models AFTS, AFTMM, AFTKA ... */
    return has(ua, "; AFT") || strncmp(model, "AFT", 3) == 0;
}

static bool is_tablet_model(const char *model)
{
    static const char *const prefixes[] = {
        "iPad",    "SM-T",    "SM-X",     "SM-P",    "KF",           "Lenovo TB", "TB-",
        "Nexus 7", "Nexus 9", "Nexus 10", "Pixel C", "Pixel Tablet", "Xoom"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(model, prefixes[i], strlen(prefixes[i])) == 0) return true;
    /* Galaxy Tab, Lenovo Tab, MediaPad, MatePad, Xiaomi Pad ... */
    return has(model, "Tab") || has(model, "TAB") || has(model, "Pad") || has(model, "PAD");
}

static bool is_desktop_os(const char *os)
{
    static const char *const names[] = {"Windows",    "macOS",   "Linux",   "ChromeOS", "Ubuntu",
                                        "Fedora",     "Debian",  "Red Hat", "SUSE",     "openSUSE",
                                        "Mint",       "CentOS",  "Gentoo",  "Mandriva", "Slackware",
                                        "FreeBSD",    "OpenBSD", "NetBSD",  "Solaris",  "Haiku",
                                        "Arch Linux", "Kubuntu"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(os, names[i]) == 0) return true;
    return false;
}

/* The first rule that applies decides; the order matters because TVs,
 * consoles and cars run Linux or Android and many say "Mobile". */
static const char *ua_type(const struct ua_result *r, const char *ua, int hint_mobile)
{
    const char *model = r->device_model;
    bool android = strcmp(r->os, "Android") == 0 || has(ua, "Android");

    if (has(ua, "Tesla") || has(ua, "QtCarBrowser") || strcmp(r->device_brand, "Tesla") == 0)
        return "car browser";
    if (has(ua, "PlayStation") || has(ua, "Xbox") || has(ua, "Nintendo")) return "console";
    if (has(ua, "SmartDisplay") || has(ua, "Echo Show") || has(ua, "Nest Hub"))
        return "smart display";
    if (is_tv(ua, model)) return "tv";
    if (has(ua, "watchOS") || has(ua, "Watch OS") || has_i(ua, "Wear OS") || has(ua, "(Watch") ||
        has(model, "Watch") || strncmp(model, "SM-R", 4) == 0)
        return "wearable";
    if (has_i(ua, "KaiOS") || has(ua, "J2ME") || has(ua, "MIDP") || has(ua, "Series40") ||
        has(ua, "Series 40") || has(ua, "S40OviBrowser"))
        return "feature phone";
    if (has(ua, "iPod") || strncmp(model, "iPod", 4) == 0) return "portable media player";
    if (has(ua, "iPad") || strcmp(r->os, "iPadOS") == 0 || is_tablet_model(model) ||
        has(ua, "Kindle") || has(ua, "Silk/") || (has(ua, "; Tablet") && !has(ua, "Tablet PC")))
        return "tablet";
    /* Client hints: Chrome on an Android tablet says mobile ?0. */
    if (hint_mobile == 1) return "smartphone";
    if (hint_mobile == 0 && android) return "tablet";
    if (has(ua, "iPhone") || has(ua, "Windows Phone") || has(ua, "BlackBerry") || has(ua, "BB10") ||
        has(ua, "Opera Mini") || has(ua, "Opera Mobi") || (android && has(ua, "Mobile")) ||
        has(ua, "Mobile;") || has(ua, "Mobile Safari"))
        return "smartphone";
    /* Android phones all say "Mobile"; Android without it is a tablet. */
    if (android) return "tablet";
    if (is_desktop_os(r->os) || hint_mobile == 0) return "desktop";
    if (has(ua, "Mobile")) return "smartphone";
    return "";
}

void ua_device_type(struct ua_result *r, const char *ua, int hint_mobile)
{
    snprintf(r->device_type, sizeof r->device_type, "%s", ua_type(r, ua, hint_mobile));
}

/* ---- client hints --------------------------------------------------------- */

/* "Not_A Brand", "Not A(Brand", "Not)A;Brand", "Not/A)Brand": GREASE
 * entries Chromium adds so servers do not hard-code the list. */
static bool ua_brand_is_grease(const char *brand)
{
    return strncasecmp(brand, "Not", 3) == 0 && strcasestr(brand, "Brand") != NULL;
}

/* Collects brands in order and keeps the meaningful one: the first that is
 * neither GREASE nor "Chromium" (which Chrome, Edge and Opera all list),
 * and "Chromium" only when alone. */
struct ua_brand_pick {
    char brand[48], version[16];
    char chromium_version[16];
    bool have_chromium;
};

static void ua_brand_offer(struct ua_brand_pick *b, const char *brand, const char *version)
{
    if (!brand[0] || ua_brand_is_grease(brand)) return;
    if (strcmp(brand, "Chromium") == 0) {
        b->have_chromium = true;
        ua_copy_major(version, b->chromium_version, sizeof b->chromium_version);
        return;
    }
    if (b->brand[0]) return;
    snprintf(b->brand, sizeof b->brand, "%s", ua_hint_brand_name(brand));
    ua_copy_major(version, b->version, sizeof b->version);
}

static void ua_brand_result(const struct ua_brand_pick *b, struct ua_hint_values *v)
{
    if (b->brand[0]) {
        snprintf(v->brand, sizeof v->brand, "%s", b->brand);
        snprintf(v->version, sizeof v->version, "%s", b->version);
    } else if (b->have_chromium) {
        snprintf(v->brand, sizeof v->brand, "Chromium");
        snprintf(v->version, sizeof v->version, "%s", b->chromium_version);
    }
}

/* A bounded JSON scanner for uadata: no allocation, strings decoded into
 * fixed buffers (cut), nesting capped. Returns false on anything that is
 * not JSON, and then nothing from uadata is used. */
struct ua_json {
    const char *p;
    int depth;
};

static void js_ws(struct ua_json *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
        s->p++;
}

/* Decodes a string; escapes other than \" \\ \/ and \uXXXX-for-ASCII are
 * dropped, since only printable ASCII is ever kept. out may be NULL. */
static bool js_string(struct ua_json *s, char *out, size_t outlen)
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
            if (c == 'u') {
                ch = 0;
                for (int i = 1; i <= 4; i++) {
                    if (!isxdigit((unsigned char)p[i])) return false;
                    ch = ch * 16 + (isdigit((unsigned char)p[i])
                                        ? p[i] - '0'
                                        : (tolower((unsigned char)p[i]) - 'a' + 10));
                }
                p += 4;
            } else if (strchr("\"\\/bfnrt", c) && c) {
                ch = c == '"' || c == '\\' || c == '/' ? c : 0;
            } else {
                return false;
            }
        }
        if (out && ch >= 0x20 && ch < 0x7f && n + 1 < outlen) out[n++] = (char)ch;
    }
}

static bool js_value(struct ua_json *s);

static bool js_scalar(struct ua_json *s)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++)
        if (strncmp(s->p, words[i], strlen(words[i])) == 0) {
            s->p += strlen(words[i]);
            return true;
        }
    const char *start = s->p;
    while (*s->p && strchr("+-0123456789.eE", *s->p))
        s->p++;
    return s->p > start;
}

/* Walks an object or array; for objects on_member(key) must consume the
 * value, for arrays on_item() must consume the element. Either may be NULL
 * to skip. */
typedef bool (*js_member_fn)(struct ua_json *s, const char *key, void *arg);
typedef bool (*js_item_fn)(struct ua_json *s, void *arg);

static bool js_container(struct ua_json *s, js_member_fn on_member, js_item_fn on_item, void *arg)
{
    char open = *s->p, close = open == '{' ? '}' : ']';
    if ((open != '{' && open != '[') || ++s->depth > UA_JSON_MAX_DEPTH) return false;
    s->p++;
    js_ws(s);
    if (*s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        js_ws(s);
        bool ok;
        if (open == '{') {
            char key[32];
            if (!js_string(s, key, sizeof key)) return false;
            js_ws(s);
            if (*s->p++ != ':') return false;
            js_ws(s);
            ok = on_member ? on_member(s, key, arg) : js_value(s);
        } else {
            ok = on_item ? on_item(s, arg) : js_value(s);
        }
        if (!ok) return false;
        js_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p++ != close) return false;
        s->depth--;
        return true;
    }
}

static bool js_value(struct ua_json *s)
{
    if (*s->p == '{' || *s->p == '[') return js_container(s, NULL, NULL, NULL);
    if (*s->p == '"') return js_string(s, NULL, 0);
    return js_scalar(s);
}

struct uadata_scan {
    struct ua_brand_pick full, brands; /* fullVersionList, brands */
    struct ua_brand_pick *list;        /* the list being read */
    char item_brand[48], item_version[32];
    int mobile;
    char platform[32], platform_version[32], model[48];
};

static bool uadata_brand_member(struct ua_json *s, const char *key, void *arg)
{
    struct uadata_scan *u = arg;
    if (strcmp(key, "brand") == 0 && *s->p == '"')
        return js_string(s, u->item_brand, sizeof u->item_brand);
    if (strcmp(key, "version") == 0 && *s->p == '"')
        return js_string(s, u->item_version, sizeof u->item_version);
    return js_value(s);
}

static bool uadata_brand_item(struct ua_json *s, void *arg)
{
    struct uadata_scan *u = arg;
    if (*s->p != '{') return js_value(s);
    u->item_brand[0] = u->item_version[0] = '\0';
    if (!js_container(s, uadata_brand_member, NULL, u)) return false;
    ua_brand_offer(u->list, u->item_brand, u->item_version);
    return true;
}

static bool uadata_member(struct ua_json *s, const char *key, void *arg)
{
    struct uadata_scan *u = arg;
    bool full = strcmp(key, "fullVersionList") == 0;
    if ((full || strcmp(key, "brands") == 0) && *s->p == '[') {
        u->list = full ? &u->full : &u->brands;
        return js_container(s, NULL, uadata_brand_item, u);
    }
    if (strcmp(key, "mobile") == 0) {
        if (strncmp(s->p, "true", 4) == 0) u->mobile = 1;
        if (strncmp(s->p, "false", 5) == 0) u->mobile = 0;
        return js_value(s);
    }
    char *out = strcmp(key, "platform") == 0          ? u->platform
                : strcmp(key, "platformVersion") == 0 ? u->platform_version
                : strcmp(key, "model") == 0           ? u->model
                                                      : NULL;
    size_t outlen = out == u->model ? sizeof u->model : sizeof u->platform;
    if (out && *s->p == '"') return js_string(s, out, outlen);
    return js_value(s);
}

static void ua_hints_uadata(const char *json, struct ua_hint_values *v)
{
    struct uadata_scan u;
    memset(&u, 0, sizeof u);
    u.mobile = -1;
    struct ua_json s = {json, 0};
    js_ws(&s);
    if (*s.p != '{' || !js_container(&s, uadata_member, NULL, &u)) return;
    js_ws(&s);
    if (*s.p) return; /* trailing garbage: not JSON */
    /* fullVersionList has the real versions; brands is the older field. */
    ua_brand_result(u.full.brand[0] || u.full.have_chromium ? &u.full : &u.brands, v);
    v->mobile = u.mobile;
    ua_hint_copy(u.platform, strlen(u.platform), v->platform, sizeof v->platform);
    ua_hint_copy(u.platform_version, strlen(u.platform_version), v->platform_version,
                 sizeof v->platform_version);
    ua_hint_copy(u.model, strlen(u.model), v->model, sizeof v->model);
}

/* A structured-field string ("Windows") without its quotes. */
static void ua_sf_string(const char *s, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!s) return;
    while (*s == ' ')
        s++;
    if (*s != '"') return;
    const char *end = strchr(s + 1, '"');
    if (end) ua_hint_copy(s + 1, (size_t)(end - s - 1), out, outlen);
}

/* Sec-CH-UA: "Chromium";v="120", "Google Chrome";v="120", "Not?A_Brand";v="24" */
static void ua_hints_sec_ch_ua(const char *s, struct ua_brand_pick *b)
{
    while (s && *s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s != '"') {
            s = strchr(s, ',');
            continue;
        }
        const char *end = strchr(s + 1, '"');
        if (!end) return;
        char brand[48], version[16] = "";
        ua_hint_copy(s + 1, (size_t)(end - s - 1), brand, sizeof brand);
        s = end + 1;
        const char *next = strchr(s, ',');
        const char *v = strstr(s, ";v=\"");
        if (v && (!next || v < next)) ua_copy_major(v + 4, version, sizeof version);
        ua_brand_offer(b, brand, version);
        s = next;
    }
}

void ua_hints_read(const struct ua_hints *h, struct ua_hint_values *v)
{
    memset(v, 0, sizeof *v);
    v->mobile = -1;
    if (!h) return;
    if (h->uadata && *h->uadata) ua_hints_uadata(h->uadata, v);

    /* Headers fill what uadata did not say. */
    struct ua_hint_values hv;
    memset(&hv, 0, sizeof hv);
    struct ua_brand_pick b;
    memset(&b, 0, sizeof b);
    ua_hints_sec_ch_ua(h->sec_ch_ua, &b);
    ua_brand_result(&b, &hv);
    if (!v->brand[0]) {
        snprintf(v->brand, sizeof v->brand, "%s", hv.brand);
        snprintf(v->version, sizeof v->version, "%s", hv.version);
    }
    if (v->mobile < 0 && h->sec_ch_ua_mobile) {
        if (strcmp(h->sec_ch_ua_mobile, "?1") == 0) v->mobile = 1;
        if (strcmp(h->sec_ch_ua_mobile, "?0") == 0) v->mobile = 0;
    }
    if (!v->platform[0]) ua_sf_string(h->sec_ch_ua_platform, v->platform, sizeof v->platform);
    if (!v->platform_version[0])
        ua_sf_string(h->sec_ch_ua_platform_version, v->platform_version,
                     sizeof v->platform_version);
    if (!v->model[0]) ua_sf_string(h->sec_ch_ua_model, v->model, sizeof v->model);
}
