/* index: every stored hit, dictionary-encoded in memory (see internal.h).
 * The server feeds it the store at start and each batch after it reaches
 * the log; reports only read it. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Growth failures abort, as struct buf does: an index that cannot grow
 * cannot answer anything correctly. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return p;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    p = realloc(p, n * size);
    if (!p) abort();
    *cap = n;
    return p;
}

/* ---- dictionary ---- */

uint64_t index_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return hash_mix64(h);
}

static void dict_init(struct dict *d)
{
    *d = (struct dict){0};
    d->slot_cap = 1024;
    d->slots = calloc(d->slot_cap, sizeof *d->slots);
    if (!d->slots) abort();
    size_t cap = 0;
    d->offsets = grow(NULL, &cap, 1, sizeof *d->offsets);
    d->cap = (uint32_t)cap;
    d->pool = grow(NULL, &d->pool_cap, 1, 1);
    d->pool[0] = '\0';
    d->pool_len = 1;
    d->offsets[0] = 0;
    d->count = 1;
}

static void dict_free(struct dict *d)
{
    free(d->pool);
    free(d->offsets);
    free(d->slots);
}

static void dict_rehash(struct dict *d)
{
    size_t cap = d->slot_cap * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) abort();
    for (uint32_t id = 1; id < d->count; id++) {
        const char *s = dict_str(d, id);
        size_t i = index_hash(s, strlen(s)) & (cap - 1);
        while (slots[i]) i = (i + 1) & (cap - 1);
        slots[i] = id;
    }
    free(d->slots);
    d->slots = slots;
    d->slot_cap = cap;
}

uint32_t dict_find(const struct dict *d, const char *s)
{
    if (!*s) return 0;
    size_t len = strlen(s);
    for (size_t i = index_hash(s, len) & (d->slot_cap - 1); d->slots[i];
         i = (i + 1) & (d->slot_cap - 1)) {
        const char *t = dict_str(d, d->slots[i]);
        if (strcmp(t, s) == 0) return d->slots[i];
    }
    return INDEX_NONE;
}

static uint32_t dict_intern(struct dict *d, const char *s)
{
    if (!s || !*s) return 0;
    size_t len = strlen(s);
    size_t i = index_hash(s, len) & (d->slot_cap - 1);
    for (; d->slots[i]; i = (i + 1) & (d->slot_cap - 1))
        if (strcmp(dict_str(d, d->slots[i]), s) == 0) return d->slots[i];
    size_t cap = d->cap;
    d->offsets = grow(d->offsets, &cap, (size_t)d->count + 1, sizeof *d->offsets);
    d->cap = (uint32_t)cap;
    d->pool = grow(d->pool, &d->pool_cap, d->pool_len + len + 1, 1);
    memcpy(d->pool + d->pool_len, s, len + 1);
    uint32_t id = d->count++;
    d->offsets[id] = d->pool_len;
    d->pool_len += len + 1;
    d->slots[i] = id;
    if ((size_t)d->count * 10 > d->slot_cap * 7) dict_rehash(d);
    return id;
}

/* ---- index ---- */

int index_create(struct index **out)
{
    struct index *index = calloc(1, sizeof *index);
    if (!index) return -ENOMEM;
    dict_init(&index->dict);
    index->visit_slot_cap = 1024;
    index->visit_keys = calloc(index->visit_slot_cap, sizeof *index->visit_keys);
    index->visit_vals = calloc(index->visit_slot_cap, sizeof *index->visit_vals);
    if (!index->visit_keys || !index->visit_vals) abort();
    *out = index;
    return 0;
}

void index_destroy(struct index *index)
{
    if (!index) return;
    for (size_t i = 0; i < index->site_count; i++) {
        free(index->sites[i].visitor_keys);
        free(index->sites[i].visitor_ordinals);
        free(index->sites[i].visit_start);
        free(index->sites[i].visits);
        free(index->sites[i].actions);
        free(index->sites[i].ecommerce);
        free(index->sites[i].items);
        free(index->sites[i].order_ids);
        free(index->sites[i].history);
        free(index->sites[i].conversions);
        goal_plan_free(index->sites[i].goals);
    }
    free(index->sites);
    free(index->visit_keys);
    free(index->visit_vals);
    dict_free(&index->dict);
    free(index);
}

