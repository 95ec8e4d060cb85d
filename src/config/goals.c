/* config: DATA/goals.json, the goal definitions of every site.
 *
 * goals.json  {"last_ids":{"1":3},
 *              "goals":[{"site_id":1,"id":1,"name":"Signed up","description":"",
 *                        "match":"url","pattern_type":"contains","pattern":"/welcome",
 *                        "case_sensitive":false,"allow_multiple":false,"revenue":0,
 *                        "created_ms":...}]}
 *
 * last_ids keeps, per site, the highest id ever given, so a deleted goal's
 * id is never given again: reports and tracked conversions (idgoal=N) that
 * name it must not start counting for a different goal. The file is
 * rewritten whole under DATA/config.lock, like sites.json. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/base.h"
#include "config.h"
#include "internal.h"

struct goals {
    struct goal *items; /* sorted by site_id, then id */
    size_t count;
    struct last_ids last_ids;
};

/* ---- names ---- */

static const char *const match_names[] = {
    [GOAL_MATCH_URL] = "url",
    [GOAL_MATCH_TITLE] = "title",
    [GOAL_MATCH_EVENT_CATEGORY] = "event_category",
    [GOAL_MATCH_EVENT_ACTION] = "event_action",
    [GOAL_MATCH_EVENT_NAME] = "event_name",
    [GOAL_MATCH_OUTLINK] = "outlink",
    [GOAL_MATCH_DOWNLOAD] = "download",
    [GOAL_MATCH_MANUAL] = "manual",
};
#define MATCH_COUNT (sizeof match_names / sizeof *match_names)

static const char *const pattern_names[] = {
    [GOAL_PATTERN_NONE] = "",
    [GOAL_PATTERN_EXACT] = "exact",
    [GOAL_PATTERN_CONTAINS] = "contains",
    [GOAL_PATTERN_STARTS_WITH] = "starts_with",
    [GOAL_PATTERN_ENDS_WITH] = "ends_with",
    [GOAL_PATTERN_REGEX] = "regex",
};
#define PATTERN_COUNT (sizeof pattern_names / sizeof *pattern_names)

const char *goal_match_name(enum goal_match match)
{
    return (size_t)match < MATCH_COUNT ? match_names[match] : "?";
}

