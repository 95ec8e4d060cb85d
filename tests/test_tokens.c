/* test_tokens: a user's API tokens as Matomo's "Personal > Security" page
 * manages them, through the real CLI and real HTTP against the real
 * server: UsersManager.getTokens lists description and dates (never the
 * token or its hash), deleteToken stops a token at once, who may do which,
 * expiry, hostile descriptions, tokens.json files written before tokens
 * had ids, and `tally token list` / `tally token delete`. */
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"

#define PASSWORD "correct horse battery staple"
#define SITES "method=SitesManager.getSitesWithAtLeastViewAccess&format=json"
/* A report: 401 for a token that authenticates nothing. */
#define VISITS "method=VisitsSummary.get&period=day&date=today&format=json"
/* A new token for alice, confirmed with her password; more parameters follow. */
#define CREATE                                                                                     \
    "method=UsersManager.createAppSpecificTokenAuth&userLogin=alice&"                            \
    "passwordConfirmation=correct%20horse%20battery%20staple&"

static char template_dir[256], dir[256];
static struct buf out;
static struct server server;
static bool running;

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))
#define TALLY_IN(input, ...) (buf_reset(&out), run_tally_input(&out, input, __VA_ARGS__))

/* Site Alpha (1); users alice and bob (view on 1) and root (superuser),
 * each with PASSWORD. Hashing passwords is slow under the sanitizers, so
 * they are made once and each test copies them into a fresh folder with
 * no tokens at all: every id a test expects counts from 1. */
