/* login: the dashboard's sessions (docs/access.md, "Dashboard sessions").
 *
 * POST /login checks a user's password and answers a cookie,
 * tally_session=<64 hex>, that names a session kept in this table; POST
 * /logout forgets it; GET /session says who is logged in. A session acts
 * as its user through a transient token (config.h): login_authenticate
 * adds that token to a Reporting API request's parameters when the cookie
 * comes with the header X-Tally-Requested: 1, so every access check treats
 * the dashboard exactly as it treats the user's API tokens.
 *
 * Everything here lives in memory and is guarded by the api lock: a
 * restart asks everyone to log in again. The table keeps a BLAKE2b hash of
 * each cookie (not the cookie) and, for throttling, a keyed hash of each
 * failing client address (not the address), so a memory dump hands out
 * neither a live session nor a visitor's IP. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SESSION_COOKIE "tally_session"
#define SESSION_ID_BYTES 32                       /* 256 random bits */
#define SESSION_ID_HEX (2 * SESSION_ID_BYTES)
#define SESSION_IDLE_MS (12 * 3600 * 1000LL)      /* the contract's 12 h */
#define SESSIONS_MAX 4096                         /* the least recently used goes first */
#define LOGIN_ATTEMPTS_MAX 5                      /* per client address and window */
#define LOGIN_WINDOW_MS (15 * 60 * 1000LL)
#define THROTTLED_CLIENTS_MAX 4096                /* the oldest entry goes first */

struct login_session {
    unsigned char id_hash[crypto_generichash_BYTES];
    char token[33];       /* the transient token acting as the user */
    char *user;
    char *password_hash;  /* the user's at login: a changed password ends the session */
    int64_t last_seen_ms;
};

/* Attempts from one client address within a window; a success forgets it. */
struct login_client {
    unsigned char address_hash[16];
    unsigned attempts;
    int64_t first_ms;
};

struct login_state {
    bool secure_cookies;
    unsigned char address_key[crypto_generichash_KEYBYTES]; /* random per process */
    struct login_session *sessions;
    size_t session_count;
    struct login_client clients[THROTTLED_CLIENTS_MAX];
    size_t client_count;
};

int login_create(bool secure_cookies, struct login_state **out)
{
    if (sodium_init() < 0) return -EIO;
    struct login_state *state = calloc(1, sizeof *state);
    if (!state) return -ENOMEM;
    state->secure_cookies = secure_cookies;
    randombytes_buf(state->address_key, sizeof state->address_key);
    *out = state;
    return 0;
}

static void session_free_fields(struct login_session *s)
{
    free(s->user);
    free(s->password_hash);
    sodium_memzero(s, sizeof *s);
}

void login_destroy(struct login_state *state)
{
    if (!state) return;
    for (size_t i = 0; i < state->session_count; i++)
        session_free_fields(&state->sessions[i]);
    free(state->sessions);
    free(state);
}

/* ---- the cookie ---- */

int login_cookie_session(const char *header, char out[SESSION_ID_HEX + 1])
{
    /* "a=1; tally_session=HEX; b=2": pairs separated by ';' and optional
     * spaces. The last well-formed value wins, as browsers send the most
     * specific path first and ours is the only one with Path=/. */
    int rc = -ENOENT;
    const char *p = header ? header : "";
    size_t name_len = strlen(SESSION_COOKIE);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        size_t pair_len = strcspn(p, ";");
        if (pair_len == name_len + 1 + SESSION_ID_HEX && strncmp(p, SESSION_COOKIE, name_len) == 0 &&
            p[name_len] == '=') {
            const char *value = p + name_len + 1;
            bool hex = true;
            for (size_t i = 0; i < SESSION_ID_HEX && hex; i++)
                hex = (value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f');
            if (hex) {
                memcpy(out, value, SESSION_ID_HEX);
                out[SESSION_ID_HEX] = '\0';
                rc = 0;
            }
        }
        p += pair_len;
    }
    return rc;
}

static void session_id_hash(const char *id, unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)id, strlen(id), NULL,
                       0);
}

/* ---- the session table (api lock held) ---- */

static void session_remove(struct api *api, size_t i)
{
    struct login_state *state = api->login;
    tokens_remove_transient(api->tokens, state->sessions[i].token);
    session_free_fields(&state->sessions[i]);
    state->sessions[i] = state->sessions[--state->session_count];
}

/* A session is over once idle for 12 h, once its user is gone, and once
 * the user's password is not the one it was opened with. */
static bool session_alive(const struct api *api, const struct login_session *s, int64_t now)
{
    const struct user *user = users_find(api->users, s->user);
    return now - s->last_seen_ms < SESSION_IDLE_MS && user &&
           strcmp(user->password_hash, s->password_hash) == 0;
}

/* The live session the cookie names, or NULL (a dead one is removed). */
static struct login_session *session_find(struct api *api, const char *id, int64_t now)
{
    struct login_state *state = api->login;
    unsigned char hash[crypto_generichash_BYTES];
    session_id_hash(id, hash);
    for (size_t i = 0; i < state->session_count; i++) {
        if (sodium_memcmp(hash, state->sessions[i].id_hash, sizeof hash) != 0) continue;
        if (session_alive(api, &state->sessions[i], now)) return &state->sessions[i];
        session_remove(api, i);
        return NULL;
    }
    return NULL;
}

