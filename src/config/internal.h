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

/* A line of text: valid UTF-8, no control characters, at most max
 * characters; what names the field in the message. */
int config_text_check(const char *what, const char *s, size_t max, char *err, size_t errlen);

#endif
