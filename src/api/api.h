/* api: what the server answers, independent of the HTTP library. Tracking
 * endpoints (/matomo.php, /piwik.php, /tally) run the pipeline
 * track -> enrich -> session -> store under one lock; later issues add the
 * Reporting API here. */
#ifndef TALLY_API_H
#define TALLY_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/base.h"
#include "../store/store.h"
#include "../track/track.h"

struct api_options {
    const char *data_dir;
    enum store_fsync fsync;
    int64_t seal_grace_ms;
};

struct api;
int api_create(const struct api_options *opts, struct api **out, char *err, size_t errlen);
void api_destroy(struct api *api);
/* How many stored hits api_create fed back to the session (for the startup log). */
uint64_t api_restored_hits(const struct api *api);
/* GET, HEAD, POST and OPTIONS: what every endpoint accepts (else 405). */
bool api_method_allowed(const char *method);

struct api_request {
    const char *method;               /* "GET", "POST", "OPTIONS", ... */
    const char *path;                 /* without the query string */
    const struct track_params *query; /* decoded query-string arguments */
    const char *body;                 /* may be NULL when empty */
    size_t body_len;
    const char *content_type;         /* "" when absent */
    const char *origin;               /* Origin header, "" when absent */
    struct track_context ctx;         /* peer, headers, arrival time */
};

struct api_response {
    int status;
    const char *content_type;         /* static string */
    struct buf body;
    char allow_origin[256];           /* echoed Origin for CORS, "" for none */
};

/* Fills resp (whose body buf the caller initialised). Never fails: every
 * problem becomes a status and a reason in the body. */
void api_handle(struct api *api, const struct api_request *req, struct api_response *resp);

/* Runs one hit through the pipeline: the entry point of `tally demo` and of
 * each tracking request. Returns 0 when stored or deliberately dropped
 * (dropped set), TRACK_INVALID with a reason, or a negative errno when the
 * store failed. */
int api_track(struct api *api, const struct track_params *params,
              const struct track_context *ctx, bool *dropped, char *err, size_t errlen);

/* Once a second: fsync per policy, seal closed days, notice new sites and
 * tokens on disk. */
void api_maintain(struct api *api, int64_t now_ms);

#endif
