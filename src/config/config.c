/* config: DATA/sites.json and the file handling every config file shares
 * (users and tokens are in access.c).
 *
 * sites.json  {"sites":[{"id":1,"name":"...","urls":["https://a.example"],
 *              "timezone":"UTC","currency":"USD","excluded_params":[],
 *              "honour_dnt":true,"ipv4_mask_bytes":2,"ipv6_mask_bits":80,
 *              "anonymous_view":false,"created_ms":...}]}
 *
 * Every file is rewritten whole with file_write_atomic under an exclusive
 * lock on DATA/config.lock, so two `tally site add` runs never lose each
 * other's site and a reader never sees half a file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/base.h"
#include "internal.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"

/* ---- small helpers ---- */

char *config_strdup(const char *s)
{
    char *p = strdup(s);
    if (!p) abort();
    return p;
}

void config_path(char *out, size_t outlen, const char *data_dir, const char *name)
{
    snprintf(out, outlen, "%s/%s", data_dir, name);
}

int config_lock(const char *data_dir, char *err, size_t errlen)
{
    int rc = mkdir_p(data_dir, 0755);
    if (rc) {
        snprintf(err, errlen, "cannot create data folder %s: %s", data_dir, strerror(-rc));
        return rc;
    }
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "config.lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        rc = -errno;
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return rc;
    }
    return fd;
}

int config_json_read(const char *path, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    struct buf b;
    buf_init(&b);
    int rc = file_read_all(path, &b);
    if (rc == -ENOENT) return 0;
    if (rc) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
        buf_free(&b);
        return rc;
    }
    json_error_t jerr;
    json_t *root = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
    buf_free(&b);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "%s is not valid JSON (line %d: %s); fix or restore it from a backup",
                 path, root ? 1 : jerr.line, root ? "expected an object" : jerr.text);
        json_decref(root);
        return -EINVAL;
    }
    *out = root;
    return 0;
}

int config_json_write(const char *path, json_t *root, int mode, char *err, size_t errlen)
{
    /* 15 digits: a revenue typed as 9.99 is written back as 9.99. */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!text) abort();
    size_t len = strlen(text);
    /* A trailing newline keeps the file friendly to editors and diff. */
    struct buf b;
    buf_init(&b);
    buf_append(&b, text, len);
    buf_putc(&b, '\n');
    free(text);
    int rc = file_write_atomic(path, b.data, b.len, mode);
    buf_free(&b);
    if (rc) snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    return rc;
}

/* ---- validation ---- */

bool timezone_valid(const char *name)
{
    if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 128) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return false;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    char magic[4];
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
              memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

/* Validates and normalises a site URL into out: scheme and host lower-case,
 * no trailing '/'. Accepts http(s)://host[:port][/path]. */
static int site_url_normalise(const char *url, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *rest;
    size_t scheme_len;
    if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
        scheme_len = 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        rest = url + 8;
        scheme_len = 8;
    } else {
        snprintf(err, errlen, "--url '%.200s': expected http://host or https://host[:port][/path]",
                 url);
        return -EINVAL;
    }
    size_t host_len = strcspn(rest, ":/");
    if (host_len == 0 || host_len > 253) {
        snprintf(err, errlen, "--url '%.200s': the host name is missing or too long", url);
        return -EINVAL;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (!isalnum(c) && c != '-' && c != '.') {
            snprintf(err, errlen,
                     "--url '%.200s': the host may only hold letters, digits, '-' and '.'", url);
            return -EINVAL;
        }
    }
    const char *p = rest + host_len;
    const char *port = NULL;
    size_t port_len = 0;
    if (*p == ':') {
        port = ++p;
        port_len = strcspn(p, "/");
        char digits[8];
        int64_t v;
        if (port_len == 0 || port_len >= sizeof digits ||
            (memcpy(digits, port, port_len), digits[port_len] = '\0',
             parse_i64(digits, 1, 65535, &v))) {
            snprintf(err, errlen, "--url '%.200s': the port must be a number from 1 to 65535", url);
            return -EINVAL;
        }
        p += port_len;
    }
    const char *path = p;
    for (const char *q = path; *q; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
            snprintf(err, errlen,
                     "--url '%.200s': the path may not hold spaces, control characters, "
                     "'?' or '#' (give the site's base URL)",
                     url);
            return -EINVAL;
        }
    }
    size_t path_len = strlen(path);
    while (path_len > 0 && path[path_len - 1] == '/')
        path_len--;

    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < scheme_len; i++)
        buf_putc(&b, (char)tolower((unsigned char)url[i]));
    for (size_t i = 0; i < host_len; i++)
        buf_putc(&b, (char)tolower((unsigned char)rest[i]));
    if (port) {
        buf_putc(&b, ':');
        buf_append(&b, port, port_len);
    }
    buf_append(&b, path, path_len);
    int rc = 0;
    if (b.len >= outlen) {
        snprintf(err, errlen, "--url '%.200s' is too long (at most %zu characters)", url,
                 outlen - 1);
        rc = -EINVAL;
    } else {
        memcpy(out, b.data, b.len + 1);
    }
    buf_free(&b);
    return rc;
}

