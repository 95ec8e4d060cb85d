/* Funnel definitions as a user meets them: `tally funnel add/list/delete`
 * through the real CLI, and Tally's Funnels.addFunnel/updateFunnel/
 * deleteFunnel/getFunnels/getFunnel on a real server, which must refuse
 * writes without write access (401, saying nothing of whether the site
 * exists), refuse bad definitions with a reason that names what to fix,
 * never give a deleted funnel's id again, and pick up a CLI change while
 * serving. Reports over funnels come with the next part of issue 6. */
#include "test.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

#define PASSWORD "correct horse battery staple"
#define API "/index.php?module=API&format=json&method=Funnels."

static char dir[256];
static struct buf out;

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))

static void fresh_dir(void)
{
    if (dir[0]) harness_rmtree(dir);
    dir[0] = '\0';
    harness_tmpdir(dir);
}

/* Sites 1 and 2; goal 1 on site 1 (manual), goal 1 on site 2. */
static bool add_sites(void)
{
    return TALLY("site add --data %s --name Alpha --url https://a.example", dir) == 0 &&
           TALLY("site add --data %s --name Beta --url https://b.example", dir) == 0 &&
           TALLY("goal add --data %s --site 1 --name Paid --match manual", dir) == 0 &&
           TALLY("goal add --data %s --site 2 --name Other --match manual", dir) == 0;
}

static json_t *funnel_list(unsigned site)
{
    if (TALLY("funnel list --data %s --site %u --json", dir, site) != 0) return NULL;
    return json_loads(out.data, 0, NULL);
}

/* The ids of a JSON array of funnels, "1,3" (key "id" or "idfunnel"). */
static const char *ids_of(json_t *funnels, const char *key)
{
    static char ids[256];
    ids[0] = '\0';
    size_t i;
    json_t *f;
    json_array_foreach(funnels, i, f)
    {
        size_t len = strlen(ids);
        snprintf(ids + len, sizeof ids - len, "%s%lld", len ? "," : "",
                 (long long)json_integer_value(json_object_get(f, key)));
    }
    return ids;
}

/* A step as "name|match|type|pattern|cs|req" (cs, req: 0 or 1). */
static const char *step_text(json_t *funnel, size_t i)
{
    static char text[512];
    json_t *s = json_array_get(json_object_get(funnel, "steps"), i);
    snprintf(text, sizeof text, "%s|%s|%s|%s|%d|%d",
             json_string_value(json_object_get(s, "name")),
             json_string_value(json_object_get(s, "match")),
             json_string_value(json_object_get(s, "pattern_type")),
             json_string_value(json_object_get(s, "pattern")),
             json_is_true(json_object_get(s, "case_sensitive")),
             json_is_true(json_object_get(s, "required")));
    return text;
}

/* ---- the command line ---- */

