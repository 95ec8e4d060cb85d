/* Goal definitions as a user meets them: `tally goal add/list/delete`
 * through the real CLI, and Matomo's Goals.addGoal/updateGoal/deleteGoal/
 * getGoals/getGoal on a real server, which must refuse writes without write
 * access (401), refuse bad definitions with a reason (400), never give a
 * deleted goal's id again, and pick up a CLI change while serving. */
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

#define PASSWORD "correct horse battery staple"
#define API "/index.php?module=API&format=json&method=Goals."

static char dir[256];
static struct buf out;

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))

static void fresh_dir(void)
{
    if (dir[0]) harness_rmtree(dir);
    dir[0] = '\0';
    harness_tmpdir(dir);
}

static bool add_sites(void)
{
    return TALLY("site add --data %s --name Alpha --url https://a.example", dir) == 0 &&
           TALLY("site add --data %s --name Beta --url https://b.example", dir) == 0;
}

static void goals_path(char *path, size_t len)
{
    snprintf(path, len, "%s/goals.json", dir);
}

/* `goal list --json` of site 1, parsed; NULL when it failed. */
static json_t *goal_list(unsigned site)
{
    if (TALLY("goal list --data %s --site %u --json", dir, site) != 0) return NULL;
    return json_loads(out.data, 0, NULL);
}

/* The ids of a JSON array of goals, "1,3" (key "id" or Matomo's "idgoal"). */
static const char *ids_of(json_t *goals, const char *key)
{
    static char ids[256];
    ids[0] = '\0';
    size_t i;
    json_t *g;
    json_array_foreach(goals, i, g)
    {
        json_t *id = json_object_get(g, key);
        char one[16];
        if (json_is_integer(id))
            snprintf(one, sizeof one, "%lld", (long long)json_integer_value(id));
        else
            snprintf(one, sizeof one, "%s", json_is_string(id) ? json_string_value(id) : "?");
        size_t len = strlen(ids);
        snprintf(ids + len, sizeof ids - len, "%s%s", len ? "," : "", one);
    }
    return ids;
}

/* ---- the command line ---- */

static void test_cli_add_list_delete(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name 'Signed up' --match url --type contains "
                        "--pattern /welcome",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "1\n");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name Subscribed --match event-action "
                        "--type starts-with --pattern Subscribe --case-sensitive --multiple "
                        "--revenue 2.5 --description 'newsletter form'",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "2\n");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name Called --match manual", dir), 0);
    ASSERT_EQ_STR(out.data, "3\n");
    /* Ids count per site. */
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 2 --name Other --match download --type "
                        "ends-with --pattern .pdf",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "1\n");

    json_t *list = goal_list(1);
    ASSERT_TRUE(json_is_array(list));
    json_t *sub = json_array_get(list, 1);
    const char *ids = ids_of(list, "id");
    bool fields =
        json_integer_value(json_object_get(sub, "site_id")) == 1 &&
        strcmp(json_string_value(json_object_get(sub, "name")), "Subscribed") == 0 &&
        strcmp(json_string_value(json_object_get(sub, "description")), "newsletter form") == 0 &&
        strcmp(json_string_value(json_object_get(sub, "match")), "event_action") == 0 &&
        strcmp(json_string_value(json_object_get(sub, "pattern_type")), "starts_with") == 0 &&
        strcmp(json_string_value(json_object_get(sub, "pattern")), "Subscribe") == 0 &&
        json_is_true(json_object_get(sub, "case_sensitive")) &&
        json_is_true(json_object_get(sub, "allow_multiple")) &&
        json_number_value(json_object_get(sub, "revenue")) == 2.5;
    json_t *first = json_array_get(list, 0);
    bool defaults = !json_is_true(json_object_get(first, "case_sensitive")) &&
                    !json_is_true(json_object_get(first, "allow_multiple")) &&
                    json_number_value(json_object_get(first, "revenue")) == 0;
    ASSERT_EQ_STR(ids, "1,2,3");
    json_decref(list);
    ASSERT_TRUE(fields);
    ASSERT_TRUE(defaults);

    ASSERT_EQ_INT(TALLY("goal list --data %s --site 1", dir), 0);
    ASSERT_CONTAINS(out.data, "Signed up");
    ASSERT_CONTAINS(out.data, "/welcome");
    ASSERT_NOT_CONTAINS(out.data, "Other");

    /* A deleted id is never given again, not even when it was the last. */
    ASSERT_EQ_INT(TALLY("goal delete --data %s --site 1 --id 2", dir), 0);
    ASSERT_EQ_STR(out.data, "deleted goal 2 of site 1\n");
    ASSERT_EQ_INT(TALLY("goal delete --data %s --site 1 --id 3", dir), 0);
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name Again --match title --type exact "
                        "--pattern Thanks",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "4\n");
    list = goal_list(1);
    ids = ids_of(list, "id");
    json_decref(list);
    ASSERT_EQ_STR(ids, "1,4");
    ASSERT_EQ_INT(TALLY("goal delete --data %s --site 1 --id 2", dir), 2);
    ASSERT_CONTAINS(out.data, "site 1 has no goal with id 2");
    ASSERT_EQ_INT(TALLY("goal list --data %s --site 2", dir), 0);
    ASSERT_CONTAINS(out.data, "Other");
}

