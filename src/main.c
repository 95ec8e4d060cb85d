/* tally: the command line. Wires the stages together; every command is one
 * entry of `commands` below with its flags, its help and its function.
 *
 * Exit status: 0 done, 1 the command failed, 2 the command line was wrong. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "base/base.h"
#include "config/config.h"
#include "enrich/enrich.h"
#include "demo.h"
#include "http/http.h"
#include "query/query.h"
#include "store/store.h"
#include "track/track.h"

#define EXIT_USAGE 2
/* The most values a repeated flag takes: a site's URLs, a funnel's steps. */
#define MAX_VALUES (SITE_MAX_URLS > FUNNEL_STEPS_MAX ? SITE_MAX_URLS : FUNNEL_STEPS_MAX)

/* ---- flags ---- */

enum opt_kind { OPT_VALUE, OPT_REPEAT, OPT_SWITCH };

struct opt {
    const char *name; /* "--data" */
    enum opt_kind kind;
    const char *arg; /* "DIR", for the help text */
    const char *help;
};

/* What the command line gave, indexed like the command's opts. */
struct args {
    const struct command *cmd;
    const char *values[16][MAX_VALUES];
    size_t count[16];
    const char *operand; /* the command's one argument without a flag, if it takes one */
};

struct command {
    const char *name; /* "site add" */
    const char *summary;
    const char *details; /* more help, or NULL */
    const struct opt *opts;
    int (*run)(const struct args *a);
    const char *operand; /* name of an argument without a flag ("QUERY"), or NULL */
};

static int opt_index(const struct command *cmd, const char *name)
{
    for (int i = 0; cmd->opts[i].name; i++)
        if (strcmp(cmd->opts[i].name, name) == 0) return i;
    return -1;
}

/* Last value given for flag name, or dflt. */
static const char *arg_get(const struct args *a, const char *name, const char *dflt)
{
    int i = opt_index(a->cmd, name);
    return i >= 0 && a->count[i] ? a->values[i][a->count[i] - 1] : dflt;
}

static bool arg_set(const struct args *a, const char *name)
{
    int i = opt_index(a->cmd, name);
    return i >= 0 && a->count[i] > 0;
}

static void print_help(FILE *f, const struct command *cmd)
{
    fprintf(f, "usage: tally %s", cmd->name);
    if (cmd->operand) fprintf(f, " %s", cmd->operand);
    for (int i = 0; cmd->opts[i].name; i++) {
        const struct opt *o = &cmd->opts[i];
        if (o->kind == OPT_SWITCH)
            fprintf(f, " [%s]", o->name);
        else
            fprintf(f, " [%s %s]%s", o->name, o->arg, o->kind == OPT_REPEAT ? "..." : "");
    }
    fprintf(f, "\n\n%s\n", cmd->summary);
    if (cmd->details) fprintf(f, "\n%s\n", cmd->details);
    fprintf(f, "\nflags:\n");
    for (int i = 0; cmd->opts[i].name; i++) {
        const struct opt *o = &cmd->opts[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->kind == OPT_SWITCH ? "" : " ",
                 o->kind == OPT_SWITCH ? "" : o->arg);
        fprintf(f, "  %-22s %s\n", left, o->help);
    }
}

static void usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void usage_error(const struct command *cmd, const char *fmt, ...)
{
    fprintf(stderr, "tally %s: ", cmd->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see `tally %s --help`)\n", cmd->name);
}

/* Fills a from argv; returns 0, 1 when help was asked for (printed), or
 * EXIT_USAGE after printing what was wrong. */
static int parse_args(const struct command *cmd, int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(stdout, cmd);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0 && cmd->operand && !a->operand) {
            a->operand = arg;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            usage_error(cmd,
                        "unexpected argument '%s'; every value follows its flag, "
                        "e.g. --data DIR",
                        arg);
            return EXIT_USAGE;
        }
        char name[64];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        snprintf(name, sizeof name, "%.*s", (int)name_len, arg);
        int idx = opt_index(cmd, name);
        if (idx < 0) {
            struct buf known;
            buf_init(&known);
            for (int k = 0; cmd->opts[k].name; k++)
                buf_printf(&known, "%s%s", k ? ", " : "", cmd->opts[k].name);
            usage_error(cmd, "unknown flag '%s'; expected one of %s", name, known.data);
            buf_free(&known);
            return EXIT_USAGE;
        }
        const struct opt *o = &cmd->opts[idx];
        if (o->kind == OPT_SWITCH) {
            if (eq) {
                usage_error(cmd, "%s takes no value", o->name);
                return EXIT_USAGE;
            }
            a->count[idx] = 1;
            continue;
        }
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            usage_error(cmd, "%s: expected a value (%s)", o->name, o->arg);
            return EXIT_USAGE;
        }
        if (o->kind == OPT_VALUE && a->count[idx]) {
            usage_error(cmd, "%s was given twice; give it once", o->name);
            return EXIT_USAGE;
        }
        if (a->count[idx] == MAX_VALUES) {
            usage_error(cmd, "%s: at most %d times", o->name, MAX_VALUES);
            return EXIT_USAGE;
        }
        a->values[idx][a->count[idx]++] = value;
    }
    return 0;
}

/* ---- shared helpers ---- */

static const char *data_dir(const struct args *a)
{
    return arg_get(a, "--data", "./data");
}

static int parse_site_flag(const struct args *a, uint32_t *out)
{
    const char *s = arg_get(a, "--site", NULL);
    int64_t v;
    if (!s) {
        usage_error(a->cmd, "--site is required: the site id (`tally site list` shows them)");
        return EXIT_USAGE;
    }
    if (parse_i64(s, 1, UINT32_MAX, &v)) {
        usage_error(a->cmd, "--site: expected a site id (a positive integer), got '%s'", s);
        return EXIT_USAGE;
    }
    *out = (uint32_t)v;
    return 0;
}

static int load_site(const struct args *a, uint32_t id, struct sites **sites,
                     const struct site **site)
{
    char err[512];
    if (sites_load(data_dir(a), sites, err, sizeof err)) {
        fprintf(stderr, "tally %s: %s\n", a->cmd->name, err);
        return 1;
    }
    *site = sites_find(*sites, id);
    if (!*site) {
        fprintf(stderr,
                "tally %s: no site with id %u in %s; `tally site list --data %s` "
                "shows the sites\n",
                a->cmd->name, id, data_dir(a), data_dir(a));
        sites_free(*sites);
        *sites = NULL;
        return 1;
    }
    return 0;
}

/* --from/--to as local days of the site's zone. Absent flags take the
 * given defaults. */
static int parse_day_range(const struct args *a, int64_t dflt_from, int64_t dflt_to, int64_t *from,
                           int64_t *to)
{
    const char *f = arg_get(a, "--from", NULL), *t = arg_get(a, "--to", NULL);
    *from = dflt_from;
    *to = dflt_to;
    if (f && parse_date(f, from)) {
        usage_error(a->cmd, "--from: expected a date YYYY-MM-DD, got '%s'", f);
        return EXIT_USAGE;
    }
    if (t && parse_date(t, to)) {
        usage_error(a->cmd, "--to: expected a date YYYY-MM-DD, got '%s'", t);
        return EXIT_USAGE;
    }
    if (*from > *to) {
        usage_error(a->cmd, "--from must not be after --to");
        return EXIT_USAGE;
    }
    return 0;
}

static int open_store_read_only(const struct args *a, struct store **store)
{
    char err[512];
    struct store_options so = {
        .data_dir = data_dir(a), .fsync = STORE_FSYNC_NEVER, .read_only = true};
    int rc = store_open(&so, store, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tally %s: cannot open the store in %s: %s\n", a->cmd->name, data_dir(a),
                err);
        return 1;
    }
    return 0;
}

/* ---- serve ---- */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int cmd_serve(const struct args *a)
{
    const char *listen = arg_get(a, "--listen", "127.0.0.1:8080");
    const char *fsync_text = arg_get(a, "--fsync", "interval");
    const char *grace_text = arg_get(a, "--seal-grace", "600");
    struct api_options opts = {.data_dir = data_dir(a)};
    if (store_fsync_parse(fsync_text, &opts.fsync)) {
        usage_error(a->cmd, "--fsync: expected always, interval or never, got '%s'", fsync_text);
        return EXIT_USAGE;
    }
    int64_t grace;
    if (parse_i64(grace_text, 0, 7 * 86400, &grace)) {
        usage_error(a->cmd, "--seal-grace: expected seconds from 0 to 604800, got '%s'",
                    grace_text);
        return EXIT_USAGE;
    }
    opts.seal_grace_ms = grace * 1000;
    opts.geoip_path = arg_get(a, "--geoip", NULL);
    opts.assets_dir = arg_get(a, "--assets", NULL);
    opts.secure_cookies = arg_set(a, "--secure-cookies");

    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A full file-size limit must be an error to answer (503), not death. */
    signal(SIGXFSZ, SIG_IGN);

    char err[512];
    struct api *api;
    if (api_create(&opts, &api, err, sizeof err)) {
        log_error("cannot start: %s", err);
        return 1;
    }
    struct http_server *http;
    int rc = http_start(listen, api, &http, err, sizeof err);
    if (rc) {
        api_destroy(api);
        /* -EINVAL: the address itself is malformed, a usage error. */
        if (rc == -EINVAL) {
            usage_error(a->cmd, "%s", err);
            return EXIT_USAGE;
        }
        log_error("cannot start: %s", err);
        return 1;
    }
    log_info("tally serving http://%s (data %s, fsync %s); restored %" PRIu64 " hits", listen,
             opts.data_dir, fsync_text, api_restored_hits(api));
    /* Maintenance runs at once (days that closed while the server was down
     * are sealed now), then once a second. */
    while (!stop_requested) {
        api_maintain(api, now_ms());
        /* A signal cuts the sleep short, so shutdown starts at once. */
        struct timespec one_second = {.tv_sec = 1};
        nanosleep(&one_second, NULL);
    }
    log_info("stopping: closing HTTP, syncing the log");
    http_stop(http);
    api_destroy(api);
    log_info("stopped");
    return 0;
}

