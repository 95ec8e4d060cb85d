/* conversions: what each visit converted, under the site's goals as they
 * are defined at query time, so a goal made today counts in last year's
 * data. A goal converts on a tracked conversion naming it (idgoal=N) or on
 * an action its pattern matches; ecommerce orders are "goal 0".
 *
 * Patterns are decided once per distinct string: a memo per match
 * attribute maps a string id to the set of goals that match it, so a scan
 * costs an array read per action, whatever the number of goals. */
#include <errno.h>
#include <math.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* PCRE2's backtracking limits for one subject: a pathological regex on a
 * long URL fails that one match (no conversion) instead of stalling. */
#define GOAL_MATCH_LIMIT 100000
#define GOAL_DEPTH_LIMIT 10000

struct attribute_plan {
    uint32_t *goals;       /* positions in plan->goals of the goals on this attribute */
    size_t count;
    uint32_t *memo;        /* string id -> 0 unknown, 1 no goal, k + 2: match set k */
};

struct goal_plan {
    const struct index *index;
    const struct goal *goals;
    size_t goal_count;
    pcre2_code **codes;            /* per goal; NULL for manual goals */
    pcre2_match_data *match;
    pcre2_match_context *limits;
    struct attribute_plan attributes[GOAL_MATCH_MANUAL];
    /* match sets: set k is words 64-bit words at sets[k * words] */
    uint64_t *sets;
    size_t set_count, set_cap, words;
    /* one visit's tally, per goal position, and the positions it touched */
    uint32_t *counts;
    double *revenues;
    uint32_t *touched;
    size_t touched_count;
    struct conversion *out;
    uint32_t last_row;             /* the visit out holds, + 1 (0 none) */
    size_t out_count;
};

static uint32_t position_of(const struct goal_plan *p, int32_t goal_id)
{
    size_t lo = 0, hi = p->goal_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((int64_t)p->goals[mid].id < goal_id) lo = mid + 1;
        else hi = mid;
    }
    return lo < p->goal_count && (int64_t)p->goals[lo].id == goal_id ? (uint32_t)lo : INDEX_NONE;
}

int goal_plan_create(const struct index *index, const struct goal *goals, size_t goal_count,
                     struct goal_plan **out)
{
    struct goal_plan *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    *out = p;
    p->index = index;
    p->goals = goals;
    p->goal_count = goal_count;
    p->words = (goal_count + 63) / 64;
    p->codes = calloc(goal_count + 1, sizeof *p->codes);
    p->counts = calloc(goal_count + 1, sizeof *p->counts);
    p->revenues = calloc(goal_count + 1, sizeof *p->revenues);
    p->touched = calloc(goal_count + 1, sizeof *p->touched);
    p->out = calloc(goal_count + 1, sizeof *p->out);
    p->match = pcre2_match_data_create(1, NULL);
    p->limits = pcre2_match_context_create(NULL);
    if (!p->codes || !p->counts || !p->revenues || !p->touched || !p->out || !p->match || !p->limits)
        return -ENOMEM;
    pcre2_set_match_limit(p->limits, GOAL_MATCH_LIMIT);
    pcre2_set_depth_limit(p->limits, GOAL_DEPTH_LIMIT);
    for (size_t g = 0; g < goal_count; g++) {
        char err[512];
        /* Definitions were validated when saved; one that no longer
         * compiles (a hand-edited file) converts nothing. */
        if (goal_compile(&goals[g], &p->codes[g], err, sizeof err)) continue;
        if (!p->codes[g]) continue;
        struct attribute_plan *a = &p->attributes[goals[g].match];
        uint32_t *more = realloc(a->goals, (a->count + 1) * sizeof *more);
        if (!more) return -ENOMEM;
        a->goals = more;
        a->goals[a->count++] = (uint32_t)g;
    }
    return 0;
}

void goal_plan_free(struct goal_plan *p)
{
    if (!p) return;
    for (size_t g = 0; g < p->goal_count; g++) pcre2_code_free(p->codes[g]);
    for (size_t a = 0; a < GOAL_MATCH_MANUAL; a++) {
        free(p->attributes[a].goals);
        free(p->attributes[a].memo);
    }
    pcre2_match_data_free(p->match);
    pcre2_match_context_free(p->limits);
    free(p->codes);
    free(p->counts);
    free(p->revenues);
    free(p->touched);
    free(p->out);
    free(p->sets);
    free(p);
}

