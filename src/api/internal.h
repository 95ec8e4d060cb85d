/* api internals shared by api.c (tracking, config), reporting.c, sites_api.c,
 * goals_api.c and funnels_api.c. */
#ifndef TALLY_API_INTERNAL_H
#define TALLY_API_INTERNAL_H

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "../config/config.h"
#include "../query/query.h"
#include "../session/session.h"
#include "api.h"

/* Everything one request parses lives here; a bulk body of HTTP_MAX_BODY
 * (8 MiB) decodes into less than twice its size, so 48 MiB is generous and
 * still bounded. */
#define API_ARENA_LIMIT (48u << 20)

/* What identifies a version of a config file: a rewrite (rename) changes
 * the inode, an edit in place the mtime or size. */
struct file_stamp {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct api {
    pthread_mutex_t lock;
    char *data_dir;
    struct store *store;
    struct sites *sites;
    struct users *users;
    struct tokens *tokens;
    struct goals *goals;
    struct funnels *funnels;
    struct session *session;
    struct enrich *enrich;
    struct file_stamp sites_stamp, users_stamp, tokens_stamp, goals_stamp,
        funnels_stamp;
    enum store_fsync fsync;
    struct arena arena; /* reset at the start of each request */
    struct hit *batch;  /* the hits of one request on their way to the store */
    size_t batch_cap;
    bool appended;      /* the current request appended hits to the log */
    uint64_t restored;
    /* Reports read the index under index_lock (shared), so they run
     * beside each other; the pipeline appends to it exclusively. */
    pthread_rwlock_t index_lock;
    struct index *index;
    struct names *names;
    struct login_state *login; /* dashboard sessions (login.c), under lock */
};

/* Answers module=API requests other than the tracking ones. Called
 * without any lock held. */
void reporting_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp);
void answer_api_error(struct api_response *resp, int status, const char *message);

/* ---- what the methods managing definitions (goals, funnels) share ---- */
void api_answer_json(struct api_response *resp, const struct buf *b);
/* {"result":"success","message":"ok"} */
void api_answer_ok(struct api_response *resp);
/* A time as Matomo's API writes dates of record: "YYYY-MM-DD HH:MM:SS", UTC. */
void api_datetime(int64_t ms, char out[20]);
/* A positive id parameter (or, with zero_ok, absent, empty or 0 for none);
 * answers 400 and returns false when it is not. */
bool api_id_param(const struct track_params *p, const char *name, bool zero_ok, uint32_t *out,
                  struct api_response *resp);
/* Whether token_auth has at least min on the site; answers 401 if not,
 * naming what writing manages ("goals"). Nothing in the refusal says
 * whether the site exists. */
bool api_allowed(struct api *api, const struct track_params *p, uint32_t site_id,
                 enum access min, const char *managed, struct api_response *resp);
/* A refusal from a config file's add/update/delete: 400 for the client's
 * mistake, 500 for ours. */
void api_answer_config_error(struct api_response *resp, int rc, const char *err);
/* SitesManager.* methods; takes the api lock. */
void sites_api_handle(struct api *api, const struct api_request *req,
                      const struct track_params *params, const char *method,
                      struct api_response *resp);
/* The sites token may see at level min or above, as the JSON array
 * SitesManager answers; api lock held. */
void sites_json_array(struct api *api, const char *token, enum access min, struct buf *b);
/* True for the Goals methods that manage definitions (addGoal, updateGoal,
 * deleteGoal, getGoals, getGoal); Goals reports go to reporting_handle. */
bool goals_api_serves(const char *method);
/* Those methods; takes the api lock. */
void goals_api_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp);
/* True for Tally's Funnels methods that manage definitions (addFunnel,
 * updateFunnel, deleteFunnel, getFunnels, getFunnel). */
bool funnels_api_serves(const char *method);
/* Those methods; takes the api lock. */
void funnels_api_handle(struct api *api, const struct track_params *params, const char *method,
                        struct api_response *resp);
/* ---- dashboard sessions (login.c) ---- */
struct login_state;
int login_create(bool secure_cookies, struct login_state **out);
void login_destroy(struct login_state *state);
/* The value of the tally_session cookie in a Cookie header: 0 with 64
 * lower-case hex characters in out, or -ENOENT when there is none. */
int login_cookie_session(const char *header, char out[65]);
/* /login, /logout and /session. */
bool login_serves(const char *path);
/* Answers them; takes the api lock (not while checking a password). */
void login_handle(struct api *api, const struct api_request *req, struct api_response *resp);
/* For a Reporting API request with a session cookie: with the header
 * X-Tally-Requested: 1 and a live session, adds the session's token_auth
 * to params; without the header (and without a token_auth of its own)
 * answers 401 and returns -EACCES. Takes the api lock. */
int login_authenticate(struct api *api, const struct api_request *req,
                       struct track_params *params, struct api_response *resp);
/* Ends idle and invalidated sessions, forgets old failed attempts. Lock held. */
void login_sweep(struct api *api, int64_t now);
/* UsersManager methods served by users_api.c; they take the lock themselves
 * (never while hashing a password). */
bool users_api_serves(const char *method);
void users_api_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp);
/* SegmentEditor methods (segments_api.c); takes the api lock. */
bool segments_api_serves(const char *method);
void segments_api_handle(struct api *api, const struct track_params *params, const char *method,
                         struct api_response *resp);
/* Reloads config files that changed on disk. Lock held. */
void api_reload_config(struct api *api);

#endif
