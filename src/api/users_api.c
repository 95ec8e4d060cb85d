/* users_api: Matomo's UsersManager methods the dashboard's settings need:
 * getUsers, addUser, deleteUser and setUserAccess (superuser only),
 * updateUser (a new password) and createAppSpecificTokenAuth (a new API
 * token), which a user may call for themselves after confirming their own
 * password, and getTokens and deleteToken (Matomo's "Personal > Security"
 * list of a user's tokens), for oneself or, as a superuser, anyone. Users
 * and tokens live in DATA/users.json and DATA/tokens.json
 * (src/config/access.c validates every field, for the CLI too).
 *
 * Hashing or checking a password takes about 0.2 s: it never runs under
 * the api lock, so each method takes the lock only around what it reads. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const methods[] = {
    "UsersManager.getUsers",      "UsersManager.addUser",    "UsersManager.deleteUser",
    "UsersManager.setUserAccess", "UsersManager.updateUser", "UsersManager.createAppSpecificTokenAuth",
    "UsersManager.getTokens",     "UsersManager.deleteToken",
};

bool users_api_serves(const char *method)
{
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(method, methods[i]) == 0) return true;
    return false;
}

/* Who token_auth (or the dashboard session) acts as, copied; NULL when it
 * is not a user. Takes the lock. */
static char *caller_name(struct api *api, const struct track_params *p, bool *superuser)
{
    pthread_mutex_lock(&api->lock);
    const char *token = track_params_get(p, "token_auth");
    const char *name = access_user_name(api->users, api->tokens, token);
    *superuser = access_is_superuser(api->users, api->tokens, token);
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy) abort();
    pthread_mutex_unlock(&api->lock);
    return copy;
}

static bool superuser_only(struct api *api, const struct track_params *p, const char *what,
                           struct api_response *resp)
{
    bool superuser;
    free(caller_name(api, p, &superuser));
    if (superuser) return true;
    char msg[160];
    snprintf(msg, sizeof msg, "%s needs a superuser's token_auth or session", what);
    answer_api_error(resp, 401, msg);
    return false;
}

/* The caller's own password in passwordConfirmation, checked outside the
 * lock: what stands between a session left open and a new password or
 * token. */
static bool password_confirmed(struct api *api, const char *caller, const struct track_params *p,
                               struct api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    const struct user *user = users_find(api->users, caller);
    char *hash = user ? strdup(user->password_hash) : NULL;
    pthread_mutex_unlock(&api->lock);
    const char *password = track_params_get(p, "passwordConfirmation");
    bool ok = password && password_verify(hash, password) == 0;
    free(hash);
    if (!ok)
        answer_api_error(resp, 401,
                         "passwordConfirmation: give your own current password to confirm");
    return ok;
}

/* The user a method acts on: userLogin, which must be the caller's own
 * login unless the caller is a superuser. Returns the caller (to free) or
 * NULL after answering. */
static char *self_or_superuser(struct api *api, const struct track_params *p, const char **login,
                               struct api_response *resp)
{
    bool superuser;
    char *caller = caller_name(api, p, &superuser);
    *login = track_params_get(p, "userLogin");
    if (!*login || !**login) {
        answer_api_error(resp, 400, "userLogin is missing");
    } else if (!caller || (!superuser && strcmp(caller, *login) != 0)) {
        answer_api_error(resp, 401,
                         "a user may do this for themselves (token_auth or session); a superuser "
                         "for anyone");
    } else {
        return caller;
    }
    free(caller);
    return NULL;
}

/* Reloads what a change wrote, so the next request sees it. */
static void reload(struct api *api)
{
    pthread_mutex_lock(&api->lock);
    api_reload_config(api);
    pthread_mutex_unlock(&api->lock);
}

static void answer_changed(struct api *api, int rc, const char *err, struct api_response *resp)
{
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    reload(api);
    api_answer_ok(resp);
}

