/* names: display names of countries, regions and languages from Debian's
 * iso-codes JSON files, read once at start into three sorted tables.
 * Reports show "Germany" where the store has "de". Every string lives in
 * one arena, so names_free is two frees. */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/base.h"

#define NAMES_DEFAULT_DIR "/usr/share/iso-codes/json"

struct name_entry {
    char key[8]; /* "de" (country), "DE-BY" (region), "de" or "deu" (language) */
    const char *name;
};

struct name_table {
    struct name_entry *entries;
    size_t count;
};

struct names {
    struct name_table countries, regions, languages;
    struct arena memory;
};

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const struct name_entry *)a)->key, ((const struct name_entry *)b)->key);
}

static const char *table_find(const struct name_table *t, const char *key)
{
    struct name_entry probe = {{0}, NULL};
    if (strlen(key) >= sizeof probe.key) return NULL;
    strcpy(probe.key, key);
    const struct name_entry *e =
        bsearch(&probe, t->entries, t->count, sizeof *t->entries, compare_entries);
    return e ? e->name : NULL;
}

/* Copies at most n bytes of s into out (size outlen) with the case changed;
 * false when it does not fit. */
static bool copy_case(char *out, size_t outlen, const char *s, size_t n, bool upper)
{
    if (n >= outlen) return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(upper ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
    out[n] = '\0';
    return true;
}

/* iso-codes lists a language's names joined by "; ", some inverted
 * ("Bokmål, Norwegian; Norwegian Bokmål") or qualified ("Occitan (post
 * 1500); Provençal"). Shown: the first name without a comma (else the
 * first), without a trailing parenthesis. */
static char *language_display_name(struct arena *a, const char *names)
{
    const char *best = names;
    size_t best_len = strcspn(names, ";");
    for (const char *p = names; *p;) {
        size_t len = strcspn(p, ";");
        if (!memchr(p, ',', len)) {
            best = p;
            best_len = len;
            break;
        }
        p += len;
        while (*p == ';' || *p == ' ')
            p++;
    }
    if (best_len && best[best_len - 1] == ')') {
        const char *open = best + best_len;
        while (open > best && *open != '(')
            open--;
        while (open > best && open[-1] == ' ')
            open--;
        if (open > best) best_len = (size_t)(open - best);
    }
    return arena_strndup(a, best, best_len);
}

struct loader {
    const char *dir;
    const char *file; /* for messages */
    struct arena *memory;
    char *err;
    size_t errlen;
};

/* The array under key of dir/file; *root owns it. */
static int load_array(struct loader *l, const char *key, json_t **root, json_t **items)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", l->dir, l->file);
    json_error_t jerr;
    *root = json_load_file(path, 0, &jerr);
    if (!*root) {
        bool missing = json_error_code(&jerr) == json_error_cannot_open_file;
        if (missing)
            snprintf(l->err, l->errlen, "names: cannot read %s; install Debian's iso-codes", path);
        else
            snprintf(l->err, l->errlen, "names: %s: not valid JSON: %s at line %d", path, jerr.text,
                     jerr.line);
        return missing ? -ENOENT : -EINVAL;
    }
    *items = json_object_get(*root, key);
    if (!json_is_array(*items)) {
        snprintf(l->err, l->errlen, "names: %s: no \"%s\" array", path, key);
        json_decref(*root);
        return -EINVAL;
    }
    return 0;
}

/* The string field of item i, or NULL with a message when required. */
static const char *field(struct loader *l, json_t *item, size_t i, const char *name, bool required)
{
    const char *s = json_string_value(json_object_get(item, name));
    if (!s && required)
        snprintf(l->err, l->errlen, "names: %s/%s: entry %zu has no \"%s\"", l->dir, l->file, i,
                 name);
    return s;
}

static int table_add(struct loader *l, struct name_table *t, const char *key, bool upper,
                     const char *name)
{
    struct name_entry *e = &t->entries[t->count];
    if (!copy_case(e->key, sizeof e->key, key, strlen(key), upper)) {
        snprintf(l->err, l->errlen, "names: %s/%s: code \"%.16s\" is too long", l->dir, l->file,
                 key);
        return -EINVAL;
    }
    e->name = name;
    if (!e->name) {
        snprintf(l->err, l->errlen, "names: out of memory");
        return -ENOMEM;
    }
    t->count++;
    return 0;
}

/* Room for per_item entries for each of the array's items. */
static int table_reserve(struct loader *l, struct name_table *t, json_t *items, size_t per_item)
{
    t->entries = arena_alloc(l->memory, json_array_size(items) * per_item * sizeof *t->entries + 1);
    if (t->entries) return 0;
    snprintf(l->err, l->errlen, "names: out of memory");
    return -ENOMEM;
}

