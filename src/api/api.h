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
    const char *assets_dir;  /* npm data for enrichment; NULL: TALLY_ASSETS_DIR */
    const char *geoip_path;  /* NULL: the default database among the assets */
    bool secure_cookies;     /* the session cookie says Secure (behind TLS) */
};

struct api;
int api_create(const struct api_options *opts, struct api **out, char *err, size_t errlen);
void api_destroy(struct api *api);
/* How many stored hits api_create fed back to the session (for the startup log). */
uint64_t api_restored_hits(const struct api *api);
/* GET, HEAD, POST and OPTIONS: what every endpoint accepts (else 405). */
bool api_method_allowed(const char *method);
/* /matomo.php, /piwik.php and /tally: the hits, answered at once. */
bool api_is_tracking_path(const char *path);

struct api_request {
    const char *method;               /* "GET", "POST", "OPTIONS", ... */
    const char *path;                 /* without the query string */
    const struct track_params *query; /* decoded query-string arguments */
    const char *body;                 /* may be NULL when empty */
    size_t body_len;
    const char *content_type;         /* "" when absent */
    const char *origin;               /* Origin header, "" when absent */
    const char *if_none_match;        /* If-None-Match header, "" when absent */
    const char *accept_encoding;      /* Accept-Encoding header, "" when absent */
    const char *host;                 /* Host header, "" when absent */
    const char *cookie;               /* Cookie header, "" when absent */
    const char *tally_requested;      /* X-Tally-Requested header, "" when absent */
    struct track_context ctx;         /* peer, headers, arrival time */
};

struct api_response {
    int status;
    const char *content_type;         /* static string */
    struct buf body;
    char allow_origin[256];           /* echoed Origin for CORS, "" for none */
    /* Headers of browser-facing answers (the web stage); NULL: the API's
     * defaults (no-store; a policy that allows nothing to run). */
    const char *cache_control;
    const char *content_security_policy;
    const char *etag;                 /* quoted, or NULL */
    const char *content_encoding;     /* "gzip" or NULL; set means Vary: Accept-Encoding */
    char set_cookie[160];             /* a Set-Cookie header's value, "" for none */
    bool sync_needed;                 /* --fsync always: api_sync before answering */
};

/* Fills resp (whose body buf the caller initialised). Never fails: every
 * problem becomes a status and a reason in the body. With --fsync always,
 * stored hits set sync_needed: the caller must get 0 from api_sync before
 * sending resp (else answer 503), and may wait for other requests first so
 * that one fdatasync covers them all (group commit). */
void api_handle(struct api *api, const struct api_request *req, struct api_response *resp);

/* One hit for api_track: its parameters in, what became of it out. */
enum api_hit_result { API_HIT_STORED, API_HIT_DROPPED, API_HIT_INVALID };
struct api_hit {
    const struct track_params *params;
    enum api_hit_result result; /* DROPPED: DNT/GPC, or a heartbeat outside a visit */
    bool send_image;            /* false when send_image=0 */
};

/* Runs hits through the pipeline (track, enrich, session) and appends the
 * kept ones with one store_append: one write and one fsync for the batch.
 * The entry point of `tally demo` and the benchmark; tracking requests take
 * the same path. Returns 0 with each hit's result set (err holds the reason
 * of the last invalid one), or a negative errno when the store failed: then
 * no hit of the batch is acknowledged. */
int api_track(struct api *api, struct api_hit *hits, size_t count,
              const struct track_context *ctx, char *err, size_t errlen);

/* Makes every hit appended so far durable (fdatasync under --fsync always
 * and interval). Returns 0 or a negative errno. */
int api_sync(struct api *api);

/* Once a second: fsync per policy, seal closed days, notice changed sites,
 * users, tokens and goals on disk. */
void api_maintain(struct api *api, int64_t now_ms);

#endif
