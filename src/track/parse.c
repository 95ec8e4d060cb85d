/* track_parse: one request's parameters -> a validated hit.
 *
 * One pass over the parameters checks each value (UTF-8, length) and files
 * the known ones into `struct raw` by name (a switch on the first byte, so
 * the ~30 parameters of a JavaScript tracker hit cost ~30 short compares).
 * Later values overwrite earlier ones, as track_params_get would answer.
 * Then the hit kind is decided and the fields of that kind are filled.
 * jansson is only touched for ec_items and a JSON _pkc. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "track.h"

#define PF_COUNT 6
#define CDT_FUTURE_SLACK_MS (10 * 60 * 1000)

struct raw {
    const char *idsite, *rec, *url, *action_name, *urlref, *pv_id, *ping, *idgoal, *ec_id, *revenue,
        *ec_items, *ec_st, *ec_tx, *ec_sh, *ec_dt, *e_c, *e_a, *e_n, *e_v, *c_n, *c_p, *c_t, *c_i,
        *link, *download, *search, *search_cat, *search_count, *ca, *pks, *pkn, *pkc, *pkp, *res,
        *h, *m, *s, *pf[PF_COUNT], *uid, *lang, *new_visit, *bots, *id, *cid, *ua, *uadata,
        *send_image, *cdt, *cip, *token_auth, *rcn, *rck;
    size_t dimension_count;
};

static const char *const pf_names[PF_COUNT] = {"pf_net", "pf_srv", "pf_tfr",
                                               "pf_dm1", "pf_dm2", "pf_onl"};

static bool present(const char *v)
{
    return v && *v;
}
static bool is_one(const char *v)
{
    return v && v[0] == '1' && v[1] == '\0';
}

/* "dimension7" -> 7; 0 when name is not dimension1..dimension999. */
static int dimension_number(const char *name)
{
    if (strncmp(name, "dimension", 9) != 0) return 0;
    const char *d = name + 9;
    int n = 0, digits = 0;
    if (*d == '0') return 0;
    for (; *d; d++, digits++) {
        if (*d < '0' || *d > '9' || digits == 3) return 0;
        n = n * 10 + (*d - '0');
    }
    return digits ? n : 0;
}

/* Files one pair under its name; unknown names are ignored. Comparing the
 * length first lets the compiler turn each memcmp into one or two loads. */
