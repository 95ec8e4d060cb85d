/* web: serves the embedded dashboard and tracker (see web.h). */
#include "web.h"

#include <stdlib.h>
#include <string.h>

#include "assets.h"

/* The dashboard runs only its own bundled script and talks only to this
 * server: a tracked string that slipped through the escaping still could
 * not load or run anything. */
static const char dashboard_policy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

/* The opt-out page is made to be framed by the tracked sites, whichever
 * they are; it runs only its own script and loads nothing else. Framing it
 * cannot hurt a visitor: the choice it stores stays with the site that
 * frames it (see docs/tracker.md). */
static const char optout_policy[] =
    "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors *";

static int compare_path(const void *key, const void *entry)
{
    return strcmp(key, ((const struct web_asset *)entry)->path);
}

static const struct web_asset *find_asset(const char *path)
{
    return bsearch(path, web_assets, web_asset_count, sizeof *web_assets, compare_path);
}

static const char *content_type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    if (strcmp(dot, ".html") == 0) return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0) return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0) return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0) return "image/svg+xml";
    if (strcmp(dot, ".json") == 0) return "application/json";
    return "application/octet-stream";
}

/* Whether the client takes gzip: named, and not with a zero weight
 * ("gzip;q=0", "gzip;q=0.0"). */
static bool accepts_gzip(const char *accept_encoding)
{
    const char *p = strstr(accept_encoding, "gzip");
    if (!p) return false;
    p += 4;
    while (*p == ' ') p++;
    if (strncmp(p, ";q=0", 4) != 0) return true;
    p += 4;
    if (*p == '.') p += 1 + strspn(p + 1, "0");
    return *p >= '1' && *p <= '9';
}

/* Whether the query is Matomo's opt-out page (module=CoreAdminHome&action=optOut),
 * which sites that switched from Matomo still embed. */
static bool is_matomo_optout(const struct api_request *req)
{
    const char *module = track_params_get(req->query, "module");
    const char *action = track_params_get(req->query, "action");
    return module && action && strcmp(module, "CoreAdminHome") == 0 && strcmp(action, "optOut") == 0;
}

/* The asset a path names: the dashboard's page for its entry points, the
 * tracker under its own and Matomo's names, its extension, and the opt-out
 * page with its script. */
static const char *asset_path(const struct api_request *req)
{
    const char *path = req->path;
    bool entry = strcmp(path, "/") == 0 || strcmp(path, "/index.php") == 0;
    if (entry && is_matomo_optout(req)) return "/optout.html";
    if (entry) return track_params_get(req->query, "module") ? NULL : "/index.html";
    if (strcmp(path, "/optout") == 0) return "/optout.html";
    if (strcmp(path, "/matomo.js") == 0 || strcmp(path, "/piwik.js") == 0) return "/tally.js";
    static const char *const tracker_files[] = {"/tally.js", "/tally-ext.js", "/optout.js"};
    for (size_t i = 0; i < sizeof tracker_files / sizeof *tracker_files; i++)
        if (strcmp(path, tracker_files[i]) == 0) return path;
    if (strncmp(path, "/assets/", 8) == 0) return path;
    return NULL;
}

bool web_handle(const struct api_request *req, struct api_response *resp)
{
    bool reading = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    const char *path = reading ? asset_path(req) : NULL;
    if (!path) return false;
    const struct web_asset *asset = find_asset(path);
    if (!asset) {
        resp->status = 404;
        resp->content_type = "text/plain; charset=utf-8";
        buf_puts(&resp->body, "not found\n");
        return true;
    }
    resp->content_type = content_type_of(asset->path);
    /* Revalidated on every use: an upgraded binary is seen at once, and an
     * unchanged file costs a 304. */
    resp->cache_control = "no-cache";
    if (strcmp(asset->path, "/index.html") == 0) resp->content_security_policy = dashboard_policy;
    if (strcmp(asset->path, "/optout.html") == 0) resp->content_security_policy = optout_policy;
    bool gzip = accepts_gzip(req->accept_encoding);
    resp->content_encoding = gzip ? "gzip" : NULL;
    resp->etag = gzip ? asset->etag_gzipped : asset->etag;
    if (strstr(req->if_none_match, resp->etag)) {
        resp->status = 304;
        return true;
    }
    resp->status = 200;
    if (gzip)
        buf_append(&resp->body, asset->gzipped, asset->gzipped_len);
    else
        buf_append(&resp->body, asset->plain, asset->plain_len);
    return true;
}
