/* agg: group-by with exact distinct counts (see agg.h). */
#include "agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

static void pairs_init(struct agg_pairs *p)
{
    p->cap = 1024;
    p->used = 0;
    p->ids = xcalloc(p->cap, sizeof *p->ids);
    p->entries = xcalloc(p->cap, sizeof *p->entries);
}

static void pairs_free(struct agg_pairs *p)
{
    free(p->ids);
    free(p->entries);
}

static size_t pair_slot(uint32_t entry, uint64_t id, size_t cap)
{
    return hash_mix64(id ^ ((uint64_t)entry << 40) ^ entry) & (cap - 1);
}

/* true when (entry, id) was new */
static bool pairs_add(struct agg_pairs *p, uint32_t entry, uint64_t id)
{
    if ((p->used + 1) * 10 > p->cap * 7) {
        struct agg_pairs big = {xcalloc(p->cap * 2, sizeof *p->ids),
                                xcalloc(p->cap * 2, sizeof *p->entries), p->cap * 2, p->used};
        for (size_t i = 0; i < p->cap; i++) {
            if (!p->entries[i]) continue;
            size_t j = pair_slot(p->entries[i], p->ids[i], big.cap);
            while (big.entries[j]) j = (j + 1) & (big.cap - 1);
            big.entries[j] = p->entries[i];
            big.ids[j] = p->ids[i];
        }
        pairs_free(p);
        *p = big;
    }
    uint32_t key = entry + 1;
    size_t i = pair_slot(key, id, p->cap);
    for (; p->entries[i]; i = (i + 1) & (p->cap - 1))
        if (p->entries[i] == key && p->ids[i] == id) return false;
    p->entries[i] = key;
    p->ids[i] = id;
    p->used++;
    return true;
}

void agg_init(struct agg *g, struct arena *arena, uint32_t visitor_count)
{
    *g = (struct agg){.arena = arena, .slot_cap = 256, .required_metric = -1,
                      .visitor_count = visitor_count};
    g->slots = xcalloc(g->slot_cap, sizeof *g->slots);
    pairs_init(&g->users);
}

void agg_set_extras(struct agg *g, size_t count,
                    void (*fn)(void *arg, double *extras, const struct report_context *ctx,
                               uint32_t row),
                    void *arg)
{
    g->extra_count = count;
    g->visit_extras = fn;
    g->visit_extras_arg = arg;
}

static double *entry_extras(const struct agg *g, uint32_t e)
{
    return g->extra_count ? &g->extras[(size_t)e * g->extra_count] : NULL;
}

static size_t bitmap_words(const struct agg *g)
{
    return ((size_t)g->visitor_count + 63) / 64;
}

static size_t popcount_words(const uint64_t *bits, size_t words)
{
    size_t n = 0;
    for (size_t i = 0; i < words; i++) n += (size_t)__builtin_popcountll(bits[i]);
    return n;
}

void agg_free(struct agg *g)
{
    if (!g->borrows_bitmaps)
        for (size_t i = 0; i < g->count; i++) free(g->entries[i].visitor_bits);
    free(g->entries);
    free(g->extras);
    free(g->slots);
    free(g->seen);
    pairs_free(&g->users);
}

static size_t entry_slot(uint64_t k1, uint64_t k2, uint32_t parent, size_t cap)
{
    return hash_mix64(k1 * 31 + hash_mix64(k2 ^ ((uint64_t)parent << 32))) & (cap - 1);
}

