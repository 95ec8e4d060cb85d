/* ua: loading uap-core and crawler-user-agents, running their regexes, the
 * result cache and the bot verdict. Names, engines, device types and client
 * hints are in ua_rules.c.
 *
 * Cost model: a cache hit is two keyed hashes and a copy; a miss runs the
 * three uap-core lists (first match wins in each, as uap-core specifies)
 * and one PCRE2 alternation of all crawler patterns, all JIT-compiled. */
#include "ua_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <sodium.h>
#include <yaml.h>

#include "../base/base.h"

/* Real user agents are under 500 bytes; regexes see at most this many, so a
 * 10 KB header costs no more than a long real one. */
#define UA_MATCH_MAX 1024
/* Entries in the result cache (a power of two). Each holds one ua_result
 * (~430 bytes): 16k entries are ~7 MB and cover the distinct user agents of
 * a busy site's day. */
#define UA_CACHE_SIZE 16384
/* Capture pairs in the shared match block; uap-core uses at most 9 groups. */
#define UA_OVECTOR_PAIRS 32
/* Backtracking bound per regex run, so a crafted user agent cannot make
 * one pattern run for seconds. Real user agents need far less. */
#define UA_MATCH_LIMIT 200000

enum ua_kind { UA_KIND_BROWSER, UA_KIND_OS, UA_KIND_DEVICE, UA_KINDS };

/* The three replacement slots of each kind, in order:
 * browser: family, v1, v2; os: os, v1, v2; device: device, brand, model. */
static const char *const ua_list_names[UA_KINDS] = {"user_agent_parsers", "os_parsers",
                                                    "device_parsers"};
static const char *const ua_slot_names[UA_KINDS][3] = {
    {"family_replacement", "v1_replacement", "v2_replacement"},
    {"os_replacement", "os_v1_replacement", "os_v2_replacement"},
    {"device_replacement", "brand_replacement", "model_replacement"},
};

struct ua_rule {
    pcre2_code *re;
    char *repl[3]; /* NULL when the rule has none */
    /* Lowercased text every match must contain (see ua_required_literal);
     * "" when none was found. */
    char lit[32];
};

/* A user agent with the set of its lowercased byte trigrams (a 4096-bit
 * Bloom-style map), so a rule whose required text has a trigram the agent
 * lacks is skipped without running its regex. */
struct ua_subject {
    const char *s;
    size_t len;
    uint64_t tri[64];
};

struct ua_rule_list {
    struct ua_rule *v;
    size_t n, cap;
};

struct ua_cache_entry {
    unsigned char key[crypto_shorthash_siphashx24_BYTES];
    bool used;
    struct ua_result r;
};

struct ua_parser {
    struct ua_rule_list rules[UA_KINDS];
    /* crawler-user-agents, by the byte each pattern must start with:
     * crawlers[c] is the alternation of the patterns that start with the
     * literal byte c, crawlers[256] of all others (anchored, classes). */
    pcre2_code *crawlers[257];
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    /* Keyed so that nobody can craft user agents that collide in the cache
     * and make a popular one be answered with another's result. */
    unsigned char hash_key[crypto_shorthash_siphashx24_KEYBYTES];
    struct ua_cache_entry *cache;
    unsigned long long hits, misses;
};

/* ---- small string helpers -------------------------------------------- */

/* Copies n bytes of s into out as printable ASCII (other bytes dropped),
 * without leading or trailing spaces. */
static void ua_clean_copy(const char *s, size_t n, char *out, size_t outlen)
{
    size_t len = 0;
    for (size_t i = 0; i < n && len + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) continue;
        if (c == ' ' && len == 0) continue;
        out[len++] = (char)c;
    }
    while (len > 0 && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
}

static void ua_set(char *out, size_t outlen, const char *s)
{
    ua_clean_copy(s, strlen(s), out, outlen);
}

/* ---- loading ----------------------------------------------------------- */

static int ua_compile(const char *pattern, uint32_t options, pcre2_code **out, char *why,
                      size_t whylen)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        snprintf(why, whylen, "%s at offset %zu", (const char *)msg, (size_t)erroff);
        return -EINVAL;
    }
    /* Without JIT (an unsupported CPU) the interpreter still gives the
     * right answers, only slower, so a JIT failure is not an error. */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    *out = re;
    return 0;
}

static const char *ua_yaml_scalar(const yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

/* Index of the ')' closing the group opened at re[i], or the string's
 * end; *has_bar tells whether the group has a '|' of its own. */
static size_t ua_group_end(const char *re, size_t i, bool *has_bar)
{
    int depth = 0;
    bool in_class = false;
    *has_bar = false;
    for (; re[i]; i++) {
        char c = re[i];
        if (c == '\\') {
            if (!re[++i]) break;
        } else if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = true;
            if (re[i + 1] == '^') i++;
            if (re[i + 1] == ']') i++;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth == 0) return i;
        } else if (c == '|' && depth == 1) {
            *has_bar = true;
        }
    }
    return i;
}

