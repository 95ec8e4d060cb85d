/* segments_api: Matomo's SegmentEditor methods (add, update, delete,
 * getAll): saved segments per site, in DATA/segments.json
 * (src/config/segments.c). Who sees and changes what (docs/access.md):
 * a user with view access saves segments for themselves; sharing one with
 * every user of the site (enable_all_users) needs write access; segments
 * of every site (idSite 0) are a superuser's; only the owner or a
 * superuser changes or deletes a segment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const methods[] = {"SegmentEditor.add", "SegmentEditor.update",
                                      "SegmentEditor.delete", "SegmentEditor.getAll"};

bool segments_api_serves(const char *method)
{
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(method, methods[i]) == 0) return true;
    return false;
}

/* Who asks; lock held. */
struct caller {
    const char *token;
    const char *login; /* NULL: not a user (anonymous, or a --site token) */
    bool superuser;
};

static struct caller caller_of(struct api *api, const struct track_params *p)
{
    struct caller c = {.token = track_params_get(p, "token_auth")};
    c.login = access_user_name(api->users, api->tokens, c.token);
    c.superuser = access_is_superuser(api->users, api->tokens, c.token);
    return c;
}

/* Whether the caller may save (or keep) s as it is: view on its site,
 * write to share it, superuser for every site. Answers 401 if not. */
static bool may_save(struct api *api, const struct caller *c, const struct saved_segment *s,
                     struct api_response *resp)
{
    const char *why = NULL;
    if (!c->login)
        why = "saving a segment needs a user's token_auth or dashboard session";
    else if (s->site_id == 0 && !c->superuser)
        why = "a segment of every site (idSite 0 or absent) is a superuser's to save";
    else if (s->site_id && access_for(api->users, api->tokens, api->sites, c->token,
                                      s->site_id) < (s->shared ? ACCESS_WRITE : ACCESS_VIEW))
        why = s->shared ? "sharing a segment with every user (enable_all_users=1) needs write "
                          "access to the site"
                        : "saving a segment needs view access to the site";
    if (why) answer_api_error(resp, 401, why);
    return !why;
}

/* Fills draft's fields from the parameters given (absent ones keep what
 * draft holds); the definition must parse as a segment. Strings point
 * into p. */
static bool segment_params(const struct track_params *p, struct saved_segment *draft,
                           struct api_response *resp)
{
    const char *name = track_params_get(p, "name"), *definition = track_params_get(p, "definition");
    const char *site = track_params_get(p, "idSite");
    /* The contract's enable_all_users, or Matomo's enabledAllUsers. */
    const char *shared = track_params_get(p, "enable_all_users");
    if (!shared) shared = track_params_get(p, "enabledAllUsers");
    if (name) draft->name = (char *)name;
    if (definition) draft->definition = (char *)definition;
    if (site && !api_id_param(p, "idSite", true, &draft->site_id, resp)) return false;
    if (shared && strcmp(shared, "0") != 0 && strcmp(shared, "1") != 0) {
        answer_api_error(resp, 400, "enable_all_users: expected 1 (every user of the site) or 0");
        return false;
    }
    if (shared) draft->shared = strcmp(shared, "1") == 0;
    char err[512];
    if (saved_segment_validate(draft, err, sizeof err)) {
        answer_api_error(resp, 400, err);
        return false;
    }
    struct segment *parsed;
    if (segment_parse(draft->definition, &parsed, err, sizeof err)) {
        answer_api_error(resp, 400, err);
        return false;
    }
    segment_free(parsed);
    return true;
}

/* The segment idSegment names, if the caller may change it; answers if
 * not. *all is the loaded file, to free. */
static const struct saved_segment *owned_segment(struct api *api, const struct track_params *p,
                                                 const struct caller *c,
                                                 struct saved_segments **all,
                                                 struct api_response *resp)
{
    uint32_t id;
    char err[512];
    *all = NULL;
    if (!api_id_param(p, "idSegment", false, &id, resp)) return NULL;
    if (saved_segments_load(api->data_dir, all, err, sizeof err)) {
        answer_api_error(resp, 500, err);
        return NULL;
    }
    const struct saved_segment *s = saved_segments_find(*all, id);
    /* Someone else's segment is answered as if it did not exist. */
    if (!s || !c->login || (!c->superuser && strcmp(s->login, c->login) != 0)) {
        answer_api_error(resp, 400, "idSegment: you have no saved segment with this id");
        return NULL;
    }
    return s;
}

