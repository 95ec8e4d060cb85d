/* Bulk tracking bodies: {"requests":[...], "token_auth":"..."}. The JSON is
 * parsed once; each item becomes params only when asked for, so a bad item
 * invalidates itself and nothing else. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "track.h"

/* Matomo's log importer sends 200 per request by default; this is far
 * above any tracker and bounds the work one request can ask for. */
#define TRACK_BULK_MAX_ITEMS 10000

struct track_bulk {
    json_t *root;
    json_t *requests;  /* borrowed from root */
    const char *token; /* borrowed from root, "" when absent */
};

bool track_body_is_json(const char *body, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        return c == '{';
    }
    return false;
}

int track_bulk_open(const char *body, size_t len, struct track_bulk **out, char *err, size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        track_tame(jerr.text);
        snprintf(err, errlen, "the bulk request is not valid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        return -EINVAL;
    }
    json_t *requests = json_object_get(root, "requests");
    json_t *token = json_object_get(root, "token_auth");
    const char *why = NULL;
    int rc = -EINVAL;
    if (!json_is_object(root))
        why = "the bulk request must be a JSON object {\"requests\":[...]}";
    else if (!json_is_array(requests))
        why = "the bulk request needs \"requests\": an array of query strings or objects";
    else if (token && !json_is_string(token) && !json_is_null(token))
        why = "\"token_auth\" in a bulk request must be a string";
    else if (json_array_size(requests) > TRACK_BULK_MAX_ITEMS) {
        why = "a bulk request holds at most 10000 requests; split it";
        rc = -E2BIG;
    }
    if (why) {
        snprintf(err, errlen, "%s", why);
        json_decref(root);
        return rc;
    }
    struct track_bulk *bulk = malloc(sizeof *bulk);
    if (!bulk) {
        json_decref(root);
        snprintf(err, errlen, "out of memory reading the bulk request");
        return -ENOMEM;
    }
    bulk->root = root;
    bulk->requests = requests;
    bulk->token = json_is_string(token) ? json_string_value(token) : "";
    *out = bulk;
    return 0;
}

void track_bulk_free(struct track_bulk *bulk)
{
    if (!bulk) return;
    json_decref(bulk->root);
    free(bulk);
}

size_t track_bulk_count(const struct track_bulk *bulk)
{
    return json_array_size(bulk->requests);
}

const char *track_bulk_token(const struct track_bulk *bulk)
{
    return bulk->token;
}

/* The shortest text that reads back as the same double: 1.5 stays "1.5",
 * a cdt of 1700000000.123 is not stretched to 17 digits. */
static void format_real(double v, char out[40])
{
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(out, 40, "%.*g", precision, v);
        if (strtod(out, NULL) == v) return;
    }
}

int track_bulk_item(const struct track_bulk *bulk, size_t i, struct track_params *p, char *err,
                    size_t errlen)
{
    json_t *item = json_array_get(bulk->requests, i);
    if (json_is_string(item))
        return track_params_parse_query(p, json_string_value(item), json_string_length(item), err,
                                        errlen);
    if (!json_is_object(item)) {
        snprintf(err, errlen, "request %zu is neither a query string nor an object of parameters",
                 i);
        return -EINVAL;
    }
    const char *key;
    json_t *value;
    json_object_foreach(item, key, value)
    {
        char text[40];
        const char *v;
        switch (json_typeof(value)) {
        case JSON_STRING:
            v = json_string_value(value);
            break;
        case JSON_INTEGER:
            snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
            v = text;
            break;
        case JSON_REAL:
            format_real(json_real_value(value), text);
            v = text;
            break;
        case JSON_TRUE:
            v = "1";
            break;
        case JSON_FALSE:
            v = "0";
            break;
        case JSON_NULL:
            continue; /* as if it was not sent */
        default: {
            char safe[72];
            track_safe_text(safe, sizeof safe, key, strlen(key));
            snprintf(err, errlen,
                     "request %zu: parameter '%s' is an array or an object; values must be "
                     "strings, numbers, booleans or null",
                     i, safe);
            return -EINVAL;
        }
        }
        if (!*key) continue;
        if (track_params_add(p, key, v)) return track_err_nomem(err, errlen);
    }
    return 0;
}