static bool currency_valid(const char *c)
{
    return c && strlen(c) == 3 && isupper((unsigned char)c[0]) && isupper((unsigned char)c[1]) &&
           isupper((unsigned char)c[2]);
}

static bool param_name_valid(const char *s)
{
    if (!s || !*s || strlen(s) > 100) return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '&' || *s == '=')
            return false;
    return true;
}

/* Checks every field of s and fills out with normalised, heap-owned copies.
 * The caller frees out's strings with site_free_fields on success. */
static void site_free_fields(struct site *s)
{
    free(s->name);
    for (size_t i = 0; i < s->url_count; i++)
        free(s->urls[i]);
    free(s->timezone);
    free(s->currency);
    for (size_t i = 0; i < s->excluded_param_count; i++)
        free(s->excluded_params[i]);
    memset(s, 0, sizeof *s);
}

static int site_validate(const struct site *in, struct site *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!in->name || !*in->name || strlen(in->name) > 200 ||
        !utf8_valid(in->name, strlen(in->name))) {
        snprintf(err, errlen, "--name: expected a non-empty name of at most 200 characters");
        return -EINVAL;
    }
    for (const char *p = in->name; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "--name: control characters are not allowed in a site name");
            return -EINVAL;
        }
    }
    if (in->url_count == 0) {
        snprintf(err, errlen, "--url: give at least one URL, e.g. --url https://example.com");
        return -EINVAL;
    }
    if (in->url_count > SITE_MAX_URLS) {
        snprintf(err, errlen, "--url: at most %d URLs per site, got %zu", SITE_MAX_URLS,
                 in->url_count);
        return -EINVAL;
    }
    const char *tz = in->timezone && *in->timezone ? in->timezone : "UTC";
    if (!timezone_valid(tz)) {
        snprintf(err, errlen,
                 "--timezone: '%.100s' is not a time zone of this machine; expected an IANA name "
                 "such as Europe/Paris or UTC (see %s)",
                 tz, ZONEINFO_DIR);
        return -EINVAL;
    }
    const char *cur = in->currency && *in->currency ? in->currency : "USD";
    if (!currency_valid(cur)) {
        snprintf(err, errlen,
                 "--currency: expected a 3-letter upper-case ISO 4217 code such as "
                 "EUR, got '%.20s'",
                 cur);
        return -EINVAL;
    }
    if (in->excluded_param_count > SITE_MAX_EXCLUDED_PARAMS) {
        snprintf(err, errlen, "at most %d excluded parameters per site", SITE_MAX_EXCLUDED_PARAMS);
        return -EINVAL;
    }
    for (size_t i = 0; i < in->excluded_param_count; i++) {
        if (!param_name_valid(in->excluded_params[i])) {
            snprintf(err, errlen, "excluded parameter '%.100s' is not a valid parameter name",
                     in->excluded_params[i] ? in->excluded_params[i] : "");
            return -EINVAL;
        }
    }
    /* No setting may keep a whole address: at least one IPv4 byte and the
     * 64-bit IPv6 interface id are always dropped. */
    if (in->ipv4_mask_bytes < 1 || in->ipv4_mask_bytes > 4) {
        snprintf(err, errlen, "--ipv4-mask-bytes: expected 1 to 4 bytes to zero, got %u",
                 in->ipv4_mask_bytes);
        return -EINVAL;
    }
    if (in->ipv6_mask_bits < 64 || in->ipv6_mask_bits > 128) {
        snprintf(err, errlen, "--ipv6-mask-bits: expected 64 to 128 bits to zero, got %u",
                 in->ipv6_mask_bits);
        return -EINVAL;
    }

    char norm[2048];
    for (size_t i = 0; i < in->url_count; i++) {
        int rc = site_url_normalise(in->urls[i] ? in->urls[i] : "", norm, sizeof norm, err, errlen);
        if (rc) {
            site_free_fields(out);
            return rc;
        }
        out->urls[out->url_count++] = config_strdup(norm);
    }
    out->id = in->id;
    out->name = config_strdup(in->name);
    out->timezone = config_strdup(tz);
    out->currency = config_strdup(cur);
    for (size_t i = 0; i < in->excluded_param_count; i++)
        out->excluded_params[out->excluded_param_count++] = config_strdup(in->excluded_params[i]);
    out->honour_dnt = in->honour_dnt;
    out->ipv4_mask_bytes = in->ipv4_mask_bytes;
    out->ipv6_mask_bits = in->ipv6_mask_bits;
    out->anonymous_view = in->anonymous_view;
    out->created_ms = in->created_ms;
    return 0;
}

