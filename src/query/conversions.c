/* conversions: what each visit converted, under the site's goals as they
 * are defined now. Nothing is decided when a goal is not defined yet: the
 * api hands the index each version of goals.json (index_set_goals), the
 * index re-evaluates the site's stored visits when its goals change and
 * each new action as it arrives, so a goal made today counts in last
 * year's data and reports only read the result.
 *
 * A goal converts on a tracked conversion naming it (idgoal=N) or on an
 * action its pattern matches; ecommerce orders are "goal 0". Patterns are
 * decided once per distinct string: a memo per match attribute maps a
 * string id to the set of goals that match it. */
#include <errno.h>
#include <math.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* PCRE2's backtracking limits for one subject: a pathological regex on a
 * long URL fails that one match (no conversion) instead of stalling. */
#define GOAL_MATCH_LIMIT 100000
#define GOAL_DEPTH_LIMIT 10000

struct attribute_plan {
    uint32_t *goals;       /* positions in plan->goals of the goals on this attribute */
    size_t count;
    uint32_t *memo;        /* string id -> 0 unknown, 1 no goal, k + 2: match set k */
    size_t memo_cap;
};

struct goal_plan {
    struct goal *goals;            /* a copy, in id order */
    size_t goal_count;
    pcre2_code **codes;            /* per goal; NULL for manual goals */
    pcre2_match_data *match;
    pcre2_match_context *limits;
    struct attribute_plan attributes[GOAL_MATCH_MANUAL];
    /* match sets: set k is words 64-bit words at sets[k * words] */
    uint64_t *sets;
    size_t set_count, set_cap, words;
};

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) abort();
    return p;
}

int goal_plan_create(const struct goal *goals, size_t goal_count, struct goal_plan **out)
{
    struct goal_plan *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    *out = p;
    p->goals = calloc(goal_count + 1, sizeof *p->goals);
    p->codes = calloc(goal_count + 1, sizeof *p->codes);
    p->match = pcre2_match_data_create(1, NULL);
    p->limits = pcre2_match_context_create(NULL);
    if (!p->goals || !p->codes || !p->match || !p->limits) return -ENOMEM;
    pcre2_set_match_limit(p->limits, GOAL_MATCH_LIMIT);
    pcre2_set_depth_limit(p->limits, GOAL_DEPTH_LIMIT);
    p->goal_count = goal_count;
    p->words = (goal_count + 63) / 64;
    for (size_t g = 0; g < goal_count; g++) {
        /* Only what evaluation reads: names live in goals.json. */
        p->goals[g] = goals[g];
        p->goals[g].name = p->goals[g].description = NULL;
        p->goals[g].pattern = strdup(goals[g].pattern ? goals[g].pattern : "");
        if (!p->goals[g].pattern) return -ENOMEM;
        char err[512];
        /* Definitions were validated when saved; one that no longer
         * compiles (a hand-edited file) converts nothing. */
        if (goal_compile(&goals[g], &p->codes[g], err, sizeof err) || !p->codes[g]) continue;
        struct attribute_plan *a = &p->attributes[goals[g].match];
        a->goals = xrealloc(a->goals, (a->count + 1) * sizeof *a->goals);
        a->goals[a->count++] = (uint32_t)g;
    }
    return 0;
}

void goal_plan_free(struct goal_plan *p)
{
    if (!p) return;
    for (size_t g = 0; g < p->goal_count; g++) {
        pcre2_code_free(p->codes[g]);
        free(p->goals[g].pattern);
    }
    for (size_t a = 0; a < GOAL_MATCH_MANUAL; a++) {
        free(p->attributes[a].goals);
        free(p->attributes[a].memo);
    }
    pcre2_match_data_free(p->match);
    pcre2_match_context_free(p->limits);
    free(p->goals);
    free(p->codes);
    free(p->sets);
    free(p);
}

bool goal_plan_same(const struct goal_plan *p, const struct goal *goals, size_t goal_count)
{
    if (!p) return goal_count == 0;
    if (p->goal_count != goal_count) return false;
    for (size_t g = 0; g < goal_count; g++) {
        const struct goal *x = &p->goals[g], *y = &goals[g];
        if (x->id != y->id || x->match != y->match || x->pattern_type != y->pattern_type ||
            strcmp(x->pattern, y->pattern ? y->pattern : "") != 0 ||
            x->case_sensitive != y->case_sensitive || x->allow_multiple != y->allow_multiple ||
            x->revenue != y->revenue)
            return false;
    }
    return true;
}

/* The set of the attribute's goals that string id matches; NULL: none. */
static const uint64_t *matching_goals(struct goal_plan *p, const struct dict *d,
                                      struct attribute_plan *a, uint32_t id)
{
    if (id >= a->memo_cap) {
        size_t cap = d->count > id ? d->count : (size_t)id + 1;
        a->memo = xrealloc(a->memo, cap * sizeof *a->memo);
        memset(a->memo + a->memo_cap, 0, (cap - a->memo_cap) * sizeof *a->memo);
        a->memo_cap = cap;
    }
    uint32_t m = a->memo[id];
    if (!m) {
        const char *s = dict_str(d, id);
        size_t len = strlen(s);
        if (p->set_count == p->set_cap) {
            p->set_cap = p->set_cap ? p->set_cap * 2 : 16;
            p->sets = xrealloc(p->sets, p->set_cap * p->words * sizeof *p->sets);
        }
        uint64_t *set = &p->sets[p->set_count * p->words];
        memset(set, 0, p->words * sizeof *set);
        bool any = false;
        for (size_t i = 0; i < a->count; i++) {
            uint32_t g = a->goals[i];
            if (pcre2_match(p->codes[g], (PCRE2_SPTR)s, len, 0, 0, p->match, p->limits) >= 0) {
                set[g / 64] |= (uint64_t)1 << (g % 64);
                any = true;
            }
        }
        m = any ? (uint32_t)p->set_count++ + 2 : 1;
        a->memo[id] = m;
    }
    return m == 1 ? NULL : &p->sets[(m - 2) * p->words];
}

