/* names: display names for codes, from Debian's iso-codes JSON files.
 * Loaded once at start into sorted arrays; lookups are binary searches. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query.h"

struct name_entry {
    char *code; /* lower case: "de", "de-by" */
    char *name;
};

struct name_list {
    struct name_entry *items;
    size_t count;
};

struct names {
    struct name_list countries, regions, languages;
};

static int by_code(const void *a, const void *b)
{
    return strcmp(((const struct name_entry *)a)->code, ((const struct name_entry *)b)->code);
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Reads file's array named key; code_field (then fallback) becomes the code. */
static int load_list(const char *dir, const char *file, const char *key, const char *code_field,
                     const char *fallback, struct name_list *out, char *err, size_t errlen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    json_t *array = root ? json_object_get(root, key) : NULL;
    if (!json_is_array(array)) {
        snprintf(err, errlen, "%s: %s (install Debian's iso-codes package)", path,
                 root ? "unexpected layout" : jerr.text);
        json_decref(root);
        return -EINVAL;
    }
    size_t n = json_array_size(array);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) abort();
    out->count = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(array, i);
        const char *code = json_string_value(json_object_get(item, code_field));
        if (!code && fallback) code = json_string_value(json_object_get(item, fallback));
        const char *name = json_string_value(json_object_get(item, "common_name"));
        if (!name) name = json_string_value(json_object_get(item, "name"));
        if (!code || !name) continue;
        out->items[out->count++] = (struct name_entry){lower_dup(code), strdup(name)};
        if (!out->items[out->count - 1].name) abort();
    }
    qsort(out->items, out->count, sizeof *out->items, by_code);
    json_decref(root);
    return 0;
}

static void free_list(struct name_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].code);
        free(l->items[i].name);
    }
    free(l->items);
}

int names_load(const char *dir, struct names **out, char *err, size_t errlen)
{
    if (!dir) dir = "/usr/share/iso-codes/json";
    struct names *n = calloc(1, sizeof *n);
    if (!n) return -ENOMEM;
    int rc = load_list(dir, "iso_3166-1.json", "3166-1", "alpha_2", NULL, &n->countries, err, errlen);
    if (!rc) rc = load_list(dir, "iso_3166-2.json", "3166-2", "code", NULL, &n->regions, err, errlen);
    if (!rc)
        rc = load_list(dir, "iso_639-2.json", "639-2", "alpha_2", "alpha_3", &n->languages, err,
                       errlen);
    if (rc) {
        names_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

void names_free(struct names *n)
{
    if (!n) return;
    free_list(&n->countries);
    free_list(&n->regions);
    free_list(&n->languages);
    free(n);
}

static const char *find(const struct name_list *l, const char *code)
{
    char key[64];
    size_t len = strlen(code);
    if (!len || len >= sizeof key) return NULL;
    for (size_t i = 0; i <= len; i++)
        key[i] = code[i] >= 'A' && code[i] <= 'Z' ? (char)(code[i] - 'A' + 'a') : code[i];
    struct name_entry probe = {key, NULL};
    const struct name_entry *e = bsearch(&probe, l->items, l->count, sizeof *l->items, by_code);
    return e ? e->name : NULL;
}

const char *names_country(const struct names *n, const char *alpha2)
{
    return n && alpha2 ? find(&n->countries, alpha2) : NULL;
}

const char *names_region(const struct names *n, const char *country, const char *region)
{
    if (!n || !country || !region || !*region) return NULL;
    char code[64];
    snprintf(code, sizeof code, "%s-%s", country, region);
    return find(&n->regions, code);
}

const char *names_language(const struct names *n, const char *code)
{
    if (!n || !code) return NULL;
    char base[16];
    size_t len = strcspn(code, "-_");
    if (len >= sizeof base) return NULL;
    memcpy(base, code, len);
    base[len] = '\0';
    return find(&n->languages, base);
}

const char *names_continent(const char *code)
{
    static const char *const continents[][2] = {
        {"afr", "Africa"},        {"amc", "Central America"}, {"amn", "North America"},
        {"ams", "South America"}, {"ant", "Antarctica"},      {"asi", "Asia"},
        {"eur", "Europe"},        {"oce", "Oceania"},
    };
    for (size_t i = 0; code && i < sizeof continents / sizeof *continents; i++)
        if (strcmp(continents[i][0], code) == 0) return continents[i][1];
    return NULL;
}