static void classify(struct raw *r, const char *name, size_t nlen, const char *v)
{
#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, sizeof(lit) - 1) == 0)
    switch (name[0]) {
    case '_':
        if (IS("_id"))
            r->id = v;
        else if (IS("_pks"))
            r->pks = v;
        else if (IS("_pkn"))
            r->pkn = v;
        else if (IS("_pkc"))
            r->pkc = v;
        else if (IS("_pkp"))
            r->pkp = v;
        else if (IS("_rcn"))
            r->rcn = v;
        else if (IS("_rck"))
            r->rck = v;
        break;
    case 'a':
        if (IS("action_name")) r->action_name = v;
        break;
    case 'b':
        if (IS("bots")) r->bots = v;
        break;
    case 'c':
        if (name[1] == '_' && name[2] && !name[3]) {
            switch (name[2]) {
            case 'n':
                r->c_n = v;
                break;
            case 'p':
                r->c_p = v;
                break;
            case 't':
                r->c_t = v;
                break;
            case 'i':
                r->c_i = v;
                break;
            default:
                break;
            }
        } else if (IS("ca"))
            r->ca = v;
        else if (IS("cdt"))
            r->cdt = v;
        else if (IS("cip"))
            r->cip = v;
        else if (IS("cid"))
            r->cid = v;
        break;
    case 'd':
        if (IS("download"))
            r->download = v;
        else if (dimension_number(name))
            r->dimension_count++;
        break;
    case 'e':
        if (name[1] == '_' && name[2] && !name[3]) {
            switch (name[2]) {
            case 'c':
                r->e_c = v;
                break;
            case 'a':
                r->e_a = v;
                break;
            case 'n':
                r->e_n = v;
                break;
            case 'v':
                r->e_v = v;
                break;
            default:
                break;
            }
        } else if (IS("ec_id"))
            r->ec_id = v;
        else if (IS("ec_items"))
            r->ec_items = v;
        else if (IS("ec_st"))
            r->ec_st = v;
        else if (IS("ec_tx"))
            r->ec_tx = v;
        else if (IS("ec_sh"))
            r->ec_sh = v;
        else if (IS("ec_dt"))
            r->ec_dt = v;
        break;
    case 'h':
        if (!name[1]) r->h = v;
        break;
    case 'i':
        if (IS("idsite"))
            r->idsite = v;
        else if (IS("idgoal"))
            r->idgoal = v;
        break;
    case 'l':
        if (IS("link"))
            r->link = v;
        else if (IS("lang"))
            r->lang = v;
        break;
    case 'm':
        if (!name[1]) r->m = v;
        break;
    case 'n':
        if (IS("new_visit")) r->new_visit = v;
        break;
    case 'p':
        if (IS("pv_id"))
            r->pv_id = v;
        else if (IS("ping"))
            r->ping = v;
        else if (name[1] == 'f' && name[2] == '_') {
            for (int i = 0; i < PF_COUNT; i++)
                if (nlen == 6 && memcmp(name, pf_names[i], 6) == 0) r->pf[i] = v;
        }
        break;
    case 'r':
        if (IS("rec"))
            r->rec = v;
        else if (IS("res"))
            r->res = v;
        else if (IS("revenue"))
            r->revenue = v;
        break;
    case 's':
        if (!name[1])
            r->s = v;
        else if (IS("search"))
            r->search = v;
        else if (IS("search_cat"))
            r->search_cat = v;
        else if (IS("search_count"))
            r->search_count = v;
        else if (IS("send_image"))
            r->send_image = v;
        break;
    case 't':
        if (IS("token_auth")) r->token_auth = v;
        break;
    case 'u':
        if (IS("url"))
            r->url = v;
        else if (IS("urlref"))
            r->urlref = v;
        else if (IS("uid"))
            r->uid = v;
        else if (IS("ua"))
            r->ua = v;
        else if (IS("uadata"))
            r->uadata = v;
        break;
    default:
        break;
    }
#undef IS
}

/* UTF-8 validity with a fast path: tracking values are nearly always
 * ASCII, which eight bytes at a time settles. */
static bool text_valid(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) return utf8_valid(s + i, len - i);
    }
    for (; i < len; i++)
        if ((unsigned char)s[i] & 0x80) return utf8_valid(s + i, len - i);
    return true;
}

static int invalid(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int invalid(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return TRACK_INVALID;
}

/* A value quoted in an error message, made safe to show. */
struct quoted {
    char text[72];
};
static struct quoted quote(const char *s)
{
    struct quoted q;
    track_safe_text(q.text, sizeof q.text, s, strlen(s));
    return q;
}

/* Strict numbers: an absent (empty) value leaves *out as it is. */
static int number_f64(const char *v, const char *name, double *out, char *err, size_t errlen)
{
    if (!present(v)) return 0;
    if (parse_f64(v, out))
        return invalid(err, errlen, "%s must be a number like 12.5, not '%s'", name, quote(v).text);
    return 0;
}

static int number_i32(const char *v, const char *name, int64_t min, int32_t *out, char *err,
                      size_t errlen)
{
    if (!present(v)) return 0;
    int64_t n;
    if (parse_i64(v, min, INT32_MAX, &n))
        return invalid(err, errlen, "%s must be a whole number from %lld, not '%s'", name,
                       (long long)min, quote(v).text);
    *out = (int32_t)n;
    return 0;
}

/* Lenient numbers (res, h/m/s, pf_*): trackers send odd values there and a
 * hit is still worth keeping without them. */
static bool lenient_i64(const char *v, int64_t min, int64_t max, int64_t *out)
{
    return present(v) && parse_i64(v, min, max, out) == 0;
}

static bool is_hex16(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++) {
        char c = v[n];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex || n == 16) return false;
    }
    return n == 16;
}