/* Opens a session for user and writes its cookie value to id_out. */
static struct login_session *session_open(struct api *api, const struct user *user, int64_t now,
                         char id_out[SESSION_ID_HEX + 1])
{
    struct login_state *state = api->login;
    if (state->session_count == SESSIONS_MAX) {
        size_t oldest = 0;
        for (size_t i = 1; i < state->session_count; i++)
            if (state->sessions[i].last_seen_ms < state->sessions[oldest].last_seen_ms) oldest = i;
        session_remove(api, oldest);
    }
    struct login_session *grown =
        realloc(state->sessions, (state->session_count + 1) * sizeof *grown);
    if (!grown) abort();
    state->sessions = grown;
    struct login_session *s = &state->sessions[state->session_count++];
    *s = (struct login_session){.user = strdup(user->name),
                                .password_hash = strdup(user->password_hash),
                                .last_seen_ms = now};
    if (!s->user || !s->password_hash || tokens_add_transient(api->tokens, user->name, s->token))
        abort();
    unsigned char raw[SESSION_ID_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(id_out, SESSION_ID_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    session_id_hash(id_out, s->id_hash);
    return s;
}

/* ---- throttling (api lock held) ---- */

static struct login_client *client_find(struct login_state *state, const char *address,
                                        int64_t now, bool create)
{
    unsigned char hash[16];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)address, strlen(address),
                       state->address_key, sizeof state->address_key);
    size_t oldest = 0;
    for (size_t i = 0; i < state->client_count; i++) {
        struct login_client *c = &state->clients[i];
        if (memcmp(c->address_hash, hash, sizeof hash) == 0) {
            if (now - c->first_ms >= LOGIN_WINDOW_MS) *c = (struct login_client){0};
            memcpy(c->address_hash, hash, sizeof hash);
            if (!c->attempts) c->first_ms = now;
            return c;
        }
        if (c->first_ms < state->clients[oldest].first_ms) oldest = i;
    }
    if (!create) return NULL;
    size_t i = state->client_count < THROTTLED_CLIENTS_MAX ? state->client_count++ : oldest;
    state->clients[i] = (struct login_client){.first_ms = now};
    memcpy(state->clients[i].address_hash, hash, sizeof hash);
    return &state->clients[i];
}

static void client_forget(struct login_state *state, struct login_client *c)
{
    *c = state->clients[--state->client_count];
}

void login_sweep(struct api *api, int64_t now)
{
    struct login_state *state = api->login;
    for (size_t i = state->session_count; i-- > 0;)
        if (!session_alive(api, &state->sessions[i], now)) session_remove(api, i);
    for (size_t i = state->client_count; i-- > 0;)
        if (now - state->clients[i].first_ms >= LOGIN_WINDOW_MS)
            client_forget(state, &state->clients[i]);
}

/* ---- answers ---- */

/* Who the session is and the sites they may see: all the dashboard needs to
 * draw its first view, in one answer. Lock held. */
static void answer_who(struct api *api, struct api_response *resp,
                       const struct login_session *s, bool superuser)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"login\":");
    buf_json_string(&b, s->user);
    buf_printf(&b, ",\"superuser\":%s,\"sites\":", superuser ? "true" : "false");
    sites_json_array(api, s->token, ACCESS_VIEW, &b);
    buf_putc(&b, '}');
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void set_cookie(const struct login_state *state, const char *id,
                       struct api_response *resp)
{
    /* An empty value with Max-Age=0 clears it. */
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s%s", id,
             *id ? "" : "; Max-Age=0", state->secure_cookies ? "; Secure" : "");
}

