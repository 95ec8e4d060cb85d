/* sites_api: Matomo's SitesManager methods that clients rely on: the log
 * importer asks getSiteFromId, dashboards list the sites a token may see,
 * provisioning scripts call addSite. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SITES_API_MAX 4096

/* Matomo's site object; ts_created as "YYYY-MM-DD HH:MM:SS" UTC. */
static void site_json(struct buf *b, const struct site *site)
{
    char created[20];
    api_datetime(site->created_ms, created);
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
    /* Matomo's one comma-separated string; the settings after it are Tally's own. */
    struct buf excluded;
    buf_init(&excluded);
    for (size_t i = 0; i < site->excluded_param_count; i++)
        buf_printf(&excluded, "%s%s", i ? "," : "", site->excluded_params[i]);
    buf_puts(b, ",\"excluded_parameters\":");
    buf_json_string(b, excluded.data ? excluded.data : "");
    buf_free(&excluded);
    buf_puts(b, ",\"urls\":[");
    for (size_t i = 0; i < site->url_count; i++) {
        if (i) buf_putc(b, ',');
        buf_json_string(b, site->urls[i]);
    }
    buf_printf(b, "],\"honour_dnt\":%s,\"ipv4_mask_bytes\":%u,\"ipv6_mask_bits\":%u}",
               site->honour_dnt ? "true" : "false", site->ipv4_mask_bytes, site->ipv6_mask_bits);
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
    api_answer_json(resp, &b);
    buf_free(&b);
}

void sites_json_array(struct api *api, const char *token, enum access min, struct buf *b)
{
    uint32_t *ids = malloc(SITES_API_MAX * sizeof *ids);
    if (!ids) abort();
    size_t n = access_sites(api->users, api->tokens, api->sites, token, min, ids, SITES_API_MAX);
    if (n > SITES_API_MAX) n = SITES_API_MAX;
    buf_putc(b, '[');
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const struct site *site = sites_find(api->sites, ids[i]);
        if (!site) continue;
        if (!first) buf_putc(b, ',');
        first = false;
        site_json(b, site);
    }
    buf_putc(b, ']');
    free(ids);
}

/* Lock held. */
static void sites_with_access(struct api *api, const struct track_params *p, enum access min,
                              struct api_response *resp)
{
    struct buf b;
    buf_init(&b);
    sites_json_array(api, track_params_get(p, "token_auth"), min, &b);
    api_answer_json(resp, &b);
    buf_free(&b);
}

/* urls=a,b or urls[]=a&urls[]=b (or urls[0]=...) into draft's urls; they
 * point into p or into *list, which the caller frees. Returns whether any
 * was given. */
static bool urls_param(const struct track_params *p, struct site *draft, char **list)
{
    bool given = false;
    *list = NULL;
    for (size_t i = 0; i < p->count; i++) {
        const char *name = p->items[i].name, *value = p->items[i].value;
        if (strncmp(name, "urls", 4) != 0 || (name[4] && name[4] != '[')) continue;
        if (!given) draft->url_count = 0;
        given = true;
        if (name[4] == '[') {
            if (draft->url_count < SITE_MAX_URLS) draft->urls[draft->url_count++] = (char *)value;
            continue;
        }
        /* A later urls=a,b replaces what came before, as it always has. */
        draft->url_count = 0;
        free(*list);
        *list = strdup(value ? value : "");
        if (!*list) abort();
        for (char *save, *u = strtok_r(*list, ",", &save); u && draft->url_count < SITE_MAX_URLS;
             u = strtok_r(NULL, ",", &save))
            draft->urls[draft->url_count++] = u;
    }
    return given;
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
    char *list;
    urls_param(p, &draft, &list);
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
    api_answer_json(resp, &b);
    buf_free(&b);
}

/* A small integer setting (0..255; sites_update checks its own range),
 * kept when absent. */