/* Two digits at s into *out, within [0, max]. */
static bool two_digits(const char *s, int max, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return *out <= max;
}

/* cdt: a UNIX timestamp in seconds (a fraction allowed) or
 * "YYYY-MM-DD HH:MM:SS" in UTC ('T' accepted between date and time). */
static int parse_cdt(const char *v, int64_t now, int64_t *ms, char *err, size_t errlen)
{
    double secs;
    if (strspn(v, "0123456789.") == strlen(v) && parse_f64(v, &secs) == 0) {
        if ((double)now + CDT_FUTURE_SLACK_MS < secs * 1000.0) goto future;
        *ms = llround(secs * 1000.0);
        return 0;
    }
    int64_t day;
    int hh, mm, ss;
    char date[11];
    if (strlen(v) == 19 && (v[10] == ' ' || v[10] == 'T') && v[13] == ':' && v[16] == ':' &&
        two_digits(v + 11, 23, &hh) && two_digits(v + 14, 59, &mm) && two_digits(v + 17, 59, &ss)) {
        memcpy(date, v, 10);
        date[10] = '\0';
        if (parse_date(date, &day) == 0 && day >= 0) {
            *ms = ((day * 86400) + hh * 3600 + mm * 60 + ss) * 1000;
            if (*ms > now + CDT_FUTURE_SLACK_MS) goto future;
            return 0;
        }
    }
    return invalid(err, errlen,
                   "cdt must be a UNIX timestamp in seconds or 'YYYY-MM-DD HH:MM:SS' in UTC, "
                   "not '%s'",
                   quote(v).text);
future:
    return invalid(err, errlen,
                   "cdt '%s' is more than 10 minutes in the future; send the time in UTC",
                   quote(v).text);
}

/* Copies a JSON value's compact text into the arena. Reals keep 15
 * significant digits so 19.99 stays "19.99" rather than "19.989999999999998". */
static const char *json_to_arena(const json_t *json, struct arena *arena)
{
    size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(15);
    size_t size = json_dumpb(json, NULL, 0, flags);
    if (!size) return NULL;
    char *out = arena_alloc(arena, size + 1);
    if (!out) return NULL;
    json_dumpb(json, out, size, flags);
    out[size] = '\0';
    return out;
}

static bool json_is_string_array(const json_t *a)
{
    if (!json_is_array(a)) return false;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_string(json_array_get(a, i))) return false;
    return true;
}

/* A price or a quantity: a JSON number, a numeric string, or null/absent
 * (then `dflt`). NULL when it is something else. */
static json_t *item_number(const json_t *v, json_int_t dflt)
{
    if (!v || json_is_null(v)) return json_integer(dflt);
    if (json_is_integer(v)) return json_integer(json_integer_value(v));
    if (json_is_real(v)) return json_real(json_real_value(v));
    double d;
    if (json_is_string(v) && parse_f64(json_string_value(v), &d) == 0) return json_real(d);
    return NULL;
}

/* One ec_items entry [sku, name, category, price, quantity] in its normal
 * form: every slot present, SKU and name strings, category a string or an
 * array of strings, price and quantity numbers (Matomo's defaults 0 and 1
 * when missing). NULL with a reason in why when it cannot be read. */