/* ---- sites ---- */

void sites_free(struct sites *sites)
{
    if (!sites) return;
    for (size_t i = 0; i < sites->count; i++)
        site_free_fields(&sites->items[i]);
    free(sites->items);
    free(sites);
}

const struct site *sites_find(const struct sites *sites, uint32_t id)
{
    if (!sites) return NULL;
    for (size_t i = 0; i < sites->count; i++)
        if (sites->items[i].id == id) return &sites->items[i];
    return NULL;
}

const char *config_json_str(json_t *obj, const char *key, const char *dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* Reads one site object. Values are validated as `site add` validates them,
 * so a hand-edited file cannot smuggle in what the CLI would refuse. */
static int site_from_json(json_t *obj, size_t index, struct site *out, char *err, size_t errlen)
{
    char why[400];
    json_t *jid = json_object_get(obj, "id");
    if (!json_is_object(obj) || !json_is_integer(jid) || json_integer_value(jid) < 1 ||
        json_integer_value(jid) > UINT32_MAX) {
        snprintf(err, errlen, "sites.json: site #%zu needs a positive integer \"id\"", index + 1);
        return -EINVAL;
    }
    struct site draft = {0};
    draft.id = (uint32_t)json_integer_value(jid);
    draft.name = (char *)config_json_str(obj, "name", NULL);
    json_t *urls = json_object_get(obj, "urls");
    size_t i;
    json_t *v;
    if (json_is_array(urls)) {
        json_array_foreach(urls, i, v)
        {
            if (draft.url_count == SITE_MAX_URLS) {
                draft.url_count++; /* lets site_validate report the excess */
                break;
            }
            draft.urls[draft.url_count++] = (char *)(json_is_string(v) ? json_string_value(v) : "");
        }
    }
    draft.timezone = (char *)config_json_str(obj, "timezone", "UTC");
    draft.currency = (char *)config_json_str(obj, "currency", "USD");
    json_t *ex = json_object_get(obj, "excluded_params");
    if (json_is_array(ex)) {
        json_array_foreach(ex, i, v)
        {
            if (draft.excluded_param_count == SITE_MAX_EXCLUDED_PARAMS) {
                draft.excluded_param_count++;
                break;
            }
            draft.excluded_params[draft.excluded_param_count++] =
                (char *)(json_is_string(v) ? json_string_value(v) : "");
        }
    }
    json_t *dnt = json_object_get(obj, "honour_dnt");
    draft.honour_dnt = dnt ? json_is_true(dnt) : true;
    /* Absent in files written before access control: private. */
    draft.anonymous_view = json_is_true(json_object_get(obj, "anonymous_view"));
    json_t *m4 = json_object_get(obj, "ipv4_mask_bytes"),
           *m6 = json_object_get(obj, "ipv6_mask_bits");
    json_int_t v4 = json_is_integer(m4) ? json_integer_value(m4) : 2;
    json_int_t v6 = json_is_integer(m6) ? json_integer_value(m6) : 80;
    if (v4 < 0 || v4 > 4 || v6 < 0 || v6 > 128) {
        snprintf(err, errlen,
                 "sites.json: site %u: ipv4_mask_bytes must be 0..4 and "
                 "ipv6_mask_bits 0..128",
                 draft.id);
        return -EINVAL;
    }
    draft.ipv4_mask_bytes = (uint8_t)v4;
    draft.ipv6_mask_bits = (uint8_t)v6;
    json_t *created = json_object_get(obj, "created_ms");
    draft.created_ms = json_is_integer(created) ? json_integer_value(created) : 0;
    int rc = site_validate(&draft, out, why, sizeof why);
    if (rc) snprintf(err, errlen, "sites.json: site %u: %s", draft.id, why);
    return rc;
}

static int sites_from_json(json_t *root, struct sites **out, char *err, size_t errlen)
{
    struct sites *sites = calloc(1, sizeof *sites);
    if (!sites) abort();
    json_t *arr = root ? json_object_get(root, "sites") : NULL;
    if (root && !json_is_array(arr)) {
        snprintf(err, errlen, "sites.json: expected {\"sites\": [...]}");
        free(sites);
        return -EINVAL;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    if (n) {
        sites->items = calloc(n, sizeof *sites->items);
        if (!sites->items) abort();
    }
    for (size_t i = 0; i < n; i++) {
        int rc = site_from_json(json_array_get(arr, i), i, &sites->items[i], err, errlen);
        if (!rc && sites_find(sites, sites->items[i].id)) {
            snprintf(err, errlen, "sites.json: site id %u appears twice", sites->items[i].id);
            site_free_fields(&sites->items[i]);
            rc = -EINVAL;
        }
        if (rc) {
            sites_free(sites);
            return rc;
        }
        sites->count++;
    }
    *out = sites;
    return 0;
}

int sites_load(const char *data_dir, struct sites **out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "sites.json");
    json_t *root;
    int rc = config_json_read(path, &root, err, errlen);
    if (rc) return rc;
    rc = sites_from_json(root, out, err, errlen);
    json_decref(root);
    return rc;
}

static json_t *site_to_json(const struct site *s)
{
    json_t *urls = json_array();
    for (size_t i = 0; i < s->url_count; i++)
        json_array_append_new(urls, json_string(s->urls[i]));
    json_t *ex = json_array();
    for (size_t i = 0; i < s->excluded_param_count; i++)
        json_array_append_new(ex, json_string(s->excluded_params[i]));
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:b, s:i, s:i, s:b, s:I}", "id",
                     (json_int_t)s->id, "name", s->name, "urls", urls, "timezone", s->timezone,
                     "currency", s->currency, "excluded_params", ex, "honour_dnt", s->honour_dnt,
                     "ipv4_mask_bytes", (int)s->ipv4_mask_bytes, "ipv6_mask_bits",
                     (int)s->ipv6_mask_bits, "anonymous_view", s->anonymous_view, "created_ms",
                     (json_int_t)s->created_ms);
}