/* ---- site ---- */

static int cmd_site_add(const struct args *a)
{
    struct site draft = {0};
    draft.name = (char *)arg_get(a, "--name", NULL);
    if (!draft.name) {
        usage_error(a->cmd, "--name is required, e.g. --name \"My shop\"");
        return EXIT_USAGE;
    }
    int ui = opt_index(a->cmd, "--url");
    for (size_t i = 0; i < a->count[ui]; i++)
        draft.urls[draft.url_count++] = (char *)a->values[ui][i];
    draft.timezone = (char *)arg_get(a, "--timezone", "UTC");
    draft.currency = (char *)arg_get(a, "--currency", "USD");
    const char *v4 = arg_get(a, "--ipv4-mask-bytes", "2"), *v6 = arg_get(a, "--ipv6-mask-bits", "80");
    const char *dnt = arg_get(a, "--dnt", "honour");
    int64_t bytes, bits;
    if (parse_i64(v4, 0, 255, &bytes) || parse_i64(v6, 0, 255, &bits)) {
        usage_error(a->cmd, "--ipv4-mask-bytes and --ipv6-mask-bits take a number, got '%s' and "
                            "'%s'", v4, v6);
        return EXIT_USAGE;
    }
    draft.ipv4_mask_bytes = (uint8_t)bytes;
    draft.ipv6_mask_bits = (uint8_t)bits;
    if (strcmp(dnt, "honour") && strcmp(dnt, "ignore")) {
        usage_error(a->cmd, "--dnt: expected honour or ignore, got '%s'", dnt);
        return EXIT_USAGE;
    }
    draft.honour_dnt = strcmp(dnt, "honour") == 0;
    draft.anonymous_view = arg_set(a, "--anonymous-view");
    int xi = opt_index(a->cmd, "--exclude-param");
    for (size_t i = 0; i < a->count[xi]; i++)
        draft.excluded_params[draft.excluded_param_count++] = (char *)a->values[xi][i];
    char err[512];
    uint32_t id;
    int rc = sites_add(data_dir(a), &draft, &id, err, sizeof err);
    if (rc == -EINVAL) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally site add: %s\n", err);
        return 1;
    }
    printf("%u\n", id);
    return 0;
}

static int cmd_site_list(const struct args *a)
{
    char err[512];
    struct sites *sites;
    if (sites_load(data_dir(a), &sites, err, sizeof err)) {
        fprintf(stderr, "tally site list: %s\n", err);
        return 1;
    }
    struct buf b;
    buf_init(&b);
    if (arg_set(a, "--json")) {
        buf_putc(&b, '[');
        for (size_t i = 0; i < sites->count; i++) {
            const struct site *s = &sites->items[i];
            buf_printf(&b, "%s{\"id\":%u,\"name\":", i ? "," : "", s->id);
            buf_json_string(&b, s->name);
            buf_puts(&b, ",\"urls\":[");
            for (size_t u = 0; u < s->url_count; u++) {
                if (u) buf_putc(&b, ',');
                buf_json_string(&b, s->urls[u]);
            }
            buf_puts(&b, "],\"timezone\":");
            buf_json_string(&b, s->timezone);
            buf_puts(&b, ",\"currency\":");
            buf_json_string(&b, s->currency);
            buf_printf(&b,
                       ",\"honour_dnt\":%s,\"ipv4_mask_bytes\":%u,\"ipv6_mask_bits\":%u,"
                       "\"anonymous_view\":%s}",
                       s->honour_dnt ? "true" : "false", s->ipv4_mask_bytes, s->ipv6_mask_bits,
                       s->anonymous_view ? "true" : "false");
        }
        buf_puts(&b, "]\n");
    } else if (sites->count == 0) {
        buf_printf(&b,
                   "no sites yet; add one with `tally site add --data %s --name NAME --url "
                   "https://example.com`\n",
                   data_dir(a));
    } else {
        buf_printf(&b, "%-4s %-24s %-20s %-8s %s\n", "ID", "NAME", "TIMEZONE", "CURRENCY", "URLS");
        for (size_t i = 0; i < sites->count; i++) {
            const struct site *s = &sites->items[i];
            buf_printf(&b, "%-4u %-24s %-20s %-8s ", s->id, s->name, s->timezone, s->currency);
            for (size_t u = 0; u < s->url_count; u++)
                buf_printf(&b, "%s%s", u ? " " : "", s->urls[u]);
            buf_putc(&b, '\n');
        }
    }
    fputs(b.data, stdout);
    buf_free(&b);
    sites_free(sites);
    return 0;
}

/* ---- goal ---- */

/* --match and --type take hyphens (event-category, starts-with); the
 * config names have underscores. */
static void hyphens_to_underscores(const char *in, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", in);
    for (char *p = out; *p; p++)
        if (*p == '-') *p = '_';
}

static int cmd_goal_add(const struct args *a)
{
    struct goal draft = {0};
    int rc = parse_site_flag(a, &draft.site_id);
    if (rc) return rc;
    draft.name = (char *)arg_get(a, "--name", NULL);
    if (!draft.name) {
        usage_error(a->cmd, "--name is required, e.g. --name \"Signed up\"");
        return EXIT_USAGE;
    }
    draft.description = (char *)arg_get(a, "--description", "");
    const char *match = arg_get(a, "--match", NULL), *type = arg_get(a, "--type", NULL);
    char name[32];
    hyphens_to_underscores(match ? match : "", name, sizeof name);
    if (!match || goal_match_parse(name, &draft.match)) {
        usage_error(a->cmd,
                    "--match: expected url, title, event-category, event-action, event-name, "
                    "outlink, download or manual, got '%s'",
                    match ? match : "nothing");
        return EXIT_USAGE;
    }
    hyphens_to_underscores(type ? type : "", name, sizeof name);
    if (type && (!*type || goal_pattern_parse(name, &draft.pattern_type))) {
        usage_error(a->cmd,
                    "--type: expected exact, contains, starts-with, ends-with or regex, got '%s'",
                    type);
        return EXIT_USAGE;
    }
    draft.pattern = (char *)arg_get(a, "--pattern", NULL);
    draft.case_sensitive = arg_set(a, "--case-sensitive");
    draft.allow_multiple = arg_set(a, "--multiple");
    const char *revenue = arg_get(a, "--revenue", NULL);
    if (revenue && parse_f64(revenue, &draft.revenue)) {
        usage_error(a->cmd, "--revenue: expected a number such as 9.99, got '%s'", revenue);
        return EXIT_USAGE;
    }
    char err[512];
    uint32_t id;
    /* A bad definition is the command line's fault (2); a bad goals.json is not. */
    if (goal_validate(&draft, err, sizeof err)) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    rc = goals_add(data_dir(a), &draft, &id, err, sizeof err);
    if (rc == -ENOENT) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally goal add: %s\n", err);
        return 1;
    }
    printf("%u\n", id);
    return 0;
}

static int cmd_goal_list(const struct args *a)
{
    uint32_t site_id;
    int rc = parse_site_flag(a, &site_id);
    if (rc) return rc;
    char err[512];
    struct goals *goals;
    if (goals_load(data_dir(a), &goals, err, sizeof err)) {
        fprintf(stderr, "tally goal list: %s\n", err);
        return 1;
    }
    bool json = arg_set(a, "--json");
    struct buf b;
    buf_init(&b);
    const struct goal *g;
    size_t c = 0;
    if (json)
        buf_putc(&b, '[');
    else if (!goals_for_site(goals, site_id, &c))
        buf_printf(&b,
                   "site %u has no goals; add one with `tally goal add --data %s --site %u "
                   "--name NAME --match url --type contains --pattern /thanks`\n",
                   site_id, data_dir(a), site_id);
    else
        buf_printf(&b, "%-4s %-24s %-15s %-11s %-8s %-8s %s\n", "ID", "NAME", "MATCH", "TYPE",
                   "REVENUE", "MULTIPLE", "PATTERN");
    for (c = 0; (g = goals_for_site(goals, site_id, &c));) {
        if (json) {
            buf_printf(&b, "%s{\"id\":%u,\"site_id\":%u,\"name\":", b.len > 1 ? "," : "", g->id,
                       g->site_id);
            buf_json_string(&b, g->name);
            buf_puts(&b, ",\"description\":");
            buf_json_string(&b, g->description);
            buf_printf(&b, ",\"match\":\"%s\",\"pattern_type\":\"%s\",\"pattern\":",
                       goal_match_name(g->match), goal_pattern_name(g->pattern_type));
            buf_json_string(&b, g->pattern);
            buf_printf(&b, ",\"case_sensitive\":%s,\"allow_multiple\":%s,\"revenue\":%.15g}",
                       g->case_sensitive ? "true" : "false", g->allow_multiple ? "true" : "false",
                       g->revenue);
            continue;
        }
        buf_printf(&b, "%-4u %-24s %-15s %-11s %-8.15g %-8s %s%s\n", g->id, g->name,
                   goal_match_name(g->match), goal_pattern_name(g->pattern_type), g->revenue,
                   g->allow_multiple ? "yes" : "no", g->pattern,
                   g->case_sensitive ? " (case-sensitive)" : "");
    }
    if (json) buf_puts(&b, "]\n");
    fputs(b.data, stdout);
    buf_free(&b);
    goals_free(goals);
    return 0;
}