uint64_t index_hit_count(const struct index *index)
{
    return index->hits;
}

static size_t site_slot(const struct index *index, uint32_t site_id, bool *found)
{
    size_t lo = 0, hi = index->site_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (index->sites[mid].site_id < site_id) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < index->site_count && index->sites[lo].site_id == site_id;
    return lo;
}

const struct site_index *index_site(const struct index *index, uint32_t site_id)
{
    bool found;
    size_t i = site_slot(index, site_id, &found);
    return found ? &index->sites[i] : NULL;
}

static struct site_index *site_for(struct index *index, uint32_t site_id, size_t *slot_out)
{
    bool found;
    size_t i = site_slot(index, site_id, &found);
    if (!found) {
        index->sites = realloc(index->sites, (index->site_count + 1) * sizeof *index->sites);
        if (!index->sites) abort();
        memmove(&index->sites[i + 1], &index->sites[i],
                (index->site_count - i) * sizeof *index->sites);
        index->sites[i] = (struct site_index){.site_id = site_id};
        index->site_count++;
        /* Slots above i moved: the visit map stores slots, so renumber. */
        for (size_t k = 0; k < index->visit_slot_cap; k++) {
            if (!index->visit_keys[k]) continue;
            uint64_t slot = (index->visit_vals[k] - 1) >> 32;
            if (slot >= i) index->visit_vals[k] += (uint64_t)1 << 32;
        }
    }
    *slot_out = i;
    return &index->sites[i];
}

/* visit_id -> slot and row. Keys are visit_id + 1 so that 0 marks empty. */
static uint64_t *visit_lookup(struct index *index, uint64_t visit_id)
{
    uint64_t key = visit_id + 1;
    size_t mask = index->visit_slot_cap - 1;
    for (size_t i = hash_mix64(key) & mask;; i = (i + 1) & mask) {
        if (index->visit_keys[i] == key) return &index->visit_vals[i];
        if (!index->visit_keys[i]) return NULL;
    }
}

static void visit_map_put(struct index *index, uint64_t visit_id, uint64_t value)
{
    if ((index->visit_slot_used + 1) * 10 > index->visit_slot_cap * 7) {
        size_t cap = index->visit_slot_cap * 2;
        uint64_t *keys = calloc(cap, sizeof *keys), *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) abort();
        for (size_t k = 0; k < index->visit_slot_cap; k++) {
            if (!index->visit_keys[k]) continue;
            size_t i = hash_mix64(index->visit_keys[k]) & (cap - 1);
            while (keys[i]) i = (i + 1) & (cap - 1);
            keys[i] = index->visit_keys[k];
            vals[i] = index->visit_vals[k];
        }
        free(index->visit_keys);
        free(index->visit_vals);
        index->visit_keys = keys;
        index->visit_vals = vals;
        index->visit_slot_cap = cap;
    }
    uint64_t key = visit_id + 1;
    size_t mask = index->visit_slot_cap - 1;
    size_t i = hash_mix64(key) & mask;
    while (index->visit_keys[i]) i = (i + 1) & mask;
    index->visit_keys[i] = key;
    index->visit_vals[i] = value;
    index->visit_slot_used++;
}

/* The visitor's dense ordinal within the site: reports count distinct
 * visitors with per-row markers instead of hash sets. */
static uint32_t visitor_ordinal(struct site_index *s, uint64_t visitor_id)
{
    if ((s->visitor_count + 1) * 10 > s->visitor_slot_cap * 7) {
        size_t cap = s->visitor_slot_cap ? s->visitor_slot_cap * 2 : 1024;
        uint64_t *keys = calloc(cap, sizeof *keys);
        uint32_t *ords = calloc(cap, sizeof *ords);
        if (!keys || !ords) abort();
        for (size_t k = 0; k < s->visitor_slot_cap; k++) {
            if (!s->visitor_ordinals[k]) continue;
            size_t i = hash_mix64(s->visitor_keys[k]) & (cap - 1);
            while (ords[i]) i = (i + 1) & (cap - 1);
            keys[i] = s->visitor_keys[k];
            ords[i] = s->visitor_ordinals[k];
        }
        free(s->visitor_keys);
        free(s->visitor_ordinals);
        s->visitor_keys = keys;
        s->visitor_ordinals = ords;
        s->visitor_slot_cap = cap;
    }
    size_t mask = s->visitor_slot_cap - 1, i = hash_mix64(visitor_id) & mask;
    for (; s->visitor_ordinals[i]; i = (i + 1) & mask)
        if (s->visitor_keys[i] == visitor_id) return s->visitor_ordinals[i] - 1;
    s->visitor_keys[i] = visitor_id;
    s->visitor_ordinals[i] = (uint32_t)++s->visitor_count;
    return s->visitor_ordinals[i] - 1;
}

