/* Access control as a user meets it: `tally user add/grant/list` and
 * `tally token create --user` through the real CLI, then a real server that
 * must answer the API only for tokens with view access (401 with a
 * Matomo-shaped error and no site data otherwise), accept cdt only from
 * tokens with write access, pick up `user grant` while serving, and show an
 * anonymous_view site to anyone without a token. Also the stored password
 * (an Argon2id hash, never the password) and the access_* functions the
 * Reporting API calls. */
#include "test.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../src/config/config.h"
#include "harness.h"

#define PASSWORD "correct horse battery staple"
#define GET_SITE "/index.php?module=API&method=SitesManager.getSiteFromId&format=json&idSite="
/* A format for get(): the URL escapes are doubled. */
#define HIT "/matomo.php?idsite=1&rec=1&send_image=0&url=https%%3A%%2F%%2Fa.example%%2F"
#define NOBODYS_TOKEN "0123456789abcdef0123456789abcdef"

static char dir[256];
static struct buf out;

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))
#define TALLY_IN(input, ...) (buf_reset(&out), run_tally_input(&out, input, __VA_ARGS__))

static void fresh_dir(void)
{
    if (dir[0]) harness_rmtree(dir);
    dir[0] = '\0';
    harness_tmpdir(dir);
}

/* Three sites: 1 and 2 private, 3 readable by anyone. */
static bool add_sites(void)
{
    return TALLY("site add --data %s --name Alpha --url https://a.example", dir) == 0 &&
           TALLY("site add --data %s --name Beta --url https://b.example", dir) == 0 &&
           TALLY("site add --data %s --name Public --url https://p.example --anonymous-view",
                 dir) == 0;
}

static bool add_user(const char *name, const char *flags)
{
    return TALLY_IN(PASSWORD "\n", "user add --data %s %s %s", dir, name, flags) == 0;
}

/* `tally token create ARGS` into token; false when it failed. */
static bool create_token(char token[33], const char *args)
{
    if (TALLY("token create --data %s %s", dir, args) != 0 || out.len != 33) return false;
    memcpy(token, out.data, 32);
    token[32] = '\0';
    return true;
}

static json_t *users_json(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/users.json", dir);
    return json_load_file(path, 0, NULL);
}

/* ---- the command line ---- */

static void test_user_add_keeps_only_an_argon2id_hash(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_EQ_INT(TALLY_IN(PASSWORD "\n", "user add --data %s alice", dir), 0);
    ASSERT_EQ_STR(out.data, "added user alice\n");
    ASSERT_EQ_INT(harness_grep_tree(dir, PASSWORD), 0);
    ASSERT_EQ_INT(harness_grep_tree(dir, "horse"), 0);
    json_t *root = users_json();
    json_t *alice = json_array_get(json_object_get(root, "users"), 0);
    const char *hash = json_string_value(json_object_get(alice, "password_hash"));
    bool argon2id = hash && strncmp(hash, "$argon2id$", 10) == 0;
    bool superuser = json_is_true(json_object_get(alice, "superuser"));
    json_decref(root);
    ASSERT_TRUE(argon2id);
    ASSERT_TRUE(!superuser);
    char path[300];
    snprintf(path, sizeof path, "%s/users.json", dir);
    struct stat st;
    ASSERT_EQ_INT(stat(path, &st), 0);
    ASSERT_EQ_INT(st.st_mode & 0777, 0600);

    /* A Windows line end is not part of the password. */
    ASSERT_EQ_INT(TALLY_IN(PASSWORD "\r\n", "user add --data %s bob --superuser", dir), 0);
    ASSERT_EQ_STR(out.data, "added user bob (superuser)\n");

    struct users *users = NULL;
    char err[512];
    ASSERT_EQ_INT(users_load(dir, &users, err, sizeof err), 0);
    int right = users_check_password(users, "alice", PASSWORD);
    int crlf = users_check_password(users, "bob", PASSWORD);
    int wrong = users_check_password(users, "alice", PASSWORD "!");
    int unknown = users_check_password(users, "carol", PASSWORD);
    users_free(users);
    ASSERT_EQ_INT(right, 0);
    ASSERT_EQ_INT(crlf, 0);
    ASSERT_EQ_INT(wrong, -EACCES);
    ASSERT_EQ_INT(unknown, -EACCES);
}

