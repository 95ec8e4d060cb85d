/* api: routing and answers, independent of the HTTP library.
 *
 * One mutex guards the whole pipeline (sites, users, tokens, session, store and
 * the request arena): the HTTP thread calls api_handle, the main thread
 * api_maintain once a second, `tally demo` api_track. */
#include "api.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../enrich/enrich.h"
#include "internal.h"

static const unsigned char gif_1x1[43] = {
    'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

/* ---- config files ---- */

static void file_stamp_read(const char *data_dir, const char *name, struct file_stamp *out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    struct stat st;
    *out = (struct file_stamp){0};
    if (stat(path, &st)) return;
    *out = (struct file_stamp){.exists = true,
                               .dev = st.st_dev,
                               .ino = st.st_ino,
                               .size = st.st_size,
                               .mtime = st.st_mtim};
}

static bool file_stamp_same(const struct file_stamp *a, const struct file_stamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Called with the lock held. A file that fails to load keeps the previous
 * snapshot serving: a typo in sites.json must not stop tracking. */
void api_reload_config(struct api *api)
{
    char err[512];
    bool goals_changed = false;
    struct file_stamp st;
    file_stamp_read(api->data_dir, "sites.json", &st);
    if (!file_stamp_same(&st, &api->sites_stamp)) {
        api->sites_stamp = st;
        struct sites *sites;
        if (sites_load(api->data_dir, &sites, err, sizeof err)) {
            log_error("keeping the previous sites: %s", err);
        } else {
            sites_free(api->sites);
            api->sites = sites;
            log_info("reloaded sites.json: %zu site(s)", sites->count);
            goals_changed = true;
        }
    }
    file_stamp_read(api->data_dir, "users.json", &st);
    if (!file_stamp_same(&st, &api->users_stamp)) {
        api->users_stamp = st;
        struct users *users;
        if (users_load(api->data_dir, &users, err, sizeof err)) {
            log_error("keeping the previous users: %s", err);
        } else {
            users_free(api->users);
            api->users = users;
            log_info("reloaded users.json: %zu user(s)", users->count);
        }
    }
    file_stamp_read(api->data_dir, "tokens.json", &st);
    if (!file_stamp_same(&st, &api->tokens_stamp)) {
        api->tokens_stamp = st;
        struct tokens *tokens;
        if (tokens_load(api->data_dir, &tokens, err, sizeof err)) {
            log_error("keeping the previous tokens: %s", err);
        } else {
            /* Dashboard sessions' tokens and last uses live only in memory. */
            tokens_carry_over(api->tokens, tokens);
            tokens_free(api->tokens);
            api->tokens = tokens;
            log_info("reloaded tokens.json");
        }
    }
    file_stamp_read(api->data_dir, "goals.json", &st);
    if (!file_stamp_same(&st, &api->goals_stamp)) {
        api->goals_stamp = st;
        struct goals *goals;
        if (goals_load(api->data_dir, &goals, err, sizeof err)) {
            log_error("keeping the previous goals: %s", err);
        } else {
            goals_free(api->goals);
            api->goals = goals;
            log_info("reloaded goals.json");
            goals_changed = true;
        }
    }
    file_stamp_read(api->data_dir, "funnels.json", &st);
    if (!file_stamp_same(&st, &api->funnels_stamp)) {
        api->funnels_stamp = st;
        struct funnels *funnels;
        if (funnels_load(api->data_dir, &funnels, err, sizeof err)) {
            log_error("keeping the previous funnels: %s", err);
        } else {
            funnels_free(api->funnels);
            api->funnels = funnels;
            log_info("reloaded funnels.json");
        }
    }
    if (!goals_changed) return;
    /* Conversions follow the goals as defined now: a changed goal is
     * evaluated over every stored visit of its site (a site added since
     * gets its goals too). Unchanged sites cost a comparison. */
    pthread_rwlock_wrlock(&api->index_lock);
    int64_t started = now_ms();
    if (index_set_goals(api->index, api->sites, api->goals))
        log_error("conversions could not follow the new goals: out of memory");
    if (now_ms() - started > 100)
        log_info("conversions evaluated again under the new goals in %" PRId64 " ms",
                 now_ms() - started);
    pthread_rwlock_unlock(&api->index_lock);
}

/* ---- create / destroy ---- */

static int api_restore_hit(const struct hit *hit, void *arg)
{
    struct api *api = arg;
    session_restore(api->session, hit);
    api->restored++;
    return index_add(api->index, hit);
}

int api_create(const struct api_options *opts, struct api **out, char *err, size_t errlen)
{
    struct api *api = calloc(1, sizeof *api);
    if (!api) return -ENOMEM;
    pthread_mutex_init(&api->lock, NULL);
    /* Writers first: a stream of reports must not starve tracking. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&api->index_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    api->data_dir = strdup(opts->data_dir);
    if (!api->data_dir) abort();
    arena_init(&api->arena, API_ARENA_LIMIT);
    api->fsync = opts->fsync;

    struct store_options so = {.data_dir = opts->data_dir,
                               .fsync = opts->fsync,
                               .read_only = false,
                               .seal_grace_ms = opts->seal_grace_ms};
    /* Stamps first: a file changed between stamp and load is reloaded by
     * the next api_maintain rather than missed. */
    file_stamp_read(opts->data_dir, "sites.json", &api->sites_stamp);
    file_stamp_read(opts->data_dir, "users.json", &api->users_stamp);
    file_stamp_read(opts->data_dir, "tokens.json", &api->tokens_stamp);
    file_stamp_read(opts->data_dir, "goals.json", &api->goals_stamp);
    file_stamp_read(opts->data_dir, "funnels.json", &api->funnels_stamp);
    int rc = store_open(&so, &api->store, err, errlen);
    if (!rc) rc = sites_load(opts->data_dir, &api->sites, err, errlen);
    if (!rc) rc = users_load(opts->data_dir, &api->users, err, errlen);
    if (!rc) rc = tokens_load(opts->data_dir, &api->tokens, err, errlen);
    if (!rc) rc = goals_load(opts->data_dir, &api->goals, err, errlen);
    if (!rc) rc = funnels_load(opts->data_dir, &api->funnels, err, errlen);
    if (!rc) rc = session_create(opts->data_dir, &api->session, err, errlen);
    if (!rc && (rc = login_create(opts->secure_cookies, &api->login)))
        snprintf(err, errlen, "libsodium failed to initialise");
    if (!rc) {
        struct enrich_options eo = {
            .assets_dir = opts->assets_dir ? opts->assets_dir : TALLY_ASSETS_DIR,
            .geoip_path = opts->geoip_path};
        rc = enrich_create(&eo, &api->enrich, err, errlen);
    }
    if (!rc) rc = index_create(&api->index);
    if (!rc) rc = index_set_goals(api->index, api->sites, api->goals);
    if (!rc && names_load(NULL, &api->names, err, errlen))
        log_warn("reports show codes instead of country and language names: %s", err);
    if (!rc) {
        rc = store_scan(api->store, 0, 0, (int64_t)1 << 52, api_restore_hit, api);
        if (rc) snprintf(err, errlen, "cannot read the stored hits back: %s", strerror(-rc));
        else index_compact(api->index, false);
    }
    if (rc) {
        api_destroy(api);
        return rc;
    }
    *out = api;
    return 0;
}

void api_destroy(struct api *api)
{
    if (!api) return;
    if (api->store) {
        int rc = store_sync(api->store);
        if (rc) log_error("final sync of the log failed: %s", strerror(-rc));
    }
    store_close(api->store);
    session_destroy(api->session);
    login_destroy(api->login);
    enrich_destroy(api->enrich);
    index_destroy(api->index);
    names_free(api->names);
    tokens_free(api->tokens);
    goals_free(api->goals);
    funnels_free(api->funnels);
    users_free(api->users);
    sites_free(api->sites);
    arena_free(&api->arena);
    free(api->batch);
    free(api->data_dir);
    pthread_mutex_destroy(&api->lock);
    pthread_rwlock_destroy(&api->index_lock);
    free(api);
}

uint64_t api_restored_hits(const struct api *api)
{
    return api->restored;
}

/* ---- the pipeline ---- */

/* What is kept of a bot's request: enough to count bots per site and day
 * and say which, nothing about the visitor. */
static void keep_only_bot_fields(struct hit *h, const char *bot_name)
{
    uint32_t site_id = h->site_id;
    int64_t time_ms = h->time_ms;
    hit_clear(h);
    h->site_id = site_id;
    h->time_ms = time_ms;
    h->kind = HIT_BOT;
    h->browser = bot_name;
}

/* Parse, enrich and sessionize one hit, without storing it. Lock held. */
static int api_prepare(struct api *api, const struct track_params *params,
                       const struct track_context *ctx, struct track_request *req, bool *dropped,
                       char *err, size_t errlen)
{
    *dropped = false;
    /* track_parse also refuses values that are not UTF-8. */
    int rc = track_parse(params, ctx, api->sites, api->users, api->tokens, &api->arena, req, err,
                         errlen);
    if (rc) return rc;
    if (req->dropped_for_privacy) {
        *dropped = true;
        return 0;
    }
    enrich_hit(api->enrich, req, &api->arena);
    /* A bot's request is only counted, unless the tracker asked to record
     * bots (bots=1) as Matomo does: then it is a hit like any other. */
    if (req->bot && !(req->hit.flags & HIT_FLAG_BOT)) {
        keep_only_bot_fields(&req->hit, req->bot_name);
        return 0;
    }
    rc = session_assign(api->session, req, ctx->now_ms);
    if (rc == SESSION_IGNORED) {
        *dropped = true;
        return 0;
    }
    if (rc) {
        snprintf(err, errlen, "cannot update the visitor salt: %s", strerror(-rc));
        /* -EPERM equals TRACK_INVALID: keep a storage failure a 503. */
        if (rc == TRACK_INVALID) rc = -EACCES;
    }
    return rc;
}

/* The pipeline for a batch, lock held: every hit through track, enrich
 * and session, then the kept ones in one store_append (one write, one
 * fsync), so a bulk request costs what one hit does on the log. */
static int track_locked(struct api *api, struct api_hit *hits, size_t count,
                        const struct track_context *ctx, char *err, size_t errlen)
{
    if (count > api->batch_cap) {
        free(api->batch);
        api->batch = malloc(count * sizeof *api->batch);
        if (!api->batch) abort();
        api->batch_cap = count;
    }
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        struct track_request req;
        bool dropped;
        char item_err[512];
        int rc = api_prepare(api, hits[i].params, ctx, &req, &dropped, item_err, sizeof item_err);
        if (rc == TRACK_INVALID) {
            hits[i].result = API_HIT_INVALID;
            snprintf(err, errlen, "%s", item_err);
            continue;
        }
        if (rc) {
            snprintf(err, errlen, "%s", item_err);
            return rc;
        }
        hits[i].result = dropped ? API_HIT_DROPPED : API_HIT_STORED;
        hits[i].send_image = req.send_image;
        if (!dropped) api->batch[kept++] = req.hit;
    }
    int rc = kept ? store_append(api->store, api->batch, kept) : 0;
    if (!rc && kept) {
        api->appended = true;
        pthread_rwlock_wrlock(&api->index_lock);
        for (size_t i = 0; i < kept && !rc; i++) rc = index_add(api->index, &api->batch[i]);
        pthread_rwlock_unlock(&api->index_lock);
    }
    if (rc) {
        log_error("store_append of %zu hit(s) failed: %s", kept, strerror(-rc));
        snprintf(err, errlen, "the hits could not be stored (%s); retry later", strerror(-rc));
    }
    return rc;
}

int api_track(struct api *api, struct api_hit *hits, size_t count,
              const struct track_context *ctx, char *err, size_t errlen)
{
    pthread_mutex_lock(&api->lock);
    arena_reset(&api->arena);
    api->appended = false;
    int rc = track_locked(api, hits, count, ctx, err, errlen);
    bool sync_needed = !rc && api->appended && api->fsync == STORE_FSYNC_ALWAYS;
    pthread_mutex_unlock(&api->lock);
    if (sync_needed && (rc = api_sync(api)))
        snprintf(err, errlen, "the hits could not be synced to disk (%s); retry later",
                 strerror(-rc));
    return rc;
}

int api_sync(struct api *api)
{
    /* fdatasync outside the lock: requests keep being appended meanwhile,
     * and the next sync covers them all (group commit). */
    int fd;
    pthread_mutex_lock(&api->lock);
    int rc = store_sync_handle(api->store, &fd);
    pthread_mutex_unlock(&api->lock);
    if (!rc && fd >= 0) {
        rc = fdatasync(fd) ? -errno : 0;
        close(fd);
    }
    if (rc) log_error("syncing the log failed: %s", strerror(-rc));
    return rc;
}

/* ---- answers ---- */

static void answer_text(struct api_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    buf_puts(&resp->body, text);
    buf_putc(&resp->body, '\n');
}

static void answer_empty(struct api_response *resp, int status)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
}