static void test_cli_refusals_say_what_to_fix(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match url --type regex "
                        "--pattern '(thanks'",
                        dir),
                  2);
    ASSERT_CONTAINS(out.data, "the regular expression '(thanks' does not compile: missing closing "
                              "parenthesis");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match visit-duration --type exact "
                        "--pattern 5",
                        dir),
                  2);
    ASSERT_CONTAINS(out.data, "--match: expected url, title, event-category");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match url --type like --pattern x",
                        dir),
                  2);
    ASSERT_CONTAINS(out.data, "--type: expected exact, contains");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match manual --type exact "
                        "--pattern x",
                        dir),
                  2);
    ASSERT_CONTAINS(out.data, "a manual goal has no pattern");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match title --pattern x", dir), 2);
    ASSERT_CONTAINS(out.data, "give the pattern type");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match title --type contains", dir),
                  2);
    ASSERT_CONTAINS(out.data, "give a pattern to match the title against");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match url --type exact "
                        "--pattern /thanks",
                        dir),
                  2);
    ASSERT_CONTAINS(out.data, "starting with http:// or https://");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match manual --revenue -1", dir), 2);
    ASSERT_CONTAINS(out.data, "the revenue must be a number from 0");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name R --match manual --revenue lots", dir),
                  2);
    ASSERT_CONTAINS(out.data, "--revenue: expected a number");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name '' --match manual", dir), 2);
    ASSERT_CONTAINS(out.data, "the goal needs a name");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 9 --name R --match manual", dir), 2);
    ASSERT_CONTAINS(out.data, "no site with id 9");
    ASSERT_EQ_INT(TALLY("goal delete --data %s --site 1 --id x", dir), 2);
    ASSERT_CONTAINS(out.data, "--id: expected the goal's id");
    /* Nothing refused was written. */
    char path[300];
    goals_path(path, sizeof path);
    struct stat st;
    ASSERT_TRUE(stat(path, &st) != 0);
}

/* No leftover temporary file in the data folder. */
static bool no_temp_files(void)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    bool clean = true;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp")) clean = false;
    closedir(d);
    return clean;
}

static void test_goals_json_is_rewritten_atomically(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    char path[300];
    goals_path(path, sizeof path);
    struct stat before, after;
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name A --match manual", dir), 0);
    ASSERT_EQ_INT(stat(path, &before), 0);
    ASSERT_EQ_INT(before.st_mode & 0777, 0644);
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name B --match url --type contains "
                        "--pattern /b --revenue 9.99",
                        dir),
                  0);
    ASSERT_EQ_INT(stat(path, &after), 0);
    /* A new file renamed over the old one: readers see one or the other. */
    ASSERT_TRUE(before.st_ino != after.st_ino);
    ASSERT_TRUE(no_temp_files());
    json_t *root = json_load_file(path, 0, NULL);
    json_t *goals = json_object_get(root, "goals");
    json_int_t last = json_integer_value(json_object_get(json_object_get(root, "last_ids"), "1"));
    double revenue = json_number_value(json_object_get(json_array_get(goals, 1), "revenue"));
    size_t count = json_array_size(goals);
    json_decref(root);
    ASSERT_EQ_U64(count, 2);
    ASSERT_EQ_INT(last, 2);
    ASSERT_EQ_DBL(revenue, 9.99);

    /* A broken file is reported, and not overwritten by the next add. */
    static const char broken[] = "{\"goals\":[{\"site_id\":1,\"id\":1,\"name\":\"X\","
                                 "\"match\":\"url\",\"pattern_type\":\"regex\",\"pattern\":\"(\"}]}";
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(broken, f);
    fclose(f);
    ASSERT_EQ_INT(TALLY("goal list --data %s --site 1", dir), 1);
    ASSERT_CONTAINS(out.data, "goals.json: site 1, goal 1: the regular expression '(' does not "
                              "compile");
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name C --match manual", dir), 1);
    struct buf text;
    buf_init(&text);
    file_read_all(path, &text);
    bool kept = text.data && strcmp(text.data, broken) == 0;
    buf_free(&text);
    ASSERT_TRUE(kept);
}