static json_t *item_normalise(const json_t *item, size_t index, char *why, size_t whylen)
{
    size_t n = json_array_size(item);
    if (!json_is_array(item) || n < 1 || n > 5) {
        snprintf(why, whylen, "item %zu is not an array of 1 to 5 values", index);
        return NULL;
    }
    const json_t *sku = json_array_get(item, 0), *name = json_array_get(item, 1);
    const json_t *cat = json_array_get(item, 2);
    json_t *out = json_array();
    if (json_is_string(sku) && json_string_length(sku) > 0) {
        json_array_append_new(out, json_stringn(json_string_value(sku), json_string_length(sku)));
    } else if (json_is_integer(sku)) {
        char text[32];
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(sku));
        json_array_append_new(out, json_string(text));
    } else {
        snprintf(why, whylen, "item %zu has no SKU (a non-empty string)", index);
        goto fail;
    }
    if (!name || json_is_null(name)) {
        json_array_append_new(out, json_string(""));
    } else if (json_is_string(name)) {
        json_array_append_new(out, json_stringn(json_string_value(name), json_string_length(name)));
    } else {
        snprintf(why, whylen, "item %zu has a name that is not a string", index);
        goto fail;
    }
    if (!cat || json_is_null(cat)) {
        json_array_append_new(out, json_string(""));
    } else if (json_is_string(cat) || json_is_string_array(cat)) {
        json_array_append_new(out, json_deep_copy(cat));
    } else {
        snprintf(why, whylen, "item %zu has a category that is not a string or an array of strings",
                 index);
        goto fail;
    }
    json_t *price = item_number(json_array_get(item, 3), 0);
    if (!price) {
        snprintf(why, whylen, "item %zu has a price that is not a number", index);
        goto fail;
    }
    json_array_append_new(out, price);
    json_t *quantity = item_number(json_array_get(item, 4), 1);
    if (!quantity) {
        snprintf(why, whylen, "item %zu has a quantity that is not a number", index);
        goto fail;
    }
    json_array_append_new(out, quantity);
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int parse_items(const char *text, struct arena *arena, const char **out, char *err,
                       size_t errlen)
{
    char why[200];
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    json_t *norm = NULL;
    if (!root) {
        track_tame(jerr.text);
        snprintf(why, sizeof why, "it is not valid JSON (%s at column %d)", jerr.text, jerr.column);
        goto fail;
    }
    if (!json_is_array(root)) {
        snprintf(why, sizeof why, "it is not an array");
        goto fail;
    }
    norm = json_array();
    for (size_t i = 0; i < json_array_size(root); i++) {
        json_t *item = item_normalise(json_array_get(root, i), i, why, sizeof why);
        if (!item) goto fail;
        json_array_append_new(norm, item);
    }
    *out = json_to_arena(norm, arena);
    json_decref(norm);
    json_decref(root);
    return *out ? 0 : track_err_nomem(err, errlen);
fail:
    json_decref(norm);
    json_decref(root);
    return invalid(err, errlen,
                   "ec_items is not a JSON array of [sku, name, category, price, quantity] items: "
                   "%s",
                   why);
}

/* _pkc is a category or a JSON array of up to five: an array of strings is
 * kept in compact form, anything else as the text it is. */
static int parse_product_category(const char *v, struct arena *arena, const char **out, char *err,
                                  size_t errlen)
{
    *out = v;
    if (v[0] != '[') return 0;
    json_t *root = json_loads(v, 0, NULL);
    if (json_is_string_array(root)) {
        *out = json_to_arena(root, arena);
        if (!*out) {
            json_decref(root);
            return track_err_nomem(err, errlen);
        }
    }
    json_decref(root);
    return 0;
}

/* ---- dimensions ---- */

struct dimension {
    int number;
    size_t order;
    const char *value;
};

static int dimension_cmp(const void *a, const void *b)
{
    const struct dimension *x = a, *y = b;
    if (x->number != y->number) return x->number < y->number ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Bytes of v as the inside of a JSON string, escaped like buf_json_string
 * (quotes, backslash, control bytes and <>&' as \u00XX). */
static size_t json_escaped_len(const char *v)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            n += 2;
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&' || *p == '\'')
            n += 6;
        else if (*p == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            n += 6, p += 2;
        else
            n++;
    }
    return n;
}

static char *json_escape_into(char *o, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&' || *p == '\'') {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*p >> 4];
            o[5] = hex[*p & 15];
            o += 6;
        } else if (*p == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            /* U+2028/U+2029 end a line in JavaScript. */
            memcpy(o, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            p += 2;
        } else {
            *o++ = (char)*p;
        }
    }
    return o;
}