/* Writes sites, with extra appended when not NULL; config lock held. */
static int sites_write(const char *data_dir, const struct sites *sites, const struct site *extra,
                       char *err, size_t errlen)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < sites->count; i++)
        json_array_append_new(arr, site_to_json(&sites->items[i]));
    if (extra) json_array_append_new(arr, site_to_json(extra));
    json_t *root = json_pack("{s:o}", "sites", arr);
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "sites.json");
    int rc = config_json_write(path, root, 0644, err, errlen);
    json_decref(root);
    return rc;
}

int sites_add(const char *data_dir, const struct site *draft, uint32_t *id_out, char *err,
              size_t errlen)
{
    struct site valid;
    int rc = site_validate(draft, &valid, err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) {
        site_free_fields(&valid);
        return lock;
    }
    struct sites *sites = NULL;
    rc = sites_load(data_dir, &sites, err, errlen);
    if (!rc) {
        uint32_t max_id = 0;
        for (size_t i = 0; i < sites->count; i++)
            if (sites->items[i].id > max_id) max_id = sites->items[i].id;
        if (max_id == UINT32_MAX) {
            snprintf(err, errlen, "no site id left");
            rc = -EOVERFLOW;
        } else {
            valid.id = max_id + 1;
            valid.created_ms = now_ms();
            rc = sites_write(data_dir, sites, &valid, err, errlen);
            if (!rc) *id_out = valid.id;
        }
    }
    sites_free(sites);
    site_free_fields(&valid);
    close(lock);
    return rc;
}