int goal_match_parse(const char *text, enum goal_match *out)
{
    for (size_t i = 0; text && i < MATCH_COUNT; i++) {
        if (strcmp(text, match_names[i]) == 0) {
            *out = (enum goal_match)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *goal_pattern_name(enum goal_pattern type)
{
    return (size_t)type < PATTERN_COUNT ? pattern_names[type] : "?";
}

int goal_pattern_parse(const char *text, enum goal_pattern *out)
{
    for (size_t i = 0; text && i < PATTERN_COUNT; i++) {
        if (strcmp(text, pattern_names[i]) == 0) {
            *out = (enum goal_pattern)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- validation ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* A line of text: valid UTF-8, no control characters, at most max
 * characters. what names the field in the message. */
int config_text_check(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
    if (!utf8_valid(s, strlen(s))) {
        snprintf(err, errlen, "the %s is not valid UTF-8", what);
        return -EINVAL;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "the %s may not hold control characters (tabs, line ends)",
                     what);
            return -EINVAL;
        }
    }
    if (utf8_chars(s) > max) {
        snprintf(err, errlen, "the %s is longer than %zu characters", what, max);
        return -EINVAL;
    }
    return 0;
}

static bool matches_a_url(enum goal_match m)
{
    return m == GOAL_MATCH_URL || m == GOAL_MATCH_OUTLINK || m == GOAL_MATCH_DOWNLOAD;
}

int pattern_compile(enum goal_pattern type, const char *pattern, bool case_sensitive,
                    pcre2_code **out, char *err, size_t errlen)
{
    *out = NULL;
    if (type == GOAL_PATTERN_NONE) return 0;
    /* Every type is a PCRE2 pattern: one matcher, and Unicode case
     * folding for all of them. Tracked strings may be invalid UTF-8. */
    uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (case_sensitive ? 0 : PCRE2_CASELESS);
    switch (type) {
    case GOAL_PATTERN_EXACT: options |= PCRE2_LITERAL | PCRE2_ANCHORED | PCRE2_ENDANCHORED; break;
    case GOAL_PATTERN_CONTAINS: options |= PCRE2_LITERAL; break;
    case GOAL_PATTERN_STARTS_WITH: options |= PCRE2_LITERAL | PCRE2_ANCHORED; break;
    case GOAL_PATTERN_ENDS_WITH: options |= PCRE2_LITERAL | PCRE2_ENDANCHORED; break;
    default: break;
    }
    int code;
    PCRE2_SIZE offset;
    *out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &offset, NULL);
    if (*out) return 0;
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(code, msg, sizeof msg);
    if (type == GOAL_PATTERN_REGEX)
        snprintf(err, errlen,
                 "the regular expression '%.200s' does not compile: %s (at character %zu); fix "
                 "it, or use another pattern type",
                 pattern, (const char *)msg, (size_t)offset + 1);
    else
        snprintf(err, errlen, "the pattern '%.200s' cannot be used: %s", pattern, (const char *)msg);
    return -EINVAL;
}

int goal_compile(const struct goal *g, pcre2_code **out, char *err, size_t errlen)
{
    return pattern_compile(g->pattern_type, g->pattern, g->case_sensitive, out, err, errlen);
}

int goal_validate(const struct goal *g, char *err, size_t errlen)
{
    const char *name = g->name ? g->name : "";
    if (!*name) {
        snprintf(err, errlen, "the goal needs a name, e.g. \"Signed up\"");
        return -EINVAL;
    }
    int rc = config_text_check("name", name, GOAL_NAME_MAX, err, errlen);
    if (!rc && g->description)
        rc = config_text_check("description", g->description, GOAL_DESCRIPTION_MAX, err, errlen);
    if (rc) return rc;
    if ((size_t)g->match >= MATCH_COUNT) {
        snprintf(err, errlen, "unknown match attribute");
        return -EINVAL;
    }
    if ((size_t)g->pattern_type >= PATTERN_COUNT) {
        snprintf(err, errlen, "unknown pattern type");
        return -EINVAL;
    }
    const char *pattern = g->pattern ? g->pattern : "";
    if (g->match == GOAL_MATCH_MANUAL) {
        if (*pattern || g->pattern_type != GOAL_PATTERN_NONE) {
            snprintf(err, errlen,
                     "a manual goal has no pattern (it converts only when the tracker sends "
                     "idgoal=ID); drop the pattern and its type");
            return -EINVAL;
        }
    } else {
        if (g->pattern_type == GOAL_PATTERN_NONE) {
            snprintf(err, errlen,
                     "give the pattern type: exact, contains, starts_with, ends_with or regex");
            return -EINVAL;
        }
        if (!*pattern) {
            snprintf(err, errlen, "give a pattern to match the %s against",
                     goal_match_name(g->match));
            return -EINVAL;
        }
        if (strlen(pattern) > GOAL_PATTERN_MAX) {
            snprintf(err, errlen, "the pattern is longer than %d bytes", GOAL_PATTERN_MAX);
            return -EINVAL;
        }
        rc = config_text_check("pattern", pattern, GOAL_PATTERN_MAX, err, errlen);
        if (rc) return rc;
        /* The URLs compared are whole: an exact path would never match. */
        if (g->pattern_type == GOAL_PATTERN_EXACT && matches_a_url(g->match) &&
            strncasecmp(pattern, "http://", 7) != 0 && strncasecmp(pattern, "https://", 8) != 0) {
            snprintf(err, errlen,
                     "an exact %s pattern is a whole URL starting with http:// or https:// "
                     "(e.g. https://shop.example.com/thanks); to match a path, use contains "
                     "or a regex",
                     goal_match_name(g->match));
            return -EINVAL;
        }
        pcre2_code *re;
        if (goal_compile(g, &re, err, errlen)) return -EINVAL;
        pcre2_code_free(re);
    }
    if (!isfinite(g->revenue) || g->revenue < 0 || g->revenue > GOAL_REVENUE_MAX) {
        snprintf(err, errlen, "the revenue must be a number from 0 to %.0f", GOAL_REVENUE_MAX);
        return -EINVAL;
    }
    return 0;
}

/* ---- the snapshot ---- */

static void goal_free_fields(struct goal *g)
{
    free(g->name);
    free(g->description);
    free(g->pattern);
    memset(g, 0, sizeof *g);
}

/* out: a heap-owned copy of in (absent strings become ""). */
static void goal_copy(const struct goal *in, struct goal *out)
{
    *out = *in;
    out->name = config_strdup(in->name ? in->name : "");
    out->description = config_strdup(in->description ? in->description : "");
    out->pattern = config_strdup(in->pattern ? in->pattern : "");
}

void goals_free(struct goals *goals)
{
    if (!goals) return;
    for (size_t i = 0; i < goals->count; i++)
        goal_free_fields(&goals->items[i]);
    free(goals->items);
    last_ids_free(&goals->last_ids);
    free(goals);
}

const struct goal *goals_for_site(const struct goals *goals, uint32_t site_id, size_t *cursor)
{
    for (; goals && *cursor < goals->count; (*cursor)++) {
        if (goals->items[*cursor].site_id == site_id) return &goals->items[(*cursor)++];
    }
    return NULL;
}

const struct goal *goals_find(const struct goals *goals, uint32_t site_id, uint32_t goal_id)
{
    for (size_t i = 0; goals && i < goals->count; i++)
        if (goals->items[i].site_id == site_id && goals->items[i].id == goal_id)
            return &goals->items[i];
    return NULL;
}

int goals_copy_site(const struct goals *goals, uint32_t site_id, struct goal **out, size_t *count)
{
    size_t n = 0, c = 0;
    while (goals_for_site(goals, site_id, &c)) n++;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return -ENOMEM;
    *count = 0;
    const struct goal *g;
    for (c = 0; (g = goals_for_site(goals, site_id, &c));) goal_copy(g, &(*out)[(*count)++]);
    return 0;
}

void goal_array_free(struct goal *goals, size_t count)
{
    for (size_t i = 0; i < count; i++) goal_free_fields(&goals[i]);
    free(goals);
}

static int goal_order(const void *a, const void *b)
{
    const struct goal *x = a, *y = b;
    if (x->site_id != y->site_id) return x->site_id < y->site_id ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void goals_sort(struct goals *goals)
{
    if (goals->count > 1) qsort(goals->items, goals->count, sizeof *goals->items, goal_order);
}

/* ---- the file ---- */

/* Reads one goal, validated as `goal add` validates it, so a hand-edited
 * file cannot hold what the CLI and the API would refuse. */
static int goal_from_json(json_t *obj, size_t index, struct goal *out, char *err, size_t errlen)
{
    struct goal draft = {0};
    if (!json_is_object(obj) || config_id_from_json(json_object_get(obj, "site_id"), &draft.site_id) ||
        config_id_from_json(json_object_get(obj, "id"), &draft.id)) {
        snprintf(err, errlen, "goals.json: goal #%zu needs positive integers \"site_id\" and \"id\"",
                 index + 1);
        return -EINVAL;
    }
    char why[512];
    const char *match = config_json_str(obj, "match", "");
    const char *type = config_json_str(obj, "pattern_type", "");
    json_t *revenue = json_object_get(obj, "revenue");
    json_t *created = json_object_get(obj, "created_ms");
    draft.name = (char *)config_json_str(obj, "name", "");
    draft.description = (char *)config_json_str(obj, "description", "");
    draft.pattern = (char *)config_json_str(obj, "pattern", "");
    draft.case_sensitive = json_is_true(json_object_get(obj, "case_sensitive"));
    draft.allow_multiple = json_is_true(json_object_get(obj, "allow_multiple"));
    draft.revenue = revenue ? (json_is_number(revenue) ? json_number_value(revenue) : -1) : 0;
    draft.created_ms = json_is_integer(created) ? json_integer_value(created) : 0;
    int rc = 0;
    if (goal_match_parse(match, &draft.match)) {
        snprintf(why, sizeof why, "unknown \"match\" '%.40s'", match);
        rc = -EINVAL;
    } else if (goal_pattern_parse(type, &draft.pattern_type)) {
        snprintf(why, sizeof why, "unknown \"pattern_type\" '%.40s'", type);
        rc = -EINVAL;
    } else {
        rc = goal_validate(&draft, why, sizeof why);
    }
    if (rc) {
        snprintf(err, errlen, "goals.json: site %u, goal %u: %s", draft.site_id, draft.id, why);
        return rc;
    }
    goal_copy(&draft, out);
    return 0;
}

static int goals_from_json(json_t *root, struct goals *goals, char *err, size_t errlen)
{
    json_t *arr = json_object_get(root, "goals");
    json_t *last = json_object_get(root, "last_ids");
    if ((arr && !json_is_array(arr)) || (last && !json_is_object(last))) {
        snprintf(err, errlen, "goals.json: expected {\"last_ids\": {...}, \"goals\": [...]}");
        return -EINVAL;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    if (n) {
        goals->items = calloc(n, sizeof *goals->items);
        if (!goals->items) abort();
    }
    for (size_t i = 0; i < n; i++) {
        struct goal *g = &goals->items[goals->count];
        int rc = goal_from_json(json_array_get(arr, i), i, g, err, errlen);
        if (!rc && goals_find(goals, g->site_id, g->id)) {
            snprintf(err, errlen, "goals.json: site %u has two goals with id %u", g->site_id,
                     g->id);
            goal_free_fields(g);
            rc = -EINVAL;
        }
        if (rc) return rc;
        goals->count++;
        last_ids_raise(&goals->last_ids, g->site_id, g->id);
    }
    int rc = last_ids_from_json(&goals->last_ids, last, "goals.json", "goal", err, errlen);
    if (rc) return rc;
    goals_sort(goals);
    return 0;
}

int goals_load(const char *data_dir, struct goals **out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "goals.json");
    json_t *root;
    int rc = config_json_read(path, &root, err, errlen);
    if (rc) return rc;
    struct goals *goals = calloc(1, sizeof *goals);
    if (!goals) abort();
    if (root) rc = goals_from_json(root, goals, err, errlen);
    json_decref(root);
    if (rc) {
        goals_free(goals);
        return rc;
    }
    *out = goals;
    return 0;
}

static json_t *goal_to_json(const struct goal *g)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:f, s:I}", "site_id",
                     (json_int_t)g->site_id, "id", (json_int_t)g->id, "name", g->name,
                     "description", g->description, "match", goal_match_name(g->match),
                     "pattern_type", goal_pattern_name(g->pattern_type), "pattern", g->pattern,
                     "case_sensitive", g->case_sensitive, "allow_multiple", g->allow_multiple,
                     "revenue", g->revenue, "created_ms", (json_int_t)g->created_ms);
}

static int goals_write(const char *data_dir, struct goals *goals, char *err, size_t errlen)
{
    goals_sort(goals);
    json_t *last = last_ids_to_json(&goals->last_ids);
    json_t *arr = json_array();
    for (size_t i = 0; i < goals->count; i++)
        json_array_append_new(arr, goal_to_json(&goals->items[i]));
    json_t *root = json_pack("{s:o, s:o}", "last_ids", last, "goals", arr);
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "goals.json");
    int rc = config_json_write(path, root, 0644, err, errlen);
    json_decref(root);
    return rc;
}