/* Finds the longest run of literal text that every match of re contains,
 * lowercased into lit; "" when there is none of 3 bytes or more. It only
 * reads what is certain: text outside classes, not made optional by a
 * quantifier, not inside a group with alternatives or a quantifier; any
 * top-level '|' means no literal at all. */
static void ua_required_literal(const char *re, char *lit, size_t litlen)
{
    char cur[64];
    size_t cur_len = 0, best_len = 0;
    lit[0] = '\0';
#define UA_LIT_BREAK()                                                                             \
    do {                                                                                           \
        if (cur_len > best_len && cur_len >= 3 && cur_len < litlen) {                              \
            memcpy(lit, cur, cur_len);                                                             \
            lit[cur_len] = '\0';                                                                   \
            best_len = cur_len;                                                                    \
        }                                                                                          \
        cur_len = 0;                                                                               \
    } while (0)
    for (size_t i = 0; re[i];) {
        char c = re[i];
        if (c == '\\') {
            char x = re[i + 1];
            if (!x) break;
            i += 2;
            /* Escapes that stand for other bytes (\x41, \p{L}, \Q..\E,
             * back-references) are not read: no literal for such a rule. */
            if (strchr("xpPuNcokgQE0123456789", x)) {
                lit[0] = '\0';
                return;
            }
            if (isalnum((unsigned char)x)) {
                UA_LIT_BREAK(); /* \d \w \s \b ... */
                continue;
            }
            c = x;
        } else if (c == '[') {
            UA_LIT_BREAK();
            i++;
            if (re[i] == '^') i++;
            if (re[i] == ']') i++;
            while (re[i] && re[i] != ']')
                i += re[i] == '\\' && re[i + 1] ? 2 : 1;
            if (re[i]) i++;
            continue;
        } else if (c == '(') {
            bool has_bar;
            size_t end = ua_group_end(re, i, &has_bar);
            UA_LIT_BREAK();
            bool quantified = re[end] && re[end + 1] && strchr("?*{", re[end + 1]);
            bool plain = re[i + 1] != '?' || re[i + 2] == ':';
            if (has_bar || quantified || !plain) {
                i = re[end] ? end + 1 : end;
                continue;
            }
            i += re[i + 1] == '?' ? 3 : 1;
            continue;
        } else if (c == ')' || c == '.' || c == '^' || c == '$' || c == '+') {
            UA_LIT_BREAK();
            i++;
            continue;
        } else if (c == '|') {
            lit[0] = '\0';
            return;
        } else if (c == '?' || c == '*' || c == '{') {
            /* The byte before is optional. */
            if (cur_len) cur_len--;
            UA_LIT_BREAK();
            if (c == '{')
                while (re[i] && re[i] != '}')
                    i++;
            if (re[i]) i++;
            continue;
        } else {
            i++;
        }
        /* A literal byte; a following '+' keeps it but ends the run. */
        if (cur_len + 1 < sizeof cur) cur[cur_len++] = (char)tolower((unsigned char)c);
    }
    UA_LIT_BREAK();
#undef UA_LIT_BREAK
}

static unsigned ua_trigram(const unsigned char *t)
{
    uint32_t x = (uint32_t)t[0] << 16 | (uint32_t)t[1] << 8 | t[2];
    return (x * 2654435761u) >> 20; /* 12 bits */
}

static void ua_subject_init(struct ua_subject *subj, const char *s, size_t len)
{
    subj->s = s;
    subj->len = len;
    memset(subj->tri, 0, sizeof subj->tri);
    for (size_t i = 0; i + 2 < len; i++) {
        unsigned char t[3] = {(unsigned char)tolower((unsigned char)s[i]),
                              (unsigned char)tolower((unsigned char)s[i + 1]),
                              (unsigned char)tolower((unsigned char)s[i + 2])};
        unsigned h = ua_trigram(t);
        subj->tri[h >> 6] |= 1ULL << (h & 63);
    }
}

/* False when the rule cannot match: a trigram of its literal is missing. */
static bool ua_subject_may_match(const struct ua_subject *subj, const struct ua_rule *rule)
{
    for (size_t i = 0; rule->lit[i] && rule->lit[i + 1] && rule->lit[i + 2]; i++) {
        unsigned h = ua_trigram((const unsigned char *)rule->lit + i);
        if (!(subj->tri[h >> 6] & (1ULL << (h & 63)))) return false;
    }
    return true;
}