int sites_update(const char *data_dir, const struct site *draft, char *err, size_t errlen)
{
    struct site valid;
    int rc = site_validate(draft, &valid, err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) {
        site_free_fields(&valid);
        return lock;
    }
    struct sites *sites = NULL;
    rc = sites_load(data_dir, &sites, err, errlen);
    struct site *site = NULL;
    for (size_t i = 0; !rc && i < sites->count; i++)
        if (sites->items[i].id == draft->id) site = &sites->items[i];
    if (!rc && !site) {
        snprintf(err, errlen, "no site with id %u; `tally site list` shows the sites", draft->id);
        rc = -ENOENT;
    }
    if (!rc) {
        valid.created_ms = site->created_ms;
        site_free_fields(site);
        *site = valid;
        valid = (struct site){0};
        rc = sites_write(data_dir, sites, NULL, err, errlen);
    }
    sites_free(sites);
    site_free_fields(&valid);
    close(lock);
    return rc;
}

/* ---- ids per site ---- */

uint32_t last_ids_get(const struct last_ids *l, uint32_t site_id)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].site_id == site_id) return l->items[i].last_id;
    return 0;
}

void last_ids_raise(struct last_ids *l, uint32_t site_id, uint32_t id)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->items[i].site_id == site_id) {
            if (l->items[i].last_id < id) l->items[i].last_id = id;
            return;
        }
    }
    struct last_id *grown = realloc(l->items, (l->count + 1) * sizeof *grown);
    if (!grown) abort();
    l->items = grown;
    l->items[l->count++] = (struct last_id){site_id, id};
}

void last_ids_free(struct last_ids *l)
{
    free(l->items);
    *l = (struct last_ids){0};
}

int config_id_from_json(json_t *v, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UINT32_MAX)
        return -EINVAL;
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

int last_ids_from_json(struct last_ids *l, json_t *obj, const char *file, const char *what,
                       char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int64_t site_id;
        uint32_t id;
        if (parse_i64(key, 1, UINT32_MAX, &site_id) || config_id_from_json(v, &id)) {
            snprintf(err, errlen,
                     "%s: \"last_ids\" maps a site id to its highest %s id ever given, got "
                     "\"%.20s\"",
                     file, what, key);
            return -EINVAL;
        }
        last_ids_raise(l, (uint32_t)site_id, id);
    }
    return 0;
}

json_t *last_ids_to_json(const struct last_ids *l)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < l->count; i++) {
        char key[16];
        snprintf(key, sizeof key, "%u", l->items[i].site_id);
        json_object_set_new(obj, key, json_integer(l->items[i].last_id));
    }
    return obj;
}