/* Messages may quote what the client sent, which need not be UTF-8: each
 * byte that does not start a valid sequence becomes '?', so the JSON stays
 * valid. */
static void utf8_sanitize(const char *s, struct buf *out)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n && i + n <= len && utf8_valid(s + i, n)) {
            buf_append(out, s + i, n);
            i += n;
        } else {
            buf_putc(out, '?');
            i++;
        }
    }
}

void answer_api_error(struct api_response *resp, int status, const char *message)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    struct buf clean;
    buf_init(&clean);
    utf8_sanitize(message, &clean);
    buf_puts(&resp->body, "{\"result\":\"error\",\"message\":");
    buf_json_string(&resp->body, clean.data ? clean.data : "");
    buf_puts(&resp->body, "}");
    buf_free(&clean);
}

void api_answer_json(struct api_response *resp, const struct buf *b)
{
    resp->status = 200;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_append(&resp->body, b->data ? b->data : "", b->len);
}

void api_datetime(int64_t ms, char out[20])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void api_answer_ok(struct api_response *resp)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"result\":\"success\",\"message\":\"ok\"}");
    api_answer_json(resp, &b);
    buf_free(&b);
}

bool api_id_param(const struct track_params *p, const char *name, bool zero_ok, uint32_t *out,
                  struct api_response *resp)
{
    const char *text = track_params_get(p, name);
    int64_t v = 0;
    if (zero_ok && (!text || !*text)) {
        *out = 0;
        return true;
    }
    if (!text || parse_i64(text, zero_ok ? 0 : 1, UINT32_MAX, &v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: expected a %s integer id%s", name,
                 zero_ok ? "non-negative" : "positive", zero_ok ? " (0 or absent: none)" : "");
        answer_api_error(resp, 400, msg);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool api_allowed(struct api *api, const struct track_params *p, uint32_t site_id,
                 enum access min, const char *managed, struct api_response *resp)
{
    const char *token = track_params_get(p, "token_auth");
    if (access_for(api->users, api->tokens, api->sites, token, site_id) >= min) return true;
    char msg[200];
    if (min >= ACCESS_WRITE)
        snprintf(msg, sizeof msg,
                 "token_auth is missing or does not grant %s access to this site, which "
                 "managing its %s needs",
                 access_name(min), managed);
    else
        snprintf(msg, sizeof msg,
                 "token_auth is missing or does not grant view access to this site");
    answer_api_error(resp, 401, msg);
    return false;
}

void api_answer_config_error(struct api_response *resp, int rc, const char *err)
{
    bool client = rc == -EINVAL || rc == -ENOENT || rc == -ENOSPC || rc == -EOVERFLOW ||
                  rc == -EEXIST;
    answer_api_error(resp, client ? 400 : 500, err);
}

/* Origins are echoed into a header: only a plain printable token is. */
static void cors_origin(const char *origin, struct api_response *resp)
{
    resp->allow_origin[0] = '\0';
    if (!origin) return;
    size_t len = strlen(origin);
    if (len == 0 || len >= sizeof resp->allow_origin) return;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)origin[i] <= 0x20 || (unsigned char)origin[i] >= 0x7f) return;
    memcpy(resp->allow_origin, origin, len + 1);
}