/* The edit every writer shares: lock, load, change, write. */
enum goal_edit { GOAL_EDIT_ADD, GOAL_EDIT_UPDATE, GOAL_EDIT_DELETE };

static int goal_edit_locked(const char *data_dir, struct goals *goals, enum goal_edit edit,
                            const struct goal *draft, uint32_t *id_out, char *err, size_t errlen)
{
    if (edit == GOAL_EDIT_ADD) {
        struct sites *sites;
        int rc = sites_load(data_dir, &sites, err, errlen);
        if (rc) return rc;
        bool site_exists = sites_find(sites, draft->site_id) != NULL;
        sites_free(sites);
        if (!site_exists) {
            snprintf(err, errlen, "no site with id %u; `tally site list` shows the sites",
                     draft->site_id);
            return -ENOENT;
        }
        size_t on_site = 0;
        for (size_t i = 0; i < goals->count; i++)
            on_site += goals->items[i].site_id == draft->site_id;
        if (on_site >= GOALS_PER_SITE_MAX) {
            snprintf(err, errlen, "site %u already has %d goals, the most a site may have; "
                     "delete one first", draft->site_id, GOALS_PER_SITE_MAX);
            return -ENOSPC;
        }
        uint32_t id = last_ids_get(&goals->last_ids, draft->site_id);
        if (id == UINT32_MAX) {
            snprintf(err, errlen, "no goal id left on site %u", draft->site_id);
            return -EOVERFLOW;
        }
        struct goal *grown = realloc(goals->items, (goals->count + 1) * sizeof *grown);
        if (!grown) abort();
        goals->items = grown;
        struct goal *g = &goals->items[goals->count++];
        goal_copy(draft, g);
        g->id = id + 1;
        g->created_ms = now_ms();
        last_ids_raise(&goals->last_ids, g->site_id, g->id);
        *id_out = g->id;
        return goals_write(data_dir, goals, err, errlen);
    }
    struct goal *old = (struct goal *)goals_find(goals, draft->site_id, draft->id);
    if (!old) {
        snprintf(err, errlen, "site %u has no goal with id %u; `tally goal list --site %u` "
                 "shows its goals", draft->site_id, draft->id, draft->site_id);
        return -ENOENT;
    }
    if (edit == GOAL_EDIT_UPDATE) {
        int64_t created_ms = old->created_ms;
        goal_free_fields(old);
        goal_copy(draft, old);
        old->created_ms = created_ms;
    } else {
        goal_free_fields(old);
        *old = goals->items[--goals->count];
    }
    return goals_write(data_dir, goals, err, errlen);
}