static struct visitor_history *visitor_history(struct site_index *s, uint32_t visitor)
{
    if (visitor >= s->history_cap) {
        size_t old = s->history_cap;
        s->history = grow(s->history, &s->history_cap, (size_t)visitor + 1, sizeof *s->history);
        memset(&s->history[old], 0, (s->history_cap - old) * sizeof *s->history);
    }
    return &s->history[visitor];
}

/* A visit's dimensions come from its first hit. */
static void visit_set_dimensions(struct index *index, struct site_index *s, struct visit_row *v,
                                 const struct hit *h)
{
    v->visitor_id = h->visitor_id;
    v->visitor = visitor_ordinal(s, h->visitor_id);
    v->visit_count = h->visit_count;
    v->days_since_last = h->days_since_last_visit;
    v->days_since_first = h->days_since_first_visit;
    v->local_time_s = h->local_time_s;
    v->referrer_type = h->referrer_type;
    if (h->flags & HIT_FLAG_RETURNING) v->flags |= VISIT_RETURNING;
#define VISIT_TEXT_SET(column, field) v->text[VT_##column] = dict_intern(&index->dict, h->field);
    VISIT_TEXT_COLUMNS(VISIT_TEXT_SET)
#undef VISIT_TEXT_SET
    v->user_id = dict_intern(&index->dict, h->user_id);
    char resolution[32] = "";
    if (h->screen_width && h->screen_height)
        snprintf(resolution, sizeof resolution, "%ux%u", h->screen_width, h->screen_height);
    v->text[VT_RESOLUTION] = dict_intern(&index->dict, resolution);
}

static uint32_t visit_row_for(struct index *index, struct site_index *s, size_t slot,
                              const struct hit *h)
{
    uint64_t *found = visit_lookup(index, h->visit_id);
    /* A visit id is one site's; one seen under another site (a data folder
     * assembled from others) starts a visit of its own here. */
    if (found && ((*found - 1) >> 32) != slot) found = NULL;
    if (found) {
        uint32_t row = (uint32_t)(*found - 1);
        /* A visit's start hit read after a later one (a delta segment
         * scanned late) still defines it. */
        if (h->flags & HIT_FLAG_VISIT_START) {
            struct visit_row *v = &s->visits[row];
            visit_set_dimensions(index, s, v, h);
            if (h->time_ms < s->visit_start[row]) {
                s->visit_start[row] = h->time_ms;
                if (row < s->compacted_visits) s->starts_moved = true;
            }
        }
        return row;
    }
    size_t cap = s->visit_cap;
    s->visit_start = grow(s->visit_start, &cap, s->visit_count + 1, sizeof *s->visit_start);
    s->visits = grow(s->visits, &s->visit_cap, s->visit_count + 1, sizeof *s->visits);
    uint32_t row = (uint32_t)s->visit_count++;
    struct visit_row *v = &s->visits[row];
    *v = (struct visit_row){.visit_id = h->visit_id,
                            .first_action = INDEX_NONE,
                            .last_action = INDEX_NONE,
                            .end_ms = h->time_ms};
    s->visit_start[row] = h->time_ms;
    visit_set_dimensions(index, s, v, h);
    visit_map_put(index, h->visit_id, ((uint64_t)slot << 32 | row) + 1);
    v->abandoned_cart = v->last_cart = v->last_order = INDEX_NONE;
    /* What the visitor had bought before: right when visits arrive in
     * time order, as they do live; an earlier one arriving late (an
     * import) marks the site for recomputation. */
    struct visitor_history *hist = visitor_history(s, v->visitor);
    if (h->time_ms < hist->last_start_ms) s->history_stale = true;
    else hist->last_start_ms = h->time_ms;
    v->prior_orders = hist->orders;
    v->prior_revenue = hist->revenue;
    v->prior_order_ms = hist->last_order_ms;
    return row;
}

