/* goals_api: Matomo's Goals methods that manage goal definitions: addGoal,
 * updateGoal, deleteGoal, getGoals and getGoal, with Matomo's parameters
 * and answers, so that provisioning scripts and dashboards written for
 * Matomo work unchanged. The definitions live in DATA/goals.json
 * (src/config/goals.c); conversions follow them over all the stored data
 * (index_set_goals). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Matomo's matchAttribute names beside ours; the first name of each match
 * is what answers carry. */
static const struct {
    const char *matomo;
    enum goal_match match;
} match_attributes[] = {
    {"url", GOAL_MATCH_URL},
    {"title", GOAL_MATCH_TITLE},
    {"event_category", GOAL_MATCH_EVENT_CATEGORY},
    {"event_action", GOAL_MATCH_EVENT_ACTION},
    {"event_name", GOAL_MATCH_EVENT_NAME},
    {"external_website", GOAL_MATCH_OUTLINK},
    {"file", GOAL_MATCH_DOWNLOAD},
    {"manually", GOAL_MATCH_MANUAL},
};
#define MATCH_ATTRIBUTE_COUNT (sizeof match_attributes / sizeof *match_attributes)

static const char *const methods[] = {"Goals.addGoal", "Goals.updateGoal", "Goals.deleteGoal",
                                      "Goals.getGoals", "Goals.getGoal"};

bool goals_api_serves(const char *method)
{
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(method, methods[i]) == 0) return true;
    return false;
}

static const char *matomo_match_name(enum goal_match match)
{
    for (size_t i = 0; i < MATCH_ATTRIBUTE_COUNT; i++)
        if (match_attributes[i].match == match) return match_attributes[i].matomo;
    return "";
}

/* Matomo's name, or ours (download, outlink, manual). */
static int match_attribute_parse(const char *text, enum goal_match *out)
{
    for (size_t i = 0; text && i < MATCH_ATTRIBUTE_COUNT; i++) {
        if (strcmp(text, match_attributes[i].matomo) == 0) {
            *out = match_attributes[i].match;
            return 0;
        }
    }
    return goal_match_parse(text, out);
}

/* Matomo's goal row: every value a string, as MySQL hands them over; a
 * manual goal has no pattern, pattern_type or case_sensitive. */
static void goal_json(struct buf *b, const struct goal *g)
{
    buf_printf(b, "{\"idsite\":\"%u\",\"idgoal\":\"%u\",\"name\":", g->site_id, g->id);
    buf_json_string(b, g->name);
    buf_puts(b, ",\"description\":");
    buf_json_string(b, g->description);
    buf_puts(b, ",\"match_attribute\":");
    buf_json_string(b, matomo_match_name(g->match));
    if (g->match != GOAL_MATCH_MANUAL) {
        buf_puts(b, ",\"pattern\":");
        buf_json_string(b, g->pattern);
        buf_printf(b, ",\"pattern_type\":\"%s\",\"case_sensitive\":\"%d\"",
                   goal_pattern_name(g->pattern_type), g->case_sensitive);
    }
    buf_printf(b, ",\"allow_multiple\":\"%d\",\"revenue\":\"%.15g\",\"deleted\":\"0\"}",
               g->allow_multiple, g->revenue);
}

/* "1"/"true" or "0"/"false"/"" (absent: false, Matomo's default). */
static bool bool_param(const struct track_params *p, const char *name, bool *out,
                       struct api_response *resp)
{
    const char *text = track_params_get(p, name);
    if (!text || !*text || strcmp(text, "0") == 0 || strcmp(text, "false") == 0) {
        *out = false;
        return true;
    }
    if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0) {
        *out = true;
        return true;
    }
    char msg[128];
    snprintf(msg, sizeof msg, "%s: expected 1 or 0", name);
    answer_api_error(resp, 400, msg);
    return false;
}

/* Fills draft from addGoal's and updateGoal's parameters (which are the
 * same: updateGoal replaces the whole goal, as in Matomo). The strings
 * point into p. */
