/* segment: parses Matomo's segment language into groups of conditions.
 *
 * The text is read once, left to right, with no backtracking: a name
 * ([A-Za-z0-9_]+), an operator, then a value up to the next unescaped ';'
 * or ','. Every error names the 1-based byte position it was found at, so
 * a user can find the mistake in a long segment. The whole result lives in
 * one malloc'd block sized by a first scan that counts the separators. */
#include "query.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/base.h"

/* Matomo cuts segments at 8 KiB; past that a client is confused or hostile. */
#define SEGMENT_MAX_BYTES 8192
#define SEGMENT_MAX_CONDITIONS 256
#define SEGMENT_MAX_CUSTOM_DIMENSION 999
/* Longest name echoed back in an error message. */
#define SEGMENT_NAME_SHOWN 64

const struct segment_dimension_info segment_dimension_infos[SEGMENT_DIM_COUNT] = {
#define SEGMENT_DIMENSION_INFO(id, name, scope, type, category, label)                             \
    [SEGMENT_DIM_##id] = {name, SEGMENT_SCOPE_##scope, SEGMENT_TYPE_##type, category, label},
    SEGMENT_DIMENSIONS(SEGMENT_DIMENSION_INFO)
#undef SEGMENT_DIMENSION_INFO
};

/* Longer operators first, so "<=" is not read as "<" and a value "=". */
static const struct {
    const char *text;
    enum segment_op op;
} segment_ops[] = {
    {"==", SEGMENT_EQ},     {"!=", SEGMENT_NE},       {"<=", SEGMENT_LE},
    {">=", SEGMENT_GE},     {"=@", SEGMENT_CONTAINS}, {"!@", SEGMENT_NOT_CONTAINS},
    {"=^", SEGMENT_STARTS}, {"=$", SEGMENT_ENDS},     {"<", SEGMENT_LT},
    {">", SEGMENT_GT},
};

/* "dimension" then 1..999 without leading zeros; the number, or 0. */
static unsigned custom_dimension_index(const char *name)
{
    static const char prefix[] = "dimension";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0) return 0;
    const char *digits = name + sizeof prefix - 1;
    if (*digits < '1' || *digits > '9') return 0;
    unsigned n = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9' || p - digits >= 3) return 0;
        n = n * 10 + (unsigned)(*p - '0');
    }
    return n;
}

int segment_dimension_find(const char *name, unsigned *index)
{
    if (index) *index = 0;
    for (int d = 0; d < SEGMENT_DIM_COUNT; d++)
        if (d != SEGMENT_DIM_DIMENSION && strcmp(name, segment_dimension_infos[d].name) == 0)
            return d;
    unsigned n = custom_dimension_index(name);
    if (!n) return -1;
    if (index) *index = n;
    return SEGMENT_DIM_DIMENSION;
}

struct parser {
    const char *text;
    size_t pos;   /* next byte to read */
    char *values; /* where the next decoded value goes */
    char *err;
    size_t errlen;
};

/* Writes "segment: MESSAGE at position N" (at is 0-based) and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail_at(struct parser *p, size_t at,
                                                         const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p->errlen) snprintf(p->err, p->errlen, "segment: %s at position %zu", what, at + 1);
    return -EINVAL;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool op_matches_text(enum segment_op op)
{
    return op == SEGMENT_CONTAINS || op == SEGMENT_NOT_CONTAINS || op == SEGMENT_STARTS ||
           op == SEGMENT_ENDS;
}

static int parse_dimension(struct parser *p, struct segment_condition *c)
{
    size_t start = p->pos;
    while (is_name_char(p->text[p->pos]))
        p->pos++;
    size_t len = p->pos - start;
    if (len == 0) return fail_at(p, start, "expected a dimension name");

    char name[SEGMENT_NAME_SHOWN + 1];
    if (len <= SEGMENT_NAME_SHOWN) {
        memcpy(name, p->text + start, len);
        name[len] = '\0';
        int d = segment_dimension_find(name, &c->dimension_index);
        if (d >= 0) {
            c->dimension = (enum segment_dimension)d;
            return 0;
        }
        if (strncmp(name, "dimension", 9) == 0 && name[9] >= '0' && name[9] <= '9')
            return fail_at(p, start, "custom dimension '%s' is not dimension1 .. dimension%d", name,
                           SEGMENT_MAX_CUSTOM_DIMENSION);
    } else {
        memcpy(name, p->text + start, SEGMENT_NAME_SHOWN - 3);
        memcpy(name + SEGMENT_NAME_SHOWN - 3, "...", 4);
    }
    return fail_at(p, start, "unknown dimension '%s'", name);
}

static int parse_operator(struct parser *p, struct segment_condition *c)
{
    for (size_t i = 0; i < sizeof segment_ops / sizeof segment_ops[0]; i++) {
        size_t n = strlen(segment_ops[i].text);
        if (strncmp(p->text + p->pos, segment_ops[i].text, n) == 0) {
            c->op = segment_ops[i].op;
            p->pos += n;
            return 0;
        }
    }
    return fail_at(p, p->pos, "expected an operator (==, !=, <=, >=, <, >, =@, !@, =^, =$)");
}

/* Decodes the value into p->values: "\x" is x, "%XX" is that byte, '+' is
 * a space (PHP's urldecode, which Matomo applies). Stops before an
 * unescaped ';' or ',' or the end. */