static int cmd_goal_delete(const struct args *a)
{
    uint32_t site_id;
    int rc = parse_site_flag(a, &site_id);
    if (rc) return rc;
    const char *id_text = arg_get(a, "--id", NULL);
    int64_t id;
    if (!id_text || parse_i64(id_text, 1, UINT32_MAX, &id)) {
        usage_error(a->cmd, "--id: expected the goal's id (`tally goal list` shows them), got '%s'",
                    id_text ? id_text : "nothing");
        return EXIT_USAGE;
    }
    char err[512];
    rc = goals_delete(data_dir(a), site_id, (uint32_t)id, err, sizeof err);
    if (rc == -ENOENT) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally goal delete: %s\n", err);
        return 1;
    }
    printf("deleted goal %u of site %u\n", (uint32_t)id, site_id);
    return 0;
}

/* ---- funnel ---- */

/* One --step 'NAME|MATCH|TYPE|PATTERN[|required][|case-sensitive]' into
 * *step (heap strings). The pattern is everything between TYPE and the
 * trailing flags, so a regex may hold '|'. 0, or EXIT_USAGE after saying
 * what was wrong. */
static int parse_step(const struct args *a, size_t index, const char *text,
                      struct funnel_step *step)
{
    char *copy = strdup(text);
    if (!copy) abort();
    char *fields[3];
    char *rest = copy;
    for (int i = 0; i < 3; i++) {
        char *bar = strchr(rest, '|');
        if (!bar) {
            usage_error(a->cmd,
                        "--step %zu: expected 'NAME|MATCH|TYPE|PATTERN[|required]"
                        "[|case-sensitive]', e.g. 'Cart|path|starts-with|/cart|required', got '%s'",
                        index + 1, text);
            free(copy);
            return EXIT_USAGE;
        }
        *bar = '\0';
        fields[i] = rest;
        rest = bar + 1;
    }
    /* Trailing flags, in either order. */
    for (;;) {
        char *bar = strrchr(rest, '|');
        if (!bar) break;
        if (strcmp(bar + 1, "required") == 0)
            step->required = true;
        else if (strcmp(bar + 1, "case-sensitive") == 0 || strcmp(bar + 1, "case_sensitive") == 0)
            step->case_sensitive = true;
        else
            break;
        *bar = '\0';
    }
    char name[32];
    hyphens_to_underscores(fields[1], name, sizeof name);
    if (funnel_match_parse(name, &step->match)) {
        usage_error(a->cmd,
                    "--step %zu: MATCH is url, path, title, event-category, event-action, "
                    "event-name, site-search or goal, got '%s'",
                    index + 1, fields[1]);
        free(copy);
        return EXIT_USAGE;
    }
    hyphens_to_underscores(fields[2], name, sizeof name);
    if (step->match == FUNNEL_MATCH_GOAL && !*name) snprintf(name, sizeof name, "exact");
    if (goal_pattern_parse(name, &step->pattern_type) || !*name) {
        usage_error(a->cmd,
                    "--step %zu: TYPE is exact, contains, starts-with, ends-with or regex, got '%s'",
                    index + 1, fields[2]);
        free(copy);
        return EXIT_USAGE;
    }
    step->name = strdup(fields[0]);
    step->pattern = strdup(rest);
    if (!step->name || !step->pattern) abort();
    free(copy);
    return 0;
}

static int cmd_funnel_add(const struct args *a)
{
    struct funnel draft = {0};
    int rc = parse_site_flag(a, &draft.site_id);
    if (rc) return rc;
    const char *name = arg_get(a, "--name", NULL);
    if (!name) {
        usage_error(a->cmd, "--name is required, e.g. --name Checkout");
        return EXIT_USAGE;
    }
    const char *goal = arg_get(a, "--goal", NULL);
    int64_t goal_id = 0;
    if (goal && parse_i64(goal, 0, UINT32_MAX, &goal_id)) {
        usage_error(a->cmd, "--goal: expected a goal id (`tally goal list` shows them), got '%s'",
                    goal);
        return EXIT_USAGE;
    }
    draft.goal_id = (uint32_t)goal_id;
    int steps = opt_index(a->cmd, "--step");
    if (!a->count[steps]) {
        usage_error(a->cmd, "give the steps in order, 1 to %d of them: --step "
                    "'NAME|MATCH|TYPE|PATTERN[|required][|case-sensitive]'", FUNNEL_STEPS_MAX);
        return EXIT_USAGE;
    }
    draft.name = strdup(name);
    if (!draft.name) abort();
    for (size_t i = 0; !rc && i < a->count[steps]; i++) {
        rc = parse_step(a, i, a->values[steps][i], &draft.steps[i]);
        draft.step_count = i + 1;
    }
    char err[512];
    struct goals *goals = NULL;
    uint32_t id;
    /* A bad definition is the command line's fault (2); a bad file is not. */
    if (!rc && goals_load(data_dir(a), &goals, err, sizeof err)) {
        fprintf(stderr, "tally funnel add: %s\n", err);
        rc = 1;
    } else if (!rc && funnel_validate(&draft, goals, err, sizeof err)) {
        usage_error(a->cmd, "%s", err);
        rc = EXIT_USAGE;
    } else if (!rc && (rc = funnels_add(data_dir(a), &draft, &id, err, sizeof err))) {
        if (rc == -ENOENT) usage_error(a->cmd, "%s", err);
        else fprintf(stderr, "tally funnel add: %s\n", err);
        rc = rc == -ENOENT ? EXIT_USAGE : 1;
    } else if (!rc) {
        printf("%u\n", id);
    }
    goals_free(goals);
    funnel_clear(&draft);
    return rc;
}

static int cmd_funnel_list(const struct args *a)
{
    uint32_t site_id;
    int rc = parse_site_flag(a, &site_id);
    if (rc) return rc;
    char err[512];
    struct funnels *funnels;
    if (funnels_load(data_dir(a), &funnels, err, sizeof err)) {
        fprintf(stderr, "tally funnel list: %s\n", err);
        return 1;
    }
    bool json = arg_set(a, "--json");
    struct buf b;
    buf_init(&b);
    const struct funnel *f;
    size_t c = 0;
    if (json)
        buf_putc(&b, '[');
    else if (!funnels_for_site(funnels, site_id, &c))
        buf_printf(&b,
                   "site %u has no funnels; add one with `tally funnel add --data %s --site %u "
                   "--name NAME --step 'Cart|path|starts-with|/cart' --step "
                   "'Paid|path|exact|/thanks'`\n",
                   site_id, data_dir(a), site_id);
    for (c = 0; (f = funnels_for_site(funnels, site_id, &c));) {
        if (json) {
            buf_printf(&b, "%s{\"id\":%u,\"site_id\":%u,\"name\":", b.len > 1 ? "," : "", f->id,
                       f->site_id);
            buf_json_string(&b, f->name);
            buf_printf(&b, ",\"goal_id\":%u,\"steps\":[", f->goal_id);
            for (size_t i = 0; i < f->step_count; i++) {
                const struct funnel_step *s = &f->steps[i];
                buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
                buf_json_string(&b, s->name);
                buf_printf(&b, ",\"match\":\"%s\",\"pattern_type\":\"%s\",\"pattern\":",
                           funnel_match_name(s->match), goal_pattern_name(s->pattern_type));
                buf_json_string(&b, s->pattern);
                buf_printf(&b, ",\"case_sensitive\":%s,\"required\":%s}",
                           s->case_sensitive ? "true" : "false", s->required ? "true" : "false");
            }
            buf_puts(&b, "]}");
            continue;
        }
        buf_printf(&b, "%u %s", f->id, f->name);
        if (f->goal_id) buf_printf(&b, " (goal %u)", f->goal_id);
        buf_putc(&b, '\n');
        for (size_t i = 0; i < f->step_count; i++) {
            const struct funnel_step *s = &f->steps[i];
            buf_printf(&b, "  %2zu. %-24s %-14s %-11s %s%s%s\n", i + 1, s->name,
                       funnel_match_name(s->match), goal_pattern_name(s->pattern_type),
                       s->pattern, s->required ? " (required)" : "",
                       s->case_sensitive ? " (case-sensitive)" : "");
        }
    }
    if (json) buf_puts(&b, "]\n");
    fputs(b.data, stdout);
    buf_free(&b);
    funnels_free(funnels);
    return 0;
}

static int cmd_funnel_delete(const struct args *a)
{
    uint32_t site_id;
    int rc = parse_site_flag(a, &site_id);
    if (rc) return rc;
    const char *id_text = arg_get(a, "--id", NULL);
    int64_t id;
    if (!id_text || parse_i64(id_text, 1, UINT32_MAX, &id)) {
        usage_error(a->cmd,
                    "--id: expected the funnel's id (`tally funnel list` shows them), got '%s'",
                    id_text ? id_text : "nothing");
        return EXIT_USAGE;
    }
    char err[512];
    rc = funnels_delete(data_dir(a), site_id, (uint32_t)id, err, sizeof err);
    if (rc == -ENOENT) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally funnel delete: %s\n", err);
        return 1;
    }
    printf("deleted funnel %u of site %u\n", (uint32_t)id, site_id);
    return 0;
}