static bool fresh(void)
{
    if (!template_dir[0]) {
        harness_tmpdir(template_dir);
        const char *t = template_dir;
        if (TALLY("site add --data %s --name Alpha --url https://a.example", t) ||
            TALLY_IN(PASSWORD "\n", "user add --data %s alice", t) ||
            TALLY_IN(PASSWORD "\n", "user add --data %s bob", t) ||
            TALLY_IN(PASSWORD "\n", "user add --data %s root --superuser", t) ||
            TALLY("user grant --data %s alice --site 1 --access view", t) ||
            TALLY("user grant --data %s bob --site 1 --access view", t)) {
            printf("# setting up: %s\n", out.data);
            return false;
        }
    }
    harness_tmpdir(dir);
    static const char *const files[] = {"sites.json", "users.json"};
    for (size_t i = 0; i < 2; i++) {
        char from[300], to[300];
        struct buf content;
        buf_init(&content);
        snprintf(from, sizeof from, "%s/%s", template_dir, files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        bool ok = file_read_all(from, &content) == 0 &&
                  file_write_atomic(to, content.data, content.len, 0600) == 0;
        buf_free(&content);
        if (!ok) return false;
    }
    return true;
}

static bool start(void)
{
    running = server_start(&server, dir, "") == 0;
    return running;
}

static void stop(void)
{
    if (running) server_stop(&server);
    running = false;
    if (dir[0]) harness_rmtree(dir);
    dir[0] = '\0';
    keep(NULL);
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        stop();                                                                                    \
    } while (0)

/* `tally token create --data DIR ARGS` into token; false when it failed. */
static bool token_create(char token[33], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool token_create(char token[33], const char *fmt, ...)
{
    char args[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (TALLY("token create --data %s %s", dir, args) != 0 || out.len != 33) {
        printf("# token create %s: %s\n", args, out.data);
        return false;
    }
    snprintf(token, 33, "%.32s", out.data);
    return true;
}

/* The status of a Reporting API call made with token (body dropped). */
static int status_of(const char *token, const char *query)
{
    int status;
    free(api_get(&server, token, 1, query, &status));
    return status;
}

/* Whether token authenticates: the sites it may view hold Alpha. */
static bool works(const char *token)
{
    int status;
    char *body = api_get(&server, token, 1, SITES, &status);
    bool ok = status == 200 && body && strstr(body, "\"name\":\"Alpha\"");
    free(body);
    return ok;
}

/* Whether token's state becomes want within 3 s: a running server reloads
 * tokens.json within a second of a CLI change. */
static bool becomes(const char *token, bool want)
{
    for (int i = 0; i < 30; i++) {
        if (works(token) == want) return true;
        usleep(100 * 1000);
    }
    return false;
}

/* userLogin's tokens as caller sees them (NULL when refused), kept. */
static json_t *tokens_of(const char *caller, const char *login)
{
    char query[200];
    snprintf(query, sizeof query, "method=UsersManager.getTokens&userLogin=%s", login);
    int status;
    char *body = api_get(&server, caller, 1, query, &status);
    json_t *j = status == 200 && body ? json_loads(body, 0, NULL) : NULL;
    if (!j) printf("# %s: %d %.300s\n", query, status, body ? body : "(none)");
    free(body);
    return keep(j);
}

/* The UTC day now, as API dates begin. */
static void today(char out_day[11])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out_day, 11, "%Y-%m-%d", &tm);
}

static const char *str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

#define HOSTILE "CI <img src=x onerror=alert(1)> \"quoted\" & 'single' \\ back"
#define HOSTILE_ENCODED                                                                            \
    "CI%20%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%20%22quoted%22%20%26%20'single'%20%5C%20back"

static void test_list_shows_description_and_dates_never_the_secret(void)
{
    char phone[33], importer[33], bobs[33];
    ASSERT_TRUE(fresh());
    /* Ids 1 (alice), 2 (a site's: nobody's to list) and 3 (bob). */
    ASSERT_TRUE(token_create(phone, "--user alice --description 'Phone app'"));
    ASSERT_TRUE(token_create(importer, "--site 1 --description Importer"));
    ASSERT_TRUE(token_create(bobs, "--user bob"));
    ASSERT_TRUE(start());
    char day_before[11], day_after[11];
    today(day_before);
    /* Id 4, through the API, with a hostile description and 2 hours. */
    int status;
    char *answer = api_get(&server, phone, 1,
                           "method=UsersManager.createAppSpecificTokenAuth&userLogin=alice&"
                           "passwordConfirmation=correct%20horse%20battery%20staple&"
                           "expireHours=2&description=" HOSTILE_ENCODED,
                           &status);
    json_t *created = json_loads(answer ? answer : "", 0, NULL);
    free(answer);
    char ci[33];
    snprintf(ci, sizeof ci, "%s", created ? str(created, "value") : "");
    json_decref(created);
    ASSERT_EQ_INT(status, 200);
    ASSERT_EQ_INT(strlen(ci), 32);

    json_t *rows = tokens_of(phone, "alice");
    today(day_after);
    ASSERT_ROWS(rows, 2);
    const json_t *first = json_array_get(rows, 0), *second = json_array_get(rows, 1);
    ASSERT_FIELDS(first, "idusertokenauth=1 login=alice description=Phone~app");
    ASSERT_FIELDS(second, "idusertokenauth=4 login=alice");
    ASSERT_EQ_STR(str(second, "description"), HOSTILE);
    /* Made today; the first never expires, the second 2 hours after it was
     * made. */
    for (size_t i = 0; i < 2; i++) {
        const char *made = str(json_array_get(rows, i), "date_created");
        ASSERT_TRUE(made && strlen(made) == 19 &&
                    (strncmp(made, day_before, 10) == 0 || strncmp(made, day_after, 10) == 0));
    }
    ASSERT_TRUE(json_is_null(json_object_get(first, "date_expired")));
    struct tm made_tm = {0}, expires_tm = {0};
    ASSERT_TRUE(strptime(str(second, "date_created"), "%Y-%m-%d %H:%M:%S", &made_tm));
    ASSERT_TRUE(str(second, "date_expired") &&
                strptime(str(second, "date_expired"), "%Y-%m-%d %H:%M:%S", &expires_tm));
    /* Each is cut to its second, taken a moment apart. */
    long apart = (long)(timegm(&expires_tm) - timegm(&made_tm));
    ASSERT_TRUE(apart == 2 * 3600 || apart == 2 * 3600 - 1);
    /* The phone token has just been used (by this very call); the new one
     * not yet, until it is. */
    ASSERT_TRUE(str(first, "last_used") && strcmp(str(first, "last_used"),
                                                   str(first, "date_created")) >= 0);
    ASSERT_TRUE(json_is_null(json_object_get(second, "last_used")));
    ASSERT_TRUE(works(ci));
    rows = tokens_of(phone, "alice");
    ASSERT_TRUE(str(json_array_get(rows, 1), "last_used") != NULL);

    /* In the bytes: escaped for any HTML context, and nothing secret. */
    answer = api_get(&server, phone, 1, "method=UsersManager.getTokens&userLogin=alice", &status);
    ASSERT_TRUE(answer != NULL);
    char text[4096];
    snprintf(text, sizeof text, "%s", answer);
    free(answer);
    ASSERT_CONTAINS(text, "CI \\u003cimg src=x onerror=alert(1)\\u003e \\\"quoted\\\" \\u0026 "
                          "\\u0027single\\u0027 \\\\ back");
    ASSERT_NOT_CONTAINS(text, "<img");
    ASSERT_NOT_CONTAINS(text, phone);
    ASSERT_NOT_CONTAINS(text, ci);
    char path[300];
    snprintf(path, sizeof path, "%s/tokens.json", dir);
    json_t *file = keep(json_load_file(path, 0, NULL));
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(file, "tokens"), i, entry)
    {
        ASSERT_NOT_CONTAINS(text, str(entry, "hash"));
    }
    /* The file keeps no token either. */
    ASSERT_EQ_INT(harness_grep_tree(dir, phone), 0);
    ASSERT_EQ_INT(harness_grep_tree(dir, ci), 0);
}

