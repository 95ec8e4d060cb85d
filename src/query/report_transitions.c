/* report_transitions: Matomo's Transitions for one page, as its JSON
 * object (pageMetrics, previousPages, referrers, followingPages, ...).
 *
 * Each pageview of the page (its URL, or its title, matched exactly by
 * string id) counts once on each side:
 *   before it, the visit's latest pageview or site search (outlinks,
 *   downloads, events and the rest passed over): a previous page, a
 *   previous site search, the page itself (a loop: reloaded), or none (an
 *   entry, counted under the visit's channel and referrer name);
 *   after it, the visit's next pageview, outlink, download or site search
 *   (events and the rest passed over): a following page, an outlink, a
 *   download, a following site search, the page itself (the loop, not
 *   counted again), or none (an exit).
 * docs/transitions.md has the definitions and how they differ from
 * Matomo's. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

enum tr_list {
    TR_PREVIOUS_PAGES,
    TR_PREVIOUS_SEARCHES,
    TR_FOLLOWING_PAGES,
    TR_FOLLOWING_SEARCHES,
    TR_OUTLINKS,
    TR_DOWNLOADS,
    TR_LIST_COUNT,
    /* then one list of referrer names per channel type: TR_NAMES + type */
    TR_NAMES = TR_LIST_COUNT,
};
#define TR_CHANNELS 16 /* enum referrer_type has fewer; more are counted as unknown */

/* Counts keyed by (list, string id): open addressing, key 0 empty. */
struct tr_count {
    uint64_t key; /* (list + 1) << 32 | id */
    uint64_t count;
};
struct tr_counts {
    struct tr_count *slots;
    size_t cap, used;
};

/* -ENOMEM when the table cannot grow. */
static int tr_add(struct tr_counts *c, unsigned list, uint32_t id)
{
    if ((c->used + 1) * 4 > c->cap * 3) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct tr_count *slots = calloc(cap, sizeof *slots);
        if (!slots) return -ENOMEM;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->slots[i].key) continue;
            size_t j = hash_mix64(c->slots[i].key) & (cap - 1);
            while (slots[j].key) j = (j + 1) & (cap - 1);
            slots[j] = c->slots[i];
        }
        free(c->slots);
        c->slots = slots;
        c->cap = cap;
    }
    uint64_t key = (uint64_t)(list + 1) << 32 | id;
    size_t j = hash_mix64(key) & (c->cap - 1);
    while (c->slots[j].key && c->slots[j].key != key) j = (j + 1) & (c->cap - 1);
    if (!c->slots[j].key) {
        c->slots[j].key = key;
        c->used++;
    }
    c->slots[j].count++;
    return 0;
}

struct transitions {
    uint64_t pageviews, entries, exits, loops;
    uint64_t channels[TR_CHANNELS];
    struct tr_counts counts;
};

static bool is_following(int kind)
{
    return kind == HIT_PAGEVIEW || kind == HIT_OUTLINK || kind == HIT_DOWNLOAD ||
           kind == HIT_SITE_SEARCH;
}

/* One visit's pageviews of the page (target: a url or a title id). */
static int transitions_visit(struct transitions *t, const struct site_index *s,
                             const struct visit_row *v, uint32_t target, bool by_title)
{
    uint32_t before = INDEX_NONE; /* the latest pageview or site search so far */
    for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
        const struct action_row *a = &s->actions[i];
        if (a->kind == HIT_PAGEVIEW && (by_title ? a->b : a->a) == target) {
            int rc = 0;
            t->pageviews++;
            if (before == INDEX_NONE) {
                unsigned type = v->referrer_type < TR_CHANNELS ? v->referrer_type : TR_CHANNELS - 1;
                t->entries++;
                t->channels[type]++;
                if (v->text[VT_REFERRER_NAME])
                    rc = tr_add(&t->counts, TR_NAMES + type, v->text[VT_REFERRER_NAME]);
            } else {
                const struct action_row *p = &s->actions[before];
                uint32_t label = by_title ? p->b : p->a;
                if (p->kind == HIT_SITE_SEARCH) rc = tr_add(&t->counts, TR_PREVIOUS_SEARCHES, p->a);
                else if (label == target) t->loops++;
                else rc = tr_add(&t->counts, TR_PREVIOUS_PAGES, label);
            }
            uint32_t j = a->next;
            while (j != INDEX_NONE && !is_following(s->actions[j].kind)) j = s->actions[j].next;
            if (j == INDEX_NONE) {
                t->exits++;
            } else if (!rc) {
                const struct action_row *n = &s->actions[j];
                uint32_t label = by_title ? n->b : n->a;
                switch (n->kind) {
                case HIT_PAGEVIEW:
                    /* the same page again: the loop its next view counts */
                    if (label != target) rc = tr_add(&t->counts, TR_FOLLOWING_PAGES, label);
                    break;
                case HIT_OUTLINK: rc = tr_add(&t->counts, TR_OUTLINKS, n->a); break;
                case HIT_DOWNLOAD: rc = tr_add(&t->counts, TR_DOWNLOADS, n->a); break;
                default: rc = tr_add(&t->counts, TR_FOLLOWING_SEARCHES, n->a); break;
                }
            }
            if (rc) return rc;
        }
        if (a->kind == HIT_PAGEVIEW || a->kind == HIT_SITE_SEARCH) before = i;
    }
    return 0;
}