static void add(struct api *api, const struct track_params *p, struct api_response *resp)
{
    struct caller c = caller_of(api, p);
    struct saved_segment draft = {.login = (char *)c.login};
    if (!segment_params(p, &draft, resp) || !may_save(api, &c, &draft, resp)) return;
    char err[512];
    uint32_t id;
    int rc = saved_segments_add(api->data_dir, &draft, &id, err, sizeof err);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"value\":%u}", id);
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void update(struct api *api, const struct track_params *p, struct api_response *resp)
{
    struct caller c = caller_of(api, p);
    struct saved_segments *all;
    const struct saved_segment *s = owned_segment(api, p, &c, &all, resp);
    struct saved_segment draft = s ? *s : (struct saved_segment){0};
    char err[512];
    if (s && segment_params(p, &draft, resp) && may_save(api, &c, &draft, resp)) {
        int rc = saved_segments_update(api->data_dir, &draft, err, sizeof err);
        if (rc) api_answer_config_error(resp, rc, err);
        else api_answer_ok(resp);
    }
    saved_segments_free(all);
}

static void delete(struct api *api, const struct track_params *p, struct api_response *resp)
{
    struct caller c = caller_of(api, p);
    struct saved_segments *all;
    const struct saved_segment *s = owned_segment(api, p, &c, &all, resp);
    char err[512];
    if (s) {
        int rc = saved_segments_delete(api->data_dir, s->id, err, sizeof err);
        if (rc) api_answer_config_error(resp, rc, err);
        else api_answer_ok(resp);
    }
    saved_segments_free(all);
}

/* Matomo's segment rows, every value a string. */
static void segment_json(struct buf *b, const struct saved_segment *s)
{
    char created[20];
    api_datetime(s->created_ms, created);
    buf_printf(b, "{\"idsegment\":\"%u\",\"name\":", s->id);
    buf_json_string(b, s->name);
    buf_puts(b, ",\"definition\":");
    buf_json_string(b, s->definition);
    buf_puts(b, ",\"login\":");
    buf_json_string(b, s->login);
    buf_printf(b,
               ",\"enable_all_users\":\"%d\",\"enable_only_idsite\":\"%u\",\"auto_archive\":\"0\","
               "\"ts_created\":\"%s\",\"deleted\":\"0\"}",
               s->shared, s->site_id, created);
}

/* The segments the caller sees on idSite: their own and the shared ones,
 * of that site and of every site; a superuser sees all of them. */
static void get_all(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t site_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_VIEW, "segments", resp))
        return;
    struct caller c = caller_of(api, p);
    struct saved_segments *all;
    char err[512];
    if (saved_segments_load(api->data_dir, &all, err, sizeof err)) {
        answer_api_error(resp, 500, err);
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    const struct saved_segment *s;
    for (size_t i = 0; (s = saved_segments_get(all, i)); i++) {
        bool visible = s->shared || c.superuser || (c.login && strcmp(s->login, c.login) == 0);
        if (!visible || (s->site_id && s->site_id != site_id)) continue;
        if (b.len > 1) buf_putc(&b, ',');
        segment_json(&b, s);
    }
    buf_putc(&b, ']');
    api_answer_json(resp, &b);
    buf_free(&b);
    saved_segments_free(all);
}

void segments_api_handle(struct api *api, const struct track_params *params, const char *method,
                         struct api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    if (strcmp(method, "SegmentEditor.add") == 0)
        add(api, params, resp);
    else if (strcmp(method, "SegmentEditor.update") == 0)
        update(api, params, resp);
    else if (strcmp(method, "SegmentEditor.delete") == 0)
        delete(api, params, resp);
    else
        get_all(api, params, resp);
    pthread_mutex_unlock(&api->lock);
}