static void test_delete_stops_the_token_at_once(void)
{
    char phone[33], laptop[33];
    ASSERT_TRUE(fresh());
    ASSERT_TRUE(token_create(phone, "--user alice --description Phone"));
    ASSERT_TRUE(token_create(laptop, "--user alice --description Laptop"));
    ASSERT_TRUE(start());
    ASSERT_TRUE(works(laptop));
    /* Through the API: the very next request is refused. */
    ASSERT_EQ_INT(status_of(phone, "method=UsersManager.deleteToken&userLogin=alice&idTokenAuth=2"),
                  200);
    ASSERT_EQ_INT(status_of(laptop, VISITS), 401);
    ASSERT_TRUE(works(phone));
    json_t *rows = tokens_of(phone, "alice");
    ASSERT_ROWS(rows, 1);
    ASSERT_FIELDS(json_array_get(rows, 0), "idusertokenauth=1 description=Phone");
    /* An id that is gone, or no id, is a 400 that says why. */
    ASSERT_TRUE(api_error_says(&server, phone, 1,
                               "method=UsersManager.deleteToken&userLogin=alice&idTokenAuth=2", 400,
                               "alice has no token with id 2"));
    ASSERT_TRUE(api_error_says(&server, phone, 1,
                               "method=UsersManager.deleteToken&userLogin=alice&idTokenAuth=x", 400,
                               "idTokenAuth: expected a positive integer id"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, "method=UsersManager.deleteToken&userLogin=alice",
                               400, "idTokenAuth"));
    /* A deleted id is never given again: the next token is 3, not 2. */
    char tablet[33];
    ASSERT_TRUE(token_create(tablet, "--user alice --description Tablet"));
    ASSERT_TRUE(becomes(tablet, true));
    rows = tokens_of(phone, "alice");
    ASSERT_ROWS(rows, 2);
    ASSERT_FIELDS(json_array_get(rows, 1), "idusertokenauth=3 description=Tablet");
    /* From the CLI beside the running server: it reloads tokens.json. */
    ASSERT_EQ_INT(TALLY("token delete --data %s --id 3", dir), 0);
    ASSERT_CONTAINS(out.data, "deleted token 3");
    ASSERT_TRUE(becomes(tablet, false));
    ASSERT_TRUE(works(phone));
}