static bool goal_params(const struct track_params *p, struct goal *draft, struct api_response *resp)
{
    const char *match = track_params_get(p, "matchAttribute");
    const char *type = track_params_get(p, "patternType");
    const char *revenue = track_params_get(p, "revenue");
    char msg[512];
    draft->name = (char *)track_params_get(p, "name");
    draft->description = (char *)track_params_get(p, "description");
    draft->pattern = (char *)track_params_get(p, "pattern");
    if (!match || match_attribute_parse(match, &draft->match)) {
        snprintf(msg, sizeof msg,
                 "matchAttribute: expected url, title, event_category, event_action, "
                 "event_name, file, external_website or manually, got '%.100s'",
                 match ? match : "nothing");
        answer_api_error(resp, 400, msg);
        return false;
    }
    /* Matomo clients send a pattern and its type with manual goals too;
     * Matomo ignores them, and so does Tally. */
    if (draft->match == GOAL_MATCH_MANUAL) {
        draft->pattern = NULL;
        draft->pattern_type = GOAL_PATTERN_NONE;
    } else if (!type || !*type || goal_pattern_parse(type, &draft->pattern_type)) {
        snprintf(msg, sizeof msg,
                 "patternType: expected exact, contains, starts_with, ends_with or regex, "
                 "got '%.100s'",
                 type ? type : "nothing");
        answer_api_error(resp, 400, msg);
        return false;
    }
    if (revenue && *revenue && strcmp(revenue, "false") != 0 &&
        parse_f64(revenue, &draft->revenue)) {
        snprintf(msg, sizeof msg, "revenue: expected a number such as 9.99, got '%.100s'", revenue);
        answer_api_error(resp, 400, msg);
        return false;
    }
    return bool_param(p, "caseSensitive", &draft->case_sensitive, resp) &&
           bool_param(p, "allowMultipleConversionsPerVisit", &draft->allow_multiple, resp);
}

/* Lock held, as for every method below. */
static void add_goal(struct api *api, const struct track_params *p, struct api_response *resp)
{
    struct goal draft = {0};
    if (!api_id_param(p, "idSite", false, &draft.site_id, resp) ||
        !api_allowed(api, p, draft.site_id, ACCESS_WRITE, "goals", resp) ||
        !goal_params(p, &draft, resp))
        return;
    char err[512];
    uint32_t id;
    int rc = goals_add(api->data_dir, &draft, &id, err, sizeof err);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    api_reload_config(api);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"value\":%u}", id);
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void update_goal(struct api *api, const struct track_params *p, struct api_response *resp)
{
    struct goal draft = {0};
    if (!api_id_param(p, "idSite", false, &draft.site_id, resp) ||
        !api_allowed(api, p, draft.site_id, ACCESS_WRITE, "goals", resp) ||
        !api_id_param(p, "idGoal", false, &draft.id, resp) || !goal_params(p, &draft, resp))
        return;
    char err[512];
    int rc = goals_update(api->data_dir, &draft, err, sizeof err);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    api_reload_config(api);
    api_answer_ok(resp);
}

static void delete_goal(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t site_id, goal_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_WRITE, "goals", resp) ||
        !api_id_param(p, "idGoal", false, &goal_id, resp))
        return;
    char err[512];
    int rc = goals_delete(api->data_dir, site_id, goal_id, err, sizeof err);
    if (rc) {
        api_answer_config_error(resp, rc, err);
        return;
    }
    api_reload_config(api);
    api_answer_ok(resp);
}

static void get_goals(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t site_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_VIEW, "goals", resp))
        return;
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    const struct goal *g;
    for (size_t c = 0; (g = goals_for_site(api->goals, site_id, &c));) {
        if (b.len > 1) buf_putc(&b, ',');
        goal_json(&b, g);
    }
    buf_putc(&b, ']');
    api_answer_json(resp, &b);
    buf_free(&b);
}

static void get_goal(struct api *api, const struct track_params *p, struct api_response *resp)
{
    uint32_t site_id, goal_id;
    if (!api_id_param(p, "idSite", false, &site_id, resp) ||
        !api_allowed(api, p, site_id, ACCESS_VIEW, "goals", resp) ||
        !api_id_param(p, "idGoal", false, &goal_id, resp))
        return;
    const struct goal *g = goals_find(api->goals, site_id, goal_id);
    if (!g) {
        answer_api_error(resp, 400, "idGoal: the site has no goal with this id");
        return;
    }
    struct buf b;
    buf_init(&b);
    goal_json(&b, g);
    api_answer_json(resp, &b);
    buf_free(&b);
}

void goals_api_handle(struct api *api, const struct track_params *params, const char *method,
                      struct api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    if (strcmp(method, "Goals.addGoal") == 0)
        add_goal(api, params, resp);
    else if (strcmp(method, "Goals.updateGoal") == 0)
        update_goal(api, params, resp);
    else if (strcmp(method, "Goals.deleteGoal") == 0)
        delete_goal(api, params, resp);
    else if (strcmp(method, "Goals.getGoals") == 0)
        get_goals(api, params, resp);
    else
        get_goal(api, params, resp);
    pthread_mutex_unlock(&api->lock);
}