/* Adds one rule (a mapping of regex, regex_flag and replacements). */
static int ua_add_rule(struct ua_parser *p, enum ua_kind kind, yaml_document_t *doc,
                       yaml_node_t *item, const char *path, char *err, size_t errlen)
{
    if (item->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: an entry of %s is not a mapping (line %zu)", path,
                 ua_list_names[kind], (size_t)item->start_mark.line + 1);
        return -EINVAL;
    }
    const char *regex = NULL;
    uint32_t options = 0;
    struct ua_rule rule = {0};
    int rc = -EINVAL;
    for (yaml_node_pair_t *pair = item->data.mapping.pairs.start;
         pair < item->data.mapping.pairs.top; pair++) {
        const char *k = ua_yaml_scalar(yaml_document_get_node(doc, pair->key));
        const char *v = ua_yaml_scalar(yaml_document_get_node(doc, pair->value));
        if (!k || !v) continue;
        if (strcmp(k, "regex") == 0) regex = v;
        if (strcmp(k, "regex_flag") == 0 && strchr(v, 'i')) options |= PCRE2_CASELESS;
        for (int s = 0; s < 3; s++)
            if (strcmp(k, ua_slot_names[kind][s]) == 0 && !rule.repl[s]) {
                rule.repl[s] = strdup(v);
                if (!rule.repl[s]) goto nomem;
            }
    }
    char why[200];
    if (!regex) {
        snprintf(err, errlen, "%s: an entry of %s has no regex (line %zu)", path,
                 ua_list_names[kind], (size_t)item->start_mark.line + 1);
        goto fail;
    }
    if (ua_compile(regex, options, &rule.re, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: the regex at line %zu does not compile: %s", path,
                 (size_t)item->start_mark.line + 1, why);
        goto fail;
    }
    ua_required_literal(regex, rule.lit, sizeof rule.lit);
    struct ua_rule_list *list = &p->rules[kind];
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 256;
        struct ua_rule *v = realloc(list->v, cap * sizeof *v);
        if (!v) goto nomem;
        list->v = v;
        list->cap = cap;
    }
    list->v[list->n++] = rule;
    return 0;
nomem:
    snprintf(err, errlen, "%s: out of memory", path);
    rc = -ENOMEM;
fail:
    pcre2_code_free(rule.re);
    for (int s = 0; s < 3; s++)
        free(rule.repl[s]);
    return rc;
}

static int ua_load_regexes(struct ua_parser *p, const char *path, char *err, size_t errlen)
{
    struct buf text;
    buf_init(&text);
    int rc = file_read_all(path, &text);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot read (%s); run scripts/assets.sh to install uap-core",
                 path, strerror(-rc));
        buf_free(&text);
        return rc;
    }

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        buf_free(&text);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text.data, text.len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s: not valid YAML: %s at line %zu", path,
                 parser.problem ? parser.problem : "error", (size_t)parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        buf_free(&text);
        return -EINVAL;
    }
    yaml_parser_delete(&parser);
    buf_free(&text);

    rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: not a uap-core regexes file (no top-level mapping)", path);
        rc = -EINVAL;
        goto out;
    }
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
         rc == 0 && pair < root->data.mapping.pairs.top; pair++) {
        const char *name = ua_yaml_scalar(yaml_document_get_node(&doc, pair->key));
        yaml_node_t *list = yaml_document_get_node(&doc, pair->value);
        for (int kind = 0; name && kind < UA_KINDS; kind++) {
            if (strcmp(name, ua_list_names[kind]) != 0) continue;
            if (!list || list->type != YAML_SEQUENCE_NODE) {
                snprintf(err, errlen, "%s: %s is not a list", path, name);
                rc = -EINVAL;
                break;
            }
            for (yaml_node_item_t *it = list->data.sequence.items.start;
                 rc == 0 && it < list->data.sequence.items.top; it++)
                rc = ua_add_rule(p, (enum ua_kind)kind, &doc, yaml_document_get_node(&doc, *it),
                                 path, err, errlen);
        }
    }
    for (int kind = 0; rc == 0 && kind < UA_KINDS; kind++)
        if (p->rules[kind].n == 0) {
            snprintf(err, errlen, "%s: not a uap-core regexes file (no %s)", path,
                     ua_list_names[kind]);
            rc = -EINVAL;
        }
out:
    yaml_document_delete(&doc);
    return rc;
}

/* The literal byte a crawler pattern must start with, or -1 when it may
 * start with anything else (a class, an anchor, a group, an escape, a
 * quantified first byte, or a top-level '|'). */