static int goal_edit(const char *data_dir, enum goal_edit edit, const struct goal *draft,
                     uint32_t *id_out, char *err, size_t errlen)
{
    if (edit != GOAL_EDIT_DELETE) {
        int rc = goal_validate(draft, err, errlen);
        if (rc) return rc;
    }
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct goals *goals = NULL;
    int rc = goals_load(data_dir, &goals, err, errlen);
    if (!rc) rc = goal_edit_locked(data_dir, goals, edit, draft, id_out, err, errlen);
    goals_free(goals);
    close(lock);
    return rc;
}

int goals_add(const char *data_dir, const struct goal *draft, uint32_t *id_out, char *err,
              size_t errlen)
{
    return goal_edit(data_dir, GOAL_EDIT_ADD, draft, id_out, err, errlen);
}

int goals_update(const char *data_dir, const struct goal *draft, char *err, size_t errlen)
{
    return goal_edit(data_dir, GOAL_EDIT_UPDATE, draft, NULL, err, errlen);
}

int goals_delete(const char *data_dir, uint32_t site_id, uint32_t goal_id, char *err,
                 size_t errlen)
{
    struct goal key = {.site_id = site_id, .id = goal_id};
    return goal_edit(data_dir, GOAL_EDIT_DELETE, &key, NULL, err, errlen);
}