/* The strings an action keeps, by kind (see struct action_row). */
static void action_set_strings(struct dict *d, struct action_row *a, const struct hit *h)
{
    const char *s[5] = {"", "", "", "", ""};
    switch (h->kind) {
    case HIT_PAGEVIEW:
        s[0] = h->url, s[1] = h->action_name, s[2] = h->product_sku, s[3] = h->product_name;
        s[4] = h->product_category;
        break;
    case HIT_EVENT:
        s[0] = h->event_category, s[1] = h->event_action, s[2] = h->event_name;
        a->value = h->event_value;
        break;
    case HIT_OUTLINK:
    case HIT_DOWNLOAD:
        s[0] = h->target_url;
        break;
    case HIT_SITE_SEARCH:
        s[0] = h->search_keyword, s[1] = h->search_category;
        a->value = h->search_count >= 0 ? h->search_count : NAN;
        break;
    case HIT_CONTENT_IMPRESSION:
    case HIT_CONTENT_INTERACTION:
        s[0] = h->content_name, s[1] = h->content_piece, s[2] = h->content_target;
        s[3] = h->content_interaction;
        break;
    case HIT_ECOMMERCE_ORDER:
        s[0] = h->order_id;
        /* fall through */
    case HIT_CART_UPDATE:
        s[1] = h->items;
        a->value = h->revenue;
        break;
    case HIT_GOAL:
        a->value = h->revenue;
        break;
    case HIT_CUSTOM_ACTION:
        s[0] = h->url, s[1] = h->action_name;
        break;
    }
    a->a = dict_intern(d, s[0]);
    a->b = dict_intern(d, s[1]);
    a->c = dict_intern(d, s[2]);
    a->d = dict_intern(d, s[3]);
    a->e = dict_intern(d, s[4]);
    a->dimensions = dict_intern(d, h->dimensions);
}

/* True the first time the site sees this order id: Matomo counts an order
 * once, the first to arrive, and so does a restart (the store replays in
 * arrival order). */
static bool order_id_first(struct site_index *s, uint32_t id)
{
    if ((s->order_id_count + 1) * 10 > s->order_id_cap * 7) {
        size_t cap = s->order_id_cap ? s->order_id_cap * 2 : 256;
        uint32_t *ids = calloc(cap, sizeof *ids);
        if (!ids) abort();
        for (size_t k = 0; k < s->order_id_cap; k++) {
            if (!s->order_ids[k]) continue;
            size_t i = hash_mix64(s->order_ids[k]) & (cap - 1);
            while (ids[i]) i = (i + 1) & (cap - 1);
            ids[i] = s->order_ids[k];
        }
        free(s->order_ids);
        s->order_ids = ids;
        s->order_id_cap = cap;
    }
    size_t mask = s->order_id_cap - 1, i = hash_mix64(id) & mask;
    for (; s->order_ids[i]; i = (i + 1) & mask)
        if (s->order_ids[i] == id) return false;
    s->order_ids[i] = id;
    s->order_id_count++;
    return true;
}

/* The items of an order or a cart update, from the normalised ec_items
 * JSON that track wrote ([sku, name, category, price, quantity] each). */
static void add_items(struct index *index, struct site_index *s, struct ecommerce_row *e,
                      const char *items)
{
    e->first_item = (uint32_t)s->item_count;
    json_t *root = *items ? json_loads(items, 0, NULL) : NULL;
    for (size_t i = 0; i < json_array_size(root); i++) {
        json_t *item = json_array_get(root, i), *category = json_array_get(item, 2);
        char *category_text = json_is_array(category) ? json_dumps(category, JSON_COMPACT) : NULL;
        s->items = grow(s->items, &s->item_cap, s->item_count + 1, sizeof *s->items);
        s->items[s->item_count++] = (struct item_row){
            .sku = dict_intern(&index->dict, json_string_value(json_array_get(item, 0))),
            .name = dict_intern(&index->dict, json_string_value(json_array_get(item, 1))),
            .category = dict_intern(&index->dict, category_text ? category_text
                                                               : json_string_value(category)),
            .price = json_number_value(json_array_get(item, 3)),
            .quantity = json_number_value(json_array_get(item, 4)),
        };
        free(category_text);
    }
    json_decref(root);
    e->item_count = (uint32_t)(s->item_count - e->first_item);
}