/* ---- the API ---- */

struct fixture {
    struct server server;
    char viewer[33], writer[33];
    struct http_reply reply;
    bool running;
};

static struct fixture fx;

/* Sites 1 and 2; viewer: a user's token with view access to site 1;
 * writer: a token with write access to site 1 only. */
static bool fixture_start(void)
{
    memset(&fx, 0, sizeof fx);
    buf_init(&fx.reply.headers);
    buf_init(&fx.reply.body);
    fresh_dir();
    bool ok = add_sites() &&
              run_tally_input(&out, PASSWORD "\n", "user add --data %s viewer", dir) == 0 &&
              TALLY("user grant --data %s viewer --site 1 --access view", dir) == 0 &&
              TALLY("token create --data %s --user viewer", dir) == 0 && out.len == 33;
    if (ok) snprintf(fx.viewer, sizeof fx.viewer, "%.32s", out.data);
    ok = ok && harness_token_create(dir, 1, fx.writer) == 0;
    if (!ok) printf("# setting up: %s\n", out.data);
    fx.running = ok && server_start(&fx.server, dir, "") == 0;
    return fx.running;
}

static void fixture_stop(void)
{
    http_reply_free(&fx.reply);
    if (fx.running) server_stop(&fx.server);
    fx.running = false;
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        fixture_stop();                                                                            \
    } while (0)

static int get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int get(const char *fmt, ...)
{
    char target[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(target, sizeof target, fmt, ap);
    va_end(ap);
    http_reply_free(&fx.reply);
    if (http_request(fx.server.port, "GET", target, "", NULL, 0, &fx.reply)) return -1;
    return fx.reply.status;
}

static json_t *reply_json(void)
{
    return json_loads(fx.reply.body.data ? fx.reply.body.data : "", 0, NULL);
}

/* The answer is Matomo's error object whose message contains text. */
static bool is_error(const char *text)
{
    json_t *j = reply_json();
    const char *result = json_string_value(json_object_get(j, "result"));
    const char *message = json_string_value(json_object_get(j, "message"));
    bool ok = result && strcmp(result, "error") == 0 && message && strstr(message, text);
    if (!ok) printf("# expected an error with \"%s\", got: %s\n", text, fx.reply.body.data);
    json_decref(j);
    return ok;
}

static bool is_success(void)
{
    bool ok = fx.reply.status == 200 && fx.reply.body.data &&
              strcmp(fx.reply.body.data, "{\"result\":\"success\",\"message\":\"ok\"}") == 0;
    if (!ok) printf("# expected success, got %d: %s\n", fx.reply.status, fx.reply.body.data);
    return ok;
}

static const char *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : "(absent)";
}

