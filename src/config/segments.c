/* config: saved segments, DATA/segments.json (SegmentEditor in the API).
 *
 * segments.json {"last_id":3,"segments":[{"id":1,"name":"Mobile","definition":
 *                "deviceType==smartphone","site_id":1,"login":"alice",
 *                "shared":false,"created_ms":...}]}
 *
 * A saved segment is a name for a segment string; the string itself is
 * checked by the segment parser (src/query) before it is saved, by the
 * caller, since reports parse it anyway. Rewritten whole, atomically,
 * under DATA/config.lock, as every config file. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/base.h"
#include "internal.h"

struct saved_segments {
    struct saved_segment *items;
    size_t count;
};

static void saved_segment_free_fields(struct saved_segment *s)
{
    free(s->name);
    free(s->definition);
    free(s->login);
    memset(s, 0, sizeof *s);
}

void saved_segments_free(struct saved_segments *segments)
{
    if (!segments) return;
    for (size_t i = 0; i < segments->count; i++)
        saved_segment_free_fields(&segments->items[i]);
    free(segments->items);
    free(segments);
}

size_t saved_segments_count(const struct saved_segments *segments)
{
    return segments ? segments->count : 0;
}

const struct saved_segment *saved_segments_get(const struct saved_segments *segments, size_t i)
{
    return segments && i < segments->count ? &segments->items[i] : NULL;
}

const struct saved_segment *saved_segments_find(const struct saved_segments *segments,
                                                uint32_t id)
{
    for (size_t i = 0; segments && i < segments->count; i++)
        if (segments->items[i].id == id) return &segments->items[i];
    return NULL;
}

int saved_segment_validate(const struct saved_segment *draft, char *err, size_t errlen)
{
    if (!draft->name || !*draft->name) {
        snprintf(err, errlen, "name: give the segment a name");
        return -EINVAL;
    }
    int rc = config_text_check("name", draft->name, SAVED_SEGMENT_NAME_MAX, err, errlen);
    if (rc) return rc;
    if (!draft->definition || !*draft->definition) {
        snprintf(err, errlen, "definition: give the segment string, e.g. deviceType==smartphone");
        return -EINVAL;
    }
    if (strlen(draft->definition) > SAVED_SEGMENT_DEFINITION_MAX) {
        snprintf(err, errlen, "definition: at most %d bytes", SAVED_SEGMENT_DEFINITION_MAX);
        return -EINVAL;
    }
    return config_text_check("definition", draft->definition, SAVED_SEGMENT_DEFINITION_MAX, err,
                             errlen);
}

/* One entry, refused when `SegmentEditor.add` would not have written it. */
static int saved_segment_from_json(json_t *obj, size_t index, struct saved_segment *out,
                                   char *err, size_t errlen)
{
    char why[300];
    json_t *site = json_object_get(obj, "site_id"), *created = json_object_get(obj, "created_ms");
    struct saved_segment draft = {
        .name = (char *)config_json_str(obj, "name", NULL),
        .definition = (char *)config_json_str(obj, "definition", NULL),
        .login = (char *)config_json_str(obj, "login", NULL),
        .shared = json_is_true(json_object_get(obj, "shared")),
        .created_ms = json_is_integer(created) ? json_integer_value(created) : 0,
    };
    if (!json_is_object(obj) || config_id_from_json(json_object_get(obj, "id"), &draft.id) ||
        !json_is_integer(site) || json_integer_value(site) < 0 ||
        json_integer_value(site) > UINT32_MAX || !draft.login || !*draft.login) {
        snprintf(err, errlen,
                 "segments.json: segment #%zu needs a positive \"id\", a \"site_id\" (0: every "
                 "site) and a \"login\"",
                 index + 1);
        return -EINVAL;
    }
    draft.site_id = (uint32_t)json_integer_value(site);
    if (saved_segment_validate(&draft, why, sizeof why)) {
        snprintf(err, errlen, "segments.json: segment %u: %s", draft.id, why);
        return -EINVAL;
    }
    *out = draft;
    out->name = config_strdup(draft.name);
    out->definition = config_strdup(draft.definition);
    out->login = config_strdup(draft.login);
    return 0;
}

/* The file's JSON (an empty one when missing), and its path. */
static int segments_json_read(const char *data_dir, char path[PATH_MAX], json_t **root,
                              char *err, size_t errlen)
{
    config_path(path, PATH_MAX, data_dir, "segments.json");
    int rc = config_json_read(path, root, err, errlen);
    if (!rc && !*root) *root = json_pack("{s:i, s:[]}", "last_id", 0, "segments");
    if (!rc && !json_is_array(json_object_get(*root, "segments"))) {
        snprintf(err, errlen, "segments.json: expected {\"segments\": [...]}");
        json_decref(*root);
        *root = NULL;
        rc = -EINVAL;
    }
    return rc;
}