static int load_countries(struct loader *l, struct name_table *t)
{
    json_t *root, *items, *item;
    l->file = "iso_3166-1.json";
    int rc = load_array(l, "3166-1", &root, &items);
    if (rc) return rc;
    rc = table_reserve(l, t, items, 1);
    size_t i;
    json_array_foreach(items, i, item)
    {
        if (rc) break;
        const char *code = field(l, item, i, "alpha_2", true);
        const char *name = field(l, item, i, "name", true);
        /* "South Korea" rather than "Korea, Republic of", where there is one. */
        const char *common = field(l, item, i, "common_name", false);
        if (!code || !name)
            rc = -EINVAL;
        else
            rc = table_add(l, t, code, false, arena_strdup(l->memory, common ? common : name));
    }
    json_decref(root);
    return rc;
}

static int load_regions(struct loader *l, struct name_table *t)
{
    json_t *root, *items, *item;
    l->file = "iso_3166-2.json";
    int rc = load_array(l, "3166-2", &root, &items);
    if (rc) return rc;
    rc = table_reserve(l, t, items, 1);
    size_t i;
    json_array_foreach(items, i, item)
    {
        if (rc) break;
        const char *code = field(l, item, i, "code", true);
        const char *name = field(l, item, i, "name", true);
        if (!code || !name)
            rc = -EINVAL;
        else
            rc = table_add(l, t, code, true, arena_strdup(l->memory, name));
    }
    json_decref(root);
    return rc;
}

static int load_languages(struct loader *l, struct name_table *t)
{
    json_t *root, *items, *item;
    l->file = "iso_639-2.json";
    int rc = load_array(l, "639-2", &root, &items);
    if (rc) return rc;
    rc = table_reserve(l, t, items, 2);
    size_t i;
    json_array_foreach(items, i, item)
    {
        if (rc) break;
        const char *alpha3 = field(l, item, i, "alpha_3", true);
        const char *names = field(l, item, i, "name", true);
        const char *alpha2 = field(l, item, i, "alpha_2", false);
        if (!alpha3 || !names) {
            rc = -EINVAL;
            break;
        }
        const char *name = language_display_name(l->memory, names);
        rc = table_add(l, t, alpha3, false, name);
        if (rc == 0 && alpha2) rc = table_add(l, t, alpha2, false, name);
    }
    json_decref(root);
    return rc;
}

int names_load(const char *iso_codes_dir, struct names **out, char *err, size_t errlen)
{
    *out = NULL;
    struct names *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "names: out of memory");
        return -ENOMEM;
    }
    arena_init(&n->memory, 0);
    struct loader l = {iso_codes_dir ? iso_codes_dir : NAMES_DEFAULT_DIR, "", &n->memory, err,
                       errlen};
    int rc = load_countries(&l, &n->countries);
    if (rc == 0) rc = load_regions(&l, &n->regions);
    if (rc == 0) rc = load_languages(&l, &n->languages);
    if (rc) {
        names_free(n);
        return rc;
    }
    struct name_table *tables[] = {&n->countries, &n->regions, &n->languages};
    for (size_t i = 0; i < 3; i++)
        qsort(tables[i]->entries, tables[i]->count, sizeof *tables[i]->entries, compare_entries);
    *out = n;
    return 0;
}

void names_free(struct names *names)
{
    if (!names) return;
    arena_free(&names->memory);
    free(names);
}

const char *names_country(const struct names *names, const char *alpha2)
{
    char key[8];
    if (!names) return NULL; /* iso-codes missing: reports show codes */
    if (!copy_case(key, sizeof key, alpha2, strlen(alpha2), false)) return NULL;
    return table_find(&names->countries, key);
}

const char *names_region(const struct names *names, const char *country_alpha2,
                         const char *region_code)
{
    char key[8];
    if (!names) return NULL;
    size_t c = strlen(country_alpha2), r = strlen(region_code);
    if (c + 1 + r >= sizeof key || !c || !r) return NULL;
    copy_case(key, sizeof key, country_alpha2, c, true);
    key[c] = '-';
    copy_case(key + c + 1, sizeof key - c - 1, region_code, r, true);
    return table_find(&names->regions, key);
}

const char *names_language(const struct names *names, const char *code)
{
    char key[8];
    if (!names) return NULL;
    if (!copy_case(key, sizeof key, code, strcspn(code, "-_"), false)) return NULL;
    return table_find(&names->languages, key);
}

const char *names_continent(const char *matomo_code)
{
    static const char *const continents[][2] = {
        {"afr", "Africa"},        {"amc", "Central America"}, {"amn", "North America"},
        {"ams", "South America"}, {"ant", "Antarctica"},      {"asi", "Asia"},
        {"eur", "Europe"},        {"oce", "Oceania"},
    };
    for (size_t i = 0; i < sizeof continents / sizeof continents[0]; i++)
        if (strcasecmp(matomo_code, continents[i][0]) == 0) return continents[i][1];
    return NULL;
}