static void test_api_add_update_get_delete(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=Thank%%20you&matchAttribute=url&pattern=%%2Fthanks"
                      "&patternType=contains&revenue=12.5&description=after%%20checkout"
                      "&token_auth=%s",
                      fx.writer),
                  200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":1}");
    /* Matomo clients send a pattern with manual goals; it is ignored. */
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=Phone&matchAttribute=manually&pattern=x"
                      "&patternType=contains&allowMultipleConversionsPerVisit=1&token_auth=%s",
                      fx.writer),
                  200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":2}");
    /* POSTed form, as Matomo's own UI and SDKs send it. */
    char body[256];
    snprintf(body, sizeof body,
             "module=API&method=Goals.addGoal&idSite=1&name=Brochure&matchAttribute=file"
             "&pattern=brochure.pdf&patternType=ends_with&caseSensitive=1&token_auth=%s",
             fx.writer);
    http_reply_free(&fx.reply);
    ASSERT_EQ_INT(http_request(fx.server.port, "POST", "/index.php",
                               "Content-Type: application/x-www-form-urlencoded\r\n", body,
                               strlen(body), &fx.reply),
                  0);
    ASSERT_EQ_INT(fx.reply.status, 200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":3}");

    ASSERT_EQ_INT(get(API "getGoals&idSite=1&token_auth=%s", fx.writer), 200);
    json_t *goals = reply_json();
    ASSERT_TRUE(json_is_array(goals));
    json_t *g1 = json_array_get(goals, 0), *g2 = json_array_get(goals, 1),
           *g3 = json_array_get(goals, 2);
    char got[1024];
    snprintf(got, sizeof got, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", field(g1, "idsite"),
             field(g1, "idgoal"), field(g1, "name"), field(g1, "description"),
             field(g1, "match_attribute"), field(g1, "pattern"), field(g1, "pattern_type"),
             field(g1, "case_sensitive"), field(g1, "allow_multiple"), field(g1, "revenue"),
             field(g1, "deleted"));
    char manual[256];
    snprintf(manual, sizeof manual, "%s|%s|%s|%s|%s", field(g2, "match_attribute"),
             field(g2, "pattern"), field(g2, "pattern_type"), field(g2, "case_sensitive"),
             field(g2, "allow_multiple"));
    char file[256];
    snprintf(file, sizeof file, "%s|%s|%s|%s", field(g3, "match_attribute"), field(g3, "pattern"),
             field(g3, "pattern_type"), field(g3, "case_sensitive"));
    size_t count = json_array_size(goals);
    json_decref(goals);
    ASSERT_EQ_U64(count, 3);
    ASSERT_EQ_STR(got, "1|1|Thank you|after checkout|url|/thanks|contains|0|0|12.5|0");
    ASSERT_EQ_STR(manual, "manually|(absent)|(absent)|(absent)|1");
    ASSERT_EQ_STR(file, "file|brochure.pdf|ends_with|1");
    /* The CLI reads the same file, with Tally's names. */
    json_t *list = goal_list(1);
    const char *cli_match = json_string_value(json_object_get(json_array_get(list, 2), "match"));
    bool download = cli_match && strcmp(cli_match, "download") == 0;
    json_decref(list);
    ASSERT_TRUE(download);

    ASSERT_EQ_INT(get(API "updateGoal&idSite=1&idGoal=1&name=Thanks&matchAttribute=title"
                      "&pattern=Thank&patternType=starts_with&caseSensitive=true&token_auth=%s",
                      fx.writer),
                  200);
    ASSERT_TRUE(is_success());
    ASSERT_EQ_INT(get(API "getGoal&idSite=1&idGoal=1&token_auth=%s", fx.writer), 200);
    json_t *g = reply_json();
    snprintf(got, sizeof got, "%s|%s|%s|%s|%s|%s|%s", field(g, "idgoal"), field(g, "name"),
             field(g, "match_attribute"), field(g, "pattern"), field(g, "pattern_type"),
             field(g, "case_sensitive"), field(g, "revenue"));
    json_decref(g);
    /* updateGoal replaces the whole goal, as Matomo's does: revenue is 0 again. */
    ASSERT_EQ_STR(got, "1|Thanks|title|Thank|starts_with|1|0");

    ASSERT_EQ_INT(get(API "deleteGoal&idSite=1&idGoal=3&token_auth=%s", fx.writer), 200);
    ASSERT_TRUE(is_success());
    ASSERT_EQ_INT(get(API "getGoal&idSite=1&idGoal=3&token_auth=%s", fx.writer), 400);
    ASSERT_TRUE(is_error("no goal with this id"));
    ASSERT_EQ_INT(get(API "deleteGoal&idSite=1&idGoal=3&token_auth=%s", fx.writer), 400);
    ASSERT_TRUE(is_error("site 1 has no goal with id 3"));
    /* Ids are never reused after a delete. */
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=Later&matchAttribute=event_name&pattern=play"
                      "&patternType=exact&token_auth=%s",
                      fx.writer),
                  200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":4}");
    ASSERT_EQ_INT(get(API "getGoals&idSite=1&token_auth=%s", fx.writer), 200);
    goals = reply_json();
    const char *ids = ids_of(goals, "idgoal");
    json_decref(goals);
    ASSERT_EQ_STR(ids, "1,2,4");
}

/* Polls getGoals until the running server, which reloads goals.json within
 * a second or two, answers with these ids. */