uint32_t agg_entry(struct agg *g, uint64_t k1, uint64_t k2, uint32_t parent, bool *created)
{
    size_t i = entry_slot(k1, k2, parent, g->slot_cap);
    for (; g->slots[i]; i = (i + 1) & (g->slot_cap - 1)) {
        struct agg_entry *e = &g->entries[g->slots[i] - 1];
        if (e->k1 == k1 && e->k2 == k2 && e->parent == parent) {
            *created = false;
            return g->slots[i] - 1;
        }
    }
    if (g->count == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->entries = realloc(g->entries, g->cap * sizeof *g->entries);
        if (!g->entries) abort();
        if (g->extra_count) {
            g->extras = realloc(g->extras, g->cap * g->extra_count * sizeof *g->extras);
            if (!g->extras) abort();
        }
    }
    uint32_t e = (uint32_t)g->count++;
    g->entries[e] = (struct agg_entry){.k1 = k1, .k2 = k2, .parent = parent, .label = ""};
    g->entries[e].m[M_VALUE_MIN] = NAN;
    g->entries[e].m[M_VALUE_MAX] = NAN;
    if (g->extra_count) memset(entry_extras(g, e), 0, g->extra_count * sizeof *g->extras);
    g->slots[i] = e + 1;
    if (g->count * 10 > g->slot_cap * 7) {
        size_t cap = g->slot_cap * 2;
        uint32_t *slots = xcalloc(cap, sizeof *slots);
        for (size_t k = 0; k < g->count; k++) {
            struct agg_entry *x = &g->entries[k];
            size_t j = entry_slot(x->k1, x->k2, x->parent, cap);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = (uint32_t)k + 1;
        }
        free(g->slots);
        g->slots = slots;
        g->slot_cap = cap;
    }
    *created = true;
    return e;
}

bool agg_first_in_visit(struct agg *g, uint32_t e, uint32_t row)
{
    if (g->entries[e].last_visit == row + 1) return false;
    g->entries[e].last_visit = row + 1;
    return true;
}

static void seen_push(struct agg *g, uint32_t e, uint32_t visitor)
{
    if (g->seen_count == g->seen_cap) {
        g->seen_cap = g->seen_cap ? g->seen_cap * 2 : 1 << 16;
        g->seen = realloc(g->seen, g->seen_cap * sizeof *g->seen);
        if (!g->seen) abort();
    }
    g->seen[g->seen_count++] = (uint64_t)visitor << 32 | e;
}

void agg_add_visitor(struct agg *g, uint32_t e, uint32_t visitor)
{
    struct agg_entry *en = &g->entries[e];
    if (en->visitor_bits) {
        en->visitor_bits[visitor >> 6] |= (uint64_t)1 << (visitor & 63);
        return;
    }
    seen_push(g, e, visitor);
    /* A bitmap costs visitor_count / 8 bytes: once the row's notes (8 bytes
     * each) weigh as much, the bitmap is cheaper to keep and to count. */
    if (g->visitor_count && ++en->notes > g->visitor_count / 64) {
        en->visitor_bits = calloc(bitmap_words(g), sizeof *en->visitor_bits);
        if (!en->visitor_bits) abort();
    }
}

/* Rows with a bitmap take their notes into it and count its bits; the
 * other notes are sorted by visitor (radix sort on the upper half) and
 * counted with a marker per row. */
static void count_distinct_visitors(struct agg *g)
{
    size_t kept = 0;
    for (size_t i = 0; i < g->seen_count; i++) {
        uint32_t e = (uint32_t)g->seen[i], v = (uint32_t)(g->seen[i] >> 32);
        uint64_t *bits = g->entries[e].visitor_bits;
        if (bits) bits[v >> 6] |= (uint64_t)1 << (v & 63);
        else g->seen[kept++] = g->seen[i];
    }
    g->seen_count = kept;
    index_radix_sort(g->seen, g->seen_count, 32);
    for (size_t i = 0; i < g->seen_count; i++) {
        uint32_t e = (uint32_t)g->seen[i], v = (uint32_t)(g->seen[i] >> 32);
        struct agg_entry *en = &g->entries[e];
        if (en->last_visitor == v + 1) continue;
        en->last_visitor = v + 1;
        en->m[M_UNIQ_VISITORS]++;
    }
    for (size_t e = 0; e < g->count; e++)
        if (g->entries[e].visitor_bits)
            g->entries[e].m[M_UNIQ_VISITORS] =
                (double)popcount_words(g->entries[e].visitor_bits, bitmap_words(g));
}

