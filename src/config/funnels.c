/* config: DATA/funnels.json, the funnel definitions of every site.
 *
 * funnels.json  {"last_ids":{"1":2},
 *                "funnels":[{"site_id":1,"id":1,"name":"Checkout","goal_id":0,
 *                            "steps":[{"name":"Cart","match":"path",
 *                                      "pattern_type":"starts_with","pattern":"/cart",
 *                                      "case_sensitive":false,"required":true}, ...],
 *                            "created_ms":...}]}
 *
 * Laid out as goals.json (goals.c): last_ids keeps, per site, the highest id
 * ever given, so a deleted funnel's id is never given again; the file is
 * rewritten whole under DATA/config.lock. */
#include <errno.h>
#include <limits.h>
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

struct funnels {
    struct funnel *items; /* sorted by site_id, then id */
    size_t count;
    struct last_ids last_ids;
};

/* ---- names ---- */

static const char *const match_names[] = {
    [FUNNEL_MATCH_URL] = "url",
    [FUNNEL_MATCH_PATH] = "path",
    [FUNNEL_MATCH_TITLE] = "title",
    [FUNNEL_MATCH_EVENT_CATEGORY] = "event_category",
    [FUNNEL_MATCH_EVENT_ACTION] = "event_action",
    [FUNNEL_MATCH_EVENT_NAME] = "event_name",
    [FUNNEL_MATCH_SITE_SEARCH] = "site_search",
    [FUNNEL_MATCH_GOAL] = "goal",
};
#define MATCH_COUNT (sizeof match_names / sizeof *match_names)

const char *funnel_match_name(enum funnel_match match)
{
    return (size_t)match < MATCH_COUNT ? match_names[match] : "?";
}