static void test_who_may_list_and_delete(void)
{
    char alices[33], bobs[33], site[33], roots[33];
    ASSERT_TRUE(fresh());
    ASSERT_TRUE(token_create(alices, "--user alice"));
    ASSERT_TRUE(token_create(bobs, "--user bob --description Bob"));
    ASSERT_TRUE(token_create(site, "--site 1"));
    ASSERT_TRUE(token_create(roots, "--user root"));
    ASSERT_TRUE(start());
    /* A user lists and deletes only their own. */
    ASSERT_EQ_INT(status_of(alices, "method=UsersManager.getTokens&userLogin=bob"), 401);
    ASSERT_EQ_INT(status_of(alices, "method=UsersManager.deleteToken&userLogin=bob&idTokenAuth=2"),
                  401);
    /* Bob's id under alice's name: the same answer as an id nobody has. */
    ASSERT_TRUE(api_error_says(&server, alices, 1,
                               "method=UsersManager.deleteToken&userLogin=alice&idTokenAuth=2", 400,
                               "alice has no token with id 2"));
    ASSERT_TRUE(works(bobs));
    /* A site's token, no token, or a wrong one: not a user at all. */
    ASSERT_EQ_INT(status_of(site, "method=UsersManager.getTokens&userLogin=alice"), 401);
    ASSERT_EQ_INT(status_of("", "method=UsersManager.getTokens&userLogin=alice"), 401);
    ASSERT_EQ_INT(status_of("0123456789abcdef0123456789abcdef",
                            "method=UsersManager.getTokens&userLogin=alice"),
                  401);
    ASSERT_TRUE(api_error_says(&server, alices, 1, "method=UsersManager.getTokens", 400,
                               "userLogin is missing"));
    /* Site tokens belong to no user's list. */
    ASSERT_ROWS(tokens_of(alices, "alice"), 1);
    /* A superuser lists and deletes anyone's. */
    json_t *rows = tokens_of(roots, "bob");
    ASSERT_ROWS(rows, 1);
    ASSERT_FIELDS(json_array_get(rows, 0), "idusertokenauth=2 login=bob description=Bob");
    ASSERT_TRUE(api_error_says(&server, roots, 1, "method=UsersManager.getTokens&userLogin=carol",
                               400, "no user named carol"));
    ASSERT_EQ_INT(status_of(roots, "method=UsersManager.deleteToken&userLogin=bob&idTokenAuth=2"),
                  200);
    ASSERT_EQ_INT(status_of(bobs, VISITS), 401);
    ASSERT_ROWS(tokens_of(roots, "bob"), 0);
    ASSERT_TRUE(works(alices) && works(site));
}

/* "YYYY-MM-DD HH:MM:SS" (UTC) seconds from now. */
static void utc_in(int seconds, char out_text[20])
{
    time_t t = time(NULL) + seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out_text, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

static void test_expired_tokens_stop_working(void)
{
    char soon[33], phone[33], when[20];
    ASSERT_TRUE(fresh());
    ASSERT_TRUE(token_create(phone, "--user alice"));
    ASSERT_TRUE(start());
    /* Made with the CLI to expire 4 s from now: it works, then does not,
     * with no change to any file. */
    utc_in(4, when);
    ASSERT_TRUE(token_create(soon, "--user alice --expires '%s'", when));
    time_t made = time(NULL);
    ASSERT_TRUE(becomes(soon, true));
    while (time(NULL) < made + 5)
        usleep(200 * 1000);
    ASSERT_EQ_INT(status_of(soon, VISITS), 401);
    ASSERT_TRUE(works(phone));
    /* It stays listed, with its date, until deleted (as in Matomo). */
    json_t *rows = tokens_of(phone, "alice");
    ASSERT_ROWS(rows, 2);
    ASSERT_EQ_STR(str(json_array_get(rows, 1), "date_expired"), when);

    /* expireDate wins over expireHours, as in Matomo; each is checked
     * before the password. */
    ASSERT_EQ_INT(status_of(phone, CREATE "description=x&expireDate=2099-01-02%2003:04:05&"
                                          "expireHours=1"),
                  200);
    rows = tokens_of(phone, "alice");
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_STR(str(json_array_get(rows, 2), "date_expired"), "2099-01-02 03:04:05");
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=x&expireDate=2020-01-01", 400,
                               "expireDate: 2020-01-01 is not in the future"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=x&expireDate=tomorrow", 400,
                               "expireDate: expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=x&expireDate=2099-02-30", 400,
                               "expireDate: expected"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=x&expireHours=-1", 400,
                               "expireHours: expected whole hours"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=x&expireHours=87601", 400,
                               "expireHours: expected whole hours from 0 (never) to 87600"));
    ASSERT_EQ_INT(TALLY("token create --data %s --user alice --expires 2020-01-01", dir), 2);
    ASSERT_CONTAINS(out.data, "--expires: 2020-01-01 is not in the future");
    ASSERT_ROWS(tokens_of(phone, "alice"), 3);
}