void agg_add_visit(struct agg *g, uint32_t e, const struct report_context *ctx, uint32_t row)
{
    const struct visit_row *v = &ctx->site->visits[row];
    double *m = g->entries[e].m;
    m[M_VISITS]++;
    m[M_ACTIONS] += v->actions;
    if (v->actions > m[M_MAX_ACTIONS]) m[M_MAX_ACTIONS] = v->actions;
    m[M_LENGTH] += (double)((v->end_ms - ctx->site->visit_start[row]) / 1000);
    if (v->actions <= 1) m[M_BOUNCES]++;
    if (v->conversion_count) m[M_CONVERTED]++;
    m[M_PAGEVIEWS] += v->pageviews;
    m[M_UNIQ_PAGEVIEWS] += v->uniq_pageviews;
    agg_add_visitor(g, e, v->visitor);
    if (v->user_id && pairs_add(&g->users, e, v->user_id)) m[M_USERS]++;
    if (g->visit_extras) g->visit_extras(g->visit_extras_arg, entry_extras(g, e), ctx, row);
}

/* ---- tables ---- */

struct sort_item {
    const struct agg_entry *e;
    uint32_t index;
    int metric;
};

static int by_metric(const void *a, const void *b)
{
    const struct sort_item *x = a, *y = b;
    if (x->metric < 0) return x->e->k1 < y->e->k1 ? -1 : x->e->k1 > y->e->k1;
    double vx = x->e->m[x->metric], vy = y->e->m[y->metric];
    if (vx != vy) return vx > vy ? -1 : 1;
    return strcmp(x->e->label, y->e->label);
}

/* Metric i of an entry: m[i], or extra i - M_COUNT. */
static double metric(const double *m, const double *extras, int i)
{
    return i < M_COUNT ? m[i] : extras[i - M_COUNT];
}

static double column_value(const struct agg_column *c, const double *m, const double *extras)
{
    double v = metric(m, extras, c->metric);
    if (c->per >= 0) {
        double per = metric(m, extras, c->per);
        v = per ? v / per : 0;
    }
    return v * c->scale;
}

static struct report_row make_row(struct arena *arena, const struct agg_column *columns,
                                  size_t column_count, const char *label, const double *m,
                                  const double *extras)
{
    struct report_row row = {.label = label};
    row.values = arena_alloc(arena, (column_count ? column_count : 1) * sizeof *row.values);
    if (!row.values) abort();
    for (size_t c = 0; c < column_count; c++) row.values[c] = column_value(&columns[c], m, extras);
    return row;
}

static void row_extra(struct report_row *row, const char *name, const char *value)
{
    if (value && row->extra_count < REPORT_MAX_EXTRAS)
        row->extras[row->extra_count++] = (struct report_extra){name, value};
}

/* The "Others" metrics: sums, except extremes and exact distinct counts;
 * extras (as many as g has) are sums. */
static void others_metrics(struct agg *g, const struct sort_item *items, size_t from, size_t to,
                           double *m, double *extras)
{
    memset(m, 0, M_COUNT * sizeof *m);
    m[M_VALUE_MIN] = m[M_VALUE_MAX] = NAN;
    if (g->extra_count) memset(extras, 0, g->extra_count * sizeof *extras);
    bool *dropped = xcalloc(g->count, sizeof *dropped);
    for (size_t i = from; i < to; i++) {
        const double *x = items[i].e->m;
        const double *xe = entry_extras(g, items[i].index);
        for (size_t k = 0; k < g->extra_count; k++) extras[k] += xe[k];
        dropped[items[i].index] = true;
        for (int k = 0; k < M_COUNT; k++) {
            if (k == M_MAX_ACTIONS || k == M_VALUE_MAX) {
                if (isnan(m[k]) || x[k] > m[k]) m[k] = x[k];
            } else if (k == M_VALUE_MIN) {
                if (isnan(m[k]) || x[k] < m[k]) m[k] = x[k];
            } else if (k != M_UNIQ_VISITORS && k != M_USERS) {
                m[k] += x[k];
            }
        }
    }
    /* The visitors of the dropped rows, once each: their bitmaps and
     * notes into one bitmap. */
    size_t words = bitmap_words(g);
    uint64_t *all = xcalloc(words, sizeof *all);
    for (size_t i = from; i < to; i++) {
        const uint64_t *bits = items[i].e->visitor_bits;
        for (size_t w = 0; bits && w < words; w++) all[w] |= bits[w];
    }
    for (size_t i = 0; i < g->seen_count; i++) {
        uint32_t v = (uint32_t)(g->seen[i] >> 32);
        if (dropped[(uint32_t)g->seen[i]] && v < g->visitor_count)
            all[v >> 6] |= (uint64_t)1 << (v & 63);
    }
    m[M_UNIQ_VISITORS] = (double)popcount_words(all, words);
    free(all);
    struct agg_pairs distinct;
    pairs_init(&distinct);
    for (size_t i = 0; i < g->users.cap; i++) {
        uint32_t key = g->users.entries[i];
        if (key && dropped[key - 1] && pairs_add(&distinct, 0, g->users.ids[i])) m[M_USERS]++;
    }
    pairs_free(&distinct);
    free(dropped);
}