/* ---- a visit's list ----
 * Each visit's conversions are a run of site->conversions, sorted by goal
 * id. A list that grows and is not at the end moves there; compaction
 * drops what it left behind. */

static void conversion_add(struct site_index *s, struct visit_row *v, uint32_t goal_id,
                           uint32_t count, double revenue, bool repeatable)
{
    struct conversion *list = v->conversion_count ? &s->conversions[v->first_conversion] : NULL;
    for (uint16_t i = 0; i < v->conversion_count; i++) {
        if (list[i].goal_id != goal_id) continue;
        if (repeatable) {
            list[i].count += count;
            list[i].revenue += revenue;
        }
        return;
    }
    size_t n = v->conversion_count;
    if (v->first_conversion + n != s->conversion_count || !n) {
        if (s->conversion_count + n + 1 > s->conversion_cap) {
            s->conversion_cap = (s->conversion_count + n + 1) * 2;
            s->conversions = xrealloc(s->conversions, s->conversion_cap * sizeof *s->conversions);
        }
        if (n)
            memmove(&s->conversions[s->conversion_count], &s->conversions[v->first_conversion],
                    n * sizeof *s->conversions);
        v->first_conversion = (uint32_t)s->conversion_count;
        s->conversion_count += n;
    } else if (s->conversion_count + 1 > s->conversion_cap) {
        s->conversion_cap = (s->conversion_count + 1) * 2;
        s->conversions = xrealloc(s->conversions, s->conversion_cap * sizeof *s->conversions);
    }
    list = &s->conversions[v->first_conversion];
    size_t at = n;
    while (at > 0 && list[at - 1].goal_id > goal_id) {
        list[at] = list[at - 1];
        at--;
    }
    list[at] = (struct conversion){.goal_id = goal_id, .count = count, .revenue = revenue};
    v->conversion_count++;
    s->conversion_count++;
}

void conversions_add_order(struct site_index *s, struct visit_row *v, double revenue)
{
    conversion_add(s, v, 0, 1, revenue, true);
}

static void convert(struct site_index *s, struct visit_row *v, const struct goal *g, double revenue)
{
    conversion_add(s, v, g->id, 1, isfinite(revenue) ? revenue : g->revenue, g->allow_multiple);
}

static void convert_matches(struct goal_plan *p, const struct dict *d, struct site_index *s,
                            struct visit_row *v, enum goal_match attribute, uint32_t id)
{
    struct attribute_plan *a = &p->attributes[attribute];
    if (!a->count) return;
    const uint64_t *set = matching_goals(p, d, a, id);
    if (!set) return;
    for (size_t w = 0; w < p->words; w++)
        for (uint64_t bits = set[w]; bits; bits &= bits - 1)
            convert(s, v, &p->goals[w * 64 + (size_t)__builtin_ctzll(bits)], NAN);
}

void conversions_add_action(struct goal_plan *p, const struct dict *d, struct site_index *s,
                            struct visit_row *v, const struct action_row *a)
{
    if (!p || !p->goal_count) return;
    switch (a->kind) {
    case HIT_GOAL: {
        size_t lo = 0, hi = p->goal_count;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if ((int64_t)p->goals[mid].id < a->goal_id) lo = mid + 1;
            else hi = mid;
        }
        if (lo < p->goal_count && (int64_t)p->goals[lo].id == a->goal_id)
            convert(s, v, &p->goals[lo], a->value);
        break;
    }
    case HIT_PAGEVIEW:
        convert_matches(p, d, s, v, GOAL_MATCH_URL, a->a);
        convert_matches(p, d, s, v, GOAL_MATCH_TITLE, a->b);
        break;
    case HIT_EVENT:
        convert_matches(p, d, s, v, GOAL_MATCH_EVENT_CATEGORY, a->a);
        convert_matches(p, d, s, v, GOAL_MATCH_EVENT_ACTION, a->b);
        convert_matches(p, d, s, v, GOAL_MATCH_EVENT_NAME, a->c);
        break;
    case HIT_OUTLINK: convert_matches(p, d, s, v, GOAL_MATCH_OUTLINK, a->a); break;
    case HIT_DOWNLOAD: convert_matches(p, d, s, v, GOAL_MATCH_DOWNLOAD, a->a); break;
    }
}

void conversions_rebuild(struct goal_plan *p, const struct dict *d, struct site_index *s)
{
    s->conversion_count = 0;
    for (size_t r = 0; r < s->visit_count; r++) {
        struct visit_row *v = &s->visits[r];
        v->conversion_count = 0;
        v->first_conversion = 0;
        if (v->orders) conversion_add(s, v, 0, v->orders, v->order_revenue, true);
        for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next)
            conversions_add_action(p, d, s, v, &s->actions[i]);
    }
}

void conversions_compact(struct site_index *s)
{
    struct conversion *packed = xrealloc(NULL, (s->conversion_count + 1) * sizeof *packed);
    size_t n = 0;
    for (size_t r = 0; r < s->visit_count; r++) {
        struct visit_row *v = &s->visits[r];
        if (v->conversion_count)
            memcpy(&packed[n], &s->conversions[v->first_conversion],
                   v->conversion_count * sizeof *packed);
        v->first_conversion = (uint32_t)n;
        n += v->conversion_count;
    }
    free(s->conversions);
    s->conversions = packed;
    s->conversion_count = n;
    s->conversion_cap = n + 1;
}