/* The status from the visit's last order and last cart update; a cart
 * updated at the very millisecond of the order was not left. */
static void settle_ecommerce_status(const struct site_index *s, struct visit_row *v)
{
    bool ordered = v->last_order != INDEX_NONE;
    bool cart_left = v->last_cart != INDEX_NONE &&
                     (!ordered || s->ecommerce[v->last_cart].time_ms > s->ecommerce[v->last_order].time_ms);
    v->ecommerce_status = ordered ? (cart_left ? ECOMMERCE_ORDERED_THEN_ABANDONED : ECOMMERCE_ORDERED)
                          : cart_left ? ECOMMERCE_ABANDONED_CART
                                      : ECOMMERCE_NONE;
    v->abandoned_cart = cart_left ? v->last_cart : INDEX_NONE;
}

static void add_ecommerce(struct index *index, struct site_index *s, struct visit_row *v,
                          struct action_row *a, const struct hit *h)
{
    s->ecommerce = grow(s->ecommerce, &s->ecommerce_cap, s->ecommerce_count + 1,
                        sizeof *s->ecommerce);
    uint32_t ei = (uint32_t)s->ecommerce_count++;
    struct ecommerce_row *e = &s->ecommerce[ei];
    *e = (struct ecommerce_row){.time_ms = h->time_ms, .subtotal = h->subtotal, .tax = h->tax,
                                .shipping = h->shipping, .discount = h->discount};
    add_items(index, s, e, h->items);
    a->c = ei;
    if (h->kind == HIT_CART_UPDATE) {
        if (v->last_cart == INDEX_NONE || h->time_ms >= s->ecommerce[v->last_cart].time_ms)
            v->last_cart = ei;
        settle_ecommerce_status(s, v);
        return;
    }
    e->duplicate = !order_id_first(s, a->a);
    if (e->duplicate) return;
    double total = isfinite(h->revenue) ? h->revenue : 0;
    v->orders++;
    v->order_revenue += total;
    conversions_add_order(s, v, total);
    if (v->last_order == INDEX_NONE || h->time_ms >= s->ecommerce[v->last_order].time_ms)
        v->last_order = ei;
    settle_ecommerce_status(s, v);
    struct visitor_history *hist = visitor_history(s, v->visitor);
    hist->orders++;
    hist->revenue += total;
    if (h->time_ms > hist->last_order_ms) hist->last_order_ms = h->time_ms;
    /* An order in an older visit than the visitor's latest changes what
     * the later visits had bought before them. */
    if (hist->last_start_ms > h->time_ms) s->history_stale = true;
}

static void count_one(struct visit_row *v, enum action_count c)
{
    if (v->action_counts[c] == UINT16_MAX) v->flags |= VISIT_COUNTS_FULL;
    else v->action_counts[c]++;
}

/* The visit's pageviews and action_counts, with action ai added. */
static void count_action(const struct site_index *s, struct visit_row *v, uint32_t ai)
{
    const struct action_row *a = &s->actions[ai];
    switch (a->kind) {
    case HIT_PAGEVIEW: {
        v->pageviews++;
        /* Unique pageviews: a URL not viewed before in this visit. */
        bool repeat = false;
        for (uint32_t i = v->first_action; i != ai && !repeat; i = s->actions[i].next)
            repeat = s->actions[i].kind == HIT_PAGEVIEW && s->actions[i].a == a->a;
        v->uniq_pageviews += !repeat;
        break;
    }
    case HIT_DOWNLOAD: count_one(v, AC_DOWNLOADS); break;
    case HIT_OUTLINK: count_one(v, AC_OUTLINKS); break;
    case HIT_SITE_SEARCH: count_one(v, AC_SEARCHES); break;
    case HIT_EVENT: count_one(v, AC_EVENTS); break;
    case HIT_CONTENT_IMPRESSION: count_one(v, AC_CONTENT_IMPRESSIONS); break;
    case HIT_CONTENT_INTERACTION: count_one(v, AC_CONTENT_INTERACTIONS); break;
    }
}