static bool server_has_goals(const char *want)
{
    for (int i = 0; i < 50; i++) {
        if (get(API "getGoals&idSite=1&token_auth=%s", fx.viewer) == 200) {
            json_t *goals = reply_json();
            bool same = strcmp(ids_of(goals, "idgoal"), want) == 0;
            json_decref(goals);
            if (same) return true;
        }
        struct timespec t = {.tv_nsec = 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    printf("# the server still answers %d: %s\n", fx.reply.status, fx.reply.body.data);
    server_log_tail(&fx.server, 2000);
    return false;
}

static void test_api_view_token_reads_but_cannot_write(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name A --match manual", dir), 0);
    ASSERT_TRUE(server_has_goals("1"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=B&matchAttribute=manually&token_auth=%s",
                      fx.viewer),
                  401);
    ASSERT_TRUE(is_error("write access"));
    ASSERT_EQ_INT(get(API "updateGoal&idSite=1&idGoal=1&name=B&matchAttribute=manually"
                      "&token_auth=%s",
                      fx.viewer),
                  401);
    ASSERT_EQ_INT(get(API "deleteGoal&idSite=1&idGoal=1&token_auth=%s", fx.viewer), 401);
    ASSERT_EQ_INT(get(API "deleteGoal&idSite=1&idGoal=1"), 401);
    /* The writer's token is for site 1 only. */
    ASSERT_EQ_INT(get(API "addGoal&idSite=2&name=B&matchAttribute=manually&token_auth=%s",
                      fx.writer),
                  401);
    ASSERT_EQ_INT(get(API "getGoals&idSite=2&token_auth=%s", fx.writer), 401);
    ASSERT_EQ_INT(get(API "getGoals&idSite=1"), 401);

    ASSERT_TRUE(server_has_goals("1"));
    ASSERT_EQ_INT(get(API "getGoal&idSite=1&idGoal=1&token_auth=%s", fx.viewer), 200);
    ASSERT_CONTAINS(fx.reply.body.data, "\"name\":\"A\"");
    /* Nothing the viewer sent changed the goal. */
    ASSERT_EQ_INT(TALLY("goal list --data %s --site 1 --json", dir), 0);
    ASSERT_CONTAINS(out.data, "\"name\":\"A\"");
}

static void test_api_refusals_give_a_reason(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=R&matchAttribute=url&pattern=%%28thanks"
                      "&patternType=regex&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("the regular expression '(thanks' does not compile"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=R&matchAttribute=visit_duration&pattern=5"
                      "&patternType=greater_than&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("matchAttribute: expected url, title, event_category"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=R&matchAttribute=url&pattern=x"
                      "&patternType=like&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("patternType: expected exact, contains"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&matchAttribute=manually&token_auth=%s", fx.writer),
                  400);
    ASSERT_TRUE(is_error("the goal needs a name"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=R&matchAttribute=manually&revenue=lots"
                      "&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("revenue: expected a number"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=R&matchAttribute=manually&caseSensitive=maybe"
                      "&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("caseSensitive: expected 1 or 0"));
    ASSERT_EQ_INT(get(API "addGoal&idSite=x&name=R&matchAttribute=manually&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("idSite: expected a positive integer id"));
    /* Not UTF-8: refused, and the message is still valid JSON. */
    ASSERT_EQ_INT(get(API "addGoal&idSite=1&name=%%FF&matchAttribute=manually&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("not valid UTF-8"));
    ASSERT_EQ_INT(get(API "updateGoal&idSite=1&idGoal=7&name=R&matchAttribute=manually"
                      "&token_auth=%s",
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("site 1 has no goal with id 7"));
    ASSERT_EQ_INT(get(API "getGoals&idSite=1&token_auth=%s", fx.writer), 200);
    ASSERT_EQ_STR(fx.reply.body.data, "[]");
}

static void test_server_reloads_after_a_cli_change(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_TRUE(server_has_goals(""));
    ASSERT_EQ_INT(TALLY("goal add --data %s --site 1 --name Live --match outlink --type contains "
                        "--pattern partner.example",
                        dir),
                  0);
    ASSERT_TRUE(server_has_goals("1"));
    ASSERT_CONTAINS(fx.reply.body.data, "\"match_attribute\":\"external_website\"");
    ASSERT_EQ_INT(TALLY("goal delete --data %s --site 1 --id 1", dir), 0);
    ASSERT_TRUE(server_has_goals(""));
}

int main(void)
{
    buf_init(&out);
    TEST_RUN(test_cli_add_list_delete);
    TEST_RUN(test_cli_refusals_say_what_to_fix);
    TEST_RUN(test_goals_json_is_rewritten_atomically);
    RUN(test_api_add_update_get_delete);
    RUN(test_api_view_token_reads_but_cannot_write);
    RUN(test_api_refusals_give_a_reason);
    RUN(test_server_reloads_after_a_cli_change);
    if (dir[0]) harness_rmtree(dir);
    buf_free(&out);
    return TEST_DONE();
}