static void test_cli_add_list_delete(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name Checkout --goal 1 "
                        "--step 'Cart|path|starts-with|/cart|required' "
                        "--step 'Address|title|regex|ship|deliver|case-sensitive' "
                        "--step 'Paid|goal||1|required'",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "1\n");
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name Newsletter "
                        "--step 'Read|url|contains|/blog/' "
                        "--step 'Clicked|event-action|exact|Subscribe|case-sensitive|required' "
                        "--step 'Searched|site-search|contains|news' "
                        "--step 'Category|event-category|ends-with|letter' "
                        "--step 'Named|event-name|exact|Footer form' "
                        "--step 'Home|url|exact|https://a.example/'",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "2\n");
    /* Ids count per site. */
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 2 --name Other --step 'A|path|exact|/'", dir),
                  0);
    ASSERT_EQ_STR(out.data, "1\n");

    json_t *list = funnel_list(1);
    ASSERT_TRUE(json_is_array(list));
    json_t *f1 = json_array_get(list, 0), *f2 = json_array_get(list, 1);
    char got[2048];
    snprintf(got, sizeof got, "%s;%lld;%lld;%s;", ids_of(list, "id"),
             (long long)json_integer_value(json_object_get(f1, "goal_id")),
             (long long)json_integer_value(json_object_get(f2, "goal_id")),
             json_string_value(json_object_get(f1, "name")));
    for (size_t i = 0; i < 3; i++) {
        strcat(got, step_text(f1, i));
        strcat(got, ";");
    }
    strcat(got, step_text(f2, 1));
    strcat(got, ";");
    strcat(got, step_text(f2, 2));
    size_t steps2 = json_array_size(json_object_get(f2, "steps"));
    json_decref(list);
    ASSERT_EQ_STR(got, "1,2;1;0;Checkout;Cart|path|starts_with|/cart|0|1;"
                       "Address|title|regex|ship|deliver|1|0;Paid|goal|exact|1|0|1;"
                       "Clicked|event_action|exact|Subscribe|1|1;"
                       "Searched|site_search|contains|news|0|0");
    ASSERT_EQ_U64(steps2, 6);

    ASSERT_EQ_INT(TALLY("funnel list --data %s --site 1", dir), 0);
    ASSERT_CONTAINS(out.data, "1 Checkout (goal 1)");
    ASSERT_CONTAINS(out.data, "/cart (required)");
    ASSERT_NOT_CONTAINS(out.data, "Other");

    /* A deleted id is never given again, not even when it was the last. */
    ASSERT_EQ_INT(TALLY("funnel delete --data %s --site 1 --id 2", dir), 0);
    ASSERT_EQ_STR(out.data, "deleted funnel 2 of site 1\n");
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name Again --step 'A|title|exact|Hi'",
                        dir),
                  0);
    ASSERT_EQ_STR(out.data, "3\n");
    list = funnel_list(1);
    const char *ids = ids_of(list, "id");
    char kept[64];
    snprintf(kept, sizeof kept, "%s", ids);
    json_decref(list);
    ASSERT_EQ_STR(kept, "1,3");
    ASSERT_EQ_INT(TALLY("funnel delete --data %s --site 1 --id 2", dir), 2);
    ASSERT_CONTAINS(out.data, "site 1 has no funnel with id 2");
    ASSERT_EQ_INT(TALLY("funnel list --data %s --site 2", dir), 0);
    ASSERT_CONTAINS(out.data, "Other");
    ASSERT_EQ_INT(TALLY("funnel list --data %s --site 2 --json", dir), 0);
    ASSERT_CONTAINS(out.data, "\"steps\":[{\"name\":\"A\",\"match\":\"path\"");
}

/* Every refusal, each with what to fix; nothing refused is written. */
static void test_cli_refusals_say_what_to_fix(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"--name F --step 'A|url|regex|(cart'",
         "step 1 (A): the regular expression '(cart' does not compile: missing closing parenthesis"},
        {"--name F --step 'A|path|exact|/a' --step 'B|referrer|exact|x'",
         "--step 2: MATCH is url, path, title"},
        {"--name F --step 'A|path|like|/a'", "--step 1: TYPE is exact, contains"},
        {"--name F --step 'A|path|/a'", "--step 1: expected 'NAME|MATCH|TYPE|PATTERN"},
        {"--name F --step 'A|path||/a'", "--step 1: TYPE is exact"},
        {"--name F --step '|path|exact|/a'", "step 1 (unnamed): give the step a name"},
        {"--name F --step 'A|title|contains|'", "step 1 (A): give a pattern to match the title"},
        {"--name F --step 'A|url|exact|/thanks'",
         "an exact url pattern is a whole URL starting with http:// or https://; to match "
         "'/thanks', use match path"},
        {"--name F --step 'A|goal|exact|9'", "step 1 (A): site 1 has no goal with id 9"},
        {"--name F --step 'A|goal|contains|1'", "a goal step's pattern is the goal's id"},
        {"--name F --step 'A|goal|exact|one'", "a goal step's pattern is the goal's id"},
        {"--name F --goal 2 --step 'A|path|exact|/'", "site 1 has no goal with id 2"},
        {"--name F --goal x --step 'A|path|exact|/'", "--goal: expected a goal id"},
        {"--name '' --step 'A|path|exact|/'", "the funnel needs a name"},
        {"--name F", "give the steps in order, 1 to 20"},
        {"--step 'A|path|exact|/'", "--name is required"},
        {"--name 'a\tb' --step 'A|path|exact|/'", "may not hold control characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 %s", dir, cases[i].args), 2);
        ASSERT_CONTAINS(out.data, cases[i].message);
    }
    /* Site 2's goal is not site 1's; a site that does not exist. */
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 9 --name F --step 'A|path|exact|/'", dir), 2);
    ASSERT_CONTAINS(out.data, "no site with id 9");
    /* 21 steps: one too many (the flag parser takes 20). */
    char many[2048] = "";
    for (int i = 0; i < 21; i++) strcat(many, " --step 'S|path|contains|/s'");
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name F%s", dir, many), 2);
    ASSERT_CONTAINS(out.data, "at most 20 times");
    many[strlen(many) - strlen(" --step 'S|path|contains|/s'")] = '\0';
    ASSERT_EQ_INT(TALLY("funnel delete --data %s --site 1 --id x", dir), 2);
    ASSERT_CONTAINS(out.data, "--id: expected the funnel's id");
    char path[300];
    snprintf(path, sizeof path, "%s/funnels.json", dir);
    struct stat st;
    ASSERT_TRUE(stat(path, &st) != 0);
    /* Exactly 20 steps are fine. */
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name F%s", dir, many), 0);
    ASSERT_EQ_STR(out.data, "1\n");
}

