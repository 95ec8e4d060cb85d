/* funnels_api: Tally's own Funnels methods that manage funnel definitions:
 * addFunnel, updateFunnel, deleteFunnel, getFunnels and getFunnel. Matomo's
 * paid Funnels plugin ties every funnel to a goal (setGoalFunnel,
 * getGoalFunnel...); Tally's funnels stand alone, optionally tied to a goal,
 * so the methods and their answers are Tally's (docs/funnels.md). The
 * definitions live in DATA/funnels.json (src/config/funnels.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const methods[] = {"Funnels.addFunnel", "Funnels.updateFunnel",
                                      "Funnels.deleteFunnel", "Funnels.getFunnels",
                                      "Funnels.getFunnel"};

bool funnels_api_serves(const char *method)
{
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(method, methods[i]) == 0) return true;
    return false;
}

/* A funnel as answers carry it: numbers and booleans as JSON has them
 * (this is Tally's own API, not a Matomo one with MySQL strings). */
static void funnel_json(struct buf *b, const struct funnel *f)
{
    buf_printf(b, "{\"idsite\":%u,\"idfunnel\":%u,\"name\":", f->site_id, f->id);
    buf_json_string(b, f->name);
    buf_printf(b, ",\"idgoal\":%u,\"steps\":[", f->goal_id);
    for (size_t i = 0; i < f->step_count; i++) {
        const struct funnel_step *s = &f->steps[i];
        buf_printf(b, "%s{\"position\":%zu,\"name\":", i ? "," : "", i + 1);
        buf_json_string(b, s->name);
        buf_printf(b, ",\"match\":\"%s\",\"pattern_type\":\"%s\",\"pattern\":",
                   funnel_match_name(s->match), goal_pattern_name(s->pattern_type));
        buf_json_string(b, s->pattern);
        buf_printf(b, ",\"case_sensitive\":%s,\"required\":%s}",
                   s->case_sensitive ? "true" : "false", s->required ? "true" : "false");
    }
    buf_puts(b, "]}");
}

/* addFunnel and updateFunnel: the whole funnel from the parameters (an
 * update replaces every field, as updateGoal does). Lock held, as for
 * every method below. */
static void save_funnel(struct api *api, const struct track_params *p, bool update,
                        struct api_response *resp)
{
    struct funnel draft = {0};
    if (!api_id_param(p, "idSite", false, &draft.site_id, resp) ||
        !api_allowed(api, p, draft.site_id, ACCESS_WRITE, "funnels", resp) ||
        (update && !api_id_param(p, "idFunnel", false, &draft.id, resp)) ||
        !api_id_param(p, "idGoal", true, &draft.goal_id, resp))
        return;
    char err[512];
    int rc = funnel_steps_parse(track_params_get(p, "steps"), &draft, err, sizeof err);
    if (rc) {
        funnel_clear(&draft);
        answer_api_error(resp, 400, err);
        return;
    }
    const char *name = track_params_get(p, "name");
    draft.name = strdup(name ? name : "");
    if (!draft.name) abort();
    uint32_t id = 0;
    rc = update ? funnels_update(api->data_dir, &draft, err, sizeof err)
                : funnels_add(api->data_dir, &draft, &id, err, sizeof err);
    funnel_clear(&draft);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    api_reload_config(api);
    if (update) {
        api_answer_ok(resp);
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"value\":%u}", id);
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void delete_funnel(struct api *api, const struct track_params *p,
                          struct api_response *resp)
{
    uint32_t site_id, funnel_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_WRITE, "funnels", resp) ||
        !api_id_param(p, "idFunnel", false, &funnel_id, resp))
        return;
    char err[512];
    int rc = funnels_delete(api->data_dir, site_id, funnel_id, err, sizeof err);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    api_reload_config(api);
    api_answer_ok(resp);
}

static void get_funnels(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t site_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_VIEW, "funnels", resp))
        return;
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    const struct funnel *f;
    for (size_t c = 0; (f = funnels_for_site(api->funnels, site_id, &c));) {
        if (b.len > 1) buf_putc(&b, ',');
        funnel_json(&b, f);
    }
    buf_putc(&b, ']');
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void get_funnel(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t site_id, funnel_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_VIEW, "funnels", resp) ||
        !api_id_param(p, "idFunnel", false, &funnel_id, resp))
        return;
    const struct funnel *f = funnels_find(api->funnels, site_id, funnel_id);
    if (!f) {
        answer_api_error(resp, 400,
                         "idFunnel: the site has no funnel with this id; Funnels.getFunnels "
                         "lists its funnels");
        return;
    }
    struct buf b;
    buf_init(&b);
    funnel_json(&b, f);
    api_answer_json(resp, &b);
    buf_free(&b);
}

void funnels_api_handle(struct api *api, const struct track_params *params, const char *method,
                        struct api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    if (strcmp(method, "Funnels.addFunnel") == 0)
        save_funnel(api, params, false, resp);
    else if (strcmp(method, "Funnels.updateFunnel") == 0)
        save_funnel(api, params, true, resp);
    else if (strcmp(method, "Funnels.deleteFunnel") == 0)
        delete_funnel(api, params, resp);
    else if (strcmp(method, "Funnels.getFunnels") == 0)
        get_funnels(api, params, resp);
    else
        get_funnel(api, params, resp);
    pthread_mutex_unlock(&api->lock);
}