static void test_descriptions_are_checked(void)
{
    char phone[33];
    ASSERT_TRUE(fresh());
    ASSERT_TRUE(token_create(phone, "--user alice"));
    ASSERT_TRUE(start());
    char query[1000];
    /* 100 characters are allowed (as Matomo), here 100 two-byte ones. */
    int n = snprintf(query, sizeof query, "%s", CREATE "description=");
    for (int i = 0; i < 100; i++)
        n += snprintf(query + n, sizeof query - (size_t)n, "%%C3%%A9");
    ASSERT_EQ_INT(status_of(phone, query), 200);
    snprintf(query + n, sizeof query - (size_t)n, "x");
    ASSERT_TRUE(api_error_says(&server, phone, 1, query, 400,
                               "the description is longer than 100 characters"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=a%0Ab", 400,
                               "the description may not hold control characters"));
    ASSERT_TRUE(api_error_says(&server, phone, 1, CREATE "description=%FF", 400,
                               "not valid UTF-8"));
    /* Without one (older callers), it is stored empty. */
    ASSERT_EQ_INT(status_of(phone, CREATE), 200);
    json_t *rows = tokens_of(phone, "alice");
    ASSERT_ROWS(rows, 3);
    ASSERT_EQ_INT(strlen(str(json_array_get(rows, 1), "description")), 200);
    ASSERT_EQ_STR(str(json_array_get(rows, 2), "description"), "");
}

/* BLAKE2b of a token as hex, as tokens.json keeps it. */
static void hash_hex(const char *token, char out_hex[65])
{
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out_hex, 65, hash, sizeof hash);
}