/* The parameters of a non-bulk request: the query string, plus a
 * form-encoded body whose values win (they come later, and
 * track_params_get returns the last one). */
static int request_params(struct arena *arena, const struct api_request *req,
                          struct track_params *p, char *err, size_t errlen)
{
    track_params_init(p, arena);
    if (req->query) {
        for (size_t i = 0; i < req->query->count; i++) {
            const struct track_param *q = &req->query->items[i];
            if (track_params_add(p, q->name, q->value ? q->value : "")) goto too_large;
        }
    }
    if (strcmp(req->method, "POST") == 0 && req->body && req->body_len) {
        int rc = track_params_parse_query(p, req->body, req->body_len, err, errlen);
        if (rc == -ENOMEM) goto too_large;
        if (rc) return rc;
    }
    return 0;
too_large:
    snprintf(err, errlen, "the request has too many parameters");
    return -ENOMEM;
}

static void handle_single(struct api *api, const struct api_request *req,
                          const struct track_params *params, struct api_response *resp)
{
    char err[512];
    struct api_hit hit = {.params = params};
    if (track_locked(api, &hit, 1, &req->ctx, err, sizeof err)) {
        /* Not acknowledged: the tracker may retry. */
        answer_text(resp, 503, err);
        return;
    }
    if (hit.result == API_HIT_INVALID) {
        answer_text(resp, 400, err);
        return;
    }
    if (hit.result == API_HIT_DROPPED || !hit.send_image) {
        answer_empty(resp, 204);
        return;
    }
    resp->status = 200;
    resp->content_type = "image/gif";
    buf_reset(&resp->body);
    buf_append(&resp->body, gif_1x1, sizeof gif_1x1);
}