/* ---- user ---- */

static int require_user_name(const struct args *a)
{
    if (a->operand) return 0;
    usage_error(a->cmd, "give the user's name, e.g. tally %s --data DIR alice", a->cmd->name);
    return EXIT_USAGE;
}

/* Reads one line of stdin into out without its line end. With a prompt (a
 * terminal), the prompt goes to stderr and the typing is not echoed.
 * Returns 0, -ENODATA at end of input, or -E2BIG for a line too long. */
static int read_secret_line(const char *prompt, char *out, size_t outlen)
{
    struct termios saved;
    bool quiet = prompt && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (quiet) {
        struct termios no_echo = saved;
        no_echo.c_lflag &= ~(tcflag_t)ECHO;
        fputs(prompt, stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &no_echo);
    }
    bool got = fgets(out, (int)outlen, stdin) != NULL;
    if (quiet) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (!got) return -ENODATA;
    size_t len = strlen(out);
    if (len && out[len - 1] == '\n')
        out[--len] = '\0';
    else if (!feof(stdin))
        return -E2BIG;
    if (len && out[len - 1] == '\r') out[--len] = '\0';
    return 0;
}

/* The new user's password: one line of stdin, so scripts can pipe it in;
 * on a terminal it is asked for twice, unseen. */
static int read_new_password(const struct args *a, char *out, size_t outlen)
{
    bool tty = isatty(STDIN_FILENO);
    char again[USER_PASSWORD_MAX + 2];
    int rc = read_secret_line(tty ? "password: " : NULL, out, outlen);
    if (!rc && tty) {
        rc = read_secret_line("password again: ", again, sizeof again);
        if (!rc && strcmp(out, again) != 0) {
            fprintf(stderr, "tally %s: the two passwords differ; nothing was changed\n",
                    a->cmd->name);
            rc = -EINVAL;
        }
        explicit_bzero(again, sizeof again);
    } else if (rc == -ENODATA) {
        fprintf(stderr,
                "tally %s: no password on stdin; type it on a terminal or pipe one line in, "
                "e.g. printf '%%s\\n' \"$PASSWORD\" | tally %s --data DIR NAME\n",
                a->cmd->name, a->cmd->name);
    } else if (rc == -E2BIG) {
        fprintf(stderr, "tally %s: the password is longer than %d bytes\n", a->cmd->name,
                USER_PASSWORD_MAX);
    }
    return rc;
}

static int cmd_user_add(const struct args *a)
{
    int rc = require_user_name(a);
    if (rc) return rc;
    char password[USER_PASSWORD_MAX + 2], err[512];
    rc = read_new_password(a, password, sizeof password);
    if (rc) {
        explicit_bzero(password, sizeof password);
        return EXIT_USAGE;
    }
    rc = users_add(data_dir(a), a->operand, password, arg_set(a, "--superuser"), err, sizeof err);
    explicit_bzero(password, sizeof password);
    if (rc == -EINVAL) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally user add: %s\n", err);
        return 1;
    }
    printf("added user %s%s\n", a->operand, arg_set(a, "--superuser") ? " (superuser)" : "");
    return 0;
}

static int cmd_user_grant(const struct args *a)
{
    uint32_t site_id;
    int rc = require_user_name(a);
    if (!rc) rc = parse_site_flag(a, &site_id);
    if (rc) return rc;
    const char *text = arg_get(a, "--access", NULL);
    enum access access;
    if (!text || access_parse(text, &access)) {
        usage_error(a->cmd, "--access: expected view, write, admin or none, got '%s'",
                    text ? text : "nothing");
        return EXIT_USAGE;
    }
    char err[512];
    rc = users_grant(data_dir(a), a->operand, site_id, access, err, sizeof err);
    if (rc == -EINVAL || rc == -ENOENT) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally user grant: %s\n", err);
        return 1;
    }
    printf("%s has %s access to site %u\n", a->operand, access_name(access), site_id);
    return 0;
}

static int cmd_user_list(const struct args *a)
{
    char err[512];
    struct users *users;
    if (users_load(data_dir(a), &users, err, sizeof err)) {
        fprintf(stderr, "tally user list: %s\n", err);
        return 1;
    }
    bool json = arg_set(a, "--json");
    struct buf b;
    buf_init(&b);
    if (json)
        buf_putc(&b, '[');
    else if (users->count == 0)
        buf_printf(&b, "no users yet; add one with `tally user add --data %s NAME`\n",
                   data_dir(a));
    else
        buf_printf(&b, "%-24s %-9s %s\n", "NAME", "SUPERUSER", "ACCESS");
    for (size_t i = 0; i < users->count; i++) {
        const struct user *u = &users->items[i];
        if (json) {
            buf_printf(&b, "%s{\"name\":", i ? "," : "");
            buf_json_string(&b, u->name);
            buf_printf(&b, ",\"superuser\":%s,\"access\":{", u->superuser ? "true" : "false");
            for (size_t g = 0; g < u->grant_count; g++)
                buf_printf(&b, "%s\"%u\":\"%s\"", g ? "," : "", u->grants[g].site_id,
                           access_name(u->grants[g].access));
            buf_puts(&b, "}}");
            continue;
        }
        buf_printf(&b, "%-24s %-9s ", u->name, u->superuser ? "yes" : "no");
        if (u->superuser) buf_puts(&b, "every site");
        for (size_t g = 0; !u->superuser && g < u->grant_count; g++)
            buf_printf(&b, "%s%u:%s", g ? " " : "", u->grants[g].site_id,
                       access_name(u->grants[g].access));
        buf_putc(&b, '\n');
    }
    if (json) buf_puts(&b, "]\n");
    fputs(b.data, stdout);
    buf_free(&b);
    users_free(users);
    return 0;
}

/* ---- token ---- */

static int cmd_token_create(const struct args *a)
{
    const char *user = arg_get(a, "--user", NULL);
    if (!user == !arg_set(a, "--site")) {
        usage_error(a->cmd, "give either --user NAME (a token acting as that user) or --site N "
                            "(write access to one site)");
        return EXIT_USAGE;
    }
    struct token_draft draft = {.user = user, .description = arg_get(a, "--description", NULL)};
    int rc = user ? 0 : parse_site_flag(a, &draft.site_id);
    if (rc) return rc;
    char token[33], err[512];
    if (token_expiry_parse(arg_get(a, "--expires", NULL), NULL, now_ms(), &draft.expires_ms, err,
                           sizeof err)) {
        usage_error(a->cmd, "--expires: %s", err);
        return EXIT_USAGE;
    }
    rc = tokens_create(data_dir(a), &draft, token, NULL, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tally token create: %s\n", err);
        return rc == -ENOENT || rc == -EINVAL ? EXIT_USAGE : 1;
    }
    /* The token alone, for scripts; `tally token list` shows its id. */
    printf("%s\n", token);
    return 0;
}

/* "YYYY-MM-DD HH:MM" (UTC) or dflt when ms is 0. */
static const char *time_text(int64_t ms, const char *dflt, char out[20])
{
    if (!ms) return dflt;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M", &tm);
    return out;
}

static int cmd_token_list(const struct args *a)
{
    const char *user = arg_get(a, "--user", NULL);
    char err[512];
    struct tokens *tokens;
    if (tokens_load(data_dir(a), &tokens, err, sizeof err)) {
        fprintf(stderr, "tally token list: %s\n", err);
        return 1;
    }
    bool json = arg_set(a, "--json");
    struct buf b;
    buf_init(&b);
    buf_puts(&b, json ? "[" : "");
    struct token_info t;
    size_t shown = 0;
    for (size_t cursor = 0; tokens_next(tokens, &cursor, &t);) {
        if (user && (!t.user || strcmp(t.user, user) != 0)) continue;
        char owner[96], created[20], expires[20];
        if (t.user) snprintf(owner, sizeof owner, "user %s", t.user);
        else snprintf(owner, sizeof owner, "site %u", t.site_id);
        if (json) {
            buf_printf(&b, "%s{\"id\":%u,", shown ? "," : "", t.id);
            if (t.user) {
                buf_puts(&b, "\"user\":");
                buf_json_string(&b, t.user);
            } else {
                buf_printf(&b, "\"site\":%u", t.site_id);
            }
            buf_puts(&b, ",\"description\":");
            buf_json_string(&b, t.description);
            buf_printf(&b, ",\"created_ms\":%" PRId64 ",\"expires_ms\":%" PRId64 "}",
                       t.created_ms, t.expires_ms);
        } else {
            if (!shown)
                buf_printf(&b, "%-5s %-26s %-16s %-16s %s\n", "ID", "OWNER", "CREATED (UTC)",
                           "EXPIRES (UTC)", "DESCRIPTION");
            buf_printf(&b, "%-5u %-26s %-16s %-16s %s\n", t.id, owner,
                       time_text(t.created_ms, "-", created),
                       time_text(t.expires_ms, "never", expires), t.description);
        }
        shown++;
    }
    if (json) buf_puts(&b, "]\n");
    else if (!shown)
        buf_printf(&b, "no tokens%s%s; make one with `tally token create --data %s --user NAME`\n",
                   user ? " of " : "", user ? user : "", data_dir(a));
    fputs(b.data, stdout);
    buf_free(&b);
    tokens_free(tokens);
    return 0;
}