int funnel_match_parse(const char *text, enum funnel_match *out)
{
    for (size_t i = 0; text && i < MATCH_COUNT; i++) {
        if (strcmp(text, match_names[i]) == 0) {
            *out = (enum funnel_match)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- validation ---- */

static int step_validate(const struct funnel *f, size_t i, const struct goals *goals, char *err,
                         size_t errlen)
{
    const struct funnel_step *s = &f->steps[i];
    char why[512];
    int rc = 0;
    const char *name = s->name ? s->name : "";
    const char *pattern = s->pattern ? s->pattern : "";
    if (!*name) {
        snprintf(why, sizeof why, "give the step a name, e.g. \"Cart\"");
        rc = -EINVAL;
    } else if ((rc = config_text_check("name", name, FUNNEL_NAME_MAX, why, sizeof why))) {
    } else if ((size_t)s->match >= MATCH_COUNT) {
        snprintf(why, sizeof why,
                 "unknown match; expected url, path, title, event_category, event_action, "
                 "event_name, site_search or goal");
        rc = -EINVAL;
    } else if (s->pattern_type == GOAL_PATTERN_NONE || (unsigned)s->pattern_type > GOAL_PATTERN_REGEX) {
        snprintf(why, sizeof why,
                 "give the pattern type: exact, contains, starts_with, ends_with or regex");
        rc = -EINVAL;
    } else if (!*pattern) {
        snprintf(why, sizeof why, "give a pattern to match the %s against",
                 s->match == FUNNEL_MATCH_GOAL ? "goal id" : funnel_match_name(s->match));
        rc = -EINVAL;
    } else if (strlen(pattern) > GOAL_PATTERN_MAX) {
        snprintf(why, sizeof why, "the pattern is longer than %d bytes", GOAL_PATTERN_MAX);
        rc = -EINVAL;
    } else if ((rc = config_text_check("pattern", pattern, GOAL_PATTERN_MAX, why, sizeof why))) {
    } else if (s->match == FUNNEL_MATCH_GOAL) {
        int64_t id;
        if (s->pattern_type != GOAL_PATTERN_EXACT || parse_i64(pattern, 1, UINT32_MAX, &id)) {
            snprintf(why, sizeof why,
                     "a goal step's pattern is the goal's id, compared exactly (type exact), "
                     "got '%.40s'",
                     pattern);
            rc = -EINVAL;
        } else if (goals && !goals_find(goals, f->site_id, (uint32_t)id)) {
            snprintf(why, sizeof why,
                     "site %u has no goal with id %s; `tally goal list --site %u` shows its goals",
                     f->site_id, pattern, f->site_id);
            rc = -EINVAL;
        }
    } else if (s->pattern_type == GOAL_PATTERN_EXACT && s->match == FUNNEL_MATCH_URL &&
               strncasecmp(pattern, "http://", 7) != 0 && strncasecmp(pattern, "https://", 8) != 0) {
        /* The URLs compared are whole: an exact path would never match. */
        snprintf(why, sizeof why,
                 "an exact url pattern is a whole URL starting with http:// or https://; to "
                 "match '%.100s', use match path",
                 pattern);
        rc = -EINVAL;
    } else {
        pcre2_code *re;
        rc = pattern_compile(s->pattern_type, pattern, s->case_sensitive, &re, why, sizeof why);
        pcre2_code_free(re);
    }
    if (rc) snprintf(err, errlen, "step %zu (%.60s): %s", i + 1, *name ? name : "unnamed", why);
    return rc;
}

int funnel_validate(const struct funnel *f, const struct goals *goals, char *err, size_t errlen)
{
    const char *name = f->name ? f->name : "";
    if (!*name) {
        snprintf(err, errlen, "the funnel needs a name, e.g. \"Checkout\"");
        return -EINVAL;
    }
    int rc = config_text_check("name", name, FUNNEL_NAME_MAX, err, errlen);
    if (rc) return rc;
    if (f->goal_id && goals && !goals_find(goals, f->site_id, f->goal_id)) {
        snprintf(err, errlen,
                 "site %u has no goal with id %u; `tally goal list --site %u` shows its goals "
                 "(leave the goal out for a funnel tied to none)",
                 f->site_id, f->goal_id, f->site_id);
        return -EINVAL;
    }
    if (f->step_count < 1 || f->step_count > FUNNEL_STEPS_MAX) {
        snprintf(err, errlen, "a funnel has 1 to %d steps, got %zu", FUNNEL_STEPS_MAX,
                 f->step_count);
        return -EINVAL;
    }
    for (size_t i = 0; i < f->step_count; i++) {
        rc = step_validate(f, i, goals, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

/* ---- the snapshot ---- */

void funnel_clear(struct funnel *f)
{
    if (!f) return;
    free(f->name);
    for (size_t i = 0; i < FUNNEL_STEPS_MAX; i++) {
        free(f->steps[i].name);
        free(f->steps[i].pattern);
    }
    memset(f, 0, sizeof *f);
}

void funnel_copy(const struct funnel *in, struct funnel *out)
{
    *out = *in;
    out->name = config_strdup(in->name ? in->name : "");
    for (size_t i = 0; i < FUNNEL_STEPS_MAX; i++) {
        const struct funnel_step *s = &in->steps[i];
        out->steps[i].name = i < in->step_count ? config_strdup(s->name ? s->name : "") : NULL;
        out->steps[i].pattern =
            i < in->step_count ? config_strdup(s->pattern ? s->pattern : "") : NULL;
    }
}

void funnels_free(struct funnels *funnels)
{
    if (!funnels) return;
    for (size_t i = 0; i < funnels->count; i++) funnel_clear(&funnels->items[i]);
    free(funnels->items);
    last_ids_free(&funnels->last_ids);
    free(funnels);
}

const struct funnel *funnels_for_site(const struct funnels *funnels, uint32_t site_id,
                                      size_t *cursor)
{
    for (; funnels && *cursor < funnels->count; (*cursor)++)
        if (funnels->items[*cursor].site_id == site_id) return &funnels->items[(*cursor)++];
    return NULL;
}

const struct funnel *funnels_find(const struct funnels *funnels, uint32_t site_id, uint32_t id)
{
    for (size_t i = 0; funnels && i < funnels->count; i++)
        if (funnels->items[i].site_id == site_id && funnels->items[i].id == id)
            return &funnels->items[i];
    return NULL;
}

static int funnel_order(const void *a, const void *b)
{
    const struct funnel *x = a, *y = b;
    if (x->site_id != y->site_id) return x->site_id < y->site_id ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- JSON ---- */

/* Reads the steps array into f->steps (heap strings); checks only the
 * shape and the names of match and pattern_type. */
static int steps_from_json(json_t *arr, struct funnel *f, char *err, size_t errlen)
{
    if (!json_is_array(arr)) {
        snprintf(err, errlen,
                 "steps: expected a JSON array of steps, [{\"name\":\"Cart\",\"match\":\"path\","
                 "\"pattern_type\":\"starts_with\",\"pattern\":\"/cart\",\"required\":true}, ...]");
        return -EINVAL;
    }
    if (json_array_size(arr) < 1 || json_array_size(arr) > FUNNEL_STEPS_MAX) {
        snprintf(err, errlen, "a funnel has 1 to %d steps, got %zu", FUNNEL_STEPS_MAX,
                 json_array_size(arr));
        return -EINVAL;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(arr, i, obj)
    {
        struct funnel_step *s = &f->steps[i];
        if (!json_is_object(obj)) {
            snprintf(err, errlen, "step %zu: expected an object with name, match, pattern_type, "
                     "pattern, case_sensitive and required", i + 1);
            return -EINVAL;
        }
        const char *keys[] = {"name", "match", "pattern_type", "pattern"};
        for (size_t k = 0; k < 4; k++) {
            json_t *v = json_object_get(obj, keys[k]);
            if (v && !json_is_string(v)) {
                snprintf(err, errlen, "step %zu: \"%s\" must be a string", i + 1, keys[k]);
                return -EINVAL;
            }
        }
        const char *keys_bool[] = {"case_sensitive", "required"};
        for (size_t k = 0; k < 2; k++) {
            json_t *v = json_object_get(obj, keys_bool[k]);
            if (v && !json_is_boolean(v)) {
                snprintf(err, errlen, "step %zu: \"%s\" must be true or false", i + 1,
                         keys_bool[k]);
                return -EINVAL;
            }
        }
        const char *match = config_json_str(obj, "match", "");
        const char *type = config_json_str(obj, "pattern_type", "");
        s->name = config_strdup(config_json_str(obj, "name", ""));
        s->pattern = config_strdup(config_json_str(obj, "pattern", ""));
        s->case_sensitive = json_is_true(json_object_get(obj, "case_sensitive"));
        s->required = json_is_true(json_object_get(obj, "required"));
        f->step_count = i + 1;
        if (funnel_match_parse(match, &s->match)) {
            snprintf(err, errlen,
                     "step %zu: \"match\" is url, path, title, event_category, event_action, "
                     "event_name, site_search or goal, got '%.40s'",
                     i + 1, match);
            return -EINVAL;
        }
        if (s->match == FUNNEL_MATCH_GOAL && !*type) type = "exact";
        if (!*type || goal_pattern_parse(type, &s->pattern_type)) {
            snprintf(err, errlen,
                     "step %zu: \"pattern_type\" is exact, contains, starts_with, ends_with or "
                     "regex, got '%.40s'",
                     i + 1, type);
            return -EINVAL;
        }
    }
    return 0;
}

int funnel_steps_parse(const char *text, struct funnel *draft, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *arr = json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!arr) {
        snprintf(err, errlen, "steps: not valid JSON: %s (at character %d)", jerr.text,
                 jerr.position);
        return -EINVAL;
    }
    int rc = steps_from_json(arr, draft, err, errlen);
    json_decref(arr);
    return rc;
}

/* Reads one funnel, validated as `funnel add` validates it (but for the
 * goals it names, which may have been deleted since). */
static int funnel_from_json(json_t *obj, size_t index, struct funnel *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj) || config_id_from_json(json_object_get(obj, "site_id"), &out->site_id) ||
        config_id_from_json(json_object_get(obj, "id"), &out->id)) {
        snprintf(err, errlen,
                 "funnels.json: funnel #%zu needs positive integers \"site_id\" and \"id\"",
                 index + 1);
        return -EINVAL;
    }
    json_t *goal = json_object_get(obj, "goal_id");
    json_t *created = json_object_get(obj, "created_ms");
    char why[512];
    int rc = 0;
    if (goal && !(json_is_integer(goal) && json_integer_value(goal) == 0) &&
        config_id_from_json(goal, &out->goal_id)) {
        snprintf(why, sizeof why, "\"goal_id\" is a goal id, or 0 for none");
        rc = -EINVAL;
    }
    out->name = config_strdup(config_json_str(obj, "name", ""));
    out->created_ms = json_is_integer(created) ? json_integer_value(created) : 0;
    if (!rc) rc = steps_from_json(json_object_get(obj, "steps"), out, why, sizeof why);
    if (!rc) rc = funnel_validate(out, NULL, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "funnels.json: site %u, funnel %u: %s", out->site_id, out->id, why);
        funnel_clear(out);
    }
    return rc;
}

static int funnels_from_json(json_t *root, struct funnels *funnels, char *err, size_t errlen)
{
    json_t *arr = json_object_get(root, "funnels");
    json_t *last = json_object_get(root, "last_ids");
    if ((arr && !json_is_array(arr)) || (last && !json_is_object(last))) {
        snprintf(err, errlen, "funnels.json: expected {\"last_ids\": {...}, \"funnels\": [...]}");
        return -EINVAL;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    if (n) {
        funnels->items = calloc(n, sizeof *funnels->items);
        if (!funnels->items) abort();
    }
    for (size_t i = 0; i < n; i++) {
        struct funnel *f = &funnels->items[funnels->count];
        int rc = funnel_from_json(json_array_get(arr, i), i, f, err, errlen);
        if (!rc && funnels_find(funnels, f->site_id, f->id)) {
            snprintf(err, errlen, "funnels.json: site %u has two funnels with id %u", f->site_id,
                     f->id);
            funnel_clear(f);
            rc = -EINVAL;
        }
        if (rc) return rc;
        funnels->count++;
        last_ids_raise(&funnels->last_ids, f->site_id, f->id);
    }
    int rc = last_ids_from_json(&funnels->last_ids, last, "funnels.json", "funnel", err, errlen);
    if (rc) return rc;
    if (funnels->count > 1)
        qsort(funnels->items, funnels->count, sizeof *funnels->items, funnel_order);
    return 0;
}

int funnels_load(const char *data_dir, struct funnels **out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "funnels.json");
    json_t *root;
    int rc = config_json_read(path, &root, err, errlen);
    if (rc) return rc;
    struct funnels *funnels = calloc(1, sizeof *funnels);
    if (!funnels) abort();
    if (root) rc = funnels_from_json(root, funnels, err, errlen);
    json_decref(root);
    if (rc) {
        funnels_free(funnels);
        return rc;
    }
    *out = funnels;
    return 0;
}

static json_t *funnel_to_json(const struct funnel *f)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < f->step_count; i++) {
        const struct funnel_step *s = &f->steps[i];
        json_array_append_new(
            steps, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "name", s->name, "match",
                             funnel_match_name(s->match), "pattern_type",
                             goal_pattern_name(s->pattern_type), "pattern", s->pattern,
                             "case_sensitive", s->case_sensitive, "required", s->required));
    }
    return json_pack("{s:I, s:I, s:s, s:I, s:o, s:I}", "site_id", (json_int_t)f->site_id, "id",
                     (json_int_t)f->id, "name", f->name, "goal_id", (json_int_t)f->goal_id,
                     "steps", steps, "created_ms", (json_int_t)f->created_ms);
}

static int funnels_write(const char *data_dir, struct funnels *funnels, char *err, size_t errlen)
{
    if (funnels->count > 1)
        qsort(funnels->items, funnels->count, sizeof *funnels->items, funnel_order);
    json_t *last = last_ids_to_json(&funnels->last_ids);
    json_t *arr = json_array();
    for (size_t i = 0; i < funnels->count; i++)
        json_array_append_new(arr, funnel_to_json(&funnels->items[i]));
    json_t *root = json_pack("{s:o, s:o}", "last_ids", last, "funnels", arr);
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "funnels.json");
    int rc = config_json_write(path, root, 0644, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- edits ---- */

enum funnel_edit { FUNNEL_EDIT_ADD, FUNNEL_EDIT_UPDATE, FUNNEL_EDIT_DELETE };

/* Lock held. The site must exist and the goals draft names must be its
 * goals now (goals.json is read under the same lock). */
static int funnel_edit_locked(const char *data_dir, struct funnels *funnels, enum funnel_edit edit,
                              const struct funnel *draft, uint32_t *id_out, char *err,
                              size_t errlen)
{
    if (edit != FUNNEL_EDIT_DELETE) {
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
        struct goals *goals;
        rc = goals_load(data_dir, &goals, err, errlen);
        if (rc) return rc;
        rc = funnel_validate(draft, goals, err, errlen);
        goals_free(goals);
        if (rc) return rc;
    }
    if (edit == FUNNEL_EDIT_ADD) {
        size_t on_site = 0;
        for (size_t i = 0; i < funnels->count; i++)
            on_site += funnels->items[i].site_id == draft->site_id;
        if (on_site >= FUNNELS_PER_SITE_MAX) {
            snprintf(err, errlen,
                     "site %u already has %d funnels, the most a site may have; delete one first",
                     draft->site_id, FUNNELS_PER_SITE_MAX);
            return -ENOSPC;
        }
        uint32_t id = last_ids_get(&funnels->last_ids, draft->site_id);
        if (id == UINT32_MAX) {
            snprintf(err, errlen, "no funnel id left on site %u", draft->site_id);
            return -EOVERFLOW;
        }
        struct funnel *grown = realloc(funnels->items, (funnels->count + 1) * sizeof *grown);
        if (!grown) abort();
        funnels->items = grown;
        struct funnel *f = &funnels->items[funnels->count++];
        funnel_copy(draft, f);
        f->id = id + 1;
        f->created_ms = now_ms();
        last_ids_raise(&funnels->last_ids, f->site_id, f->id);
        *id_out = f->id;
        return funnels_write(data_dir, funnels, err, errlen);
    }
    struct funnel *old = (struct funnel *)funnels_find(funnels, draft->site_id, draft->id);
    if (!old) {
        snprintf(err, errlen,
                 "site %u has no funnel with id %u; `tally funnel list --site %u` shows its "
                 "funnels",
                 draft->site_id, draft->id, draft->site_id);
        return -ENOENT;
    }
    if (edit == FUNNEL_EDIT_UPDATE) {
        int64_t created_ms = old->created_ms;
        funnel_clear(old);
        funnel_copy(draft, old);
        old->created_ms = created_ms;
    } else {
        funnel_clear(old);
        *old = funnels->items[--funnels->count];
    }
    return funnels_write(data_dir, funnels, err, errlen);
}

static int funnel_edit(const char *data_dir, enum funnel_edit edit, const struct funnel *draft,
                       uint32_t *id_out, char *err, size_t errlen)
{
    /* What can be checked without the files is checked before the lock. */
    if (edit != FUNNEL_EDIT_DELETE) {
        int rc = funnel_validate(draft, NULL, err, errlen);
        if (rc) return rc;
    }
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct funnels *funnels = NULL;
    int rc = funnels_load(data_dir, &funnels, err, errlen);
    if (!rc) rc = funnel_edit_locked(data_dir, funnels, edit, draft, id_out, err, errlen);
    funnels_free(funnels);
    close(lock);
    return rc;
}

int funnels_add(const char *data_dir, const struct funnel *draft, uint32_t *id_out, char *err,
                size_t errlen)
{
    return funnel_edit(data_dir, FUNNEL_EDIT_ADD, draft, id_out, err, errlen);
}

int funnels_update(const char *data_dir, const struct funnel *draft, char *err, size_t errlen)
{
    return funnel_edit(data_dir, FUNNEL_EDIT_UPDATE, draft, NULL, err, errlen);
}

int funnels_delete(const char *data_dir, uint32_t site_id, uint32_t funnel_id, char *err,
                   size_t errlen)
{
    struct funnel key = {.site_id = site_id, .id = funnel_id};
    return funnel_edit(data_dir, FUNNEL_EDIT_DELETE, &key, NULL, err, errlen);
}