/* Bulk: items that are not even parameters are invalid; the rest run
 * through the pipeline together. */
static void handle_bulk(struct api *api, const struct api_request *req, struct api_response *resp)
{
    char err[512];
    struct track_bulk *bulk;
    int open_rc = track_bulk_open(req->body, req->body_len, &bulk, err, sizeof err);
    if (open_rc) {
        answer_text(resp, open_rc == -E2BIG ? 413 : 400, err);
        return;
    }
    struct track_context ctx = req->ctx;
    const char *token = track_bulk_token(bulk);
    if (token && *token) ctx.token_auth = token;

    size_t n = track_bulk_count(bulk), parsed = 0;
    struct api_hit *hits = calloc(n ? n : 1, sizeof *hits);
    struct track_params *params = calloc(n ? n : 1, sizeof *params);
    size_t *index = calloc(n ? n : 1, sizeof *index);
    bool *invalid = calloc(n ? n : 1, sizeof *invalid);
    if (!hits || !params || !index || !invalid) abort();
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        track_params_init(&params[parsed], &api->arena);
        rc = track_bulk_item(bulk, i, &params[parsed], err, sizeof err);
        if (rc == -EINVAL) {
            invalid[i] = true;
            rc = 0;
            continue;
        }
        hits[parsed].params = &params[parsed];
        index[parsed++] = i;
    }
    if (rc == -ENOMEM) {
        answer_text(resp, 413, "the bulk request is too large to process at once; split it");
    } else if (rc || (rc = track_locked(api, hits, parsed, &ctx, err, sizeof err))) {
        answer_text(resp, 503, err);
    } else {
        size_t tracked = 0, invalid_count = 0;
        for (size_t k = 0; k < parsed; k++) {
            if (hits[k].result == API_HIT_INVALID) invalid[index[k]] = true;
            else tracked++;
        }
        resp->status = 200;
        resp->content_type = "application/json";
        buf_reset(&resp->body);
        for (size_t i = 0; i < n; i++) invalid_count += invalid[i];
        buf_printf(&resp->body,
                   "{\"status\":\"success\",\"tracked\":%zu,\"invalid\":%zu,"
                   "\"invalid_indices\":[",
                   tracked, invalid_count);
        for (size_t i = 0, first = 1; i < n; i++) {
            if (!invalid[i]) continue;
            buf_printf(&resp->body, "%s%zu", first ? "" : ",", i);
            first = 0;
        }
        buf_puts(&resp->body, "]}");
    }
    free(hits);
    free(params);
    free(index);
    free(invalid);
    track_bulk_free(bulk);
}