static void test_funnels_json_checked_on_load(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name A --step 'A|path|exact|/'", dir), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/funnels.json", dir);
    struct stat before, after;
    ASSERT_EQ_INT(stat(&path[0], &before), 0);
    ASSERT_EQ_INT(before.st_mode & 0777, 0644);
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name B --step 'A|path|exact|/'", dir), 0);
    ASSERT_EQ_INT(stat(path, &after), 0);
    ASSERT_TRUE(before.st_ino != after.st_ino); /* renamed over: atomic */
    /* A hand-edited file is held to the CLI's rules, and not overwritten. */
    static const char broken[] =
        "{\"funnels\":[{\"site_id\":1,\"id\":1,\"name\":\"X\",\"steps\":[{\"name\":\"S\","
        "\"match\":\"path\",\"pattern_type\":\"regex\",\"pattern\":\"(\"}]}]}";
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(broken, f);
    fclose(f);
    ASSERT_EQ_INT(TALLY("funnel list --data %s --site 1", dir), 1);
    ASSERT_CONTAINS(out.data, "funnels.json: site 1, funnel 1: step 1 (S): the regular "
                              "expression '(' does not compile");
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name C --step 'A|path|exact|/'", dir), 1);
    struct buf text;
    buf_init(&text);
    file_read_all(path, &text);
    bool kept = text.data && strcmp(text.data, broken) == 0;
    buf_free(&text);
    ASSERT_TRUE(kept);
    /* A goal deleted since a funnel named it does not break the file. */
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name A --goal 1 "
                        "--step 'A|goal|exact|1'",
                        dir),
                  0);
    ASSERT_EQ_INT(TALLY("goal delete --data %s --site 1 --id 1", dir), 0);
    ASSERT_EQ_INT(TALLY("funnel list --data %s --site 1", dir), 0);
    ASSERT_CONTAINS(out.data, "1 A (goal 1)");
}

/* ---- the API ---- */

struct fixture {
    struct server server;
    char viewer[33], writer[33];
    struct http_reply reply;
    bool running;
};

static struct fixture fx;

/* viewer: view access to site 1; writer: write access to site 1 only. */
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

/* Percent-encodes s for a query string (a static buffer, one at a time). */
static const char *enc(const char *s)
{
    static char text[4096];
    size_t n = 0;
    for (; *s && n + 4 < sizeof text; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.')
            text[n++] = (char)c;
        else
            n += (size_t)snprintf(text + n, sizeof text - n, "%%%02X", c);
    }
    text[n] = '\0';
    return text;
}