static int cmd_token_delete(const struct args *a)
{
    const char *id_text = arg_get(a, "--id", NULL);
    int64_t id;
    if (!id_text || parse_i64(id_text, 1, UINT32_MAX, &id)) {
        usage_error(a->cmd, "--id: expected the token's id (`tally token list` shows them), got '%s'",
                    id_text ? id_text : "nothing");
        return EXIT_USAGE;
    }
    char err[512];
    int rc = tokens_delete(data_dir(a), (uint32_t)id, NULL, err, sizeof err);
    if (rc == -ENOENT) {
        usage_error(a->cmd, "%s", err);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tally token delete: %s\n", err);
        return 1;
    }
    printf("deleted token %u\n", (uint32_t)id);
    return 0;
}

/* ---- check ---- */

static int cmd_check(const struct args *a)
{
    int rc = store_check(data_dir(a), arg_set(a, "--quarantine"), stdout);
    if (rc < 0) {
        fprintf(stderr, "tally check: cannot check %s: %s\n", data_dir(a), strerror(-rc));
        return 1;
    }
    if (rc > 0) {
        printf("%d problem(s) found in %s%s\n", rc, data_dir(a),
               arg_set(a, "--quarantine") ? "; corrupt files were moved to quarantine/"
                                          : "; run with --quarantine to move corrupt files aside");
        return 1;
    }
    printf("ok: every checksum in %s matches\n", data_dir(a));
    return 0;
}

/* ---- stats ---- */

static int cmd_stats(const struct args *a)
{
    uint32_t id;
    int rc = parse_site_flag(a, &id);
    if (rc) return rc;
    struct sites *sites;
    const struct site *site;
    if (load_site(a, id, &sites, &site)) return 1;
    struct tz *tz;
    if (tz_load(site->timezone, &tz)) {
        fprintf(stderr, "tally stats: cannot load the time zone %s\n", site->timezone);
        sites_free(sites);
        return 1;
    }
    int64_t today = tz_local_day(tz, now_ms());
    tz_free(tz);
    int64_t from, to;
    rc = parse_day_range(a, today, today, &from, &to);
    if (!rc && to - from >= 3660) {
        usage_error(a->cmd, "--from/--to: at most 3660 days at once");
        rc = EXIT_USAGE;
    }
    struct store *store = NULL;
    if (!rc) rc = open_store_read_only(a, &store);
    struct day_stats *days = NULL;
    if (!rc) {
        days = calloc((size_t)(to - from + 1), sizeof *days);
        if (!days) abort();
        int qrc = query_daily_stats(store, site, from, to, days);
        if (qrc) {
            fprintf(stderr, "tally stats: %s\n", strerror(-qrc));
            rc = 1;
        }
    }
    if (!rc) {
        struct buf b;
        buf_init(&b);
        bool json = arg_set(a, "--json");
        if (json)
            buf_printf(&b, "{\"site\":%u,\"days\":[", site->id);
        else
            buf_printf(&b, "%-10s %8s %15s %9s %8s %8s\n", "date", "visits", "unique_visitors",
                       "pageviews", "actions", "bots");
        for (int64_t d = from; d <= to; d++) {
            const struct day_stats *s = &days[d - from];
            char date[11];
            format_date(d, date);
            if (json)
                buf_printf(&b,
                           "%s{\"date\":\"%s\",\"visits\":%" PRIu64 ",\"unique_visitors\":%" PRIu64
                           ",\"pageviews\":%" PRIu64 ",\"actions\":%" PRIu64 ",\"bots\":%" PRIu64
                           "}",
                           d > from ? "," : "", date, s->visits, s->unique_visitors, s->pageviews,
                           s->actions, s->bots);
            else
                buf_printf(&b,
                           "%-10s %8" PRIu64 " %15" PRIu64 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
                           date, s->visits, s->unique_visitors, s->pageviews, s->actions, s->bots);
        }
        if (json) buf_puts(&b, "]}\n");
        fputs(b.data, stdout);
        buf_free(&b);
    }
    free(days);
    store_close(store);
    sites_free(sites);
    return rc;
}

/* ---- hits and visits: JSON lines ---- */

static void json_key(struct buf *b, const char *name, bool *first)
{
    buf_puts(b, *first ? "{" : ",");
    *first = false;
    buf_json_string(b, name);
    buf_putc(b, ':');
}

static void json_u64(struct buf *b, const char *name, uint64_t v, bool *first)
{
    json_key(b, name, first);
    buf_printf(b, "%" PRIu64, v);
}

static void json_i64(struct buf *b, const char *name, int64_t v, bool *first)
{
    json_key(b, name, first);
    buf_printf(b, "%" PRId64, v);
}

static void json_f64(struct buf *b, const char *name, double v, bool *first)
{
    json_key(b, name, first);
    if (isnan(v))
        buf_puts(b, "null");
    else
        buf_printf(b, "%.17g", v);
}

static void json_str(struct buf *b, const char *name, const char *v, bool *first)
{
    json_key(b, name, first);
    buf_json_string(b, v ? v : "");
}

#define HIT_JSON_U8(b, name, v, first) hit_json_small(b, name, v, first)
#define HIT_JSON_U16(b, name, v, first) json_u64(b, name, v, first)
#define HIT_JSON_U32(b, name, v, first) json_u64(b, name, v, first)
#define HIT_JSON_U64(b, name, v, first) hit_json_u64(b, name, v, first)
#define HIT_JSON_I32(b, name, v, first) json_i64(b, name, v, first)
#define HIT_JSON_I64(b, name, v, first) json_i64(b, name, v, first)
#define HIT_JSON_F64(b, name, v, first) json_f64(b, name, v, first)
#define HIT_JSON_STR(b, name, v, first) json_str(b, name, v, first)

/* A visitor id is a 64-bit hash: shown as 16 hex digits (Matomo's visitorId
 * form), since JSON readers lose precision on integers past 2^53. */
static void json_visitor_id(struct buf *b, const char *name, uint64_t v, bool *first)
{
    json_key(b, name, first);
    buf_printf(b, "\"%016" PRIx64 "\"", v);
}

static void hit_json_u64(struct buf *b, const char *name, uint64_t v, bool *first)
{
    if (strcmp(name, "visitor_id") == 0)
        json_visitor_id(b, name, v, first);
    else
        json_u64(b, name, v, first);
}

/* U8 fields are numbers, except kind, which is shown by its name. */
static void hit_json_small(struct buf *b, const char *name, uint8_t v, bool *first)
{
    if (strcmp(name, "kind") == 0)
        json_str(b, name, hit_kind_name(v), first);
    else
        json_u64(b, name, v, first);
}

static int print_hit(const struct hit *hit, void *arg)
{
    struct buf *b = arg;
    bool first = true;
#define HIT_TO_JSON(type, name) HIT_JSON_##type(b, #name, hit->name, &first);
    HIT_FIELDS(HIT_TO_JSON)
#undef HIT_TO_JSON
    buf_puts(b, "}\n");
    /* Flush now and then: an export of millions of hits streams. */
    if (b->len > (1u << 20)) {
        fwrite(b->data, 1, b->len, stdout);
        buf_reset(b);
    }
    return 0;
}

static int print_visit(const struct visit *v, void *arg)
{
    struct buf *b = arg;
    bool first = true;
    json_u64(b, "visit_id", v->visit_id, &first);
    json_visitor_id(b, "visitor_id", v->visitor_id, &first);
    json_i64(b, "first_ms", v->first_ms, &first);
    json_i64(b, "last_ms", v->last_ms, &first);
    json_u64(b, "hits", v->hits, &first);
    json_u64(b, "actions", v->actions, &first);
    json_u64(b, "pageviews", v->pageviews, &first);
    json_str(b, "entry_url", v->entry_url, &first);
    json_str(b, "exit_url", v->exit_url, &first);
    json_key(b, "returning", &first);
    buf_puts(b, v->returning ? "true" : "false");
    json_u64(b, "visit_count", v->visit_count, &first);
    json_i64(b, "days_since_last_visit", v->days_since_last_visit, &first);
    json_u64(b, "referrer_type", v->referrer_type, &first);
    json_str(b, "referrer_name", v->referrer_name, &first);
    json_str(b, "referrer_url", v->referrer_url, &first);
    json_str(b, "campaign_name", v->campaign_name, &first);
    json_str(b, "campaign_source", v->campaign_source, &first);
    json_str(b, "campaign_medium", v->campaign_medium, &first);
    json_str(b, "campaign_keyword", v->campaign_keyword, &first);
    json_key(b, "converted", &first);
    buf_puts(b, v->converted ? "true" : "false");
    json_key(b, "ordered", &first);
    buf_puts(b, v->ordered ? "true" : "false");
    json_f64(b, "revenue", v->revenue, &first);
    buf_puts(b, "}\n");
    if (b->len > (1u << 20)) {
        fwrite(b->data, 1, b->len, stdout);
        buf_reset(b);
    }
    return 0;
}

