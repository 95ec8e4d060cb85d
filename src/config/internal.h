/* config internals shared by config.c (sites, the files) and access.c
 * (users, tokens, access); nothing outside src/config includes this. */
#ifndef TALLY_CONFIG_INTERNAL_H
#define TALLY_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

/* strdup that aborts on allocation failure. */
char *config_strdup(const char *s);
/* DATA/name into out. */
void config_path(char *out, size_t outlen, const char *data_dir, const char *name);
/* Takes DATA/config.lock exclusively, so concurrent commands that rewrite a
 * file never lose each other's change; returns the fd to close, or -errno. */
int config_lock(const char *data_dir, char *err, size_t errlen);
/* Loads a JSON object. A missing file yields *out = NULL and 0. */
int config_json_read(const char *path, json_t **out, char *err, size_t errlen);
/* Writes root with file_write_atomic and a trailing newline. */
int config_json_write(const char *path, json_t *root, int mode, char *err, size_t errlen);
/* obj[key] when it is a string, else dflt. */
const char *config_json_str(json_t *obj, const char *key, const char *dflt);

/* The highest id ever given per site: goals.json and funnels.json keep
 * them as "last_ids": {"SITE": ID}, so a deleted definition's id is
 * never given again. */
struct last_ids {
    struct last_id {
        uint32_t site_id, last_id;
    } *items;
    size_t count;
};
uint32_t last_ids_get(const struct last_ids *l, uint32_t site_id); /* 0: none given */
void last_ids_raise(struct last_ids *l, uint32_t site_id, uint32_t id);
void last_ids_free(struct last_ids *l);
/* Reads a "last_ids" object; file and what name them in the message
 * ("goals.json", "goal"). */
int last_ids_from_json(struct last_ids *l, json_t *obj, const char *file, const char *what,
                       char *err, size_t errlen);
json_t *last_ids_to_json(const struct last_ids *l);
/* A positive 32-bit id from JSON; -EINVAL otherwise. */
int config_id_from_json(json_t *v, uint32_t *out);

/* A line of text: valid UTF-8, no control characters, at most max
 * characters; what names the field in the message. */
int config_text_check(const char *what, const char *s, size_t max, char *err, size_t errlen);

#endif