struct tree {
    uint32_t *first_child, *next_sibling;
};

static bool shown(const struct agg *g, const struct agg_entry *e)
{
    return g->required_metric < 0 || e->m[g->required_metric] != 0;
}

static struct report_table *build_table(struct agg *g, const struct tree *t, uint32_t parent,
                                        const struct agg_column *columns, size_t column_count,
                                        int sort_metric, size_t truncate)
{
    size_t n = 0;
    uint32_t first = parent == INDEX_NONE ? INDEX_NONE : t->first_child[parent];
    if (parent == INDEX_NONE) {
        for (size_t i = 0; i < g->count; i++)
            n += g->entries[i].parent == INDEX_NONE && shown(g, &g->entries[i]);
    } else {
        for (uint32_t c = first; c != INDEX_NONE; c = t->next_sibling[c]) n += shown(g, &g->entries[c]);
    }
    struct sort_item *items = xcalloc(n, sizeof *items);
    size_t k = 0;
    if (parent == INDEX_NONE) {
        for (size_t i = 0; i < g->count; i++)
            if (g->entries[i].parent == INDEX_NONE && shown(g, &g->entries[i]))
                items[k++] = (struct sort_item){&g->entries[i], (uint32_t)i, sort_metric};
    } else {
        for (uint32_t c = first; c != INDEX_NONE; c = t->next_sibling[c])
            if (shown(g, &g->entries[c]))
                items[k++] = (struct sort_item){&g->entries[c], c, sort_metric};
    }
    qsort(items, n, sizeof *items, by_metric);

    size_t kept = truncate && n > truncate ? truncate : n;
    struct report_table *table = arena_alloc(g->arena, sizeof *table);
    if (!table) abort();
    *table = (struct report_table){.columns = NULL, .column_count = column_count};
    struct report_column *cols = arena_alloc(g->arena, (column_count + 1) * sizeof *cols);
    if (!cols) abort();
    for (size_t c = 0; c < column_count; c++) cols[c] = columns[c].column;
    table->columns = cols;
    table->rows = arena_alloc(g->arena, (kept + 1) * sizeof *table->rows);
    if (!table->rows) abort();
    for (size_t i = 0; i < kept; i++) {
        const struct agg_entry *e = items[i].e;
        struct report_row row = make_row(g->arena, columns, column_count, e->label, e->m,
                                         entry_extras(g, items[i].index));
        row_extra(&row, "code", e->code);
        row_extra(&row, "url", e->url);
        row_extra(&row, "segment", e->segment);
        if (t && t->first_child[items[i].index] != INDEX_NONE)
            row.subtable = build_table(g, t, items[i].index, columns, column_count, sort_metric,
                                       truncate);
        table->rows[table->row_count++] = row;
    }
    if (kept < n) {
        double m[M_COUNT];
        double *extras = g->extra_count ? arena_alloc(g->arena, g->extra_count * sizeof *extras)
                                        : NULL;
        if (g->extra_count && !extras) abort();
        others_metrics(g, items, kept, n, m, extras);
        table->rows[table->row_count++] =
            make_row(g->arena, columns, column_count, "Others", m, extras);
    }
    free(items);
    return table;
}