static void test_user_add_refusals(void)
{
    fresh_dir();
    ASSERT_EQ_INT(TALLY_IN("short12\n", "user add --data %s alice", dir), 2);
    ASSERT_CONTAINS(out.data, "the password must be at least 8 characters long, got 7");
    /* Characters, not bytes: 7 two-byte letters are still too short. */
    ASSERT_EQ_INT(TALLY_IN("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n",
                           "user add --data %s alice", dir),
                  2);
    ASSERT_CONTAINS(out.data, "at least 8 characters long, got 7");
    ASSERT_EQ_INT(TALLY_IN("", "user add --data %s alice", dir), 2);
    ASSERT_CONTAINS(out.data, "no password on stdin");
    ASSERT_EQ_INT(TALLY_IN(PASSWORD "\n", "user add --data %s", dir), 2);
    ASSERT_CONTAINS(out.data, "give the user's name");
    ASSERT_EQ_INT(TALLY_IN(PASSWORD "\n", "user add --data %s 'al ice'", dir), 2);
    ASSERT_CONTAINS(out.data, "user name 'al ice': expected 1 to 64 letters, digits");
    ASSERT_EQ_INT(TALLY_IN(PASSWORD "\n", "user add --data %s alice --admin", dir), 2);
    ASSERT_CONTAINS(out.data, "unknown flag '--admin'; expected one of --data, --superuser");
    /* Nothing was stored by the refusals. */
    ASSERT_EQ_INT(TALLY("user list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "no users yet");

    ASSERT_TRUE(add_user("alice", ""));
    ASSERT_EQ_INT(TALLY_IN(PASSWORD "\n", "user add --data %s Alice", dir), 1);
    ASSERT_CONTAINS(out.data, "a user named alice already exists");
}

static void test_user_grant_and_list(void)
{
    fresh_dir();
    ASSERT_TRUE(add_sites());
    ASSERT_TRUE(add_user("alice", ""));
    ASSERT_TRUE(add_user("root", "--superuser"));
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 1 --access view", dir), 0);
    ASSERT_EQ_STR(out.data, "alice has view access to site 1\n");
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 2 --access admin", dir), 0);
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 1 --access write", dir), 0);
    ASSERT_EQ_INT(TALLY("user list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "NAME");
    ASSERT_CONTAINS(out.data, "1:write 2:admin");
    ASSERT_CONTAINS(out.data, "every site");
    ASSERT_EQ_INT(TALLY("user list --data %s --json", dir), 0);
    ASSERT_EQ_STR(out.data, "[{\"name\":\"alice\",\"superuser\":false,\"access\":{\"1\":\"write\","
                            "\"2\":\"admin\"}},{\"name\":\"root\",\"superuser\":true,"
                            "\"access\":{}}]\n");
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 2 --access none", dir), 0);
    ASSERT_EQ_INT(TALLY("user list --data %s --json", dir), 0);
    ASSERT_CONTAINS(out.data, "{\"name\":\"alice\",\"superuser\":false,\"access\":{\"1\":\"write\"}}");

    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 1 --access read", dir), 2);
    ASSERT_CONTAINS(out.data, "--access: expected view, write, admin or none, got 'read'");
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 1", dir), 2);
    ASSERT_CONTAINS(out.data, "--access: expected view, write, admin or none");
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --access view", dir), 2);
    ASSERT_CONTAINS(out.data, "--site is required");
    ASSERT_EQ_INT(TALLY("user grant --data %s alice --site 9 --access view", dir), 2);
    ASSERT_CONTAINS(out.data, "no site with id 9");
    ASSERT_EQ_INT(TALLY("user grant --data %s bob --site 1 --access view", dir), 2);
    ASSERT_CONTAINS(out.data, "no user named bob");

    ASSERT_EQ_INT(TALLY("token create --data %s --user bob", dir), 2);
    ASSERT_CONTAINS(out.data, "no user named bob");
    ASSERT_EQ_INT(TALLY("token create --data %s --user alice --site 1", dir), 2);
    ASSERT_CONTAINS(out.data, "give either --user NAME");
    ASSERT_EQ_INT(TALLY("help"), 0);
    ASSERT_CONTAINS(out.data, "user add");
    ASSERT_CONTAINS(out.data, "user grant");
    ASSERT_CONTAINS(out.data, "user list");
}

/* A tokens.json entry names exactly one owner. */
static void test_tokens_file_needs_one_owner(void)
{
    fresh_dir();
    char path[300];
    snprintf(path, sizeof path, "%s/tokens.json", dir);
    static const char both[] =
        "{\"tokens\":[{\"site\":1,\"user\":\"alice\",\"hash\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}";
    ASSERT_EQ_INT(file_write_atomic(path, both, sizeof both - 1, 0600), 0);
    struct tokens *tokens = NULL;
    char err[512];
    ASSERT_EQ_INT(tokens_load(dir, &tokens, err, sizeof err), -EINVAL);
    ASSERT_CONTAINS(err, "token #1 needs either a positive \"site\" or a valid \"user\"");
}

/* ---- the server ---- */

struct fixture {
    struct server server;
    char viewer[33], writer[33], root[33], site2[33];
    struct http_reply reply;
    bool running;
};

static struct fixture fx;

/* Users viewer (view on 1), writer (write on 1) and root (superuser), a
 * token for each, and a token with --site 2. */
static bool fixture_setup(void)
{
    memset(&fx, 0, sizeof fx);
    buf_init(&fx.reply.headers);
    buf_init(&fx.reply.body);
    fresh_dir();
    bool ok = add_sites() && add_user("viewer", "") && add_user("writer", "") &&
              add_user("root", "--superuser") &&
              TALLY("user grant --data %s viewer --site 1 --access view", dir) == 0 &&
              TALLY("user grant --data %s writer --site 1 --access write", dir) == 0 &&
              create_token(fx.viewer, "--user viewer") && create_token(fx.writer, "--user writer") &&
              create_token(fx.root, "--user root") && create_token(fx.site2, "--site 2");
    if (!ok) printf("# setting up: %s\n", out.data);
    return ok;
}

static bool fixture_start(void)
{
    fx.running = fixture_setup() && server_start(&fx.server, dir, "") == 0;
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
    char target[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(target, sizeof target, fmt, ap);
    va_end(ap);
    http_reply_free(&fx.reply);
    if (http_request(fx.server.port, "GET", target, "", NULL, 0, &fx.reply)) return -1;
    return fx.reply.status;
}

/* The answer is Matomo's error object and nothing of any site. */
static bool is_bare_401(void)
{
    json_t *j = json_loads(fx.reply.body.data ? fx.reply.body.data : "", 0, NULL);
    bool shaped = json_is_object(j) && json_object_size(j) == 2 &&
                  json_is_string(json_object_get(j, "message")) &&
                  strcmp(json_string_value(json_object_get(j, "result")), "error") == 0;
    json_decref(j);
    const char *body = fx.reply.body.data ? fx.reply.body.data : "";
    bool no_data = !strstr(body, "example") && !strstr(body, "Alpha") && !strstr(body, "Beta") &&
                   !strstr(body, "Public") && !strstr(body, "idsite");
    if (!shaped || !no_data) printf("# 401 body: %s\n", body);
    return fx.reply.status == 401 && shaped && no_data;
}

static void test_api_answers_only_with_view_access(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(GET_SITE "1&token_auth=%s", fx.viewer), 200);
    ASSERT_CONTAINS(fx.reply.body.data, "\"name\":\"Alpha\"");
    /* Another site, no token, an unknown token, a malformed one. */
    ASSERT_EQ_INT(get(GET_SITE "2&token_auth=%s", fx.viewer), 401);
    ASSERT_TRUE(is_bare_401());
    ASSERT_EQ_INT(get(GET_SITE "1"), 401);
    ASSERT_TRUE(is_bare_401());
    ASSERT_EQ_INT(get(GET_SITE "1&token_auth="), 401);
    ASSERT_TRUE(is_bare_401());
    ASSERT_EQ_INT(get(GET_SITE "1&token_auth=" NOBODYS_TOKEN), 401);
    ASSERT_TRUE(is_bare_401());
    ASSERT_EQ_INT(get(GET_SITE "1&token_auth=%.31s", fx.viewer), 401);
    ASSERT_TRUE(is_bare_401());
    ASSERT_EQ_INT(get(GET_SITE "1&token_auth=%s", "viewer"), 401);
    ASSERT_TRUE(is_bare_401());
    /* A site token reads its own site; a superuser reads every site and
     * alone learns that a site does not exist. */
    ASSERT_EQ_INT(get(GET_SITE "2&token_auth=%s", fx.site2), 200);
    ASSERT_EQ_INT(get(GET_SITE "1&token_auth=%s", fx.site2), 401);
    ASSERT_EQ_INT(get(GET_SITE "2&token_auth=%s", fx.root), 200);
    ASSERT_CONTAINS(fx.reply.body.data, "\"name\":\"Beta\"");
    ASSERT_EQ_INT(get(GET_SITE "99&token_auth=%s", fx.root), 400);
    ASSERT_EQ_INT(get(GET_SITE "99&token_auth=%s", fx.viewer), 401);
    ASSERT_TRUE(is_bare_401());
}

static void test_anonymous_view_site(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(GET_SITE "3"), 200);
    ASSERT_CONTAINS(fx.reply.body.data, "\"name\":\"Public\"");
    ASSERT_EQ_INT(get(GET_SITE "3&token_auth=%s", fx.viewer), 200);
    /* A wrong token is refused even where no token would do. */
    ASSERT_EQ_INT(get(GET_SITE "3&token_auth=" NOBODYS_TOKEN), 401);
    ASSERT_TRUE(is_bare_401());
    /* Anonymous view never reaches write: no cdt without a token. */
    ASSERT_EQ_INT(get("/matomo.php?idsite=3&rec=1&send_image=0&url=https%%3A%%2F%%2Fp.example%%2F"
                      "&cdt=1761991200"),
                  400);
}

static void test_cdt_needs_write_access(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(HIT "view&cdt=1761991200&token_auth=%s", fx.viewer), 400);
    ASSERT_CONTAINS(fx.reply.body.data, "cdt needs a valid token_auth for site 1");
    ASSERT_EQ_INT(get(HIT "view&cip=192.0.2.1&token_auth=%s", fx.viewer), 400);
    ASSERT_EQ_INT(get(HIT "other-site&cdt=1761991200&token_auth=%s", fx.site2), 400);
    ASSERT_EQ_INT(get(HIT "write&cdt=1761991200&token_auth=%s", fx.writer), 204);
    ASSERT_EQ_INT(get(HIT "root&cdt=1761991200&cip=192.0.2.1&token_auth=%s", fx.root), 204);
    /* A bulk request's token counts the same way. */
    char body[512];
    snprintf(body, sizeof body,
             "{\"token_auth\":\"%s\",\"requests\":[\"?idsite=1&rec=1&url=https%%3A%%2F%%2F"
             "a.example%%2Fbulk&cdt=1761991200\"]}",
             fx.viewer);
    http_reply_free(&fx.reply);
    ASSERT_EQ_INT(http_request(fx.server.port, "POST", "/matomo.php", "", body, strlen(body),
                               &fx.reply),
                  0);
    ASSERT_CONTAINS(fx.reply.body.data, "\"tracked\":0,\"invalid\":1");

    ASSERT_EQ_INT(TALLY("hits --data %s --site 1 --from 2025-11-01 --to 2025-11-01", dir), 0);
    ASSERT_CONTAINS(out.data, "a.example/write");
    ASSERT_CONTAINS(out.data, "a.example/root");
    ASSERT_NOT_CONTAINS(out.data, "a.example/view");
    ASSERT_NOT_CONTAINS(out.data, "a.example/other-site");
    ASSERT_NOT_CONTAINS(out.data, "a.example/bulk");
}

/* Polls until the server, which reloads users.json within a second or
 * two, answers GET_SITE for the viewer with status. */
static bool viewer_gets(const char *site, int status)
{
    for (int i = 0; i < 50; i++) {
        if (get(GET_SITE "%s&token_auth=%s", site, fx.viewer) == status) return true;
        struct timespec t = {.tv_nsec = 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return false;
}

static void test_grant_and_revoke_while_serving(void)
{
    ASSERT_TRUE(fixture_start());
    ASSERT_EQ_INT(get(GET_SITE "2&token_auth=%s", fx.viewer), 401);
    ASSERT_EQ_INT(TALLY("user grant --data %s viewer --site 2 --access view", dir), 0);
    ASSERT_TRUE(viewer_gets("2", 200));
    ASSERT_CONTAINS(fx.reply.body.data, "\"name\":\"Beta\"");
    ASSERT_EQ_INT(TALLY("user grant --data %s viewer --site 1 --access none", dir), 0);
    ASSERT_TRUE(viewer_gets("1", 401));
    ASSERT_TRUE(is_bare_401());
}

/* ---- what the Reporting API calls ---- */

static void test_access_functions(void)
{
    ASSERT_TRUE(fixture_setup());
    struct sites *sites = NULL;
    struct users *users = NULL;
    struct tokens *tokens = NULL;
    char err[512];
    ASSERT_EQ_INT(sites_load(dir, &sites, err, sizeof err), 0);
    ASSERT_EQ_INT(users_load(dir, &users, err, sizeof err), 0);
    ASSERT_EQ_INT(tokens_load(dir, &tokens, err, sizeof err), 0);
    uint32_t ids[8];
    size_t viewer = access_sites(users, tokens, sites, fx.viewer, ACCESS_VIEW, ids, 8);
    bool viewer_ids = viewer == 2 && ids[0] == 1 && ids[1] == 3;
    size_t viewer_writes = access_sites(users, tokens, sites, fx.viewer, ACCESS_WRITE, ids, 8);
    size_t writer_writes = access_sites(users, tokens, sites, fx.writer, ACCESS_WRITE, ids, 8);
    bool writer_ids = writer_writes == 1 && ids[0] == 1;
    size_t anonymous = access_sites(users, tokens, sites, NULL, ACCESS_VIEW, ids, 8);
    bool anonymous_ids = anonymous == 1 && ids[0] == 3;
    size_t wrong = access_sites(users, tokens, sites, NOBODYS_TOKEN, ACCESS_VIEW, ids, 8);
    size_t root = access_sites(users, tokens, sites, fx.root, ACCESS_ADMIN, ids, 1);
    enum access levels[] = {
        access_for(users, tokens, sites, fx.viewer, 1), access_for(users, tokens, sites, fx.writer, 1),
        access_for(users, tokens, sites, fx.site2, 2),  access_for(users, tokens, sites, fx.root, 2),
        access_for(users, tokens, sites, "", 3),        access_for(users, tokens, sites, "", 1),
    };
    bool root_super = access_is_superuser(users, tokens, fx.root);
    bool viewer_super = access_is_superuser(users, tokens, fx.viewer);
    tokens_free(tokens);
    users_free(users);
    sites_free(sites);
    ASSERT_TRUE(viewer_ids);
    ASSERT_EQ_U64(viewer_writes, 0);
    ASSERT_TRUE(writer_ids);
    ASSERT_TRUE(anonymous_ids);
    ASSERT_EQ_U64(wrong, 0);
    ASSERT_EQ_U64(root, 3); /* all three, though only one fitted */
    ASSERT_EQ_INT(levels[0], ACCESS_VIEW);
    ASSERT_EQ_INT(levels[1], ACCESS_WRITE);
    ASSERT_EQ_INT(levels[2], ACCESS_WRITE);
    ASSERT_EQ_INT(levels[3], ACCESS_SUPERUSER);
    ASSERT_EQ_INT(levels[4], ACCESS_VIEW);
    ASSERT_EQ_INT(levels[5], ACCESS_NONE);
    ASSERT_TRUE(root_super);
    ASSERT_TRUE(!viewer_super);
}

int main(void)
{
    buf_init(&out);
    TEST_RUN(test_user_add_keeps_only_an_argon2id_hash);
    TEST_RUN(test_user_add_refusals);
    TEST_RUN(test_user_grant_and_list);
    TEST_RUN(test_tokens_file_needs_one_owner);
    RUN(test_api_answers_only_with_view_access);
    RUN(test_anonymous_view_site);
    RUN(test_cdt_needs_write_access);
    RUN(test_grant_and_revoke_while_serving);
    TEST_RUN(test_access_functions);
    if (dir[0]) harness_rmtree(dir);
    buf_free(&out);
    return TEST_DONE();
}
