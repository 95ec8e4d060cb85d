/* test_dashboard_api: what the dashboard relies on (issue 7's contract),
 * through real HTTP against the real server: logging in and out, the
 * session cookie and the X-Tally-Requested rule, throttling, sessions that
 * end with their user or password, and the settings methods (sites, users,
 * tokens, saved segments) with their refusals and access levels. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"

#define PASSWORD "correct horse battery staple"
#define FORM "Content-Type: application/x-www-form-urlencoded\r\n"
#define DASHBOARD "X-Tally-Requested: 1\r\n"
#define SITES "/index.php?module=API&method=SitesManager.getSitesWithAtLeastViewAccess&format=json"

static char dir[256];
static struct buf out;
static struct server server;
static bool running;
static struct http_reply reply;
static char cookie[200]; /* "Cookie: tally_session=...\r\n" of the last login */

#define TALLY(...) (buf_reset(&out), run_tally(&out, __VA_ARGS__))
#define TALLY_IN(input, ...) (buf_reset(&out), run_tally_input(&out, input, __VA_ARGS__))

/* Sites Alpha (1) and Beta (2); users alice (view on 1), walt (write on
 * 1), adam (admin on 1) and root (superuser), each with PASSWORD. Made
 * once (hashing passwords is slow under the sanitizers); each test starts
 * a fresh server on it, so sessions and throttling start empty. Tests that
 * change users or sites change their own ones. */
static bool start(const char *serve_args)
{
    static bool made;
    if (!made) {
        harness_tmpdir(dir);
        made = TALLY("site add --data %s --name Alpha --url https://a.example", dir) == 0 &&
               TALLY("site add --data %s --name Beta --url https://b.example", dir) == 0 &&
               TALLY_IN(PASSWORD "\n", "user add --data %s alice", dir) == 0 &&
               TALLY_IN(PASSWORD "\n", "user add --data %s walt", dir) == 0 &&
               TALLY_IN(PASSWORD "\n", "user add --data %s adam", dir) == 0 &&
               TALLY_IN(PASSWORD "\n", "user add --data %s root --superuser", dir) == 0 &&
               TALLY("user grant --data %s alice --site 1 --access view", dir) == 0 &&
               TALLY("user grant --data %s walt --site 1 --access write", dir) == 0 &&
               TALLY("user grant --data %s adam --site 1 --access admin", dir) == 0;
        if (!made) {
            printf("# setting up: %s\n", out.data);
            return false;
        }
    }
    buf_init(&reply.headers);
    buf_init(&reply.body);
    running = server_start(&server, dir, serve_args) == 0;
    return running;
}

static void stop(void)
{
    http_reply_free(&reply);
    if (running) server_stop(&server);
    running = false;
    cookie[0] = '\0';
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        stop();                                                                                    \
    } while (0)

/* One request; the answer stays in reply. Returns the status (-1: none). */
static int request(const char *method, const char *target, const char *headers, const char *body)
{
    http_reply_free(&reply);
    if (http_request(server.port, method, target, headers, body, body ? strlen(body) : 0,
                     &reply))
        return -1;
    return reply.status;
}

static const char *body(void)
{
    return reply.body.data ? reply.body.data : "";
}

/* POST /login as name; on success keeps the cookie for the next requests. */
static int login(const char *name, const char *password)
{
    char form[300];
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "login=%s&password=", name);
    buf_url_encode(&b, password, strlen(password));
    snprintf(form, sizeof form, "%s", b.data);
    buf_free(&b);
    int status = request("POST", "/login", FORM, form);
    char value[200];
    if (status == 200 && http_reply_header(&reply, "Set-Cookie", value, sizeof value)) {
        size_t len = strcspn(value, ";");
        snprintf(cookie, sizeof cookie, "Cookie: %.*s\r\n", (int)len, value);
    }
    return status;
}

/* A dashboard call: the cookie and the header (headers adds more). */
static int dashboard(const char *method, const char *target, const char *body_text)
{
    char headers[400];
    snprintf(headers, sizeof headers, "%s" DASHBOARD "%s", cookie, body_text ? FORM : "");
    return request(method, target, headers, body_text);
}

/* ---- sessions ---- */

/* A /session or /login answer as "LOGIN SUPERUSER [SITE IDS]": who is
 * logged in and the sites they may see, all the dashboard's first view needs. */