int index_add(struct index *index, const struct hit *h)
{
    /* Bots are counted by tally stats from the store; reports are about people. */
    if (h->kind == HIT_BOT || !h->visit_id) return 0;
    size_t slot;
    struct site_index *s = site_for(index, h->site_id, &slot);
    uint32_t row = visit_row_for(index, s, slot, h);
    struct visit_row *v = &s->visits[row];
    index->hits++;
    v->hits++;
    if (h->time_ms > v->end_ms) v->end_ms = h->time_ms;
    /* A heartbeat only says the visitor was still there. */
    if (h->kind == HIT_HEARTBEAT) return 0;

    s->actions = grow(s->actions, &s->action_cap, s->action_count + 1, sizeof *s->actions);
    uint32_t ai = (uint32_t)s->action_count++;
    struct action_row *a = &s->actions[ai];
    *a = (struct action_row){.time_ms = h->time_ms,
                             .next = INDEX_NONE,
                             .kind = h->kind,
                             .goal_id = h->goal_id,
                             .value = NAN};
    action_set_strings(&index->dict, a, h);
    if (v->last_action == INDEX_NONE) v->first_action = ai;
    else s->actions[v->last_action].next = ai;
    v->last_action = ai;

    if (hit_kind_is_action(h->kind)) v->actions++;
    count_action(s, v, ai);
    if (h->kind == HIT_PAGEVIEW) {
        if (v->pageviews == 1) {
            v->entry_url = a->a;
            v->entry_title = a->b;
        }
        v->exit_url = a->a;
        v->exit_title = a->b;
    }
    if (h->kind == HIT_ECOMMERCE_ORDER || h->kind == HIT_CART_UPDATE) add_ecommerce(index, s, v, a, h);
    conversions_add_action(s->goals, &index->dict, s, v, a);
    return 0;
}

int index_set_goals(struct index *index, const struct sites *sites, const struct goals *goals)
{
    for (size_t i = 0; i < sites->count; i++) {
        struct goal *site_goals;
        size_t count, slot;
        if (goals_copy_site(goals, sites->items[i].id, &site_goals, &count)) return -ENOMEM;
        struct site_index *s = site_for(index, sites->items[i].id, &slot);
        int rc = 0;
        if (!goal_plan_same(s->goals, site_goals, count)) {
            struct goal_plan *plan = NULL;
            rc = count ? goal_plan_create(site_goals, count, &plan) : 0;
            if (!rc) {
                goal_plan_free(s->goals);
                s->goals = plan;
                conversions_rebuild(plan, &index->dict, s);
            } else {
                goal_plan_free(plan);
            }
        }
        goal_array_free(site_goals, count);
        if (rc) return rc;
    }
    return 0;
}

/* 11-bit digits: 2048 counters and write positions stay in the cache. */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)

void index_radix_sort(uint64_t *keys, size_t n, unsigned from_bit)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i] > max) max = keys[i];
    uint64_t *buffer = malloc((n ? n : 1) * sizeof *buffer);
    uint32_t count[RADIX_SIZE + 1];
    if (!buffer) abort();
    /* Passes alternate between the two arrays; an odd count ends in the
     * buffer and is copied back once. */
    uint64_t *from = keys, *to = buffer;
    for (unsigned shift = from_bit; shift < 64 && (max >> shift); shift += RADIX_BITS) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++) count[((from[i] >> shift) & (RADIX_SIZE - 1)) + 1]++;
        for (size_t d = 1; d <= RADIX_SIZE; d++) count[d] += count[d - 1];
        for (size_t i = 0; i < n; i++) to[count[(from[i] >> shift) & (RADIX_SIZE - 1)]++] = from[i];
        uint64_t *t = from;
        from = to;
        to = t;
    }
    if (from != keys) memcpy(keys, from, n * sizeof *keys);
    free(buffer);
}