static void test_old_tokens_file_still_loads(void)
{
    ASSERT_TRUE(fresh());
    /* As `tally token create` wrote it before tokens had ids: no "id", no
     * "last_id", no "description"; the site token has no date either. */
    const char *alices = "00112233445566778899aabbccddeeff";
    const char *sites = "ffeeddccbbaa99887766554433221100";
    char alice_hash[65], site_hash[65], file[600], path[300];
    hash_hex(alices, alice_hash);
    hash_hex(sites, site_hash);
    int len = snprintf(file, sizeof file,
                       "{\"tokens\":[{\"user\":\"alice\",\"hash\":\"%s\",\"created_ms\":"
                       "1700000000000},{\"site\":1,\"hash\":\"%s\"}]}\n",
                       alice_hash, site_hash);
    snprintf(path, sizeof path, "%s/tokens.json", dir);
    ASSERT_EQ_INT(file_write_atomic(path, file, (size_t)len, 0600), 0);
    ASSERT_TRUE(start());
    ASSERT_TRUE(works(alices) && works(sites));
    /* Ids in file order; 1700000000000 ms is 2023-11-14 22:13:20 UTC. */
    json_t *rows = tokens_of(alices, "alice");
    ASSERT_ROWS(rows, 1);
    ASSERT_FIELDS(json_array_get(rows, 0), "idusertokenauth=1 description= "
                                           "date_created=2023-11-14~22:13:20");
    ASSERT_EQ_INT(TALLY("token list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "1     user alice                 2023-11-14 22:13 never");
    ASSERT_CONTAINS(out.data, "2     site 1                     -                never");
    /* The first rewrite stores those ids, and the next token is 3. */
    char laptop[33];
    ASSERT_TRUE(token_create(laptop, "--user alice --description Laptop"));
    json_t *stored = keep(json_load_file(path, 0, NULL));
    ASSERT_EQ_INT(json_integer_value(json_object_get(stored, "last_id")), 3);
    json_t *entries = json_object_get(stored, "tokens");
    ASSERT_ROWS(entries, 3);
    ASSERT_FIELDS(json_array_get(entries, 0), "id=1 user=alice created_ms=1700000000000");
    ASSERT_FIELDS(json_array_get(entries, 1), "id=2 site=1 created_ms=-");
    ASSERT_FIELDS(json_array_get(entries, 2), "id=3 user=alice description=Laptop");
    ASSERT_TRUE(becomes(laptop, true));
    ASSERT_TRUE(works(alices) && works(sites));
}

static void test_cli_lists_and_deletes(void)
{
    char token[33];
    ASSERT_TRUE(fresh());
    ASSERT_EQ_INT(TALLY("token list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "no tokens; make one with `tally token create");
    ASSERT_TRUE(token_create(token, "--user alice --description 'Phone app'"));
    ASSERT_TRUE(token_create(token, "--site 1 --expires 2099-12-31"));
    ASSERT_TRUE(token_create(token, "--user bob"));
    ASSERT_EQ_INT(TALLY("token list --data %s --user alice --json", dir), 0);
    json_t *listed = keep(json_loads(out.data, 0, NULL));
    ASSERT_ROWS(listed, 1);
    ASSERT_FIELDS(json_array_get(listed, 0), "id=1 user=alice description=Phone~app expires_ms=0");
    ASSERT_EQ_INT(TALLY("token list --data %s --json", dir), 0);
    listed = keep(json_loads(out.data, 0, NULL));
    ASSERT_ROWS(listed, 3);
    /* 2099-12-31 00:00:00 UTC is day 47481 since 1970. */
    ASSERT_FIELDS(json_array_get(listed, 1), "id=2 site=1 user=- expires_ms=4102358400000");
    ASSERT_EQ_INT(TALLY("token list --data %s", dir), 0);
    ASSERT_CONTAINS(out.data, "ID    OWNER                      CREATED (UTC)    EXPIRES (UTC)    "
                              "DESCRIPTION\n");
    ASSERT_CONTAINS(out.data, "2099-12-31 00:00 \n");
    ASSERT_NOT_CONTAINS(out.data, token);
    ASSERT_EQ_INT(TALLY("token delete --data %s --id 2", dir), 0);
    ASSERT_EQ_INT(TALLY("token delete --data %s --id 2", dir), 2);
    ASSERT_CONTAINS(out.data, "no token with id 2; `tally token list` shows them");
    ASSERT_EQ_INT(TALLY("token delete --data %s", dir), 2);
    ASSERT_CONTAINS(out.data, "--id: expected the token's id");
    ASSERT_EQ_INT(TALLY("token list --data %s --json", dir), 0);
    ASSERT_ROWS(keep(json_loads(out.data, 0, NULL)), 2);
    /* Deleting a user takes their tokens along. */
    ASSERT_TRUE(start());
    char roots[33];
    ASSERT_TRUE(token_create(roots, "--user root"));
    ASSERT_TRUE(becomes(roots, true));
    ASSERT_EQ_INT(status_of(roots, "method=UsersManager.deleteUser&userLogin=bob"), 200);
    ASSERT_EQ_INT(TALLY("token list --data %s --json", dir), 0);
    listed = keep(json_loads(out.data, 0, NULL));
    ASSERT_ROWS(listed, 2);
    ASSERT_FIELDS(json_array_get(listed, 0), "id=1 user=alice");
    ASSERT_FIELDS(json_array_get(listed, 1), "id=4 user=root");
}

int main(void)
{
    buf_init(&out);
    RUN(test_list_shows_description_and_dates_never_the_secret);
    RUN(test_delete_stops_the_token_at_once);
    RUN(test_who_may_list_and_delete);
    RUN(test_expired_tokens_stop_working);
    RUN(test_descriptions_are_checked);
    RUN(test_old_tokens_file_still_loads);
    RUN(test_cli_lists_and_deletes);
    if (template_dir[0]) harness_rmtree(template_dir);
    buf_free(&out);
    return TEST_DONE();
}