static void handle_tracking(struct api *api, const struct api_request *req,
                            struct api_response *resp)
{
    bool has_body = strcmp(req->method, "POST") == 0 && req->body && req->body_len > 0;
    if (has_body && track_body_is_json(req->body, req->body_len)) {
        handle_bulk(api, req, resp);
        return;
    }
    /* Without a form body the query string is all there is: use it as is. */
    if (!has_body && req->query) {
        handle_single(api, req, req->query, resp);
        return;
    }
    char err[512];
    struct track_params params;
    int rc = request_params(&api->arena, req, &params, err, sizeof err);
    if (rc) {
        answer_text(resp, rc == -ENOMEM ? 413 : 400, err);
        return;
    }
    handle_single(api, req, &params, resp);
}

/* module=API requests. They parse into their own arena and take the
 * locks they need: reports must not hold up tracking. */
static void handle_root(struct api *api, const struct api_request *req, struct api_response *resp)
{
    char err[512];
    struct arena arena;
    arena_init(&arena, API_ARENA_LIMIT);
    struct track_params params;
    int rc = request_params(&arena, req, &params, err, sizeof err);
    if (!rc && login_authenticate(api, req, &params, resp)) {
        arena_free(&arena);
        return;
    }
    const char *module = rc ? NULL : track_params_get(&params, "module");
    const char *method = rc ? NULL : track_params_get(&params, "method");
    if (rc) {
        answer_api_error(resp, rc == -ENOMEM ? 413 : 400, err);
    } else if (!module) {
        answer_text(resp, 200,
                    "Tally is running.\n"
                    "Tracking endpoint: /matomo.php (also /piwik.php and /tally), Matomo's HTTP "
                    "tracking API.\n"
                    "Reporting API: /index.php?module=API&method=VisitsSummary.get&idSite=1&"
                    "period=day&date=today&format=json&token_auth=... (see docs/api.md).");
    } else if (strcmp(module, "API") != 0) {
        answer_api_error(resp, 400, "only module=API is served here");
    } else if (!method || !*method) {
        answer_api_error(resp, 400, "method is missing; e.g. method=VisitsSummary.get");
    } else if (strncmp(method, "SitesManager.", 13) == 0) {
        sites_api_handle(api, req, &params, method, resp);
    } else if (segments_api_serves(method)) {
        segments_api_handle(api, &params, method, resp);
    } else if (users_api_serves(method)) {
        users_api_handle(api, &params, method, resp);
    } else if (goals_api_serves(method)) {
        goals_api_handle(api, &params, method, resp);
    } else if (strncmp(method, "Funnels.", 8) == 0 && funnels_api_serves(method)) {
        funnels_api_handle(api, &params, method, resp);
    } else {
        reporting_handle(api, &params, method, resp);
    }
    arena_free(&arena);
}

