/* Tracking parameters: percent-decoding of query strings and form bodies
 * into name/value pairs that live in the caller's arena. One arena block
 * holds every decoded string of a query, so parsing a request costs no
 * malloc once the arena has warmed up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "track.h"

/* Matomo's JavaScript tracker sends about 30 parameters per hit: one
 * allocation covers it. */
#define PARAMS_INITIAL_CAP 48

void track_safe_text(char *out, size_t outlen, const char *s, size_t len)
{
    if (!outlen) return;
    size_t max = 64, n = 0;
    for (size_t i = 0; i < len && i < max && n + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[n++] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
    }
    if (len > max && n + 4 < outlen) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

int track_err_nomem(char *err, size_t errlen)
{
    snprintf(err, errlen, "the request is too large to process; send fewer or shorter parameters");
    return -ENOMEM;
}

void track_params_init(struct track_params *p, struct arena *arena)
{
    *p = (struct track_params){.arena = arena};
}

/* Appends a pair whose strings already live in the arena (or are static). */
static int params_push(struct track_params *p, const char *name, const char *value)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : PARAMS_INITIAL_CAP;
        struct track_param *items = arena_alloc(p->arena, cap * sizeof *items);
        if (!items) return -ENOMEM;
        /* The old array stays in the arena until it is reset: doubling keeps
         * that waste below the size of the live array. */
        if (p->count) memcpy(items, p->items, p->count * sizeof *items);
        p->items = items;
        p->cap = cap;
    }
    p->items[p->count++] = (struct track_param){.name = name, .value = value};
    return 0;
}

int track_params_add(struct track_params *p, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value);
    char *copy = arena_alloc(p->arena, nlen + vlen + 2);
    if (!copy) return -ENOMEM;
    memcpy(copy, name, nlen + 1);
    memcpy(copy + nlen + 1, value, vlen + 1);
    return params_push(p, copy, copy + nlen + 1);
}

const char *track_params_get(const struct track_params *p, const char *name)
{
    for (size_t i = p->count; i-- > 0;)
        if (strcmp(p->items[i].name, name) == 0) return p->items[i].value;
    return NULL;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Names a pair in an error message: its name when that is already known. */
static void describe(char *out, size_t outlen, const char *name)
{
    if (!name) {
        snprintf(out, outlen, "a parameter name");
        return;
    }
    char safe[72];
    track_safe_text(safe, sizeof safe, name, strlen(name));
    snprintf(out, outlen, "parameter '%s'", safe);
}

/* Decodes src[0..len) into dst (at least len+1 bytes), NUL-terminated.
 * `name` is the decoded name when decoding its value, NULL when decoding
 * the name itself; it only serves the error message. */
static int percent_decode(const char *src, size_t len, char *dst, size_t *dst_len,
                          const char *name, char *err, size_t errlen)
{
    char what[96];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < len ? hex_digit((unsigned char)src[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit((unsigned char)src[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                char esc[8];
                size_t esc_len = len - i < 3 ? len - i : 3;
                track_safe_text(esc, sizeof esc, src + i, esc_len);
                describe(what, sizeof what, name);
                snprintf(err, errlen,
                         "%s has a malformed percent escape \"%s\": a '%%' must be followed by "
                         "two hex digits (send a literal '%%' as %%25)",
                         what, esc);
                return -EINVAL;
            }
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') {
            describe(what, sizeof what, name);
            snprintf(err, errlen, "%s contains a NUL byte (%%00), which no text may hold", what);
            return -EINVAL;
        }
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    *dst_len = n;
    return 0;
}

static bool starts_with_http(const char *s, size_t len)
{
    return (len >= 7 && strncasecmp(s, "http://", 7) == 0) ||
           (len >= 8 && strncasecmp(s, "https://", 8) == 0);
}

int track_params_parse_query(struct track_params *p, const char *query, size_t len, char *err,
                             size_t errlen)
{
    const char *s = query, *end = query + len;
    if (starts_with_http(s, len)) {
        /* An absolute URL (PHP tracker bulk items): only its query counts. */
        const char *q = memchr(s, '?', len);
        if (!q) return 0;
        s = q + 1;
        const char *hash = memchr(s, '#', (size_t)(end - s));
        if (hash) end = hash;
    } else if (len && *s == '?') {
        s++;
    }
    if (s == end) return 0;

    /* Each "name=value&" shrinks to at most "name\0value\0" when decoded, so
     * the whole query fits in one allocation of its raw length plus one. */
    char *out = arena_alloc(p->arena, (size_t)(end - s) + 1);
    if (!out) return track_err_nomem(err, errlen);
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *seg_end = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(seg_end - s));
        const char *name_end = eq ? eq : seg_end;
        char *name = out;
        size_t n;
        int rc = percent_decode(s, (size_t)(name_end - s), name, &n, NULL, err, errlen);
        if (rc) return rc;
        out += n + 1;
        const char *value = "";
        if (eq) {
            char *v = out;
            rc = percent_decode(eq + 1, (size_t)(seg_end - eq - 1), v, &n, name, err, errlen);
            if (rc) return rc;
            out += n + 1;
            value = v;
        }
        /* "&&" and "=x" carry nothing a tracker could mean. */
        if (*name && params_push(p, name, value)) return track_err_nomem(err, errlen);
        if (!amp) break;
        s = amp + 1;
    }
    return 0;
}