/* {"1":"gold","3":"x"}: the last value of each dimensionN, by N. */
static int build_dimensions(const struct track_params *params, size_t count, struct arena *arena,
                            const char **out, char *err, size_t errlen)
{
    struct dimension *d = arena_alloc(arena, count * sizeof *d);
    if (!d) return track_err_nomem(err, errlen);
    size_t n = 0;
    for (size_t i = 0; i < params->count && n < count; i++) {
        int number = params->items[i].name[0] == 'd' ? dimension_number(params->items[i].name) : 0;
        if (number) d[n++] = (struct dimension){number, i, params->items[i].value};
    }
    qsort(d, n, sizeof *d, dimension_cmp);
    size_t size = 3, kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && d[i + 1].number == d[i].number) continue; /* a later one wins */
        if (!present(d[i].value)) continue;
        size += 9 + json_escaped_len(d[i].value); /* ,"999":"" */
        d[kept++] = d[i];
    }
    if (!kept) return 0;
    char *json = arena_alloc(arena, size), *o = json;
    if (!json) return track_err_nomem(err, errlen);
    *o++ = '{';
    for (size_t i = 0; i < kept; i++) {
        o += sprintf(o, "%s\"%d\":\"", i ? "," : "", d[i].number);
        o = json_escape_into(o, d[i].value);
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    *out = json;
    return 0;
}

/* ---- the hit ---- */

static int decide_kind(const struct raw *r, int32_t goal_id, char *err, size_t errlen)
{
    if (is_one(r->ping)) return HIT_HEARTBEAT;
    if (goal_id == 0) return present(r->ec_id) ? HIT_ECOMMERCE_ORDER : HIT_CART_UPDATE;
    if (goal_id > 0) return HIT_GOAL;
    if (present(r->e_c) || present(r->e_a)) {
        if (!present(r->e_c) || !present(r->e_a))
            return invalid(err, errlen,
                           "an event needs both e_c (its category) and e_a (its action)");
        return HIT_EVENT;
    }
    if (present(r->c_n)) return present(r->c_i) ? HIT_CONTENT_INTERACTION : HIT_CONTENT_IMPRESSION;
    if (present(r->link)) return HIT_OUTLINK;
    if (present(r->download)) return HIT_DOWNLOAD;
    if (present(r->search)) return HIT_SITE_SEARCH;
    if (is_one(r->ca)) return HIT_CUSTOM_ACTION;
    if (!present(r->url))
        return invalid(err, errlen, "url is missing: a pageview needs the page's url");
    return HIT_PAGEVIEW;
}

static const char *or_empty(const char *v)
{
    return v ? v : "";
}

/* cdt and cip rewrite history and identity: only a token with write access
 * to this site (the item's own or the bulk request's) or an in-process
 * caller may send them. Reading reports (view) is not enough. */
static bool authorised(const struct raw *r, const struct track_context *ctx,
                       const struct sites *sites, const struct users *users,
                       const struct tokens *tokens, uint32_t site_id)
{
    if (ctx->trusted) return true;
    if (present(r->token_auth) &&
        access_for(users, tokens, sites, r->token_auth, site_id) >= ACCESS_WRITE)
        return true;
    return present(ctx->token_auth) &&
           access_for(users, tokens, sites, ctx->token_auth, site_id) >= ACCESS_WRITE;
}

static void fill_lenient(const struct raw *r, struct hit *h)
{
    int64_t w, hh, mm, ss;
    if (r->res) {
        const char *x = strchr(r->res, 'x');
        char width[8];
        size_t wlen = x ? (size_t)(x - r->res) : 0;
        if (x && wlen < sizeof width) {
            memcpy(width, r->res, wlen);
            width[wlen] = '\0';
            int64_t ht;
            if (lenient_i64(width, 1, UINT16_MAX, &w) && lenient_i64(x + 1, 1, UINT16_MAX, &ht)) {
                h->screen_width = (uint16_t)w;
                h->screen_height = (uint16_t)ht;
            }
        }
    }
    if (lenient_i64(r->h, 0, 23, &hh) && lenient_i64(r->m, 0, 59, &mm) &&
        lenient_i64(r->s, 0, 59, &ss))
        h->local_time_s = (int32_t)(hh * 3600 + mm * 60 + ss);
    int32_t *pf[PF_COUNT] = {&h->pf_net, &h->pf_srv, &h->pf_tfr,
                             &h->pf_dm1, &h->pf_dm2, &h->pf_onl};
    for (int i = 0; i < PF_COUNT; i++) {
        int64_t v;
        if (lenient_i64(r->pf[i], 0, INT32_MAX, &v)) *pf[i] = (int32_t)v;
    }
}