#define AGG_MAX_DEPTH 32

/* Flat: every leaf, labelled with its ancestors' labels. */
static struct report_table *build_flat(struct agg *g, const struct tree *t,
                                       const struct agg_column *columns, size_t column_count,
                                       int sort_metric, const char *separator, size_t truncate)
{
    struct agg flat;
    agg_init(&flat, g->arena, g->visitor_count);
    flat.required_metric = g->required_metric;
    flat.borrows_bitmaps = true;
    agg_set_extras(&flat, g->extra_count, NULL, NULL);
    for (size_t i = 0; i < g->count; i++) {
        if (t->first_child[i] != INDEX_NONE) continue;
        bool created;
        uint32_t e = agg_entry(&flat, i, 0, INDEX_NONE, &created);
        struct agg_entry *dst = &flat.entries[e], *src = &g->entries[i];
        *dst = *src;
        dst->k1 = i;
        dst->k2 = 0;
        dst->parent = INDEX_NONE;
        if (g->extra_count)
            memcpy(entry_extras(&flat, e), entry_extras(g, (uint32_t)i),
                   g->extra_count * sizeof *g->extras);
        /* The full label: ancestors first. */
        struct buf label;
        buf_init(&label);
        const struct agg_entry *chain[AGG_MAX_DEPTH];
        size_t depth = 0;
        for (const struct agg_entry *x = src; x && depth < AGG_MAX_DEPTH;
             x = x->parent == INDEX_NONE ? NULL : &g->entries[x->parent])
            chain[depth++] = x;
        while (depth--) {
            buf_puts(&label, chain[depth]->label);
            if (depth) buf_puts(&label, separator);
        }
        dst->label = arena_strdup(g->arena, label.data ? label.data : "");
        buf_free(&label);
        if (!dst->label) abort();
    }
    /* Distinct counts carry over: same pairs, renumbered entries. */
    for (size_t i = 0; i < g->seen_count; i++) {
        uint32_t from = (uint32_t)g->seen[i];
        if (t->first_child[from] != INDEX_NONE) continue;
        bool created;
        uint32_t e = agg_entry(&flat, from, 0, INDEX_NONE, &created);
        seen_push(&flat, e, (uint32_t)(g->seen[i] >> 32));
    }
    for (size_t i = 0; i < g->users.cap; i++) {
        uint32_t key = g->users.entries[i];
        if (!key || t->first_child[key - 1] != INDEX_NONE) continue;
        bool created;
        pairs_add(&flat.users, agg_entry(&flat, key - 1, 0, INDEX_NONE, &created), g->users.ids[i]);
    }
    struct report_table *table =
        build_table(&flat, NULL, INDEX_NONE, columns, column_count, sort_metric, truncate);
    agg_free(&flat);
    return table;
}

struct report_table *agg_table(struct agg *g, const struct agg_column *columns,
                               size_t column_count, int sort_metric, bool flat,
                               const char *flat_separator, size_t truncate)
{
    count_distinct_visitors(g);
    struct tree t = {xcalloc(g->count, sizeof *t.first_child),
                     xcalloc(g->count, sizeof *t.next_sibling)};
    for (size_t i = 0; i < g->count; i++) t.first_child[i] = t.next_sibling[i] = INDEX_NONE;
    for (size_t i = g->count; i-- > 0;) {
        uint32_t p = g->entries[i].parent;
        if (p == INDEX_NONE) continue;
        t.next_sibling[i] = t.first_child[p];
        t.first_child[p] = (uint32_t)i;
    }
    struct report_table *table =
        flat ? build_flat(g, &t, columns, column_count, sort_metric, flat_separator, truncate)
             : build_table(g, &t, INDEX_NONE, columns, column_count, sort_metric, truncate);
    free(t.first_child);
    free(t.next_sibling);
    return table;
}