static int get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int get(const char *fmt, ...)
{
    char target[8192];
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

#define STEPS_CHECKOUT                                                                             \
    "[{\"name\":\"Cart\",\"match\":\"path\",\"pattern_type\":\"starts_with\","                     \
    "\"pattern\":\"/cart\",\"required\":true},"                                                    \
    "{\"name\":\"Paid\",\"match\":\"goal\",\"pattern\":\"1\",\"case_sensitive\":true}]"

static void test_api_add_update_get_delete(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(API "addFunnel&idSite=1&name=Checkout&idGoal=1&steps=%s&token_auth=%s",
                      enc(STEPS_CHECKOUT), fx.writer),
                  200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":1}");
    /* POSTed form too. */
    char body[1024];
    snprintf(body, sizeof body,
             "module=API&method=Funnels.addFunnel&idSite=1&name=Blog&token_auth=%s&steps=", fx.writer);
    strcat(body, enc("[{\"name\":\"Read\",\"match\":\"title\",\"pattern_type\":\"contains\","
                     "\"pattern\":\"Blog\"}]"));
    http_reply_free(&fx.reply);
    ASSERT_EQ_INT(http_request(fx.server.port, "POST", "/index.php",
                               "Content-Type: application/x-www-form-urlencoded\r\n", body,
                               strlen(body), &fx.reply),
                  0);
    ASSERT_EQ_INT(fx.reply.status, 200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":2}");

    ASSERT_EQ_INT(get(API "getFunnel&idSite=1&idFunnel=1&token_auth=%s", fx.viewer), 200);
    ASSERT_EQ_STR(fx.reply.body.data,
                  "{\"idsite\":1,\"idfunnel\":1,\"name\":\"Checkout\",\"idgoal\":1,\"steps\":["
                  "{\"position\":1,\"name\":\"Cart\",\"match\":\"path\",\"pattern_type\":"
                  "\"starts_with\",\"pattern\":\"/cart\",\"case_sensitive\":false,\"required\":true},"
                  "{\"position\":2,\"name\":\"Paid\",\"match\":\"goal\",\"pattern_type\":\"exact\","
                  "\"pattern\":\"1\",\"case_sensitive\":true,\"required\":false}]}");
    /* The CLI reads the same file. */
    json_t *list = funnel_list(1);
    char ids[64];
    snprintf(ids, sizeof ids, "%s", ids_of(list, "id"));
    json_decref(list);
    ASSERT_EQ_STR(ids, "1,2");

    /* updateFunnel replaces the whole funnel: idGoal left out is none. */
    ASSERT_EQ_INT(get(API "updateFunnel&idSite=1&idFunnel=1&name=Buy&steps=%s&token_auth=%s",
                      enc("[{\"name\":\"Thanks\",\"match\":\"url\",\"pattern_type\":\"regex\","
                          "\"pattern\":\"/thanks(/|$)\"}]"),
                      fx.writer),
                  200);
    ASSERT_TRUE(is_success());
    ASSERT_EQ_INT(get(API "getFunnels&idSite=1&token_auth=%s", fx.writer), 200);
    json_t *funnels = reply_json();
    json_t *f1 = json_array_get(funnels, 0);
    char got[512];
    snprintf(got, sizeof got, "%s;%s;%lld;%zu;%s", ids_of(funnels, "idfunnel"),
             json_string_value(json_object_get(f1, "name")),
             (long long)json_integer_value(json_object_get(f1, "idgoal")),
             json_array_size(json_object_get(f1, "steps")), step_text(f1, 0));
    json_decref(funnels);
    ASSERT_EQ_STR(got, "1,2;Buy;0;1;Thanks|url|regex|/thanks(/|$)|0|0");

    ASSERT_EQ_INT(get(API "deleteFunnel&idSite=1&idFunnel=2&token_auth=%s", fx.writer), 200);
    ASSERT_TRUE(is_success());
    ASSERT_EQ_INT(get(API "getFunnel&idSite=1&idFunnel=2&token_auth=%s", fx.writer), 400);
    ASSERT_TRUE(is_error("no funnel with this id"));
    ASSERT_EQ_INT(get(API "deleteFunnel&idSite=1&idFunnel=2&token_auth=%s", fx.writer), 400);
    ASSERT_TRUE(is_error("site 1 has no funnel with id 2"));
    ASSERT_EQ_INT(get(API "updateFunnel&idSite=1&idFunnel=2&name=X&steps=%s&token_auth=%s",
                      enc("[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"exact\","
                          "\"pattern\":\"/\"}]"),
                      fx.writer),
                  400);
    ASSERT_TRUE(is_error("site 1 has no funnel with id 2"));
    /* Ids are never reused after a delete. */
    ASSERT_EQ_INT(get(API "addFunnel&idSite=1&name=Later&steps=%s&token_auth=%s",
                      enc("[{\"name\":\"A\",\"match\":\"event_name\",\"pattern_type\":\"exact\","
                          "\"pattern\":\"play\"}]"),
                      fx.writer),
                  200);
    ASSERT_EQ_STR(fx.reply.body.data, "{\"value\":3}");
}

