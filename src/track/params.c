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

void track_tame(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) *s = '?';
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

/* Bytes that end a plain run while decoding: '&' ends a pair, '=' ends a
 * name, '%' and '+' are decoded, NUL is refused. */
static const bool decode_special[256] = {
    ['\0'] = true, ['&'] = true, ['='] = true, ['%'] = true, ['+'] = true};

/* Decodes from *sp up to `end`, a '&', or (for a name) a '=', into *op,
 * NUL-terminated; both pointers are advanced. `name` is the decoded name
 * when decoding its value, NULL when decoding the name itself; it only
 * serves the error message. */
static int decode_part(const char **sp, const char *end, char **op, const char *name, char *err,
                       size_t errlen)
{
    const unsigned char *s = (const unsigned char *)*sp, *e = (const unsigned char *)end;
    char *o = *op;
    char what[96];
    for (;;) {
        /* Most of a tracking query is plain bytes: copy them in a tight loop. */
        while (s < e && !decode_special[*s])
            *o++ = (char)*s++;
        if (s == e || *s == '&') break;
        unsigned char c = *s;
        if (c == '=') {
            if (!name) break;
            s++;
        } else if (c == '+') {
            c = ' ';
            s++;
        } else if (c == '%') {
            int hi = e - s > 1 ? hex_digit(s[1]) : -1;
            int lo = e - s > 2 ? hex_digit(s[2]) : -1;
            if (hi < 0 || lo < 0) {
                char esc[8];
                size_t esc_len = e - s < 3 ? (size_t)(e - s) : 3;
                track_safe_text(esc, sizeof esc, (const char *)s, esc_len);
                describe(what, sizeof what, name);
                snprintf(err, errlen,
                         "%s has a malformed percent escape \"%s\": a '%%' must be followed by "
                         "two hex digits (send a literal '%%' as %%25)",
                         what, esc);
                return -EINVAL;
            }
            c = (unsigned char)(hi << 4 | lo);
            s += 3;
        }
        if (c == '\0') {
            describe(what, sizeof what, name);
            snprintf(err, errlen, "%s contains a NUL byte (%%00), which no text may hold", what);
            return -EINVAL;
        }
        *o++ = (char)c;
    }
    *o++ = '\0';
    *sp = (const char *)s;
    *op = o;
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
        char *name = out;
        int rc = decode_part(&s, end, &out, NULL, err, errlen);
        if (rc) return rc;
        const char *value = "";
        if (s < end && *s == '=') {
            s++;
            value = out;
            rc = decode_part(&s, end, &out, name, err, errlen);
            if (rc) return rc;
        }
        /* "&&" and "=x" carry nothing a tracker could mean. */
        if (*name && params_push(p, name, value)) return track_err_nomem(err, errlen);
        if (s < end) s++; /* the '&' */
    }
    return 0;
}