static int ua_pattern_first_byte(const char *pattern)
{
    static const char meta[] = "\\^$.|?*+()[]{}";
    if (!pattern[0] || strchr(meta, pattern[0]) || (pattern[1] && strchr("?*{", pattern[1])))
        return -1;
    int depth = 0;
    bool in_class = false;
    for (const char *c = pattern; *c; c++) {
        if (*c == '\\') {
            if (!*++c) break;
        } else if (in_class) {
            in_class = *c != ']';
        } else if (*c == '[') {
            in_class = true;
        } else if (*c == '(') {
            depth++;
        } else if (*c == ')') {
            depth--;
        } else if (*c == '|' && depth == 0) {
            return -1;
        }
    }
    return (unsigned char)pattern[0];
}

/* The 1,500 crawler patterns are grouped by first byte into ~60
 * alternations. PCRE2 sees that every branch of a group starts with the
 * same byte and jumps between its occurrences with memchr, and groups whose
 * byte is not in the user agent are not run at all: a few hundred branch
 * attempts per user agent instead of 1,500 per position. */
static int ua_load_crawlers(struct ua_parser *p, const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (strstr(jerr.text, "unable to open"))
            snprintf(err, errlen,
                     "%s: cannot read; run scripts/assets.sh to install crawler-user-agents", path);
        else
            snprintf(err, errlen, "%s: not valid JSON: %s at line %d", path, jerr.text, jerr.line);
        return -EINVAL;
    }
    int rc = 0;
    struct buf *alt = calloc(257, sizeof *alt);
    if (!alt) {
        json_decref(root);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    size_t i, count = 0;
    json_t *entry;
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s: not a crawler-user-agents list (expected an array)", path);
        rc = -EINVAL;
    }
    json_array_foreach(root, i, entry)
    {
        if (rc != 0) break;
        const char *pattern = json_string_value(json_object_get(entry, "pattern"));
        if (!pattern || !*pattern) {
            snprintf(err, errlen, "%s: entry %zu has no pattern", path, i);
            rc = -EINVAL;
            break;
        }
        /* Each pattern is checked alone first, so a bad one is named. */
        pcre2_code *re = NULL;
        char why[200];
        if (ua_compile(pattern, 0, &re, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: pattern %zu does not compile: %s", path, i, why);
            rc = -EINVAL;
            break;
        }
        pcre2_code_free(re);
        int first = ua_pattern_first_byte(pattern);
        struct buf *b = &alt[first < 0 ? 256 : first];
        buf_puts(b, b->len ? "|(?:" : "(?:");
        buf_puts(b, pattern);
        buf_putc(b, ')');
        count++;
    }
    if (rc == 0 && count == 0) {
        snprintf(err, errlen, "%s: no patterns", path);
        rc = -EINVAL;
    }
    for (int c = 0; c < 257; c++) {
        char why[200];
        if (rc == 0 && alt[c].len &&
            ua_compile(alt[c].data, 0, &p->crawlers[c], why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: the patterns do not compile together: %s", path, why);
            rc = -EINVAL;
        }
        buf_free(&alt[c]);
    }
    free(alt);
    json_decref(root);
    return rc;
}

int ua_parser_open(const char *assets_dir, struct ua_parser **out, char *err, size_t errlen)
{
    char path[4096];
    *out = NULL;
    if (errlen) err[0] = '\0';
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -EIO;
    }
    struct ua_parser *p = calloc(1, sizeof *p);
    if (p) p->cache = calloc(UA_CACHE_SIZE, sizeof *p->cache);
    if (p) p->md = pcre2_match_data_create(UA_OVECTOR_PAIRS, NULL);
    if (p) p->mctx = pcre2_match_context_create(NULL);
    /* uap-core's ".{0,200}" style rules need more than the 32 KB JIT stack
     * PCRE2 uses by default. */
    if (p) p->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (!p || !p->cache || !p->md || !p->mctx || !p->jit_stack) {
        ua_parser_close(p);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pcre2_jit_stack_assign(p->mctx, NULL, p->jit_stack);
    pcre2_set_match_limit(p->mctx, UA_MATCH_LIMIT);
    randombytes_buf(p->hash_key, sizeof p->hash_key);

    snprintf(path, sizeof path, "%s/uap-core/regexes.yaml", assets_dir ? assets_dir : ".");
    int rc = ua_load_regexes(p, path, err, errlen);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/crawler-user-agents/crawler-user-agents.json",
                 assets_dir ? assets_dir : ".");
        rc = ua_load_crawlers(p, path, err, errlen);
    }
    if (rc != 0) {
        ua_parser_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

void ua_parser_close(struct ua_parser *p)
{
    if (!p) return;
    for (int kind = 0; kind < UA_KINDS; kind++) {
        for (size_t i = 0; i < p->rules[kind].n; i++) {
            pcre2_code_free(p->rules[kind].v[i].re);
            for (int s = 0; s < 3; s++)
                free(p->rules[kind].v[i].repl[s]);
        }
        free(p->rules[kind].v);
    }
    for (int c = 0; c < 257; c++)
        pcre2_code_free(p->crawlers[c]);
    pcre2_match_data_free(p->md);
    pcre2_match_context_free(p->mctx);
    pcre2_jit_stack_free(p->jit_stack);
    free(p->cache);
    free(p);
}

void ua_parser_stats(const struct ua_parser *p, unsigned long long *hits,
                     unsigned long long *misses)
{
    *hits = p->hits;
    *misses = p->misses;
}

/* ---- matching ---------------------------------------------------------- */

struct ua_match {
    const char *subject;
    const PCRE2_SIZE *ov;
    int groups; /* pcre2_match's return: 1 + the highest group set */
};

/* Runs the rules of one kind in order; the first that matches wins. */
static const struct ua_rule *ua_first_match(struct ua_parser *p, enum ua_kind kind,
                                            const struct ua_subject *subj, struct ua_match *m)
{
    const struct ua_rule_list *list = &p->rules[kind];
    for (size_t i = 0; i < list->n; i++) {
        if (!ua_subject_may_match(subj, &list->v[i])) continue;
        /* Errors (a hit match limit) count as no match. */
        int rc = pcre2_match(list->v[i].re, (PCRE2_SPTR)subj->s, subj->len, 0, 0, p->md, p->mctx);
        if (rc > 0) {
            m->subject = subj->s;
            m->ov = pcre2_get_ovector_pointer(p->md);
            m->groups = rc;
            return &list->v[i];
        }
    }
    return NULL;
}

/* Group n of the last match into out ("" when unset). */
static void ua_group(const struct ua_match *m, int n, char *out, size_t outlen)
{
    out[0] = '\0';
    if (n >= m->groups || m->ov[2 * n] == PCRE2_UNSET) return;
    ua_clean_copy(m->subject + m->ov[2 * n], m->ov[2 * n + 1] - m->ov[2 * n], out, outlen);
}

/* uap-core's rule for each field: the replacement with $1..$9 substituted
 * when the rule has one, else capture group `group` (0: none). */
static void ua_field(const struct ua_match *m, const char *repl, int group, char *out,
                     size_t outlen)
{
    if (!repl) {
        if (group)
            ua_group(m, group, out, outlen);
        else
            out[0] = '\0';
        return;
    }
    char tmp[256];
    size_t n = 0;
    for (const char *r = repl; *r && n + 1 < sizeof tmp; r++) {
        if (r[0] == '$' && r[1] >= '1' && r[1] <= '9') {
            char g[128];
            ua_group(m, r[1] - '0', g, sizeof g);
            for (const char *c = g; *c && n + 1 < sizeof tmp; c++)
                tmp[n++] = *c;
            r++;
            continue;
        }
        tmp[n++] = *r;
    }
    ua_clean_copy(tmp, n, out, outlen);
}

/* Device brand and model from uap-core's device_parsers. Returns the
 * device family ("Spider" for crawlers, "" when nothing matched). */
static void ua_device(struct ua_parser *p, const struct ua_subject *subj, struct ua_result *r,
                      char *family, size_t familylen)
{
    struct ua_match m;
    const struct ua_rule *rule = ua_first_match(p, UA_KIND_DEVICE, subj, &m);
    family[0] = r->device_brand[0] = r->device_model[0] = '\0';
    if (!rule) return;
    ua_field(&m, rule->repl[0], 1, family, familylen);
    ua_field(&m, rule->repl[1], 0, r->device_brand, sizeof r->device_brand);
    ua_field(&m, rule->repl[2], 1, r->device_model, sizeof r->device_model);
    /* uap-core's placeholders say "we do not know": "Generic_Android",
     * "Generic Smartphone", the frozen Chrome model "K". */
    if (strncmp(r->device_brand, "Generic", 7) == 0 || strcmp(r->device_brand, "Spider") == 0)
        r->device_brand[0] = '\0';
    if (strcmp(family, "Other") == 0 || strcmp(r->device_model, "K") == 0 ||
        strncmp(r->device_model, "Generic", 7) == 0 || strcmp(family, "Spider") == 0 ||
        (strcmp(r->device_model, "Smartphone") == 0 && !r->device_brand[0]))
        r->device_model[0] = '\0';
}

/* ---- bots ---------------------------------------------------------------- */

/* Headless browsers and HTTP libraries / monitoring services, checked
 * before the crawler list so they get a stable, readable name. Matched
 * case-insensitively as substrings. */
static const struct {
    const char *marker, *name;
} ua_bot_markers[] = {
    {"HeadlessChrome", "HeadlessChrome"},
    {"PhantomJS", "PhantomJS"},
    {"Puppeteer", "Puppeteer"},
    {"Playwright", "Playwright"},
    {"Selenium", "Selenium"},
    {"WebDriver", "WebDriver"},
    {"Chrome-Lighthouse", "Lighthouse"},
    {"UptimeRobot", "UptimeRobot"},
    {"Pingdom", "Pingdom"},
    {"StatusCake", "StatusCake"},
    {"Site24x7", "Site24x7"},
    {"DatadogSynthetics", "Datadog Synthetics"},
    {"Datadog Agent", "Datadog Agent"},
    {"curl/", "curl"},
    {"Wget/", "Wget"},
    {"python-requests", "python-requests"},
    {"Python-urllib", "Python-urllib"},
    {"aiohttp", "aiohttp"},
    {"httpx", "httpx"},
    {"Go-http-client", "Go-http-client"},
    {"Java/", "Java"},
    {"okhttp", "okhttp"},
    {"axios/", "axios"},
    {"node-fetch", "node-fetch"},
    {"undici", "undici"},
    {"libwww-perl", "libwww-perl"},
    {"Apache-HttpClient", "Apache-HttpClient"},
    {"Scrapy", "Scrapy"},
};

static bool ua_crawler_match(struct ua_parser *p, const char *s, size_t len)
{
    uint64_t present[4] = {0};
    for (size_t i = 0; i < len; i++)
        present[(unsigned char)s[i] >> 6] |= 1ULL << ((unsigned char)s[i] & 63);
    for (int c = 0; c < 257; c++) {
        if (!p->crawlers[c]) continue;
        if (c < 256 && !(present[c >> 6] & (1ULL << (c & 63)))) continue;
        if (pcre2_match(p->crawlers[c], (PCRE2_SPTR)s, len, 0, 0, p->md, p->mctx) > 0) return true;
    }
    return false;
}

static bool ua_token_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '_' || c == '-';
}