int track_parse(const struct track_params *params, const struct track_context *ctx,
                const struct sites *sites, const struct users *users,
                const struct tokens *tokens, struct arena *arena, struct track_request *out,
                char *err, size_t errlen)
{
    struct raw r = {0};
    for (size_t i = 0; i < params->count; i++) {
        const char *name = params->items[i].name, *value = or_empty(params->items[i].value);
        size_t nlen = strlen(name), vlen = strlen(value);
        if (nlen > TRACK_VALUE_MAX || !text_valid(name, nlen))
            return invalid(err, errlen, "a parameter name is too long or not valid UTF-8");
        if (vlen > TRACK_VALUE_MAX)
            return invalid(err, errlen, "parameter '%s' is longer than 64 KiB", quote(name).text);
        if (!text_valid(value, vlen))
            return invalid(err, errlen, "parameter '%s' is not valid UTF-8", quote(name).text);
        classify(&r, name, nlen, value);
    }

    *out = (struct track_request){.ctx = ctx,
                                  .ip = "",
                                  .user_agent = "",
                                  .uadata = "",
                                  .visitor_hex = "",
                                  .forced_visitor_hex = "",
                                  .send_image = true};
    struct hit *h = &out->hit;
    hit_clear(h);

    int64_t id;
    if (!present(r.idsite))
        return invalid(err, errlen, "idsite is missing: send the site's id (idsite=1)");
    if (parse_i64(r.idsite, 1, UINT32_MAX, &id))
        return invalid(err, errlen, "idsite must be a positive whole number, not '%s'",
                       quote(r.idsite).text);
    const struct site *site = sites_find(sites, (uint32_t)id);
    if (!site)
        return invalid(err, errlen,
                       "idsite %lld is not a known site; `tally site list` shows the sites",
                       (long long)id);
    if (!is_one(r.rec))
        return invalid(err, errlen, "rec=1 is missing: Matomo trackers always send it");

    /* Strict numbers first: a malformed one invalidates the hit whatever
     * its kind. */
    int32_t goal_id = -1, search_count = -1;
    double revenue = NAN, event_value = NAN, subtotal = NAN, tax = NAN, shipping = NAN,
           discount = NAN, price = NAN;
    if (present(r.idgoal) && number_i32(r.idgoal, "idgoal", 0, &goal_id, err, errlen))
        return TRACK_INVALID;
    if (number_f64(r.revenue, "revenue", &revenue, err, errlen) ||
        number_f64(r.e_v, "e_v", &event_value, err, errlen) ||
        number_f64(r.ec_st, "ec_st", &subtotal, err, errlen) ||
        number_f64(r.ec_tx, "ec_tx", &tax, err, errlen) ||
        number_f64(r.ec_sh, "ec_sh", &shipping, err, errlen) ||
        number_f64(r.ec_dt, "ec_dt", &discount, err, errlen) ||
        number_f64(r.pkp, "_pkp", &price, err, errlen) ||
        number_i32(r.search_count, "search_count", 0, &search_count, err, errlen))
        return TRACK_INVALID;
    if (present(r.cid) && !is_hex16(r.cid))
        return invalid(err, errlen, "cid must be a visitor id of 16 hexadecimal characters");

    bool has_cdt = present(r.cdt), has_cip = present(r.cip);
    if ((has_cdt || has_cip) && !authorised(&r, ctx, sites, users, tokens, site->id))
        return invalid(err, errlen,
                       "%s needs a valid token_auth for site %u, with write access (`tally "
                       "token create --site %u`, or --user NAME for a user granted write)",
                       has_cdt ? "cdt" : "cip", site->id, site->id);
    h->time_ms = ctx->now_ms;
    if (has_cdt) {
        if (parse_cdt(r.cdt, ctx->now_ms, &h->time_ms, err, errlen)) return TRACK_INVALID;
        h->flags |= HIT_FLAG_TIME_FORCED;
    }
    if (has_cip) {
        unsigned char addr[16];
        if (inet_pton(AF_INET, r.cip, addr) != 1 && inet_pton(AF_INET6, r.cip, addr) != 1)
            return invalid(err, errlen, "cip must be an IPv4 or IPv6 address, not '%s'",
                           quote(r.cip).text);
    }

    int kind = decide_kind(&r, goal_id, err, errlen);
    if (kind == TRACK_INVALID) return TRACK_INVALID;
    const char *items = "";
    if (present(r.ec_items)) {
        int rc = parse_items(r.ec_items, arena, &items, err, errlen);
        if (rc) return rc;
    }

    h->site_id = site->id;
    h->kind = (uint8_t)kind;
    h->url = or_empty(r.url);
    h->action_name = or_empty(r.action_name);
    h->urlref = or_empty(r.urlref);
    h->pv_id = or_empty(r.pv_id);
    h->user_id = or_empty(r.uid);
    h->language = or_empty(r.lang);
    if (is_one(r.new_visit)) h->flags |= HIT_FLAG_NEW_VISIT;
    if (is_one(r.bots)) h->flags |= HIT_FLAG_BOT;
    fill_lenient(&r, h);
    if (r.dimension_count) {
        int rc = build_dimensions(params, r.dimension_count, arena, &h->dimensions, err, errlen);
        if (rc) return rc;
    }

    switch (kind) {
    case HIT_EVENT:
        h->event_category = r.e_c;
        h->event_action = r.e_a;
        h->event_name = or_empty(r.e_n);
        h->event_value = event_value;
        break;
    case HIT_CONTENT_IMPRESSION:
    case HIT_CONTENT_INTERACTION:
        h->content_name = r.c_n;
        h->content_piece = or_empty(r.c_p);
        h->content_target = or_empty(r.c_t);
        h->content_interaction = or_empty(r.c_i);
        break;
    case HIT_OUTLINK:
        h->target_url = r.link;
        break;
    case HIT_DOWNLOAD:
        h->target_url = r.download;
        break;
    case HIT_SITE_SEARCH:
        h->search_keyword = r.search;
        h->search_category = or_empty(r.search_cat);
        h->search_count = search_count;
        break;
    case HIT_GOAL:
        h->goal_id = goal_id;
        h->revenue = revenue;
        break;
    case HIT_ECOMMERCE_ORDER:
        h->order_id = r.ec_id;
        h->subtotal = subtotal;
        h->tax = tax;
        h->shipping = shipping;
        h->discount = discount;
        /* An order is a cart that was paid: the cart's fields too. */
        /* fall through */
    case HIT_CART_UPDATE:
        h->goal_id = 0;
        h->revenue = revenue;
        h->items = items;
        break;
    case HIT_PAGEVIEW:
        if (present(r.pks) || present(r.pkn) || present(r.pkc) || !isnan(price)) {
            h->flags |= HIT_FLAG_PRODUCT_VIEW;
            h->product_sku = or_empty(r.pks);
            h->product_name = or_empty(r.pkn);
            h->product_price = price;
            if (present(r.pkc)) {
                int rc = parse_product_category(r.pkc, arena, &h->product_category, err, errlen);
                if (rc) return rc;
            }
        }
        break;
    default:
        break;
    }

    out->site = site;
    out->ip = has_cip ? r.cip : or_empty(ctx->ip);
    out->user_agent = present(r.ua) ? r.ua : or_empty(ctx->user_agent);
    out->uadata = or_empty(r.uadata);
    out->visitor_hex = present(r.id) && is_hex16(r.id) ? r.id : "";
    out->cookie_campaign_name = present(r.rcn) ? r.rcn : "";
    out->cookie_campaign_keyword = present(r.rck) ? r.rck : "";
    out->forced_visitor_hex = present(r.cid) ? r.cid : "";
    out->dropped_for_privacy = ctx->do_not_track && site->honour_dnt;
    out->send_image = !(r.send_image && strcmp(r.send_image, "0") == 0);
    return TRACK_OK;
}