static const char *session_summary(void)
{
    static char text[200];
    json_t *who = json_loads(body(), 0, NULL);
    json_t *sites = json_object_get(who, "sites");
    int n = snprintf(text, sizeof text, "%s %s [",
                     json_string_value(json_object_get(who, "login")),
                     json_is_true(json_object_get(who, "superuser")) ? "true" : "false");
    size_t i;
    json_t *site;
    json_array_foreach(sites, i, site)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s%s", i ? "," : "",
                      json_string_value(json_object_get(site, "idsite")));
    snprintf(text + n, sizeof text - (size_t)n, "]");
    json_decref(who);
    return text;
}

static void test_login_sets_a_strict_http_only_cookie(void)
{
    ASSERT_TRUE(start(""));
    ASSERT_EQ_INT(login("alice", PASSWORD), 200);
    ASSERT_EQ_STR(session_summary(), "alice false [1]");
    char value[200];
    ASSERT_TRUE(http_reply_header(&reply, "Set-Cookie", value, sizeof value) != NULL);
    /* 64 hex characters (256 random bits), then exactly the contract's
     * flags: no Secure without --secure-cookies (plain HTTP would drop it). */
    ASSERT_EQ_INT(strspn(value + 14, "0123456789abcdef"), 64);
    ASSERT_EQ_STR(value + 14 + 64, "; Path=/; HttpOnly; SameSite=Strict");
    ASSERT_TRUE(strncmp(value, "tally_session=", 14) == 0);
    /* No credentialed CORS on the session routes. */
    ASSERT_TRUE(http_reply_header(&reply, "Access-Control-Allow-Credentials", value,
                                  sizeof value) == NULL);

    ASSERT_EQ_INT(dashboard("GET", "/session", NULL), 200);
    ASSERT_EQ_STR(session_summary(), "alice false [1]");
    ASSERT_EQ_INT(login("root", PASSWORD), 200);
    ASSERT_EQ_STR(session_summary(), "root true [1,2]");
    ASSERT_EQ_INT(dashboard("GET", "/session", NULL), 200);
    ASSERT_EQ_STR(session_summary(), "root true [1,2]");
    /* Without a cookie nobody is logged in. */
    ASSERT_EQ_INT(request("GET", "/session", "", NULL), 401);
}

static void test_secure_cookies(void)
{
    ASSERT_TRUE(start("--secure-cookies"));
    ASSERT_EQ_INT(login("alice", PASSWORD), 200);
    char value[200];
    ASSERT_TRUE(http_reply_header(&reply, "Set-Cookie", value, sizeof value) != NULL);
    ASSERT_EQ_STR(value + 14 + 64, "; Path=/; HttpOnly; SameSite=Strict; Secure");
}

static void test_login_refusals(void)
{
    ASSERT_TRUE(start(""));
    /* A wrong password and an unknown user get the very same answer. */
    ASSERT_EQ_INT(login("alice", PASSWORD "!"), 401);
    ASSERT_EQ_STR(body(), "{\"result\":\"error\",\"message\":\"wrong login or password\"}");
    char value[200];
    ASSERT_TRUE(http_reply_header(&reply, "Set-Cookie", value, sizeof value) == NULL);
    ASSERT_EQ_INT(login("nobody", PASSWORD), 401);
    ASSERT_EQ_STR(body(), "{\"result\":\"error\",\"message\":\"wrong login or password\"}");
    ASSERT_EQ_INT(request("POST", "/login", FORM, "login=alice"), 400);
    ASSERT_CONTAINS(body(), "expected a form body login=NAME");
    ASSERT_EQ_INT(request("GET", "/login?login=alice&password=x", "", NULL), 405);
}

static void test_failed_logins_are_throttled(void)
{
    ASSERT_TRUE(start(""));
    /* Five attempts per client address in 15 minutes; the sixth is
     * refused without checking, even with the right password. */
    for (int i = 0; i < 5; i++)
        ASSERT_EQ_INT(login(i % 2 ? "nobody" : "alice", "wrong password"), 401);
    ASSERT_EQ_INT(login("alice", PASSWORD), 429);
    ASSERT_CONTAINS(body(), "too many failed logins from this address; try again in 15 minute");
    ASSERT_EQ_INT(login("root", PASSWORD), 429);
}