/* A crawler's name: the first product token that says bot, crawler or
 * spider ("YandexBot/3.0" -> "YandexBot"), skipping URLs; else the token
 * where the crawler pattern matched (match_at), e.g. "facebookexternalhit".
 * Letters, digits and "._-" only, so nothing else of the user agent is
 * kept. */
static void ua_bot_name(const char *s, size_t match_at, char *out, size_t outlen)
{
    for (const char *t = s; *t;) {
        while (*t && !ua_token_char((unsigned char)*t))
            t++;
        const char *start = t;
        while (ua_token_char((unsigned char)*t))
            t++;
        size_t n = (size_t)(t - start);
        bool url = strncmp(t, "://", 3) == 0 ||
                   (start > s && (start[-1] == '/' || start[-1] == '@' || start[-1] == '+'));
        /* Skip a version after '/'. */
        if (*t == '/' && !url)
            while (*t && *t != ' ' && *t != ';' && *t != ')')
                t++;
        char tok[64];
        if (n == 0 || url || n >= sizeof tok) continue;
        memcpy(tok, start, n);
        tok[n] = '\0';
        if (strcasestr(tok, "bot") || strcasestr(tok, "crawl") || strcasestr(tok, "spider")) {
            ua_set(out, outlen, tok);
            return;
        }
    }
    size_t start = match_at, end;
    while (s[start] && !ua_token_char((unsigned char)s[start]))
        start++;
    while (start > 0 && ua_token_char((unsigned char)s[start - 1]))
        start--;
    for (end = start; ua_token_char((unsigned char)s[end]); end++)
        ;
    char tok[64];
    ua_clean_copy(s + start, end - start < sizeof tok ? end - start : sizeof tok - 1, tok,
                  sizeof tok);
    ua_set(out, outlen, tok[0] ? tok : "crawler");
}