/* ---- output ---- */

struct tr_item {
    const char *label;
    uint64_t count;
};

static int most_first(const void *x, const void *y)
{
    const struct tr_item *a = x, *b = y;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(a->label, b->label);
}

/* [{"label":..,"referrals":..}, ...] of one list, most first: the first
 * group_after rows, then the rest summed into one "Others" row, so the
 * list still adds up (Matomo's limitBeforeGrouping). */
static int list_json(const struct report_context *ctx, const struct transitions *t, unsigned list,
                     size_t group_after, struct buf *b)
{
    const struct tr_counts *c = &t->counts;
    uint64_t key_list = (uint64_t)(list + 1);
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++) n += c->slots[i].key && c->slots[i].key >> 32 == key_list;
    struct tr_item *items = n ? malloc(n * sizeof *items) : NULL;
    if (n && !items) return -ENOMEM;
    n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].key && c->slots[i].key >> 32 == key_list)
            items[n++] = (struct tr_item){report_text(ctx, (uint32_t)c->slots[i].key),
                                          c->slots[i].count};
    if (n) qsort(items, n, sizeof *items, most_first);
    uint64_t others = 0;
    for (size_t i = group_after; i < n; i++) others += items[i].count;
    buf_putc(b, '[');
    for (size_t i = 0; i < n && i < group_after; i++) {
        buf_puts(b, i ? ",{\"label\":" : "{\"label\":");
        buf_json_string(b, items[i].label);
        buf_printf(b, ",\"referrals\":%" PRIu64 "}", items[i].count);
    }
    if (n > group_after)
        buf_printf(b, ",{\"label\":\"Others\",\"referrals\":%" PRIu64 "}", others);
    buf_putc(b, ']');
    free(items);
    return 0;
}

/* Entries by channel type, most first (every type: there are few), each
 * with its referrer names grouped after group_after. */
static int referrers_json(const struct report_context *ctx, const struct transitions *t,
                          size_t group_after, struct buf *b)
{
    unsigned order[TR_CHANNELS];
    size_t n = 0;
    for (unsigned type = 0; type < TR_CHANNELS; type++)
        if (t->channels[type]) order[n++] = type;
    /* a few types: insertion sort, most entries first, then by type */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && t->channels[order[j]] > t->channels[order[j - 1]]; j--) {
            unsigned x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? ",{\"label\":" : "{\"label\":");
        buf_json_string(b, report_channel_label(order[i]));
        buf_printf(b, ",\"referrals\":%" PRIu64 ",\"shortName\":", t->channels[order[i]]);
        buf_json_string(b, referrer_type_name((int)order[i]));
        buf_puts(b, ",\"details\":");
        int rc = list_json(ctx, t, TR_NAMES + order[i], group_after, b);
        if (rc) return rc;
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
    return 0;
}

int report_transitions(const struct report_query *q, const char *action, bool by_title,
                       size_t group_after, struct buf *json)
{
    struct report_context ctx;
    report_context_init(&ctx, q);
    struct transitions t = {0};
    /* A page no hit ever had has no id: zeros, as for one not seen in the period. */
    uint32_t target = dict_find(&q->index->dict, action);
    int rc = 0;
    if (target != INDEX_NONE && ctx.site) {
        uint32_t *rows;
        size_t n;
        rc = report_select_visits(q, &ctx, &rows, &n);
        if (rc) return rc;
        for (size_t i = 0; i < n && !rc; i++)
            rc = transitions_visit(&t, ctx.site, &ctx.site->visits[rows[i]], target, by_title);
        free(rows);
    }
    if (!rc) {
        buf_printf(json,
                   "{\"pageMetrics\":{\"pageviews\":%" PRIu64 ",\"entries\":%" PRIu64
                   ",\"exits\":%" PRIu64 ",\"loops\":%" PRIu64 "}",
                   t.pageviews, t.entries, t.exits, t.loops);
        static const struct {
            const char *name;
            unsigned list;
        } lists[] = {{"previousPages", TR_PREVIOUS_PAGES},
                     {"previousSiteSearches", TR_PREVIOUS_SEARCHES},
                     {"followingPages", TR_FOLLOWING_PAGES},
                     {"followingSiteSearches", TR_FOLLOWING_SEARCHES},
                     {"outlinks", TR_OUTLINKS},
                     {"downloads", TR_DOWNLOADS}};
        for (size_t i = 0; i < COUNT(lists) && !rc; i++) {
            buf_printf(json, ",\"%s\":", lists[i].name);
            rc = list_json(&ctx, &t, lists[i].list, group_after, json);
            if (!rc && lists[i].list == TR_PREVIOUS_SEARCHES) {
                buf_puts(json, ",\"referrers\":");
                rc = referrers_json(&ctx, &t, group_after, json);
            }
        }
        buf_putc(json, '}');
    }
    free(t.counts.slots);
    return rc;
}