/* hits and visits share everything but the printer. */
static int dump(const struct args *a, bool visits)
{
    uint32_t id;
    int rc = parse_site_flag(a, &id);
    if (rc) return rc;
    struct sites *sites;
    const struct site *site;
    if (load_site(a, id, &sites, &site)) return 1;
    /* Without --from/--to: everything. Bounded, not INT64_MIN/MAX, because
     * the visit query looks a day past its end. */
    int64_t from_day, to_day, from_ms = 0, to_ms = (int64_t)1 << 52;
    rc = parse_day_range(a, INT64_MIN, INT64_MAX, &from_day, &to_day);
    struct tz *tz = NULL;
    if (!rc && tz_load(site->timezone, &tz)) {
        fprintf(stderr, "tally %s: cannot load the time zone %s\n", a->cmd->name, site->timezone);
        rc = 1;
    }
    if (!rc) {
        if (from_day != INT64_MIN) from_ms = tz_day_start_ms(tz, from_day);
        if (to_day != INT64_MAX) to_ms = tz_day_start_ms(tz, to_day + 1);
    }
    tz_free(tz);
    struct store *store = NULL;
    if (!rc) rc = open_store_read_only(a, &store);
    if (!rc) {
        struct buf b;
        buf_init(&b);
        int srun = visits ? query_visits(store, id, from_ms, to_ms, print_visit, &b)
                          : store_scan(store, id, from_ms, to_ms, print_hit, &b);
        if (b.len) fwrite(b.data, 1, b.len, stdout);
        buf_free(&b);
        if (srun) {
            fprintf(stderr, "tally %s: reading the store failed: %s\n", a->cmd->name,
                    strerror(-srun));
            rc = 1;
        }
    }
    store_close(store);
    sites_free(sites);
    return rc;
}

/* ---- demo ---- */

static int cmd_demo(const struct args *a)
{
    uint32_t id;
    int rc = parse_site_flag(a, &id);
    if (rc) return rc;
    const char *visits_text = arg_get(a, "--visits", "2000"), *days_text = arg_get(a, "--days", "30");
    const char *seed_text = arg_get(a, "--seed", "1");
    int64_t visits, days, seed;
    if (parse_i64(visits_text, 1, 10000000, &visits)) {
        usage_error(a->cmd, "--visits: expected a number of visits from 1 to 10000000, got '%s'",
                    visits_text);
        return EXIT_USAGE;
    }
    if (parse_i64(days_text, 1, 3650, &days)) {
        usage_error(a->cmd, "--days: expected a number of days from 1 to 3650, got '%s'", days_text);
        return EXIT_USAGE;
    }
    if (parse_i64(seed_text, 0, INT64_MAX, &seed)) {
        usage_error(a->cmd, "--seed: expected a non-negative integer, got '%s'", seed_text);
        return EXIT_USAGE;
    }
    struct sites *sites;
    const struct site *site;
    if (load_site(a, id, &sites, &site)) return 1;
    char err[512];
    struct api_options opts = {.data_dir = data_dir(a), .fsync = STORE_FSYNC_NEVER,
                               .seal_grace_ms = 600000};
    struct api *api;
    if (demo_goals(data_dir(a), id, err, sizeof err) || demo_funnel(data_dir(a), id, err, sizeof err) ||
        api_create(&opts, &api, err, sizeof err)) {
        fprintf(stderr, "tally demo: %s\n", err);
        sites_free(sites);
        return 1;
    }
    struct demo_options demo = {.visits = (unsigned)visits, .days = (unsigned)days,
                                .seed = (uint64_t)seed};
    struct demo_result result;
    rc = demo_run(api, site, &demo, &result, err, sizeof err);
    /* Sealing the past days now makes the first report read segments. */
    api_maintain(api, now_ms());
    api_destroy(api);
    if (rc) {
        fprintf(stderr, "tally demo: %s\n", err);
    } else {
        printf("site %u: %" PRIu64 " hits stored for %" PRId64 " visits over %" PRId64
               " days\n", id, result.hits_stored, visits, days);
        if (result.hits_refused) {
            fprintf(stderr, "tally demo: %" PRIu64 " generated hits were refused (a bug)\n",
                    result.hits_refused);
            rc = 1;
        }
    }
    sites_free(sites);
    return rc ? 1 : 0;
}

static int cmd_hits(const struct args *a)
{
    return dump(a, false);
}
static int cmd_visits(const struct args *a)
{
    return dump(a, true);
}

/* ---- inspect ---- */

static void json_str_array(struct buf *b, const char *const *items, size_t n)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(b, ',');
        buf_json_string(b, items[i]);
    }
    buf_putc(b, ']');
}

static void json_object_end(struct buf *b, bool *first)
{
    if (*first) buf_putc(b, '{');
    buf_putc(b, '}');
}

/* Headers given as "Name: value" fill the matching context field. */
static int inspect_header(const struct args *a, const char *line, struct track_context *ctx)
{
    static const struct {
        const char *name;
        size_t offset;
    } known[] = {
        {"Accept-Language", offsetof(struct track_context, accept_language)},
        {"User-Agent", offsetof(struct track_context, user_agent)},
        {"Sec-CH-UA", offsetof(struct track_context, sec_ch_ua)},
        {"Sec-CH-UA-Mobile", offsetof(struct track_context, sec_ch_ua_mobile)},
        {"Sec-CH-UA-Platform", offsetof(struct track_context, sec_ch_ua_platform)},
        {"Sec-CH-UA-Platform-Version", offsetof(struct track_context, sec_ch_ua_platform_version)},
        {"Sec-CH-UA-Model", offsetof(struct track_context, sec_ch_ua_model)},
    };
    const char *colon = strchr(line, ':');
    if (colon) {
        const char *value = colon + 1;
        while (*value == ' ') value++;
        size_t len = (size_t)(colon - line);
        if (len == 3 && strncasecmp(line, "DNT", 3) == 0) {
            ctx->do_not_track |= strcmp(value, "1") == 0;
            return 0;
        }
        if (len == 7 && strncasecmp(line, "Sec-GPC", 7) == 0) {
            ctx->do_not_track |= strcmp(value, "1") == 0;
            return 0;
        }
        for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
            if (strlen(known[i].name) == len && strncasecmp(line, known[i].name, len) == 0) {
                *(const char **)((char *)ctx + known[i].offset) = value;
                return 0;
            }
        }
    }
    usage_error(a->cmd,
                "--header '%s': expected 'Name: value' with Name one of Accept-Language, "
                "User-Agent, DNT, Sec-GPC, Sec-CH-UA, Sec-CH-UA-Mobile, Sec-CH-UA-Platform, "
                "Sec-CH-UA-Platform-Version, Sec-CH-UA-Model",
                line);
    return EXIT_USAGE;
}

/* Everything the pipeline derives from one hit, without storing it. */
static int cmd_inspect(const struct args *a)
{
    if (!a->operand) {
        usage_error(a->cmd, "give the hit's parameters, e.g. 'idsite=1&rec=1&url=https://...'");
        return EXIT_USAGE;
    }
    struct track_context ctx = {
        .ip = arg_get(a, "--ip", "127.0.0.1"),
        .user_agent = arg_get(a, "--ua", ""),
        .accept_language = "", .sec_ch_ua = "", .sec_ch_ua_mobile = "",
        .sec_ch_ua_platform = "", .sec_ch_ua_platform_version = "", .sec_ch_ua_model = "",
        .now_ms = now_ms(), .token_auth = "",
        /* The operator is at the keyboard: cdt and cip need no token. */
        .trusted = true,
    };
    int hi = opt_index(a->cmd, "--header");
    for (size_t i = 0; i < a->count[hi]; i++) {
        int rc = inspect_header(a, a->values[hi][i], &ctx);
        if (rc) return rc;
    }
    char err[512];
    struct sites *sites;
    if (sites_load(data_dir(a), &sites, err, sizeof err)) {
        fprintf(stderr, "tally inspect: %s\n", err);
        return 1;
    }
    struct enrich_options eo = {.assets_dir = arg_get(a, "--assets", TALLY_ASSETS_DIR),
                                .geoip_path = arg_get(a, "--geoip", NULL)};
    struct enrich *enrich = NULL;
    struct arena arena;
    arena_init(&arena, 16u << 20);
    struct track_params params;
    track_params_init(&params, &arena);
    struct track_request req;
    struct buf b;
    buf_init(&b);
    bool first = true;
    int rc = enrich_create(&eo, &enrich, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tally inspect: %s\n", err);
        rc = 1;
    } else if (track_params_parse_query(&params, a->operand, strlen(a->operand), err,
                                        sizeof err) ||
               track_parse(&params, &ctx, sites, NULL, NULL, &arena, &req, err, sizeof err)) {
        json_key(&b, "valid", &first);
        buf_puts(&b, "false");
        json_str(&b, "error", err, &first);
        rc = 1;
    } else {
        enrich_hit(enrich, &req, &arena);
        const struct hit *h = &req.hit;
        json_key(&b, "valid", &first);
        buf_puts(&b, "true");
        json_str(&b, "kind", hit_kind_name(h->kind), &first);
        json_key(&b, "dropped_for_privacy", &first);
        buf_puts(&b, req.dropped_for_privacy ? "true" : "false");
        json_str(&b, "url", h->url, &first);
        const char *levels[ENRICH_MAX_LEVELS];
        size_t n = enrich_path_levels(h->url, &arena, levels, ENRICH_MAX_LEVELS);
        json_key(&b, "path_levels", &first);
        json_str_array(&b, levels, n);
        n = enrich_title_levels(h->action_name, &arena, levels, ENRICH_MAX_LEVELS);
        json_key(&b, "title_levels", &first);
        json_str_array(&b, levels, n);
        json_key(&b, "screen", &first);
        if (h->screen_width)
            buf_printf(&b, "\"%ux%u\"", h->screen_width, h->screen_height);
        else
            buf_puts(&b, "\"\"");
        json_str(&b, "screen_bucket", enrich_resolution_bucket(h->screen_width), &first);
        json_str(&b, "ip_anon", h->ip_anon, &first);
        bool sub = true;
        json_key(&b, "device", &first);
        json_str(&b, "browser", h->browser, &sub);
        json_str(&b, "browser_version", h->browser_version, &sub);
        json_str(&b, "engine", h->browser_engine, &sub);
        json_str(&b, "os", h->os, &sub);
        json_str(&b, "os_version", h->os_version, &sub);
        json_str(&b, "type", h->device_type, &sub);
        json_str(&b, "brand", h->device_brand, &sub);
        json_str(&b, "model", h->device_model, &sub);
        json_object_end(&b, &sub);
        sub = true;
        json_key(&b, "bot", &first);
        json_key(&b, "detected", &sub);
        buf_puts(&b, req.bot ? "true" : "false");
        json_str(&b, "name", req.bot_name, &sub);
        json_key(&b, "recorded", &sub);
        buf_puts(&b, !req.bot || (h->flags & HIT_FLAG_BOT) ? "true" : "false");
        json_object_end(&b, &sub);
        sub = true;
        json_key(&b, "location", &first);
        json_str(&b, "country_code", h->country_code, &sub);
        json_str(&b, "region_code", h->region_code, &sub);
        json_str(&b, "city", h->city, &sub);
        json_str(&b, "continent_code", h->continent_code, &sub);
        json_object_end(&b, &sub);
        json_str(&b, "language", h->language, &first);
        json_str(&b, "locale", h->locale, &first);
        sub = true;
        json_key(&b, "channel", &first);
        json_str(&b, "type", referrer_type_name(h->referrer_type), &sub);
        json_str(&b, "name", h->referrer_name, &sub);
        json_str(&b, "keyword", h->referrer_keyword, &sub);
        json_str(&b, "url", h->referrer_url, &sub);
        json_object_end(&b, &sub);
        sub = true;
        json_key(&b, "campaign", &first);
        json_str(&b, "name", h->campaign_name, &sub);
        json_str(&b, "keyword", h->campaign_keyword, &sub);
        json_str(&b, "source", h->campaign_source, &sub);
        json_str(&b, "medium", h->campaign_medium, &sub);
        json_str(&b, "content", h->campaign_content, &sub);
        json_str(&b, "id", h->campaign_id, &sub);
        json_str(&b, "group", h->campaign_group, &sub);
        json_str(&b, "placement", h->campaign_placement, &sub);
        json_object_end(&b, &sub);
    }
    if (b.len) {
        json_object_end(&b, &first);
        buf_putc(&b, '\n');
        fputs(b.data, stdout);
    }
    buf_free(&b);
    enrich_destroy(enrich);
    arena_free(&arena);
    sites_free(sites);
    return rc;
}