/* Sets r->bot and r->bot_name. s is the (cut) user agent, NUL-terminated. */
static void ua_bot(struct ua_parser *p, const char *s, size_t len, const char *device_family,
                   struct ua_result *r)
{
    r->bot = false;
    r->bot_name[0] = '\0';

    /* An empty user agent is not a verdict: server-side trackers (Node's
     * https module, some SDKs) send none, and dropping their hits would lose
     * real visits. */
    for (size_t k = 0; k < sizeof ua_bot_markers / sizeof ua_bot_markers[0]; k++)
        if (strcasestr(s, ua_bot_markers[k].marker)) {
            r->bot = true;
            ua_set(r->bot_name, sizeof r->bot_name, ua_bot_markers[k].name);
            return;
        }
    if (ua_crawler_match(p, s, len)) {
        r->bot = true;
        ua_bot_name(s, (size_t)pcre2_get_ovector_pointer(p->md)[0], r->bot_name,
                    sizeof r->bot_name);
        return;
    }
    /* uap-core's own crawler catch-all ("bot", "spider", "crawl" ...). */
    if (strcmp(device_family, "Spider") == 0) {
        r->bot = true;
        ua_set(r->bot_name, sizeof r->bot_name, r->browser[0] ? r->browser : "crawler");
    }
}