/* Each visit's prior_* from the visits before it, in start order. */
static void recompute_history(struct site_index *s)
{
    if (s->history_cap) memset(s->history, 0, s->history_cap * sizeof *s->history);
    for (size_t r = 0; r < s->visit_count; r++) {
        struct visit_row *v = &s->visits[r];
        struct visitor_history *hist = visitor_history(s, v->visitor);
        v->prior_orders = hist->orders;
        v->prior_revenue = hist->revenue;
        v->prior_order_ms = hist->last_order_ms;
        hist->last_start_ms = s->visit_start[r];
        if (!v->orders) continue;
        hist->orders += v->orders;
        hist->revenue += v->order_revenue;
        for (uint32_t i = v->first_action; i != INDEX_NONE; i = s->actions[i].next) {
            const struct action_row *a = &s->actions[i];
            if (a->kind == HIT_ECOMMERCE_ORDER && !s->ecommerce[a->c].duplicate &&
                a->time_ms > hist->last_order_ms)
                hist->last_order_ms = a->time_ms;
        }
    }
    s->history_stale = false;
}

/* Reorders a site for reading: visits by start second, each visit's
 * actions contiguous and in visit order. A period is then one run of
 * visits and one run of actions, read in memory order. */
static void site_compact(struct index *index, struct site_index *s, size_t slot)
{
    size_t n = s->visit_count;
    int64_t min_s = INT64_MAX;
    for (size_t r = 0; r < n; r++)
        if (s->visit_start[r] / 1000 < min_s) min_s = s->visit_start[r] / 1000;
    /* (start second - earliest) << 32 | row: sorted, the rows in start order */
    uint64_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) abort();
    for (size_t r = 0; r < n; r++) order[r] = (uint64_t)(s->visit_start[r] / 1000 - min_s) << 32 | r;
    index_radix_sort(order, n, 32);

    struct visit_row *visits = malloc((s->visit_cap ? s->visit_cap : 1) * sizeof *visits);
    int64_t *starts = malloc((s->visit_cap ? s->visit_cap : 1) * sizeof *starts);
    struct action_row *actions = malloc((s->action_cap ? s->action_cap : 1) * sizeof *actions);
    if (!visits || !starts || !actions) abort();
    uint32_t k = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t from = (uint32_t)order[r];
        struct visit_row v = s->visits[from];
        starts[r] = s->visit_start[from];
        uint32_t first = k;
        for (uint32_t i = v.first_action; i != INDEX_NONE; i = s->actions[i].next) {
            actions[k] = s->actions[i];
            actions[k].next = k + 1;
            k++;
        }
        if (k > first) {
            actions[k - 1].next = INDEX_NONE;
            v.first_action = first;
            v.last_action = k - 1;
        }
        visits[r] = v;
        uint64_t *value = visit_lookup(index, v.visit_id);
        if (value && ((*value - 1) >> 32) == slot) *value = ((uint64_t)slot << 32 | r) + 1;
    }
    free(order);
    free(s->visits);
    free(s->visit_start);
    free(s->actions);
    s->visits = visits;
    s->visit_start = starts;
    s->actions = actions;
    s->compacted_visits = n;
    s->compacted_actions = s->action_count;
    s->starts_moved = false;
    recompute_history(s);
    conversions_compact(s);
}

void index_compact(struct index *index, bool only_if_worth_it)
{
    for (size_t i = 0; i < index->site_count; i++) {
        struct site_index *s = &index->sites[i];
        /* Worth it once an eighth of the visits or actions arrived since
         * the last compaction: the cost is amortised over many appends.
         * Visits that arrived out of order (an import of older data) make
         * the visitors' purchases before later visits stale: recomputed
         * sooner, once a sixty-fourth is new, still amortised while an
         * import runs. */
        size_t new_visits = s->visit_count - s->compacted_visits;
        bool worth = s->starts_moved || new_visits * 8 >= s->visit_count ||
                     (s->history_stale && new_visits * 64 >= s->visit_count) ||
                     (s->action_count - s->compacted_actions) * 8 >= s->action_count;
        if (only_if_worth_it && !worth) continue;
        site_compact(index, s, i);
    }
}