/* ---- the command table ----
 * One entry per command; `help` lists them in this order. To add a command
 * (e.g. `demo`), add its flags array and one entry here. */

#define OPT_DATA                                                                                   \
    {                                                                                              \
        "--data", OPT_VALUE, "DIR", "data folder (default ./data)"                                 \
    }
#define OPT_END                                                                                    \
    {                                                                                              \
        NULL, OPT_VALUE, NULL, NULL                                                                \
    }
#define OPT_GEOIP                                                                                  \
    {"--geoip", OPT_VALUE, "FILE", "MaxMind-format database (default: the bundled country one)"}
#define OPT_ASSETS                                                                                 \
    {"--assets", OPT_VALUE, "DIR", "where the npm data lives (default: the build's node_modules)"}

static const struct opt serve_opts[] = {
    OPT_DATA,
    {"--listen", OPT_VALUE, "ADDR", "HOST:PORT to listen on (default 127.0.0.1:8080)"},
    {"--fsync", OPT_VALUE, "POLICY", "always, interval (default) or never"},
    {"--seal-grace", OPT_VALUE, "SECONDS", "seal a UTC day this long after it ends (default 600)"},
    {"--secure-cookies", OPT_SWITCH, NULL, "the dashboard's session cookie is Secure (behind TLS)"},
    OPT_GEOIP,
    OPT_ASSETS,
    OPT_END,
};
static const struct opt site_add_opts[] = {
    OPT_DATA,
    {"--name", OPT_VALUE, "NAME", "the site's name (required)"},
    {"--url", OPT_REPEAT, "URL", "http(s)://host[:port][/path]; repeat for aliases (one required)"},
    {"--timezone", OPT_VALUE, "ZONE", "IANA time zone for reports (default UTC)"},
    {"--currency", OPT_VALUE, "CODE", "ISO 4217 currency (default USD)"},
    {"--ipv4-mask-bytes", OPT_VALUE, "N", "IPv4 bytes zeroed before storing, 1-4 (default 2)"},
    {"--ipv6-mask-bits", OPT_VALUE, "N", "IPv6 bits zeroed before storing, 64-128 (default 80)"},
    {"--dnt", OPT_VALUE, "POLICY", "honour (default: DNT/Sec-GPC hits are dropped) or ignore"},
    {"--exclude-param", OPT_REPEAT, "NAME", "a query parameter removed from stored page URLs"},
    {"--anonymous-view", OPT_SWITCH, NULL, "anyone may read its reports without a token"},
    OPT_END,
};
static const struct opt site_list_opts[] = {
    OPT_DATA,
    {"--json", OPT_SWITCH, NULL, "print a JSON array instead of a table"},
    OPT_END,
};
static const struct opt goal_add_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--name", OPT_VALUE, "NAME", "the goal's name (required)"},
    {"--match", OPT_VALUE, "WHAT", "url, title, event-category, event-action, event-name, outlink, download or manual (required)"},
    {"--type", OPT_VALUE, "TYPE", "exact, contains, starts-with, ends-with or regex (not for manual)"},
    {"--pattern", OPT_VALUE, "P", "what the match is compared with (not for manual)"},
    {"--case-sensitive", OPT_SWITCH, NULL, "compare case-sensitively (default: ignore case)"},
    {"--multiple", OPT_SWITCH, NULL, "convert on every match (default: once per visit)"},
    {"--revenue", OPT_VALUE, "X", "default revenue of a conversion (default 0)"},
    {"--description", OPT_VALUE, "TEXT", "a note for the people who read the reports"},
    OPT_END,
};
static const struct opt goal_list_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--json", OPT_SWITCH, NULL, "print a JSON array instead of a table"},
    OPT_END,
};
static const struct opt goal_delete_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--id", OPT_VALUE, "G", "the goal (required); its id is never given again"},
    OPT_END,
};
static const struct opt funnel_add_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--name", OPT_VALUE, "NAME", "the funnel's name (required)"},
    {"--goal", OPT_VALUE, "ID", "the goal the funnel leads to (default: none)"},
    {"--step", OPT_REPEAT, "STEP", "NAME|MATCH|TYPE|PATTERN[|required][|case-sensitive], in order (1 to 20)"},
    OPT_END,
};
static const struct opt funnel_list_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--json", OPT_SWITCH, NULL, "print a JSON array instead of a table"},
    OPT_END,
};
static const struct opt funnel_delete_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--id", OPT_VALUE, "F", "the funnel (required); its id is never given again"},
    OPT_END,
};
static const struct opt user_add_opts[] = {
    OPT_DATA,
    {"--superuser", OPT_SWITCH, NULL, "every access to every site, now and later"},
    OPT_END,
};
static const struct opt user_grant_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "the site (required)"},
    {"--access", OPT_VALUE, "LEVEL", "view, write, admin, or none to revoke (required)"},
    OPT_END,
};
static const struct opt user_list_opts[] = {
    OPT_DATA,
    {"--json", OPT_SWITCH, NULL, "print a JSON array instead of a table"},
    OPT_END,
};
static const struct opt token_create_opts[] = {
    OPT_DATA,
    {"--user", OPT_VALUE, "NAME", "the token acts as this user, with the user's access"},
    {"--site", OPT_VALUE, "N", "or: the token has write access to this one site"},
    {"--description", OPT_VALUE, "TEXT", "what the token is for (at most 100 characters)"},
    {"--expires", OPT_VALUE, "WHEN", "YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS' (UTC); default never"},
    OPT_END,
};
static const struct opt token_list_opts[] = {
    OPT_DATA,
    {"--user", OPT_VALUE, "NAME", "only the tokens acting as this user"},
    {"--json", OPT_SWITCH, NULL, "print a JSON array instead of a table"},
    OPT_END,
};
static const struct opt token_delete_opts[] = {
    OPT_DATA,
    {"--id", OPT_VALUE, "N", "the token (required); it stops working at once, also in a running server"},
    OPT_END,
};
static const struct opt check_opts[] = {
    OPT_DATA,
    {"--quarantine", OPT_SWITCH, NULL, "move corrupt files to DATA/quarantine/"},
    OPT_END,
};
static const struct opt stats_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "site id (required)"},
    {"--from", OPT_VALUE, "YYYY-MM-DD", "first local day (default today)"},
    {"--to", OPT_VALUE, "YYYY-MM-DD", "last local day (default today)"},
    {"--json", OPT_SWITCH, NULL, "print JSON instead of a table"},
    OPT_END,
};
static const struct opt hits_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "site id (required)"},
    {"--from", OPT_VALUE, "YYYY-MM-DD", "first local day (default: from the start)"},
    {"--to", OPT_VALUE, "YYYY-MM-DD", "last local day (default: to the end)"},
    {"--json", OPT_SWITCH, NULL, "JSON lines (the only format; accepted for clarity)"},
    OPT_END,
};
static const struct opt visits_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "site id (required)"},
    {"--from", OPT_VALUE, "YYYY-MM-DD", "visits starting from this local day"},
    {"--to", OPT_VALUE, "YYYY-MM-DD", "up to this local day"},
    OPT_END,
};
static const struct opt demo_opts[] = {
    OPT_DATA,
    {"--site", OPT_VALUE, "N", "site id (required)"},
    {"--visits", OPT_VALUE, "V", "number of visits to generate (default 2000)"},
    {"--days", OPT_VALUE, "D", "spread over the last D days, ending now (default 30)"},
    {"--seed", OPT_VALUE, "S", "random seed; the same seed gives the same traffic (default 1)"},
    OPT_END,
};
static const struct opt inspect_opts[] = {
    OPT_DATA,
    {"--ua", OPT_VALUE, "UA", "the User-Agent header (or use ua= in the query)"},
    {"--ip", OPT_VALUE, "IP", "the visitor's address (default 127.0.0.1); only derived values are shown"},
    {"--header", OPT_REPEAT, "'NAME: VALUE'", "a request header: Accept-Language, DNT, Sec-GPC, Sec-CH-UA-*"},
    OPT_GEOIP,
    OPT_ASSETS,
    OPT_END,
};
static const struct opt help_opts[] = {OPT_END};