/* The set of the attribute's goals that string id matches; NULL: none. */
static const uint64_t *matching_goals(struct goal_plan *p, struct attribute_plan *a, uint32_t id)
{
    if (!a->memo) {
        a->memo = calloc(p->index->dict.count ? p->index->dict.count : 1, sizeof *a->memo);
        if (!a->memo) abort();
    }
    uint32_t m = a->memo[id];
    if (!m) {
        const char *s = dict_str(&p->index->dict, id);
        size_t len = strlen(s);
        if (p->set_count == p->set_cap) {
            p->set_cap = p->set_cap ? p->set_cap * 2 : 16;
            p->sets = realloc(p->sets, p->set_cap * p->words * sizeof *p->sets);
            if (!p->sets) abort();
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

static void convert(struct goal_plan *p, uint32_t g, double revenue)
{
    if (p->counts[g] && !p->goals[g].allow_multiple) return;
    if (!p->counts[g]) p->touched[p->touched_count++] = g;
    p->counts[g]++;
    p->revenues[g] += isfinite(revenue) ? revenue : p->goals[g].revenue;
}

static void convert_matches(struct goal_plan *p, enum goal_match attribute, uint32_t id)
{
    struct attribute_plan *a = &p->attributes[attribute];
    if (!a->count) return;
    const uint64_t *set = matching_goals(p, a, id);
    if (!set) return;
    for (size_t w = 0; w < p->words; w++)
        for (uint64_t bits = set[w]; bits; bits &= bits - 1)
            convert(p, (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits)), NAN);
}

static bool has_patterns(const struct goal_plan *p)
{
    for (size_t a = 0; a < GOAL_MATCH_MANUAL; a++)
        if (p->attributes[a].count) return true;
    return false;
}

size_t goal_plan_visit(struct goal_plan *p, const struct site_index *s, uint32_t row,
                       const struct conversion **out)
{
    *out = p->out;
    if (p->last_row == row + 1) return p->out_count;
    p->last_row = row + 1;
    p->out_count = 0;
    const struct visit_row *v = &s->visits[row];
    if (v->orders)
        p->out[p->out_count++] = (struct conversion){.goal_id = 0, .count = v->orders,
                                                     .revenue = v->order_revenue};
    /* Without patterns only tracked conversions count: no walk needed
     * for the visits that have none. */
    if (!p->goal_count || (!(v->flags & VISIT_GOAL_HIT) && !has_patterns(p))) return p->out_count;
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        switch (a->kind) {
        case HIT_GOAL: {
            uint32_t g = position_of(p, a->goal_id);
            if (g != INDEX_NONE) convert(p, g, a->value);
            break;
        }
        case HIT_PAGEVIEW:
            convert_matches(p, GOAL_MATCH_URL, a->a);
            convert_matches(p, GOAL_MATCH_TITLE, a->b);
            break;
        case HIT_EVENT:
            convert_matches(p, GOAL_MATCH_EVENT_CATEGORY, a->a);
            convert_matches(p, GOAL_MATCH_EVENT_ACTION, a->b);
            convert_matches(p, GOAL_MATCH_EVENT_NAME, a->c);
            break;
        case HIT_OUTLINK: convert_matches(p, GOAL_MATCH_OUTLINK, a->a); break;
        case HIT_DOWNLOAD: convert_matches(p, GOAL_MATCH_DOWNLOAD, a->a); break;
        }
    }
    /* in goal order */
    for (size_t i = 1; i < p->touched_count; i++)
        for (size_t j = i; j > 0 && p->touched[j - 1] > p->touched[j]; j--) {
            uint32_t t = p->touched[j];
            p->touched[j] = p->touched[j - 1];
            p->touched[j - 1] = t;
        }
    for (size_t i = 0; i < p->touched_count; i++) {
        uint32_t g = p->touched[i];
        p->out[p->out_count++] = (struct conversion){.goal_id = p->goals[g].id,
                                                     .count = p->counts[g],
                                                     .revenue = p->revenues[g]};
        p->counts[g] = 0;
        p->revenues[g] = 0;
    }
    p->touched_count = 0;
    return p->out_count;
}

bool goal_plan_converted(struct goal_plan *p, const struct site_index *s, uint32_t row)
{
    const struct conversion *c;
    return goal_plan_visit(p, s, row, &c) > 0;
}
