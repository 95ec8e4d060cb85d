/* sites_api: Matomo's SitesManager methods that clients rely on: the log
 * importer asks getSiteFromId, dashboards list the sites a token may see,
 * provisioning scripts call addSite. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define SITES_API_MAX 4096

static void answer_json(struct api_response *resp, struct buf *b)
{
    resp->status = 200;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_append(&resp->body, b->data ? b->data : "", b->len);
}

/* Matomo's site object; ts_created as "YYYY-MM-DD HH:MM:SS" UTC. */
static void site_json(struct buf *b, const struct site *site)
{
    char created[20];
    time_t t = (time_t)(site->created_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S", &tm);
    buf_printf(b, "{\"idsite\":\"%u\",\"name\":", site->id);
    buf_json_string(b, site->name);
    buf_puts(b, ",\"main_url\":");
    buf_json_string(b, site->url_count ? site->urls[0] : "");
    buf_puts(b, ",\"ts_created\":");
    buf_json_string(b, created);
    buf_puts(b, ",\"timezone\":");
    buf_json_string(b, site->timezone);
    buf_puts(b, ",\"currency\":");
    buf_json_string(b, site->currency);
    buf_putc(b, '}');
}

/* Lock held. */
static void get_site(struct api *api, const struct track_params *p, struct api_response *resp)
{
    const char *id_text = track_params_get(p, "idSite");
    int64_t id;
    if (!id_text || parse_i64(id_text, 1, UINT32_MAX, &id)) {
        answer_api_error(resp, 400, "idSite: expected a site id (a positive integer)");
        return;
    }
    /* Only a superuser learns whether a site it may not see exists. */
    const char *token = track_params_get(p, "token_auth");
    if (access_for(api->users, api->tokens, api->sites, token, (uint32_t)id) < ACCESS_VIEW) {
        answer_api_error(resp, 401,
                         "token_auth is missing or does not grant view access to this site; "
                         "create one with `tally token create --user NAME`");
        return;
    }
    const struct site *site = sites_find(api->sites, (uint32_t)id);
    if (!site) {
        answer_api_error(resp, 400, "idSite: no such site");
        return;
    }
    /* One object, as Matomo answers: the log importer reads site['main_url']. */
    struct buf b;
    buf_init(&b);
    site_json(&b, site);
    answer_json(resp, &b);
    buf_free(&b);
}

/* Lock held. */
static void sites_with_access(struct api *api, const struct track_params *p, enum access min,
                              struct api_response *resp)
{
    const char *token = track_params_get(p, "token_auth");
    uint32_t *ids = malloc(SITES_API_MAX * sizeof *ids);
    if (!ids) abort();
    size_t n = access_sites(api->users, api->tokens, api->sites, token, min, ids, SITES_API_MAX);
    if (n > SITES_API_MAX) n = SITES_API_MAX;
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        const struct site *site = sites_find(api->sites, ids[i]);
        if (!site) continue;
        if (b.len > 1) buf_putc(&b, ',');
        site_json(&b, site);
    }
    buf_putc(&b, ']');
    answer_json(resp, &b);
    buf_free(&b);
    free(ids);
}

/* Lock held. siteName, urls (comma-separated or urls[]), timezone, currency. */
static void add_site(struct api *api, const struct track_params *p, struct api_response *resp)
{
    const char *token = track_params_get(p, "token_auth");
    if (!access_is_superuser(api->users, api->tokens, token)) {
        answer_api_error(resp, 401, "adding a site needs a superuser's token_auth");
        return;
    }
    struct site draft = {.timezone = "UTC", .currency = "USD", .honour_dnt = true,
                         .ipv4_mask_bytes = 2, .ipv6_mask_bits = 80};
    draft.name = (char *)track_params_get(p, "siteName");
    if (!draft.name || !*draft.name) {
        answer_api_error(resp, 400, "siteName is missing");
        return;
    }
    const char *tz = track_params_get(p, "timezone"), *currency = track_params_get(p, "currency");
    if (tz && *tz) draft.timezone = (char *)tz;
    if (currency && *currency) draft.currency = (char *)currency;
    /* urls=a,b or urls[]=a&urls[]=b (or urls[0]=...) */
    char *list = NULL;
    for (size_t i = 0; i < p->count; i++) {
        const char *name = p->items[i].name, *value = p->items[i].value;
        if (strncmp(name, "urls", 4) != 0 || (name[4] && name[4] != '[')) continue;
        free(list);
        list = strdup(value ? value : "");
        if (!list) abort();
        if (name[4] == '[') {
            if (draft.url_count < SITE_MAX_URLS) draft.urls[draft.url_count++] = (char *)value;
            free(list);
            list = NULL;
            continue;
        }
        for (char *save, *u = strtok_r(list, ",", &save); u && draft.url_count < SITE_MAX_URLS;
             u = strtok_r(NULL, ",", &save))
            draft.urls[draft.url_count++] = u;
    }
    char err[512];
    uint32_t id;
    int rc = sites_add(api->data_dir, &draft, &id, err, sizeof err);
    free(list);
    if (rc) {
        answer_api_error(resp, 400, err);
        return;
    }
    api_reload_config(api);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"value\":%u}", id);
    answer_json(resp, &b);
    buf_free(&b);
}

void sites_api_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    if (strcmp(method, "SitesManager.getSiteFromId") == 0)
        get_site(api, params, resp);
    else if (strcmp(method, "SitesManager.getSitesWithAtLeastViewAccess") == 0)
        sites_with_access(api, params, ACCESS_VIEW, resp);
    else if (strcmp(method, "SitesManager.getSitesWithAdminAccess") == 0)
        sites_with_access(api, params, ACCESS_ADMIN, resp);
    else if (strcmp(method, "SitesManager.addSite") == 0)
        add_site(api, params, resp);
    else
        answer_api_error(resp, 400,
                         "this SitesManager method is not served; Tally has getSiteFromId, "
                         "getSitesWithAtLeastViewAccess, getSitesWithAdminAccess and addSite");
    pthread_mutex_unlock(&api->lock);
}