/* Polls getFunnels until the running server answers with these ids. */
static bool server_has_funnels(const char *want)
{
    for (int i = 0; i < 50; i++) {
        if (get(API "getFunnels&idSite=1&token_auth=%s", fx.viewer) == 200) {
            json_t *funnels = reply_json();
            bool same = strcmp(ids_of(funnels, "idfunnel"), want) == 0;
            json_decref(funnels);
            if (same) return true;
        }
        struct timespec t = {.tv_nsec = 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    printf("# the server still answers %d: %s\n", fx.reply.status, fx.reply.body.data);
    server_log_tail(&fx.server, 2000);
    return false;
}

static void test_api_access(void)
{
    ASSERT_TRUE(fixture_start());
    const char *steps = "%5B%7B%22name%22%3A%22A%22%2C%22match%22%3A%22path%22%2C%22pattern_type"
                        "%22%3A%22exact%22%2C%22pattern%22%3A%22%2F%22%7D%5D";
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name A --step 'A|path|exact|/'", dir), 0);
    ASSERT_TRUE(server_has_funnels("1"));
    ASSERT_EQ_INT(get(API "addFunnel&idSite=1&name=B&steps=%s&token_auth=%s", steps, fx.viewer),
                  401);
    ASSERT_TRUE(is_error("write access"));
    ASSERT_EQ_INT(get(API "updateFunnel&idSite=1&idFunnel=1&name=B&steps=%s&token_auth=%s", steps,
                      fx.viewer),
                  401);
    ASSERT_EQ_INT(get(API "deleteFunnel&idSite=1&idFunnel=1&token_auth=%s", fx.viewer), 401);
    ASSERT_EQ_INT(get(API "deleteFunnel&idSite=1&idFunnel=1"), 401);
    /* The writer's token is for site 1 only; site 9 does not exist, and
     * the refusal is the same word for word. */
    ASSERT_EQ_INT(get(API "addFunnel&idSite=2&name=B&steps=%s&token_auth=%s", steps, fx.writer),
                  401);
    char two[512];
    snprintf(two, sizeof two, "%s", fx.reply.body.data);
    ASSERT_EQ_INT(get(API "addFunnel&idSite=9&name=B&steps=%s&token_auth=%s", steps, fx.writer),
                  401);
    ASSERT_EQ_STR(fx.reply.body.data, two);
    ASSERT_EQ_INT(get(API "getFunnels&idSite=2&token_auth=%s", fx.writer), 401);
    ASSERT_EQ_INT(get(API "getFunnels&idSite=9&token_auth=%s", fx.viewer), 401);
    ASSERT_EQ_INT(get(API "getFunnel&idSite=1&idFunnel=1"), 401);
    /* View access reads. */
    ASSERT_EQ_INT(get(API "getFunnel&idSite=1&idFunnel=1&token_auth=%s", fx.viewer), 200);
    ASSERT_CONTAINS(fx.reply.body.data, "\"name\":\"A\"");
    ASSERT_EQ_INT(TALLY("funnel list --data %s --site 1 --json", dir), 0);
    ASSERT_CONTAINS(out.data, "\"name\":\"A\"");
    ASSERT_NOT_CONTAINS(out.data, "\"name\":\"B\"");
}

static void test_api_refusals_give_a_reason(void)
{
    ASSERT_TRUE(fixture_start());
    static const struct {
        const char *name, *goal, *steps, *message;
    } cases[] = {
        {"F", "", "not json", "steps: not valid JSON"},
        {"F", "", NULL, "steps: not valid JSON"},
        {"F", "", "{}", "steps: expected a JSON array of steps"},
        {"F", "", "[]", "a funnel has 1 to 20 steps, got 0"},
        {"F", "", "[1]", "step 1: expected an object"},
        {"F", "", "[{\"name\":\"A\",\"match\":\"referrer\",\"pattern_type\":\"exact\",\"pattern\":\"x\"}]",
         "step 1: \"match\" is url, path, title"},
        {"F", "", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"like\",\"pattern\":\"x\"}]",
         "step 1: \"pattern_type\" is exact, contains"},
        {"F", "", "[{\"name\":\"A\",\"match\":\"path\",\"pattern\":\"x\"}]",
         "step 1: \"pattern_type\" is exact"},
        {"F", "", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"exact\",\"pattern\":\"/\",\"required\":\"yes\"}]",
         "step 1: \"required\" must be true or false"},
        {"F", "", "[{\"name\":7,\"match\":\"path\",\"pattern_type\":\"exact\",\"pattern\":\"/\"}]",
         "step 1: \"name\" must be a string"},
        {"F", "", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"regex\",\"pattern\":\"(a\"}]",
         "step 1 (A): the regular expression '(a' does not compile"},
        {"F", "", "[{\"name\":\"A\",\"match\":\"goal\",\"pattern\":\"2\"}]",
         "step 1 (A): site 1 has no goal with id 2"},
        {"F", "5", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"exact\",\"pattern\":\"/\"}]",
         "site 1 has no goal with id 5"},
        {"F", "x", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"exact\",\"pattern\":\"/\"}]",
         "idGoal: expected a non-negative integer id"},
        {"", "", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"exact\",\"pattern\":\"/\"}]",
         "the funnel needs a name"},
        {"\xff", "", "[{\"name\":\"A\",\"match\":\"path\",\"pattern_type\":\"exact\",\"pattern\":\"/\"}]",
         "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[64], steps[1024];
        snprintf(name, sizeof name, "%s", enc(cases[i].name));
        snprintf(steps, sizeof steps, "%s%s", cases[i].steps ? "&steps=" : "",
                 cases[i].steps ? enc(cases[i].steps) : "");
        ASSERT_EQ_INT(get(API "addFunnel&idSite=1&name=%s&idGoal=%s%s&token_auth=%s", name,
                          cases[i].goal, steps, fx.writer),
                      400);
        ASSERT_TRUE(is_error(cases[i].message));
    }
    ASSERT_EQ_INT(get(API "addFunnel&idSite=x&name=F&token_auth=%s", fx.writer), 400);
    ASSERT_TRUE(is_error("idSite: expected a positive integer id"));
    ASSERT_EQ_INT(get(API "getFunnel&idSite=1&idFunnel=0&token_auth=%s", fx.writer), 400);
    ASSERT_TRUE(is_error("idFunnel: expected a positive integer id"));
    ASSERT_EQ_INT(get(API "getFunnels&idSite=1&token_auth=%s", fx.writer), 200);
    ASSERT_EQ_STR(fx.reply.body.data, "[]");
}

static void test_server_reloads_after_a_cli_change(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_TRUE(server_has_funnels(""));
    ASSERT_EQ_INT(TALLY("funnel add --data %s --site 1 --name Live "
                        "--step 'Out|event-category|contains|Outlink'",
                        dir),
                  0);
    ASSERT_TRUE(server_has_funnels("1"));
    ASSERT_CONTAINS(fx.reply.body.data, "\"match\":\"event_category\"");
    ASSERT_EQ_INT(TALLY("funnel delete --data %s --site 1 --id 1", dir), 0);
    ASSERT_TRUE(server_has_funnels(""));
}

int main(void)
{
    buf_init(&out);
    TEST_RUN(test_cli_add_list_delete);
    TEST_RUN(test_cli_refusals_say_what_to_fix);
    TEST_RUN(test_funnels_json_checked_on_load);
    RUN(test_api_add_update_get_delete);
    RUN(test_api_access);
    RUN(test_api_refusals_give_a_reason);
    RUN(test_server_reloads_after_a_cli_change);
    if (dir[0]) harness_rmtree(dir);
    buf_free(&out);
    return TEST_DONE();
}