/* ---- one parse -------------------------------------------------------- */

/* The version uap-core reports, reduced to what Tally keeps: the major
 * number, except where it alone means little (macOS 10.x, Windows 8.1). */
static void ua_os_version(struct ua_result *r, const char *v1, const char *v2)
{
    r->os_version[0] = '\0';
    if (!v1[0]) return;
    if (v1[0] < '0' || v1[0] > '9') {
        /* Named releases: Windows "XP", "Vista". */
        ua_set(r->os_version, sizeof r->os_version, v1);
        return;
    }
    ua_copy_major(v1, r->os_version, sizeof r->os_version);
    bool keep_minor = (strcmp(r->os, "macOS") == 0 && strcmp(r->os_version, "10") == 0) ||
                      (strcmp(r->os, "Windows") == 0 && strcmp(r->os_version, "8") == 0);
    char minor[8];
    ua_copy_major(v2, minor, sizeof minor);
    if (keep_minor && minor[0] && strcmp(minor, "0") != 0)
        snprintf(r->os_version + strlen(r->os_version),
                 sizeof r->os_version - strlen(r->os_version), ".%s", minor);
}

/* Applies the hints' platform and platform version. */
static void ua_hint_os(struct ua_result *r, const struct ua_hint_values *v)
{
    static const struct {
        const char *platform, *os;
    } platforms[] = {{"Windows", "Windows"},    {"macOS", "macOS"},
                     {"Android", "Android"},    {"Linux", "Linux"},
                     {"Chrome OS", "ChromeOS"}, {"Chromium OS", "ChromeOS"},
                     {"ChromeOS", "ChromeOS"},  {"iOS", "iOS"},
                     {"Fuchsia", "Fuchsia"}};
    const char *os = NULL;
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
        if (strcmp(v->platform, platforms[i].platform) == 0) os = platforms[i].os;
    if (!os) return;
    bool same_os = strcmp(r->os, os) == 0;
    ua_set(r->os, sizeof r->os, os);
    char major[16];
    ua_copy_major(v->platform_version, major, sizeof major);
    if (!major[0]) {
        if (!same_os) r->os_version[0] = '\0';
        return;
    }
    if (strcmp(os, "Windows") == 0) {
        /* Microsoft's documented mapping: platform version 13 and above is
         * Windows 11, 1..10 is Windows 10, 0 is 7, 8 or 8.1 (the user agent
         * tells those apart, so it is kept). */
        int n = atoi(major);
        if (n >= 13)
            ua_set(r->os_version, sizeof r->os_version, "11");
        else if (n >= 1)
            ua_set(r->os_version, sizeof r->os_version, "10");
        else if (!same_os)
            r->os_version[0] = '\0';
        return;
    }
    const char *dot = strchr(v->platform_version, '.');
    ua_os_version(r, major, dot ? dot + 1 : "");
}