static void handle_login(struct api *api, const struct api_request *req, struct api_response *resp)
{
    struct login_state *state = api->login;
    char err[256];
    struct arena arena;
    arena_init(&arena, 1u << 20);
    struct track_params form;
    track_params_init(&form, &arena);
    int rc = req->body ? track_params_parse_query(&form, req->body, req->body_len, err, sizeof err)
                       : 0;
    const char *name = rc ? NULL : track_params_get(&form, "login");
    const char *password = rc ? NULL : track_params_get(&form, "password");
    if (rc || !name || !password) {
        answer_api_error(resp, 400,
                         rc ? err
                            : "expected a form body login=NAME&password=PASSWORD "
                              "(application/x-www-form-urlencoded)");
        arena_free(&arena);
        return;
    }

    /* Counted before the slow check, so that parallel guesses from one
     * client cannot slip past the limit while others are being verified. */
    int64_t now = req->ctx.now_ms;
    pthread_mutex_lock(&api->lock);
    struct login_client *client = client_find(state, req->ctx.ip, now, true);
    int64_t retry_ms = client->first_ms + LOGIN_WINDOW_MS - now;
    bool throttled = client->attempts >= LOGIN_ATTEMPTS_MAX;
    if (!throttled) client->attempts++;
    const struct user *user = users_find(api->users, name);
    char *hash = user ? strdup(user->password_hash) : NULL;
    pthread_mutex_unlock(&api->lock);
    if (throttled) {
        log_warn("dashboard login refused: too many attempts from one client");
        snprintf(err, sizeof err,
                 "too many failed logins from this address; try again in %lld minute(s)",
                 (long long)(retry_ms + 59999) / 60000);
        answer_api_error(resp, 429, err);
        free(hash);
        arena_free(&arena);
        return;
    }

    /* About 0.2 s and 64 MiB: outside the lock, so tracking goes on. An
     * unknown user is checked against a dummy hash and takes as long. */
    rc = password_verify(hash, password);
    char id[SESSION_ID_HEX + 1];
    pthread_mutex_lock(&api->lock);
    user = users_find(api->users, name);
    /* The password may have changed while it was being checked. */
    bool ok = !rc && user && strcmp(user->password_hash, hash) == 0;
    if (ok) {
        client = client_find(state, req->ctx.ip, now, false);
        if (client) client_forget(state, client);
        struct login_session *s = session_open(api, user, now, id);
        set_cookie(state, id, resp);
        answer_who(api, resp, s, user->superuser);
        sodium_memzero(id, sizeof id);
    }
    pthread_mutex_unlock(&api->lock);
    if (ok) {
        log_info("dashboard login of a user");
    } else {
        log_info("dashboard login failed");
        answer_api_error(resp, 401, "wrong login or password");
    }
    free(hash);
    arena_free(&arena);
}

static void handle_logout(struct api *api, const struct api_request *req,
                          struct api_response *resp)
{
    char id[SESSION_ID_HEX + 1];
    pthread_mutex_lock(&api->lock);
    struct login_session *s = login_cookie_session(req->cookie, id) == 0
                                  ? session_find(api, id, req->ctx.now_ms)
                                  : NULL;
    if (s) session_remove(api, (size_t)(s - api->login->sessions));
    set_cookie(api->login, "", resp);
    pthread_mutex_unlock(&api->lock);
    resp->status = 204;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
}

static void handle_session(struct api *api, const struct api_request *req,
                           struct api_response *resp)
{
    char id[SESSION_ID_HEX + 1];
    pthread_mutex_lock(&api->lock);
    struct login_session *s = login_cookie_session(req->cookie, id) == 0
                                  ? session_find(api, id, req->ctx.now_ms)
                                  : NULL;
    const struct user *user = s ? users_find(api->users, s->user) : NULL;
    if (user) {
        s->last_seen_ms = req->ctx.now_ms;
        answer_who(api, resp, s, user->superuser);
    } else {
        answer_api_error(resp, 401, "not logged in");
    }
    pthread_mutex_unlock(&api->lock);
}

bool login_serves(const char *path)
{
    return strcmp(path, "/login") == 0 || strcmp(path, "/logout") == 0 ||
           strcmp(path, "/session") == 0;
}

void login_handle(struct api *api, const struct api_request *req, struct api_response *resp)
{
    /* Never readable by another origin, even a same-site one that the
     * SameSite cookie would reach: no credentialed CORS here. */
    resp->allow_origin[0] = '\0';
    bool post = strcmp(req->method, "POST") == 0;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(req->path, "/session") == 0 && get)
        handle_session(api, req, resp);
    else if (strcmp(req->path, "/login") == 0 && post)
        handle_login(api, req, resp);
    else if (strcmp(req->path, "/logout") == 0 && post)
        handle_logout(api, req, resp);
    else
        answer_api_error(resp, 405, "use POST /login, POST /logout and GET /session");
}

int login_authenticate(struct api *api, const struct api_request *req,
                       struct track_params *params, struct api_response *resp)
{
    char id[SESSION_ID_HEX + 1];
    if (login_cookie_session(req->cookie, id)) return 0;
    if (strcmp(req->tally_requested, "1") != 0) {
        /* A cross-site form or image carries the cookie but cannot set a
         * header; a client with its own token_auth goes on as before. */
        const char *token = track_params_get(params, "token_auth");
        if (token && *token) return 0;
        answer_api_error(resp, 401,
                         "the dashboard's session cookie is accepted only with the header "
                         "X-Tally-Requested: 1; API clients send token_auth instead");
        return -EACCES;
    }
    char token[33] = "";
    pthread_mutex_lock(&api->lock);
    struct login_session *s = session_find(api, id, req->ctx.now_ms);
    if (s) {
        s->last_seen_ms = req->ctx.now_ms;
        memcpy(token, s->token, sizeof token);
    }
    pthread_mutex_unlock(&api->lock);
    /* A session that ended leaves the request anonymous: public sites
     * still answer, the others say 401 and the dashboard asks to log in. */
    if (!*token) return 0;
    resp->allow_origin[0] = '\0';
    int rc = track_params_add(params, "token_auth", token);
    sodium_memzero(token, sizeof token);
    if (rc) answer_api_error(resp, 413, "the request has too many parameters");
    return rc;
}