static void test_a_success_resets_the_count(void)
{
    ASSERT_TRUE(start(""));
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(login("alice", "wrong password"), 401);
    ASSERT_EQ_INT(login("alice", PASSWORD), 200);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(login("alice", "wrong password"), 401);
    ASSERT_EQ_INT(login("alice", PASSWORD), 200);
}

static void test_the_cookie_needs_the_header(void)
{
    ASSERT_TRUE(start(""));
    ASSERT_EQ_INT(login("alice", PASSWORD), 200);
    /* With the header the session acts as alice: view on Alpha only. */
    ASSERT_EQ_INT(dashboard("GET", SITES, NULL), 200);
    ASSERT_CONTAINS(body(), "\"name\":\"Alpha\"");
    ASSERT_NOT_CONTAINS(body(), "Beta");
    /* A form posted from elsewhere carries the cookie but no header. */
    ASSERT_EQ_INT(request("GET", SITES, cookie, NULL), 401);
    ASSERT_CONTAINS(body(), "X-Tally-Requested: 1");
    ASSERT_EQ_INT(request("POST", "/index.php", cookie, "module=API&method=SitesManager."
                                                        "getSitesWithAtLeastViewAccess"),
                  401);
    /* A header of another value is no header. */
    char headers[300];
    snprintf(headers, sizeof headers, "%sX-Tally-Requested: yes\r\n", cookie);
    ASSERT_EQ_INT(request("GET", SITES, headers, NULL), 401);
    /* The session's answers are not shared with other origins. */
    snprintf(headers, sizeof headers, "%s" DASHBOARD "Origin: https://evil.example\r\n", cookie);
    ASSERT_EQ_INT(request("GET", SITES, headers, NULL), 200);
    char value[100];
    ASSERT_TRUE(http_reply_header(&reply, "Access-Control-Allow-Credentials", value,
                                  sizeof value) == NULL);
    /* token_auth keeps working beside a cookie (the server notices the
     * new token within a second or two). */
    char token[33];
    ASSERT_EQ_INT(harness_token_create(dir, 2, token), 0);
    char target[300];
    snprintf(target, sizeof target, SITES "&token_auth=%s", token);
    for (int i = 0; i < 50 && request("GET", target, cookie, NULL) == 200 &&
                    !strstr(body(), "Beta");
         i++)
        usleep(100 * 1000);
    ASSERT_EQ_INT(reply.status, 200);
    ASSERT_CONTAINS(body(), "\"name\":\"Beta\"");
    /* A cookie that names no session (or a malformed one) is nobody. */
    ASSERT_EQ_INT(request("GET", SITES,
                          "Cookie: tally_session=00000000000000000000000000000000000000000000000"
                          "00000000000000000\r\n" DASHBOARD,
                          NULL),
                  200);
    ASSERT_EQ_STR(body(), "[]");
}