static void ua_parse_uncached(struct ua_parser *p, const char *user_agent,
                              const struct ua_hints *hints, struct ua_result *r)
{
    char s[UA_MATCH_MAX + 1];
    size_t len = strnlen(user_agent, UA_MATCH_MAX);
    memcpy(s, user_agent, len);
    s[len] = '\0';
    memset(r, 0, sizeof *r);

    struct ua_subject subj;
    ua_subject_init(&subj, s, len);
    struct ua_match m;
    char v1[32], v2[32], family[64];
    const struct ua_rule *rule = ua_first_match(p, UA_KIND_BROWSER, &subj, &m);
    if (rule) {
        ua_field(&m, rule->repl[0], 1, family, sizeof family);
        ua_field(&m, rule->repl[1], 2, v1, sizeof v1);
        if (strcmp(family, "Other") != 0) {
            ua_set(r->browser, sizeof r->browser, ua_browser_name(family));
            ua_copy_major(v1, r->browser_version, sizeof r->browser_version);
        }
    }
    rule = ua_first_match(p, UA_KIND_OS, &subj, &m);
    if (rule) {
        ua_field(&m, rule->repl[0], 1, family, sizeof family);
        ua_field(&m, rule->repl[1], 2, v1, sizeof v1);
        ua_field(&m, rule->repl[2], 3, v2, sizeof v2);
        if (strcmp(family, "Other") != 0) {
            ua_set(r->os, sizeof r->os, ua_os_name(family));
            ua_os_version(r, v1, v2);
        }
    }
    ua_device(p, &subj, r, family, sizeof family);
    /* Apple renamed the iPad's iOS to iPadOS from version 13. */
    if (strcmp(r->os, "iOS") == 0 && strncmp(r->device_model, "iPad", 4) == 0 &&
        atoi(r->os_version) >= 13)
        ua_set(r->os, sizeof r->os, "iPadOS");
    ua_bot(p, s, len, family, r);

    struct ua_hint_values hv;
    ua_hints_read(hints, &hv);
    if (hv.brand[0]) {
        /* Headless Chrome says so in its hints even when its user agent
         * has been made to look like Chrome's. */
        if (strcmp(hv.brand, "HeadlessChrome") == 0 && !r->bot) {
            r->bot = true;
            ua_set(r->bot_name, sizeof r->bot_name, "HeadlessChrome");
        }
        ua_set(r->browser, sizeof r->browser, hv.brand);
        ua_set(r->browser_version, sizeof r->browser_version, hv.version);
    }
    if (hv.platform[0]) ua_hint_os(r, &hv);
    if (hv.model[0]) {
        /* The model goes inside a synthetic user agent: nothing in it may
         * close that user agent's parenthesis or start another field. */
        for (char *c = hv.model; *c; c++)
            if (*c == '(' || *c == ')' || *c == ';') *c = ' ';
        /* Chrome freezes the model in the user agent ("Android 10; K");
         * the hint has the real one. uap-core finds its brand when shown
         * the model the way an Android user agent would carry it. */
        char synthetic[128];
        int n = snprintf(synthetic, sizeof synthetic,
                         "Mozilla/5.0 (Linux; Android 10; %s) AppleWebKit/537.36", hv.model);
        char unused[64];
        struct ua_result d;
        memset(&d, 0, sizeof d);
        ua_subject_init(&subj, synthetic,
                        n > 0 && (size_t)n < sizeof synthetic ? (size_t)n : strlen(synthetic));
        ua_device(p, &subj, &d, unused, sizeof unused);
        ua_set(r->device_brand, sizeof r->device_brand, d.device_brand);
        ua_set(r->device_model, sizeof r->device_model,
               d.device_model[0] ? d.device_model : hv.model);
    }
    ua_engine(r, s);
    ua_device_type(r, s, hv.mobile);
}

/* ---- cache ------------------------------------------------------------ */

static void ua_cache_key(const struct ua_parser *p, const char *ua, const struct ua_hints *h,
                         unsigned char key[crypto_shorthash_siphashx24_BYTES])
{
    const char *parts[7] = {ua};
    if (h) {
        parts[1] = h->uadata;
        parts[2] = h->sec_ch_ua;
        parts[3] = h->sec_ch_ua_mobile;
        parts[4] = h->sec_ch_ua_platform;
        parts[5] = h->sec_ch_ua_platform_version;
        parts[6] = h->sec_ch_ua_model;
    }
    /* Each part hashed alone, then the digests together: no separator can
     * be forged by a part's content, and nothing is copied. Absent parts
     * (most hints, most of the time) keep an all-zero digest, which no
     * content can produce without the key; that saves most of the hashing. */
    unsigned char d[7][crypto_shorthash_siphashx24_BYTES] = {{0}};
    for (int i = 0; i < 7; i++) {
        const char *s = parts[i] ? parts[i] : "";
        if (*s) crypto_shorthash_siphashx24(d[i], (const unsigned char *)s, strlen(s), p->hash_key);
    }
    crypto_shorthash_siphashx24(key, (const unsigned char *)d, sizeof d, p->hash_key);
}

void ua_parse(struct ua_parser *p, const char *user_agent, const struct ua_hints *hints,
              struct ua_result *out)
{
    if (!user_agent) user_agent = "";
    unsigned char key[crypto_shorthash_siphashx24_BYTES];
    ua_cache_key(p, user_agent, hints, key);
    uint64_t slot;
    memcpy(&slot, key, sizeof slot);
    struct ua_cache_entry *e = &p->cache[slot & (UA_CACHE_SIZE - 1)];
    if (e->used && memcmp(e->key, key, sizeof key) == 0) {
        p->hits++;
        *out = e->r;
        return;
    }
    p->misses++;
    ua_parse_uncached(p, user_agent, hints, out);
    /* Replace on collision: the newest user agent is the likelier next. */
    memcpy(e->key, key, sizeof key);
    e->r = *out;
    e->used = true;
}