bool api_is_tracking_path(const char *path)
{
    return strcmp(path, "/matomo.php") == 0 || strcmp(path, "/piwik.php") == 0 ||
           strcmp(path, "/tally") == 0;
}

bool api_method_allowed(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "POST") == 0 || strcmp(method, "OPTIONS") == 0;
}

void api_handle(struct api *api, const struct api_request *req, struct api_response *resp)
{
    cors_origin(req->origin, resp);
    bool tracking = api_is_tracking_path(req->path);
    bool root = strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.php") == 0;
    if (login_serves(req->path)) {
        login_handle(api, req, resp);
        return;
    }
    if (!tracking && !root) {
        answer_text(resp, 404,
                    "not found: tracking is served at /matomo.php, /piwik.php and /tally");
        return;
    }
    if (!api_method_allowed(req->method)) {
        answer_text(resp, 405, "method not allowed: use GET, POST, HEAD or OPTIONS");
        return;
    }
    if (strcmp(req->method, "OPTIONS") == 0) {
        answer_empty(resp, 204);
        return;
    }
    if (!tracking) {
        handle_root(api, req, resp);
        return;
    }
    pthread_mutex_lock(&api->lock);
    arena_reset(&api->arena);
    api->appended = false;
    handle_tracking(api, req, resp);
    resp->sync_needed = api->appended && api->fsync == STORE_FSYNC_ALWAYS;
    pthread_mutex_unlock(&api->lock);
}

void api_maintain(struct api *api, int64_t now)
{
    char err[512];
    /* Outside the lock, so ingestion does not pause for the disk; a failure
     * is logged by api_sync, and any later sync flushes the whole file. */
    if (api->fsync == STORE_FSYNC_INTERVAL) api_sync(api);
    pthread_mutex_lock(&api->lock);
    err[0] = '\0';
    int rc = store_seal(api->store, now, err, sizeof err);
    if (rc) log_error("sealing closed days failed: %s", *err ? err : strerror(-rc));
    api_reload_config(api);
    login_sweep(api, now);
    pthread_rwlock_wrlock(&api->index_lock);
    index_compact(api->index, true);
    pthread_rwlock_unlock(&api->index_lock);
    pthread_mutex_unlock(&api->lock);
}