/* Matomo's user rows, with Tally's access per site beside them. */
static void get_users(struct api *api, const struct track_params *p, struct api_response *resp)
{
    if (!superuser_only(api, p, "listing users", resp)) return;
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    pthread_mutex_lock(&api->lock);
    for (size_t i = 0; api->users && i < api->users->count; i++) {
        const struct user *u = &api->users->items[i];
        char registered[20];
        api_datetime(u->created_ms, registered);
        buf_puts(&b, i ? ",{\"login\":" : "{\"login\":");
        buf_json_string(&b, u->name);
        buf_printf(&b, ",\"superuser_access\":%s,\"date_registered\":\"%s\",\"access\":{",
                   u->superuser ? "true" : "false", registered);
        for (size_t g = 0; g < u->grant_count; g++)
            buf_printf(&b, "%s\"%u\":\"%s\"", g ? "," : "", u->grants[g].site_id,
                       access_name(u->grants[g].access));
        buf_puts(&b, "}}");
    }
    pthread_mutex_unlock(&api->lock);
    buf_putc(&b, ']');
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void add_user(struct api *api, const struct track_params *p, struct api_response *resp)
{
    if (!superuser_only(api, p, "adding a user", resp)) return;
    const char *login = track_params_get(p, "userLogin");
    const char *password = track_params_get(p, "password");
    const char *superuser = track_params_get(p, "superuser");
    if (!login || !password) {
        answer_api_error(resp, 400, "userLogin and password are required");
        return;
    }
    if (superuser && *superuser && strcmp(superuser, "0") != 0 && strcmp(superuser, "1") != 0) {
        answer_api_error(resp, 400, "superuser: expected 1 or 0");
        return;
    }
    char err[512];
    int rc = users_add(api->data_dir, login, password, superuser && strcmp(superuser, "1") == 0,
                       err, sizeof err);
    answer_changed(api, rc, err, resp);
}

static void delete_user(struct api *api, const struct track_params *p, struct api_response *resp)
{
    bool superuser;
    char *caller = caller_name(api, p, &superuser);
    const char *login = track_params_get(p, "userLogin");
    if (!superuser) {
        answer_api_error(resp, 401, "deleting a user needs a superuser's token_auth or session");
    } else if (!login || !*login) {
        answer_api_error(resp, 400, "userLogin is missing");
    } else if (strcmp(login, caller) == 0) {
        /* The last superuser must not lock everyone out by accident. */
        answer_api_error(resp, 400, "userLogin: you cannot delete yourself; ask another superuser");
    } else {
        char err[512];
        int rc = users_delete(api->data_dir, login, err, sizeof err);
        answer_changed(api, rc, err, resp);
    }
    free(caller);
}

/* access=view|write|admin|noaccess on idSites=1,2,... */
static void set_user_access(struct api *api, const struct track_params *p,
                            struct api_response *resp)
{
    if (!superuser_only(api, p, "setting a user's access", resp)) return;
    const char *login = track_params_get(p, "userLogin");
    const char *access_text = track_params_get(p, "access");
    const char *sites = track_params_get(p, "idSites");
    enum access access = ACCESS_NONE;
    if (!login || !*login) {
        answer_api_error(resp, 400, "userLogin is missing");
        return;
    }
    if (!access_text || (strcmp(access_text, "noaccess") != 0 &&
                         (access_parse(access_text, &access) || access == ACCESS_NONE))) {
        answer_api_error(resp, 400, "access: expected view, write, admin or noaccess");
        return;
    }
    /* Every id is checked before any is granted: all or nothing. */
    uint32_t ids[64];
    size_t count = 0;
    char list[1024];
    snprintf(list, sizeof list, "%s", sites ? sites : "");
    for (char *save, *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (count == sizeof ids / sizeof *ids || parse_i64(id, 1, UINT32_MAX, &v)) {
            answer_api_error(resp, 400, "idSites: expected site ids separated by commas (at most 64)");
            return;
        }
        ids[count++] = (uint32_t)v;
    }
    if (!count) {
        answer_api_error(resp, 400, "idSites is missing");
        return;
    }
    pthread_mutex_lock(&api->lock);
    size_t known = 0;
    while (known < count && sites_find(api->sites, ids[known]))
        known++;
    pthread_mutex_unlock(&api->lock);
    if (known < count) {
        char msg[128];
        snprintf(msg, sizeof msg, "idSites: no site with id %u", ids[known]);
        answer_api_error(resp, 400, msg);
        return;
    }
    char err[512];
    int rc = 0;
    for (size_t i = 0; i < count && !rc; i++)
        rc = users_grant(api->data_dir, login, ids[i], access, err, sizeof err);
    answer_changed(api, rc, err, resp);
}

/* A new password; every session of the user ends with the old one. */
static void update_user(struct api *api, const struct track_params *p, struct api_response *resp)
{
    const char *login;
    char *caller = self_or_superuser(api, p, &login, resp);
    if (!caller) return;
    const char *password = track_params_get(p, "password");
    if (!password) {
        answer_api_error(resp, 400, "password is missing: updateUser sets a new password");
    } else if (password_confirmed(api, caller, p, resp)) {
        char err[512];
        int rc = users_set_password(api->data_dir, login, password, err, sizeof err);
        answer_changed(api, rc, err, resp);
    }
    free(caller);
}

/* {"value":"<token>"}: shown once, acting as userLogin; with Matomo's
 * description, and expireDate or expireHours. */
static void create_token(struct api *api, const struct track_params *p, struct api_response *resp)
{
    const char *login;
    char *caller = self_or_superuser(api, p, &login, resp);
    if (!caller) return;
    char err[512], token[33];
    struct token_draft draft = {.user = login, .description = track_params_get(p, "description")};
    int rc = token_expiry_parse(track_params_get(p, "expireDate"),
                                track_params_get(p, "expireHours"), now_ms(), &draft.expires_ms,
                                err, sizeof err);
    if (rc) {
        const char *date = track_params_get(p, "expireDate");
        char msg[600];
        snprintf(msg, sizeof msg, "%s: %s", date && *date ? "expireDate" : "expireHours", err);
        answer_api_error(resp, 400, msg);
    } else if (password_confirmed(api, caller, p, resp)) {
        rc = tokens_create(api->data_dir, &draft, token, NULL, err, sizeof err);
        if (rc) {
            api_answer_config_error(resp, rc, err);
        } else {
            reload(api);
            struct buf b;
            buf_init(&b);
            buf_printf(&b, "{\"value\":\"%s\"}", token);
            api_answer_json(resp, &b);
            buf_free(&b);
        }
        sodium_memzero(token, sizeof token);
    }
    free(caller);
}

/* A date of record, or null when there is none. */
static void put_datetime(struct buf *b, const char *key, int64_t ms)
{
    char text[20];
    api_datetime(ms, text);
    buf_printf(b, ",\"%s\":", key);
    if (ms) buf_printf(b, "\"%s\"", text);
    else buf_puts(b, "null");
}

/* userLogin's tokens, oldest first: never the token nor its hash. */
static void get_tokens(struct api *api, const struct track_params *p, struct api_response *resp)
{
    const char *login;
    char *caller = self_or_superuser(api, p, &login, resp);
    if (!caller) return;
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    pthread_mutex_lock(&api->lock);
    bool known = users_find(api->users, login) != NULL;
    struct token_info t;
    for (size_t cursor = 0, n = 0; known && tokens_next(api->tokens, &cursor, &t);) {
        if (!t.user || strcmp(t.user, login) != 0) continue;
        buf_printf(&b, "%s{\"idusertokenauth\":%u,\"login\":", n++ ? "," : "", t.id);
        buf_json_string(&b, t.user);
        buf_puts(&b, ",\"description\":");
        buf_json_string(&b, t.description);
        put_datetime(&b, "date_created", t.created_ms);
        put_datetime(&b, "date_expired", t.expires_ms);
        put_datetime(&b, "last_used", t.last_used_ms);
        buf_putc(&b, '}');
    }
    pthread_mutex_unlock(&api->lock);
    buf_putc(&b, ']');
    if (known) {
        api_answer_json(resp, &b);
    } else {
        /* Only a superuser gets here for another name. */
        char msg[160];
        snprintf(msg, sizeof msg, "userLogin: no user named %.80s", login);
        answer_api_error(resp, 400, msg);
    }
    buf_free(&b);
    free(caller);
}

/* Deletes one of userLogin's tokens (idTokenAuth): it stops working at
 * once, since answer_changed reloads tokens.json before answering. */
static void delete_token(struct api *api, const struct track_params *p, struct api_response *resp)
{
    const char *login;
    char *caller = self_or_superuser(api, p, &login, resp);
    if (!caller) return;
    uint32_t id;
    if (api_id_param(p, "idTokenAuth", false, &id, resp)) {
        char err[512];
        int rc = tokens_delete(api->data_dir, id, login, err, sizeof err);
        answer_changed(api, rc, err, resp);
    }
    free(caller);
}

void users_api_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp)
{
    if (strcmp(method, "UsersManager.getUsers") == 0)
        get_users(api, params, resp);
    else if (strcmp(method, "UsersManager.addUser") == 0)
        add_user(api, params, resp);
    else if (strcmp(method, "UsersManager.deleteUser") == 0)
        delete_user(api, params, resp);
    else if (strcmp(method, "UsersManager.setUserAccess") == 0)
        set_user_access(api, params, resp);
    else if (strcmp(method, "UsersManager.updateUser") == 0)
        update_user(api, params, resp);
    else if (strcmp(method, "UsersManager.getTokens") == 0)
        get_tokens(api, params, resp);
    else if (strcmp(method, "UsersManager.deleteToken") == 0)
        delete_token(api, params, resp);
    else
        create_token(api, params, resp);
}