static int parse_value(struct parser *p, struct segment_condition *c)
{
    char *out = p->values;
    c->value = out;
    for (;;) {
        size_t at = p->pos;
        char ch = p->text[at];
        if (ch == '\0' || ch == ';' || ch == ',') break;
        if (ch == '\\') {
            if (p->text[at + 1] == '\0')
                return fail_at(p, at, "a backslash must be followed by the character it escapes");
            *out++ = p->text[at + 1];
            p->pos += 2;
        } else if (ch == '%') {
            int hi = hex_digit(p->text[at + 1]);
            int lo = hi < 0 ? -1 : hex_digit(p->text[at + 2]);
            if (lo < 0)
                return fail_at(p, at, "malformed percent escape (expected %%XX, two hex digits)");
            if (hi == 0 && lo == 0) return fail_at(p, at, "%%00 is not allowed in a value");
            *out++ = (char)(hi << 4 | lo);
            p->pos += 3;
        } else {
            *out++ = ch == '+' ? ' ' : ch;
            p->pos++;
        }
    }
    *out++ = '\0';
    p->values = out;
    return 0;
}

/* The checks that need the whole condition; positions point at what is wrong. */
static int check_condition(struct parser *p, const struct segment_condition *c, size_t op_at,
                           size_t value_at)
{
    const struct segment_dimension_info *info = &segment_dimension_infos[c->dimension];
    if (!*c->value && c->op != SEGMENT_EQ && c->op != SEGMENT_NE)
        return fail_at(p, value_at, "missing value (only == and != accept an empty one)");
    if (info->type != SEGMENT_TYPE_NUMBER) return 0;
    if (op_matches_text(c->op))
        return fail_at(p, op_at, "%s is a number: use ==, !=, <, <=, > or >=", info->name);
    if (*c->value && !c->is_number) return fail_at(p, value_at, "%s takes a number", info->name);
    return 0;
}

static int parse_condition(struct parser *p, struct segment_condition *c)
{
    *c = (struct segment_condition){0};
    int rc = parse_dimension(p, c);
    if (rc) return rc;
    size_t op_at = p->pos;
    if ((rc = parse_operator(p, c))) return rc;
    size_t value_at = p->pos;
    if ((rc = parse_value(p, c))) return rc;
    double number;
    if (parse_f64(c->value, &number) == 0) {
        c->number = number;
        c->is_number = true;
    }
    return check_condition(p, c, op_at, value_at);
}

int segment_parse(const char *text, struct segment **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen) err[0] = '\0';
    size_t len = strlen(text);
    if (len > SEGMENT_MAX_BYTES) {
        snprintf(err, errlen, "segment: %zu bytes is longer than the limit of %d", len,
                 SEGMENT_MAX_BYTES);
        return -EINVAL;
    }
    /* Each unescaped separator starts one more condition, each ';' one more group. */
    size_t ands = 0, ors = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && text[i + 1])
            i++;
        else if (text[i] == ';')
            ands++;
        else if (text[i] == ',')
            ors++;
    }
    size_t conditions = len ? ands + ors + 1 : 0, groups = len ? ands + 1 : 0;
    if (conditions > SEGMENT_MAX_CONDITIONS) {
        snprintf(err, errlen, "segment: %zu conditions is more than the limit of %d", conditions,
                 SEGMENT_MAX_CONDITIONS);
        return -EINVAL;
    }

    /* Values take no more bytes than the text (a name and an operator, at
     * least two bytes, come before each value's NUL). All parts are
     * multiples of 8 bytes, so each array is aligned. */
    struct segment *seg = malloc(sizeof *seg + groups * sizeof(struct segment_group) +
                                 conditions * sizeof(struct segment_condition) + len + 1);
    if (!seg) {
        snprintf(err, errlen, "segment: out of memory");
        return -ENOMEM;
    }
    seg->groups = (struct segment_group *)(seg + 1);
    seg->count = 0;
    struct segment_condition *next = (struct segment_condition *)(seg->groups + groups);
    struct segment_condition *end = next + conditions;
    struct parser p = {text, 0, (char *)end, err, errlen};

    while (p.pos < len) {
        struct segment_group *g = &seg->groups[seg->count++];
        *g = (struct segment_group){next, 0};
        for (;;) {
            if (next == end) abort(); /* the first scan counted every separator */
            int rc = parse_condition(&p, next++);
            if (rc) {
                free(seg);
                return rc;
            }
            g->count++;
            if (text[p.pos] != ',') break;
            p.pos++;
        }
        if (text[p.pos] == ';') {
            p.pos++;
            /* A trailing ';' must not end the loop silently. */
            if (p.pos == len) {
                free(seg);
                return fail_at(&p, p.pos, "expected a dimension name");
            }
        }
    }
    *out = seg;
    return 0;
}

void segment_free(struct segment *segment)
{
    free(segment);
}