static void test_logout(void)
{
    ASSERT_TRUE(start(""));
    ASSERT_EQ_INT(login("alice", PASSWORD), 200);
    char old[200];
    snprintf(old, sizeof old, "%s", cookie);
    ASSERT_EQ_INT(dashboard("POST", "/logout", ""), 204);
    char value[200];
    ASSERT_TRUE(http_reply_header(&reply, "Set-Cookie", value, sizeof value) != NULL);
    ASSERT_EQ_STR(value, "tally_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    /* The old cookie is worth nothing now, even if a browser kept it. */
    ASSERT_EQ_INT(request("GET", "/session", old, NULL), 401);
    char headers[300];
    snprintf(headers, sizeof headers, "%s" DASHBOARD, old);
    ASSERT_EQ_INT(request("GET", SITES, headers, NULL), 200);
    ASSERT_EQ_STR(body(), "[]");
    /* Logging out twice (or without a session) is fine. */
    ASSERT_EQ_INT(request("POST", "/logout", old, ""), 204);
}


/* ---- settings ---- */

/* Logs name in and copies its "Cookie: ...\r\n" line into line. */
static bool session_of(const char *name, const char *password, char line[200])
{
    if (login(name, password) != 200) return false;
    snprintf(line, 200, "%s", cookie);
    return true;
}

/* A Reporting API call from the dashboard logged in as who (a cookie
 * line): POST /index.php with the header and a form body. */
static int call(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int call(const char *who, const char *fmt, ...)
{
    char params[1500], form[1600], headers[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof params, fmt, ap);
    va_end(ap);
    snprintf(form, sizeof form, "module=API&format=json&%s", params);
    snprintf(headers, sizeof headers, "%s" DASHBOARD FORM, who);
    return request("POST", "/index.php", headers, form);
}

#define OK "{\"result\":\"success\",\"message\":\"ok\"}"

static json_t *sites_file(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sites.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    return root;
}

static void test_update_site(void)
{
    char adam[200], walt[200];
    ASSERT_TRUE(start(""));
    ASSERT_TRUE(session_of("adam", PASSWORD, adam) && session_of("walt", PASSWORD, walt));
    ASSERT_EQ_INT(call(adam, "method=SitesManager.updateSite&idSite=1&siteName=Alpha%%20Shop&"
                             "urls[]=https://A.example&urls[]=https://www.a.example/&"
                             "timezone=Europe/Paris&currency=EUR&excludedParameters=gclid,fbclid&"
                             "honourDnt=0&ipv4MaskBytes=3&ipv6MaskBits=96"),
                  200);
    ASSERT_EQ_STR(body(), OK);
    /* At once, with the URLs normalised as `tally site add` does. */
    ASSERT_EQ_INT(call(adam, "method=SitesManager.getSiteFromId&idSite=1"), 200);
    ASSERT_CONTAINS(body(), "\"name\":\"Alpha Shop\",\"main_url\":\"https://a.example\"");
    ASSERT_CONTAINS(body(), "\"timezone\":\"Europe/Paris\",\"currency\":\"EUR\"");
    /* Every setting reads back, for the dashboard's settings form. */
    ASSERT_CONTAINS(body(), "\"excluded_parameters\":\"gclid,fbclid\","
                            "\"urls\":[\"https://a.example\",\"https://www.a.example\"],"
                            "\"honour_dnt\":false,\"ipv4_mask_bytes\":3,\"ipv6_mask_bits\":96}");
    json_t *root = keep(sites_file());
    json_t *alpha = json_array_get(json_object_get(root, "sites"), 0);
    ASSERT_TRUE(alpha != NULL);
    ASSERT_TRUE(json_is_false(json_object_get(alpha, "honour_dnt")));
    ASSERT_FIELDS(alpha, "ipv4_mask_bytes=3 ipv6_mask_bits=96");
    ASSERT_EQ_STR(json_text(json_object_get(alpha, "excluded_params")), "[\"gclid\",\"fbclid\"]");
    ASSERT_EQ_STR(json_text(json_object_get(alpha, "urls")),
                  "[\"https://a.example\",\"https://www.a.example\"]");
    keep(NULL);
    /* What is not given stays: only the name changes back. */
    ASSERT_EQ_INT(call(adam, "method=SitesManager.updateSite&idSite=1&siteName=Alpha"), 200);
    ASSERT_EQ_INT(call(adam, "method=SitesManager.getSiteFromId&idSite=1"), 200);
    ASSERT_CONTAINS(body(), "\"name\":\"Alpha\",\"main_url\":\"https://a.example\"");
    ASSERT_CONTAINS(body(), "\"currency\":\"EUR\"");

    /* Refusals: each names what to fix, and nothing is written. */
    static const char *const bad[][2] = {
        {"timezone=Mars/Olympus", "time zone"},   {"currency=eur", "ISO 4217"},
        {"ipv4MaskBytes=0", "1 to 4 bytes"},      {"ipv6MaskBits=8", "64 to 128 bits"},
        {"ipv4MaskBytes=two", "whole number"},    {"honourDnt=yes", "honourDnt"},
        {"urls=ftp://a.example", "http://host"},  {"siteName=", "non-empty name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ASSERT_EQ_INT(call(adam, "method=SitesManager.updateSite&idSite=1&%s", bad[i][0]), 400);
        ASSERT_CONTAINS(body(), bad[i][1]);
    }
    /* Admin access is needed: write is not enough, nor admin elsewhere. */
    ASSERT_EQ_INT(call(walt, "method=SitesManager.updateSite&idSite=1&currency=GBP"), 401);
    ASSERT_CONTAINS(body(), "admin access");
    ASSERT_EQ_INT(call(adam, "method=SitesManager.updateSite&idSite=2&currency=GBP"), 401);
    ASSERT_EQ_INT(call(adam, "method=SitesManager.getSiteFromId&idSite=1"), 200);
    ASSERT_CONTAINS(body(), "\"currency\":\"EUR\"");
}

static void test_javascript_tag(void)
{
    char alice[200];
    ASSERT_TRUE(start(""));
    ASSERT_TRUE(session_of("alice", PASSWORD, alice));
    ASSERT_EQ_INT(call(alice, "method=SitesManager.getJavascriptTag&idSite=1"), 200);
    json_t *j = keep(json_loads(body(), 0, NULL));
    const char *tag = json_string_value(json_object_get(j, "value"));
    char u[64];
    snprintf(u, sizeof u, "var u=\"//127.0.0.1:%d/\";", server.port);
    ASSERT_TRUE(tag && strncmp(tag, "<!-- Tally -->\n<script>\n", 24) == 0);
    ASSERT_CONTAINS(tag, u);
    ASSERT_CONTAINS(tag, "_paq.push(['setSiteId', '1']);");
    ASSERT_CONTAINS(tag, "_paq.push(['setTrackerUrl', u+'matomo.php']);");
    ASSERT_CONTAINS(tag, "g.src=u+'tally.js'");
    keep(NULL);
    /* View access is enough; none is not. */
    ASSERT_EQ_INT(call(alice, "method=SitesManager.getJavascriptTag&idSite=2"), 401);
}

static void test_users_are_managed_by_a_superuser(void)
{
    char root[200], alice[200], dora[200];
    ASSERT_TRUE(start(""));
    ASSERT_TRUE(session_of("root", PASSWORD, root) && session_of("alice", PASSWORD, alice));
    ASSERT_EQ_INT(call(root, "method=UsersManager.addUser&userLogin=dora&password=" PASSWORD), 200);
    ASSERT_EQ_STR(body(), OK);
    ASSERT_EQ_INT(call(root, "method=UsersManager.addUser&userLogin=Dora&password=" PASSWORD), 400);
    ASSERT_CONTAINS(body(), "a user named dora already exists");
    ASSERT_EQ_INT(call(root, "method=UsersManager.addUser&userLogin=eve&password=short"), 400);
    ASSERT_CONTAINS(body(), "at least 8 characters");
    ASSERT_EQ_INT(call(root, "method=UsersManager.addUser&userLogin=-eve&password=" PASSWORD), 400);
    ASSERT_EQ_INT(call(root, "method=UsersManager.setUserAccess&userLogin=dora&access=view&"
                             "idSites=1,2"),
                  200);
    ASSERT_EQ_INT(call(root, "method=UsersManager.setUserAccess&userLogin=dora&access=admin&"
                             "idSites=2"),
                  200);
    /* All or nothing: a site that does not exist grants nothing. */
    ASSERT_EQ_INT(call(root, "method=UsersManager.setUserAccess&userLogin=dora&access=write&"
                             "idSites=1,99"),
                  400);
    ASSERT_CONTAINS(body(), "no site with id 99");
    ASSERT_EQ_INT(call(root, "method=UsersManager.setUserAccess&userLogin=dora&access=superuser&"
                             "idSites=1"),
                  400);
    ASSERT_EQ_INT(call(root, "method=UsersManager.getUsers"), 200);
    json_t *users = keep(json_loads(body(), 0, NULL));
    ASSERT_ROWS(users, 5);
    json_t *row = json_array_get(users, 4);
    ASSERT_FIELDS(row, "login=dora");
    ASSERT_TRUE(json_is_false(json_object_get(row, "superuser_access")));
    ASSERT_EQ_STR(json_text(json_object_get(row, "access")), "{\"1\":\"view\",\"2\":\"admin\"}");
    ASSERT_FIELDS(json_array_get(users, 3), "login=root");
    ASSERT_TRUE(json_is_true(json_object_get(json_array_get(users, 3), "superuser_access")));
    keep(NULL);
    ASSERT_EQ_INT(call(root, "method=UsersManager.setUserAccess&userLogin=dora&access=noaccess&"
                             "idSites=2"),
                  200);

    /* None of it for anyone else. */
    ASSERT_EQ_INT(call(alice, "method=UsersManager.getUsers"), 401);
    ASSERT_EQ_INT(call(alice, "method=UsersManager.addUser&userLogin=mallory&password=" PASSWORD),
                  401);
    ASSERT_EQ_INT(call(alice, "method=UsersManager.setUserAccess&userLogin=alice&access=admin&"
                              "idSites=1"),
                  401);
    ASSERT_EQ_INT(call(alice, "method=UsersManager.deleteUser&userLogin=dora"), 401);

    /* A deleted user's session ends at once, and so do their tokens. */
    ASSERT_TRUE(session_of("dora", PASSWORD, dora));
    ASSERT_EQ_INT(call(dora, "method=SitesManager.getSitesWithAtLeastViewAccess"), 200);
    ASSERT_CONTAINS(body(), "Alpha");
    ASSERT_EQ_INT(call(root, "method=UsersManager.deleteUser&userLogin=dora"), 200);
    ASSERT_EQ_INT(request("GET", "/session", dora, NULL), 401);
    ASSERT_EQ_INT(call(dora, "method=SitesManager.getSitesWithAtLeastViewAccess"), 200);
    ASSERT_EQ_STR(body(), "[]");
    ASSERT_EQ_INT(login("dora", PASSWORD), 401);
    ASSERT_EQ_INT(call(root, "method=UsersManager.deleteUser&userLogin=dora"), 400);
    ASSERT_CONTAINS(body(), "no user named dora");
    ASSERT_EQ_INT(call(root, "method=UsersManager.deleteUser&userLogin=root"), 400);
    ASSERT_CONTAINS(body(), "cannot delete yourself");
}

static void test_password_change_ends_sessions(void)
{
    char root[200], walt[200], alice[200];
    ASSERT_TRUE(start(""));
    ASSERT_TRUE(session_of("root", PASSWORD, root) && session_of("walt", PASSWORD, walt) &&
                session_of("alice", PASSWORD, alice));
    /* Only with one's own current password, and only for oneself. */
    ASSERT_EQ_INT(call(walt, "method=UsersManager.updateUser&userLogin=walt&password=new%%20"
                             "password%%201&passwordConfirmation=wrong"),
                  401);
    ASSERT_CONTAINS(body(), "passwordConfirmation");
    ASSERT_EQ_INT(call(alice, "method=UsersManager.updateUser&userLogin=walt&password=new%%20"
                              "password%%201&passwordConfirmation=" PASSWORD),
                  401);
    ASSERT_EQ_INT(call(walt, "method=UsersManager.updateUser&userLogin=walt&password=short&"
                             "passwordConfirmation=" PASSWORD),
                  400);
    ASSERT_EQ_INT(request("GET", "/session", walt, NULL), 200);
    ASSERT_EQ_INT(call(walt, "method=UsersManager.updateUser&userLogin=walt&password=new%%20"
                             "password%%201&passwordConfirmation=" PASSWORD),
                  200);
    /* The session opened with the old password is over. */
    ASSERT_EQ_INT(request("GET", "/session", walt, NULL), 401);
    ASSERT_EQ_INT(login("walt", PASSWORD), 401);
    ASSERT_EQ_INT(login("walt", "new password 1"), 200);
    /* A superuser may set anyone's, confirming with their own. */
    ASSERT_EQ_INT(call(root, "method=UsersManager.updateUser&userLogin=walt&password=" PASSWORD
                             "&passwordConfirmation=" PASSWORD),
                  200);
    ASSERT_EQ_INT(login("walt", PASSWORD), 200);
}

static void test_app_specific_token(void)
{
    char alice[200];
    ASSERT_TRUE(start(""));
    ASSERT_TRUE(session_of("alice", PASSWORD, alice));
    ASSERT_EQ_INT(call(alice, "method=UsersManager.createAppSpecificTokenAuth&userLogin=alice&"
                              "description=phone"),
                  401);
    ASSERT_EQ_INT(call(alice, "method=UsersManager.createAppSpecificTokenAuth&userLogin=root&"
                              "passwordConfirmation=" PASSWORD "&description=phone"),
                  401);
    ASSERT_EQ_INT(call(alice, "method=UsersManager.createAppSpecificTokenAuth&userLogin=alice&"
                              "passwordConfirmation=" PASSWORD "&description=phone"),
                  200);
    json_t *j = keep(json_loads(body(), 0, NULL));
    const char *token = json_string_value(json_object_get(j, "value"));
    ASSERT_TRUE(token && strlen(token) == 32 && strspn(token, "0123456789abcdef") == 32);
    /* The token acts as alice, with no cookie at all. */
    char target[300];
    snprintf(target, sizeof target, SITES "&token_auth=%s", token);
    keep(NULL);
    ASSERT_EQ_INT(request("GET", target, "", NULL), 200);
    ASSERT_CONTAINS(body(), "\"name\":\"Alpha\"");
    ASSERT_NOT_CONTAINS(body(), "Beta");
}

/* ---- saved segments ---- */

#define SEGMENT_ADD "method=SegmentEditor.add&"

/* The names getAll answers for site, as "A,B". */
static const char *segment_names(const char *who, unsigned site)
{
    static char names[300];
    names[0] = '\0';
    if (call(who, "method=SegmentEditor.getAll&idSite=%u", site) != 200) return "(refused)";
    json_t *rows = json_loads(body(), 0, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", len ? "," : "",
                 json_string_value(json_object_get(row, "name")));
    }
    json_decref(rows);
    return names;
}

static void test_saved_segments(void)
{
    char alice[200], walt[200], root[200];
    ASSERT_TRUE(start(""));
    ASSERT_TRUE(session_of("alice", PASSWORD, alice) && session_of("walt", PASSWORD, walt) &&
                session_of("root", PASSWORD, root));
    /* View access saves one's own; sharing needs write; every site root. */
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=Mobile&definition=deviceType%%3D%%3Dsmartphone&"
                              "idSite=1"),
                  200);
    ASSERT_EQ_STR(body(), "{\"value\":1}");
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=Mine&definition=visitorType%%3D%%3Dnew&idSite=1&"
                              "enable_all_users=1"),
                  401);
    ASSERT_CONTAINS(body(), "needs write access");
    ASSERT_EQ_INT(call(walt, SEGMENT_ADD "name=Returning&definition=visitorType%%3D%%3Dreturning&"
                             "idSite=1&enable_all_users=1"),
                  200);
    ASSERT_EQ_STR(body(), "{\"value\":2}");
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=Beta&definition=visitorType%%3D%%3Dnew&idSite=2"),
                  401);
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=Everywhere&definition=visitorType%%3D%%3Dnew"),
                  401);
    ASSERT_CONTAINS(body(), "superuser");
    ASSERT_EQ_INT(call(root, SEGMENT_ADD "name=Germany&definition=countryCode%%3D%%3Dde"), 200);
    ASSERT_EQ_STR(body(), "{\"value\":3}");
    /* The definition is checked by the segment parser, the name as text. */
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=Typo&definition=contry%%3D%%3Dde&idSite=1"), 400);
    ASSERT_CONTAINS(body(), "unknown dimension \\u0027contry");
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=&definition=visitorType%%3D%%3Dnew&idSite=1"), 400);
    ASSERT_EQ_INT(call(alice, SEGMENT_ADD "name=A%%0AB&definition=visitorType%%3D%%3Dnew&idSite=1"),
                  400);
    ASSERT_CONTAINS(body(), "control characters");

    /* Each sees their own and the shared ones of the site and of every
     * site; root's unshared Germany is root's alone, but root sees all. */
    ASSERT_EQ_STR(segment_names(alice, 1), "Mobile,Returning");
    ASSERT_EQ_STR(segment_names(walt, 1), "Returning");
    ASSERT_EQ_STR(segment_names(root, 1), "Mobile,Returning,Germany");
    ASSERT_EQ_STR(segment_names(root, 2), "Germany");
    ASSERT_EQ_STR(segment_names(alice, 2), "(refused)");
    ASSERT_EQ_INT(call(alice, "method=SegmentEditor.getAll&idSite=1"), 200);
    ASSERT_CONTAINS(body(), "{\"idsegment\":\"1\",\"name\":\"Mobile\",\"definition\":"
                            "\"deviceType==smartphone\",\"login\":\"alice\","
                            "\"enable_all_users\":\"0\",\"enable_only_idsite\":\"1\"");

    /* Only the owner (or a superuser) changes or deletes one. */
    ASSERT_EQ_INT(call(walt, "method=SegmentEditor.update&idSegment=1&name=Mine"), 400);
    ASSERT_CONTAINS(body(), "no saved segment with this id");
    ASSERT_EQ_INT(call(alice, "method=SegmentEditor.update&idSegment=1&name=Phones"), 200);
    ASSERT_EQ_STR(body(), OK);
    ASSERT_EQ_INT(call(alice, "method=SegmentEditor.update&idSegment=1&enable_all_users=1"), 401);
    ASSERT_EQ_INT(call(alice, "method=SegmentEditor.update&idSegment=1&definition=x"), 400);
    ASSERT_EQ_STR(segment_names(alice, 1), "Phones,Returning");
    ASSERT_EQ_INT(call(walt, "method=SegmentEditor.delete&idSegment=1"), 400);
    ASSERT_EQ_INT(call(alice, "method=SegmentEditor.delete&idSegment=1"), 200);
    ASSERT_EQ_STR(segment_names(alice, 1), "Returning");
    ASSERT_EQ_INT(call(alice, "method=SegmentEditor.delete&idSegment=1"), 400);
    /* A deleted id is never given again. */
    ASSERT_EQ_INT(call(root, "method=SegmentEditor.delete&idSegment=3"), 200);
    ASSERT_EQ_INT(call(root, SEGMENT_ADD "name=Germany&definition=countryCode%%3D%%3Dde"), 200);
    ASSERT_EQ_STR(body(), "{\"value\":4}");
}