static bool byte_param(const struct track_params *p, const char *name, uint8_t *out,
                       struct api_response *resp)
{
    const char *text = track_params_get(p, name);
    int64_t v;
    if (!text || !*text) return true;
    if (parse_i64(text, 0, 255, &v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: expected a whole number, got '%.40s'", name, text);
        answer_api_error(resp, 400, msg);
        return false;
    }
    *out = (uint8_t)v;
    return true;
}

/* Lock held. Matomo's updateSite: each parameter given replaces that
 * setting, the others stay; Tally's own are honourDnt, ipv4MaskBytes and
 * ipv6MaskBits. Validated as `tally site add` validates (sites_update). */
static void update_site(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t id;
    if (!api_id_param(p, "idSite", false, &id, resp) ||
        !api_allowed(api, p, id, ACCESS_ADMIN, "settings", resp))
        return;
    const struct site *site = sites_find(api->sites, id);
    if (!site) {
        answer_api_error(resp, 400, "idSite: no such site");
        return;
    }
    struct site draft = *site;
    const char *name = track_params_get(p, "siteName"), *tz = track_params_get(p, "timezone"),
               *currency = track_params_get(p, "currency"),
               *dnt = track_params_get(p, "honourDnt");
    /* Matomo calls them excludedQueryParameters; the contract excludedParameters. */
    const char *excluded = track_params_get(p, "excludedParameters");
    if (!excluded) excluded = track_params_get(p, "excludedQueryParameters");
    if (name) draft.name = (char *)name;
    if (tz) draft.timezone = (char *)tz;
    if (currency) draft.currency = (char *)currency;
    if (dnt && strcmp(dnt, "1") != 0 && strcmp(dnt, "0") != 0) {
        answer_api_error(resp, 400, "honourDnt: expected 1 (drop hits sent with DNT or GPC) or 0");
        return;
    }
    if (dnt) draft.honour_dnt = strcmp(dnt, "1") == 0;
    if (!byte_param(p, "ipv4MaskBytes", &draft.ipv4_mask_bytes, resp) ||
        !byte_param(p, "ipv6MaskBits", &draft.ipv6_mask_bits, resp))
        return;
    char *excluded_list = NULL;
    if (excluded) {
        excluded_list = strdup(excluded);
        if (!excluded_list) abort();
        draft.excluded_param_count = 0;
        for (char *save, *e = strtok_r(excluded_list, ",\n", &save); e;
             e = strtok_r(NULL, ",\n", &save)) {
            if (draft.excluded_param_count == SITE_MAX_EXCLUDED_PARAMS) {
                draft.excluded_param_count++; /* lets sites_update report the excess */
                break;
            }
            draft.excluded_params[draft.excluded_param_count++] = e;
        }
    }
    char *url_list;
    urls_param(p, &draft, &url_list);
    char err[512];
    int rc = sites_update(api->data_dir, &draft, err, sizeof err);
    free(excluded_list);
    free(url_list);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    api_reload_config(api);
    api_answer_ok(resp);
}

/* The Host the request came to, when it is a plain host[:port]. */
static bool host_valid(const char *host)
{
    size_t len = host ? strlen(host) : 0;
    if (len == 0 || len > 255) return false;
    for (const char *c = host; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr(".-:[]", *c)) return false;
    return true;
}

/* Lock held. The snippet a site pastes: Matomo's command queue and
 * Tally's tracker, served by this server (the Host the dashboard uses). */
static void javascript_tag(struct api *api, const struct api_request *req,
                           const struct track_params *p, struct api_response *resp)
{
    uint32_t id;
    if (!api_id_param(p, "idSite", false, &id, resp) ||
        !api_allowed(api, p, id, ACCESS_VIEW, "settings", resp))
        return;
    if (!host_valid(req->host)) {
        answer_api_error(resp, 400,
                         "the request's Host header is missing or not a plain host[:port], so "
                         "the tag cannot name this server");
        return;
    }
    struct buf tag, b;
    buf_init(&tag);
    buf_init(&b);
    buf_printf(&tag,
               "<!-- Tally -->\n"
               "<script>\n"
               "  var _paq = window._paq = window._paq || [];\n"
               "  _paq.push(['trackPageView']);\n"
               "  _paq.push(['enableLinkTracking']);\n"
               "  (function() {\n"
               "    var u=\"//%s/\";\n"
               "    _paq.push(['setTrackerUrl', u+'matomo.php']);\n"
               "    _paq.push(['setSiteId', '%u']);\n"
               "    var d=document, g=d.createElement('script'), "
               "s=d.getElementsByTagName('script')[0];\n"
               "    g.async=true; g.src=u+'tally.js'; s.parentNode.insertBefore(g,s);\n"
               "  })();\n"
               "</script>\n"
               "<!-- End Tally Code -->\n",
               req->host, id);
    buf_puts(&b, "{\"value\":");
    buf_json_string(&b, tag.data);
    buf_putc(&b, '}');
    api_answer_json(resp, &b);
    buf_free(&b);
    buf_free(&tag);
}

void sites_api_handle(struct api *api, const struct api_request *req,
                      const struct track_params *params, const char *method,
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
    else if (strcmp(method, "SitesManager.updateSite") == 0)
        update_site(api, params, resp);
    else if (strcmp(method, "SitesManager.getJavascriptTag") == 0)
        javascript_tag(api, req, params, resp);
    else
        answer_api_error(resp, 400,
                         "this SitesManager method is not served; Tally has getSiteFromId, "
                         "getSitesWithAtLeastViewAccess, getSitesWithAdminAccess, addSite, "
                         "updateSite and getJavascriptTag");
    pthread_mutex_unlock(&api->lock);
}