static const struct command commands[] = {
    {"serve", "Runs the tracking server until SIGINT or SIGTERM.",
     "Tracking endpoints: /matomo.php, /piwik.php and /tally (Matomo's HTTP tracking API).\n"
     "fsync always: nothing acknowledged is lost on power failure; interval: at most one\n"
     "second; never: the OS decides (tests). A killed process never loses acknowledged hits.",
     serve_opts, cmd_serve, NULL},
    {"site add", "Adds a site and prints its id.",
     "e.g. tally site add --name \"My shop\" --url https://shop.example.com "
     "--timezone Europe/Paris --currency EUR",
     site_add_opts, cmd_site_add, NULL},
    {"site list", "Lists the sites.", NULL, site_list_opts, cmd_site_list, NULL},
    {"goal add", "Adds a goal to a site and prints its id.",
     "e.g. tally goal add --site 1 --name \"Signed up\" --match url --type contains "
     "--pattern /welcome\n"
     "     tally goal add --site 1 --name Newsletter --match event-action --type exact "
     "--pattern subscribe --revenue 2\n"
     "Goals are definitions: conversions are found when reports are asked for, so a new goal\n"
     "also counts in the data already stored (docs/goals.md).",
     goal_add_opts, cmd_goal_add, NULL},
    {"goal list", "Lists a site's goals.", NULL, goal_list_opts, cmd_goal_list, NULL},
    {"goal delete", "Deletes a goal of a site.", NULL, goal_delete_opts, cmd_goal_delete, NULL},
    {"funnel add", "Adds a funnel to a site and prints its id.",
     "e.g. tally funnel add --site 1 --name Checkout --goal 2 \\\n"
     "       --step 'Cart|path|starts-with|/cart|required' \\\n"
     "       --step 'Address|title|contains|Shipping' --step 'Paid|goal|exact|2|required'\n"
     "MATCH: url, path, title, event-category, event-action, event-name, site-search or goal\n"
     "(PATTERN is then the goal's id). A regex PATTERN may hold '|' (docs/funnels.md).",
     funnel_add_opts, cmd_funnel_add, NULL},
    {"funnel list", "Lists a site's funnels and their steps.", NULL, funnel_list_opts,
     cmd_funnel_list, NULL},
    {"funnel delete", "Deletes a funnel of a site.", NULL, funnel_delete_opts, cmd_funnel_delete,
     NULL},
    {"user add", "Adds a user; the password is read from stdin (one line).",
     "On a terminal the password is asked for twice and not shown; otherwise pipe it in:\n"
     "  printf '%s\\n' \"$PASSWORD\" | tally user add --data DIR alice\n"
     "At least 8 characters. Only an Argon2id hash is kept (docs/access.md).",
     user_add_opts, cmd_user_add, "NAME"},
    {"user grant", "Sets a user's access to a site: view, write, admin, or none.",
     "view reads reports; write also sends cdt/cip with a token; admin also manages the site.",
     user_grant_opts, cmd_user_grant, "NAME"},
    {"user list", "Lists the users and their access.", NULL, user_list_opts, cmd_user_list, NULL},
    {"token create", "Creates an API token and prints it (only its hash is kept).",
     "--user NAME: the token acts as the user (reports via token_auth, and cdt/cip where the\n"
     "user has write access). --site N: write access to that one site (bulk imports, SDKs).",
     token_create_opts, cmd_token_create, NULL},
    {"token list", "Lists the API tokens: id, owner, dates and description, never the token.",
     "A user's tokens are also listed by UsersManager.getTokens, which adds when each was last\n"
     "used (the server keeps that in memory only).",
     token_list_opts, cmd_token_list, NULL},
    {"token delete", "Deletes an API token by its id.", NULL, token_delete_opts, cmd_token_delete,
     NULL},
    {"check", "Verifies every checksum of the store; exits 1 when a problem is found.", NULL,
     check_opts, cmd_check, NULL},
    {"stats", "Prints visits, unique visitors, pageviews and actions per local day.",
     "Days are in the site's time zone. Safe to run while the server runs.", stats_opts, cmd_stats, NULL},
    {"hits", "Prints every stored hit of a site, one JSON object per line.",
     "Every field of the hit is printed; use it for data-subject exports and checks.", hits_opts,
     cmd_hits, NULL},
    {"visits", "Prints the visits of a site, one JSON object per line.", NULL, visits_opts,
     cmd_visits, NULL},
    {"inspect", "Prints, as JSON, everything the pipeline derives from one hit; stores nothing.",
     "e.g. tally inspect 'idsite=1&rec=1&url=https://shop.example.com/?utm_campaign=x"
     "&urlref=https://www.google.com/' --ua 'Mozilla/5.0 ...' --ip 203.0.113.9 "
     "--header 'Accept-Language: de-AT'",
     inspect_opts, cmd_inspect, "QUERY"},
    {"demo", "Feeds realistic traffic for a site through the real pipeline.",
     "Multi-page visits from varied devices, countries, referrers and campaigns, with events,\n"
     "site searches, downloads, outlinks, goals, carts, orders and returning visitors.\n"
     "Stop the server first: one process writes a data folder at a time.",
     demo_opts, cmd_demo, NULL},
    /* run is NULL: main handles help, whose arguments are command words. */
    {"help", "Explains the commands: tally help [COMMAND].", NULL, help_opts, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static void print_overview(FILE *f)
{
    fprintf(f, "tally: privacy-first web analytics, Matomo-compatible tracking\n\n"
               "usage: tally COMMAND [flags]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-14s %s\n", c->name, c->summary);
    fprintf(f, "\nEvery command takes --data DIR (default ./data). "
               "`tally COMMAND --help` explains one.\n");
}

/* Finds the command named by argv[0] (and argv[1] for two-word names);
 * *used says how many words it took. */
static const struct command *find_command(int argc, char **argv, int *used)
{
    for (const struct command *c = commands; c->name; c++) {
        const char *space = strchr(c->name, ' ');
        if (!space) {
            if (strcmp(argv[0], c->name) == 0) {
                *used = 1;
                return c;
            }
            continue;
        }
        size_t first_len = (size_t)(space - c->name);
        if (strlen(argv[0]) == first_len && strncmp(argv[0], c->name, first_len) == 0 && argc > 1 &&
            strcmp(argv[1], space + 1) == 0) {
            *used = 2;
            return c;
        }
    }
    return NULL;
}

/* Says what is wrong with an unknown command: a group without its second
 * word ("site"), or nothing like it. */
static void unknown_command(int argc, char **argv)
{
    struct buf group;
    buf_init(&group);
    for (const struct command *c = commands; c->name; c++) {
        const char *space = strchr(c->name, ' ');
        if (space && strlen(argv[0]) == (size_t)(space - c->name) &&
            strncmp(argv[0], c->name, (size_t)(space - c->name)) == 0)
            buf_printf(&group, "%s'%s'", group.len ? ", " : "", c->name);
    }
    if (group.len)
        fprintf(stderr, "tally: '%s%s%s' is not a command; expected one of %s\n", argv[0],
                argc > 1 ? " " : "", argc > 1 ? argv[1] : "", group.data);
    else
        fprintf(stderr, "tally: unknown command '%s'; `tally help` lists the commands\n", argv[0]);
    buf_free(&group);
}

static int cmd_help(int help_args_count, char **help_args)
{
    if (help_args_count == 0) {
        print_overview(stdout);
        return 0;
    }
    int used;
    const struct command *c = find_command(help_args_count, help_args, &used);
    if (!c || used != help_args_count) {
        unknown_command(help_args_count, help_args);
        return EXIT_USAGE;
    }
    print_help(stdout, c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_overview(stdout);
        return 0;
    }
    int used;
    const struct command *cmd = find_command(argc - 1, argv + 1, &used);
    if (!cmd) {
        unknown_command(argc - 1, argv + 1);
        return EXIT_USAGE;
    }
    if (!cmd->run) return cmd_help(argc - 1 - used, argv + 1 + used);
    struct args a;
    int rc = parse_args(cmd, argc - 1 - used, argv + 1 + used, &a);
    if (rc == 1) return 0;
    if (rc) return rc;
    return cmd->run(&a);
}