/* ---- privacy ---- */

static void test_logs_keep_no_secrets(void)
{
    char alice[200];
    ASSERT_TRUE(start(""));
    ASSERT_EQ_INT(login("alice", "my secret guess"), 401);
    ASSERT_TRUE(session_of("alice", PASSWORD, alice));
    for (int i = 0; i < 6; i++)
        login("nobody", "another secret guess");
    ASSERT_EQ_INT(reply.status, 429);
    ASSERT_EQ_INT(call(alice, "method=UsersManager.createAppSpecificTokenAuth&userLogin=alice&"
                              "passwordConfirmation=" PASSWORD),
                  200);
    json_t *j = keep(json_loads(body(), 0, NULL));
    char token[33];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(j, "value")));
    keep(NULL);
    char session_id[65];
    snprintf(session_id, sizeof session_id, "%.64s", alice + strlen("Cookie: tally_session="));
    server_stop(&server);
    running = false;

    struct buf log;
    buf_init(&log);
    ASSERT_EQ_INT(file_read_all(server.log_path, &log), 0);
    buf_putc(&log, '\0');
    /* The server did log the attempts, and the throttling... */
    const char *text = log.data;
    bool logged = strstr(text, "dashboard login failed") && strstr(text, "too many attempts");
    /* ...but no password, session id, token, or the client's address in
     * any line about logins (the address appears once, in the line that
     * says where the server listens). */
    bool leaked = strstr(text, PASSWORD) || strstr(text, "secret guess") ||
                  strstr(text, session_id) || strstr(text, token);
    bool address = false;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        char one[1000];
        snprintf(one, sizeof one, "%.*s", (int)len, line);
        if (strstr(one, "login") && strstr(one, "127.0.0.1")) address = true;
        line += len + (line[len] == '\n');
    }
    if (!logged || leaked || address) printf("# log: %s\n", text);
    buf_free(&log);
    ASSERT_TRUE(logged);
    ASSERT_TRUE(!leaked);
    ASSERT_TRUE(!address);
}

int main(void)
{
    buf_init(&out);
    RUN(test_login_sets_a_strict_http_only_cookie);
    RUN(test_secure_cookies);
    RUN(test_login_refusals);
    RUN(test_failed_logins_are_throttled);
    RUN(test_a_success_resets_the_count);
    RUN(test_the_cookie_needs_the_header);
    RUN(test_logout);
    RUN(test_update_site);
    RUN(test_javascript_tag);
    RUN(test_users_are_managed_by_a_superuser);
    RUN(test_password_change_ends_sessions);
    RUN(test_app_specific_token);
    RUN(test_saved_segments);
    RUN(test_logs_keep_no_secrets);
    if (dir[0]) harness_rmtree(dir);
    buf_free(&out);
    return TEST_DONE();
}