int saved_segments_load(const char *data_dir, struct saved_segments **out, char *err,
                        size_t errlen)
{
    char path[PATH_MAX];
    json_t *root;
    int rc = segments_json_read(data_dir, path, &root, err, errlen);
    if (rc) return rc;
    json_t *arr = json_object_get(root, "segments");
    struct saved_segments *segments = calloc(1, sizeof *segments);
    if (!segments) abort();
    size_t n = json_array_size(arr);
    if (n && !(segments->items = calloc(n, sizeof *segments->items))) abort();
    for (size_t i = 0; !rc && i < n; i++) {
        rc = saved_segment_from_json(json_array_get(arr, i), i, &segments->items[i], err, errlen);
        if (!rc) segments->count++;
    }
    json_decref(root);
    if (rc) {
        saved_segments_free(segments);
        return rc;
    }
    *out = segments;
    return 0;
}

static json_t *saved_segment_to_json(const struct saved_segment *s)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:b, s:I}", "id", (json_int_t)s->id, "name",
                     s->name, "definition", s->definition, "site_id", (json_int_t)s->site_id,
                     "login", s->login, "shared", s->shared, "created_ms",
                     (json_int_t)s->created_ms);
}

/* The array index of segment id, or -1. */
static ssize_t segment_index(json_t *arr, uint32_t id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        json_t *jid = json_object_get(v, "id");
        if (json_is_integer(jid) && json_integer_value(jid) == id) return (ssize_t)i;
    }
    return -1;
}

enum segment_edit { SEGMENT_ADD, SEGMENT_UPDATE, SEGMENT_DELETE };

/* Adds, replaces or removes one segment under the config lock. */
static int segment_edit(const char *data_dir, enum segment_edit edit,
                        const struct saved_segment *draft, uint32_t *id_out, char *err,
                        size_t errlen)
{
    int rc = edit == SEGMENT_DELETE ? 0 : saved_segment_validate(draft, err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    char path[PATH_MAX];
    json_t *root;
    rc = segments_json_read(data_dir, path, &root, err, errlen);
    json_t *arr = rc ? NULL : json_object_get(root, "segments");
    ssize_t at = arr && edit != SEGMENT_ADD ? segment_index(arr, draft->id) : -1;
    json_t *last = root ? json_object_get(root, "last_id") : NULL;
    json_int_t last_id = json_is_integer(last) ? json_integer_value(last) : 0;
    if (!rc && edit != SEGMENT_ADD && at < 0) {
        snprintf(err, errlen, "idSegment: no saved segment with id %u", draft->id);
        rc = -ENOENT;
    } else if (!rc && edit == SEGMENT_ADD && json_array_size(arr) >= SAVED_SEGMENTS_MAX) {
        snprintf(err, errlen, "at most %d saved segments; delete some first", SAVED_SEGMENTS_MAX);
        rc = -ENOSPC;
    } else if (!rc && edit == SEGMENT_ADD) {
        /* Ids are never given twice, not even after a delete. */
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *jid = json_object_get(json_array_get(arr, i), "id");
            if (json_is_integer(jid) && json_integer_value(jid) > last_id)
                last_id = json_integer_value(jid);
        }
        struct saved_segment s = *draft;
        s.id = (uint32_t)(last_id + 1);
        s.created_ms = now_ms();
        json_array_append_new(arr, saved_segment_to_json(&s));
        json_object_set_new(root, "last_id", json_integer(s.id));
        if (id_out) *id_out = s.id;
    } else if (!rc && edit == SEGMENT_UPDATE) {
        json_t *old = json_array_get(arr, (size_t)at);
        struct saved_segment s = *draft;
        json_t *created = json_object_get(old, "created_ms");
        s.created_ms = json_is_integer(created) ? json_integer_value(created) : 0;
        s.login = (char *)config_json_str(old, "login", draft->login);
        json_array_set_new(arr, (size_t)at, saved_segment_to_json(&s));
    } else if (!rc) {
        json_array_remove(arr, (size_t)at);
    }
    if (!rc) rc = config_json_write(path, root, 0644, err, errlen);
    json_decref(root);
    close(lock);
    return rc;
}

int saved_segments_add(const char *data_dir, const struct saved_segment *draft, uint32_t *id_out,
                       char *err, size_t errlen)
{
    return segment_edit(data_dir, SEGMENT_ADD, draft, id_out, err, errlen);
}

int saved_segments_update(const char *data_dir, const struct saved_segment *draft, char *err,
                          size_t errlen)
{
    return segment_edit(data_dir, SEGMENT_UPDATE, draft, NULL, err, errlen);
}

int saved_segments_delete(const char *data_dir, uint32_t id, char *err, size_t errlen)
{
    struct saved_segment key = {.id = id};
    return segment_edit(data_dir, SEGMENT_DELETE, &key, NULL, err, errlen);
}
