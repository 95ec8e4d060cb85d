/* The tracking API through real HTTP on loopback: every transport, every hit
 * kind, the answers (GIF, 204, bulk JSON, CORS), keep-alive, privacy drops,
 * and bad input. What was stored is read back with `tally hits --json`, as
 * a user would. After each bad request the server must still serve, and
 * nothing from the bad request may be stored. */
#include "test.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define SITE_URL "https%3A%2F%2Fshop.example.com"
#define HIT "/matomo.php?idsite=1&rec=1&send_image=0&url=" SITE_URL "%2F"

struct fixture {
    struct server server;
    char dir[256];
    char token[33];
    struct http_reply reply;
};

/* The running fixture, so a test that fails half-way still has its server
 * stopped and its folder removed (see RUN). */
static struct fixture *current;

/* A data folder with site 1 (shop.example.com, UTC) and a token for it,
 * and a server on it, started with extra_args. */
static bool fixture_start_with(struct fixture *f, const char *extra_args)
{
    memset(f, 0, sizeof *f);
    buf_init(&f->reply.headers);
    buf_init(&f->reply.body);
    if (harness_tmpdir(f->dir)) return false;
    struct buf out;
    buf_init(&out);
    bool ok = run_tally(&out, "site add --data %s --name Shop --url https://shop.example.com",
                        f->dir) == 0;
    buf_free(&out);
    ok = ok && harness_token_create(f->dir, 1, f->token) == 0;
    if (!ok || server_start(&f->server, f->dir, extra_args)) {
        harness_rmtree(f->dir);
        return false;
    }
    current = f;
    return true;
}

static bool fixture_start(struct fixture *f) { return fixture_start_with(f, ""); }

static void fixture_stop(struct fixture *f)
{
    http_reply_free(&f->reply);
    server_stop(&f->server);
    harness_rmtree(f->dir);
    current = NULL;
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        TEST_RUN(fn);                                                                              \
        if (current) fixture_stop(current);                                                        \
    } while (0)

/* One request; returns the status (-1 when no answer came). */
static int req(struct fixture *f, const char *method, const char *target, const char *headers,
               const char *body)
{
    http_reply_free(&f->reply);
    if (http_request(f->server.port, method, target, headers, body, body ? strlen(body) : 0,
                     &f->reply))
        return -1;
    return f->reply.status;
}

static const char *hdr(struct fixture *f, const char *name)
{
    static char value[512];
    return http_reply_header(&f->reply, name, value, sizeof value);
}

/* Every stored hit of site 1, as parsed JSON objects, in append order. */
static json_t *stored_hits(struct fixture *f)
{
    struct buf out;
    buf_init(&out);
    json_t *arr = json_array();
    if (run_tally(&out, "hits --data %s --site 1 --json", f->dir) != 0) {
        printf("# tally hits failed: %s\n", out.data);
        buf_free(&out);
        return arr;
    }
    char *line = out.data;
    while (line && *line) {
        char *eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (o)
            json_array_append_new(arr, o);
        else
            printf("# not JSON: %s (%s)\n", line, err.text);
        line = eol ? eol + 1 : NULL;
    }
    buf_free(&out);
    return arr;
}

static size_t stored_count(struct fixture *f)
{
    json_t *a = stored_hits(f);
    size_t n = json_array_size(a);
    json_decref(a);
    return n;
}

static const char *s_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

static long long i_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -999999;
}

static double f_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---- transports ---- */

static void test_get_answers_gif_and_stores_pageview(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET",
                      "/matomo.php?idsite=1&rec=1&url=" SITE_URL "%2Fa&action_name=Home%20page"
                      "&urlref=https%3A%2F%2Fnews.example.org%2Fx&pv_id=Ab12Cd",
                      "User-Agent: TestAgent/1.0\r\n", NULL),
                  200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type"), "image/gif");
    ASSERT_EQ_U64(f.reply.body.len, 43);
    ASSERT_TRUE(memcmp(f.reply.body.data, "GIF89a", 6) == 0);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 1);
    json_t *o = json_array_get(h, 0);
    ASSERT_EQ_STR(s_of(o, "kind"), "pageview");
    ASSERT_EQ_INT(i_of(o, "site_id"), 1);
    ASSERT_EQ_STR(s_of(o, "url"), "https://shop.example.com/a");
    ASSERT_EQ_STR(s_of(o, "action_name"), "Home page");
    ASSERT_EQ_STR(s_of(o, "urlref"), "https://news.example.org/x");
    ASSERT_EQ_STR(s_of(o, "pv_id"), "Ab12Cd");
    ASSERT_EQ_STR(s_of(o, "ip_anon"), "127.0.0.0");
    json_decref(h);
    fixture_stop(&f);
}

static void test_piwik_and_tally_paths_and_204(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(
        req(&f, "GET", "/piwik.php?idsite=1&rec=1&send_image=0&url=" SITE_URL "%2Fp", "", NULL),
        204);
    ASSERT_EQ_U64(f.reply.body.len, 0);
    ASSERT_EQ_INT(
        req(&f, "GET", "/tally?idsite=1&rec=1&send_image=0&url=" SITE_URL "%2Ft", "", NULL), 204);
    ASSERT_EQ_INT(req(&f, "HEAD", "/matomo.php?idsite=1&rec=1&url=" SITE_URL "%2Fh", "", NULL),
                  200);
    ASSERT_EQ_U64(f.reply.body.len, 0);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 3);
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "url"), "https://shop.example.com/p");
    ASSERT_EQ_STR(s_of(json_array_get(h, 1), "url"), "https://shop.example.com/t");
    ASSERT_EQ_STR(s_of(json_array_get(h, 2), "url"), "https://shop.example.com/h");
    json_decref(h);
    fixture_stop(&f);
}

static void test_post_query_with_empty_body(void)
{
    /* navigator.sendBeacon, the default of Matomo 5's tracker. */
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "POST", HIT "beacon&action_name=Beacon",
                      "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n", ""),
                  204);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 1);
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "url"), "https://shop.example.com/beacon");
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "action_name"), "Beacon");
    json_decref(h);
    fixture_stop(&f);
}

static void test_post_form_body_wins_over_query(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "POST", "/matomo.php?action_name=FromQuery&pv_id=q1",
                      "Content-Type: application/x-www-form-urlencoded\r\n",
                      "idsite=1&rec=1&send_image=0&url=" SITE_URL "%2Fform"
                      "&action_name=From+Body%21"),
                  204);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 1);
    json_t *o = json_array_get(h, 0);
    ASSERT_EQ_STR(s_of(o, "url"), "https://shop.example.com/form");
    ASSERT_EQ_STR(s_of(o, "action_name"), "From Body!");
    ASSERT_EQ_STR(s_of(o, "pv_id"), "q1");
    json_decref(h);
    fixture_stop(&f);
}

static void test_bulk_strings_urls_and_objects(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    const char *body =
        "{\"requests\":["
        "\"?idsite=1&rec=1&url=" SITE_URL "%2Fb1\","
        "\"https://tally.example.net/matomo.php?idsite=1&rec=1&url=" SITE_URL "%2Fb2\","
        "{\"idsite\":1,\"rec\":1,\"url\":\"https://shop.example.com/b3\",\"action_name\":\"Obj\"}"
        "]}";
    ASSERT_EQ_INT(req(&f, "POST", "/matomo.php", "Content-Type: application/json\r\n", body), 200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type"), "application/json");
    ASSERT_EQ_STR(f.reply.body.data,
                  "{\"status\":\"success\",\"tracked\":3,\"invalid\":0,\"invalid_indices\":[]}");
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 3);
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "url"), "https://shop.example.com/b1");
    ASSERT_EQ_STR(s_of(json_array_get(h, 1), "url"), "https://shop.example.com/b2");
    ASSERT_EQ_STR(s_of(json_array_get(h, 2), "url"), "https://shop.example.com/b3");
    ASSERT_EQ_STR(s_of(json_array_get(h, 2), "action_name"), "Obj");
    /* One append: consecutive sequence numbers. */
    ASSERT_EQ_INT(i_of(json_array_get(h, 2), "seq") - i_of(json_array_get(h, 0), "seq"), 2);
    json_decref(h);
    fixture_stop(&f);
}

static void test_bulk_labelled_as_form_data(void)
{
    /* Matomo's JS tracker sends content impressions like this. */
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    const char *body = "{\"requests\":[\"?idsite=1&rec=1&c_n=Banner&c_p=%2Fimg%2Fa.png"
                       "&c_t=https%3A%2F%2Fshop.example.com%2Fsale&url=" SITE_URL "%2F\","
                       "\"?idsite=1&rec=1&c_n=Teaser&c_p=Text&url=" SITE_URL "%2F\"],"
                       "\"send_image\":0}";
    ASSERT_EQ_INT(req(&f, "POST", "/matomo.php",
                      "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n", body),
                  200);
    ASSERT_CONTAINS(f.reply.body.data, "\"tracked\":2,\"invalid\":0");
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 2);
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "kind"), "content_impression");
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "content_name"), "Banner");
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "content_piece"), "/img/a.png");
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "content_target"), "https://shop.example.com/sale");
    ASSERT_EQ_STR(s_of(json_array_get(h, 1), "content_name"), "Teaser");
    json_decref(h);
    fixture_stop(&f);
}

static void test_bulk_invalid_items_are_listed(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    const char *body = "{\"requests\":["
                       "\"?idsite=1&rec=1&url=" SITE_URL "%2Fok1\","
                       "\"?idsite=99&rec=1&url=" SITE_URL "%2Fbad\","
                       "\"?idsite=1&rec=1&url=" SITE_URL "%2Fok2\","
                       "\"?idsite=1&url=" SITE_URL "%2Fnorec\","
                       "42,"
                       "\"?idsite=1&rec=1&url=%FF%FE\""
                       "]}";
    ASSERT_EQ_INT(req(&f, "POST", "/matomo.php", "Content-Type: application/json\r\n", body), 200);
    ASSERT_EQ_STR(f.reply.body.data, "{\"status\":\"success\",\"tracked\":2,\"invalid\":4,"
                                     "\"invalid_indices\":[1,3,4,5]}");
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 2);
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "url"), "https://shop.example.com/ok1");
    ASSERT_EQ_STR(s_of(json_array_get(h, 1), "url"), "https://shop.example.com/ok2");
    json_decref(h);
    fixture_stop(&f);
}

static void test_bulk_token_allows_cdt_and_cip(void)
{
    /* Matomo's log importer: objects with cip and cdt, the token at the top. */
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    char body[1024];
    snprintf(body, sizeof body,
             "{\"token_auth\":\"%s\",\"requests\":[{\"idsite\":\"1\",\"rec\":\"1\","
             "\"url\":\"https://shop.example.com/imported\",\"cip\":\"192.0.2.44\","
             "\"cdt\":\"1762000000\",\"bots\":\"0\"}]}",
             f.token);
    ASSERT_EQ_INT(
        req(&f, "POST", "/matomo.php?queuedtracking=0", "Content-Type: application/json\r\n", body),
        200);
    ASSERT_CONTAINS(f.reply.body.data, "\"tracked\":1,\"invalid\":0");
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 1);
    ASSERT_EQ_INT(i_of(json_array_get(h, 0), "time_ms"), 1762000000000LL);
    ASSERT_EQ_STR(s_of(json_array_get(h, 0), "ip_anon"), "192.0.0.0");
    json_decref(h);
    fixture_stop(&f);
}

/* ---- every hit kind ---- */

struct kind_case {
    const char *params;
    const char *kind;
};

static void test_every_hit_kind_is_stored(void)
{
    static const struct kind_case cases[] = {
        {"&action_name=Home", "pageview"},
        {"&ca=1", "custom_action"},
        {"&ca=1&e_c=Video&e_a=Play&e_n=Intro&e_v=12.5", "event"},
        {"&link=https%3A%2F%2Fother.example.org%2Fout", "outlink"},
        {"&download=https%3A%2F%2Fshop.example.com%2Ff.pdf", "download"},
        {"&search=blue+mug&search_cat=Kitchen&search_count=7", "site_search"},
        {"&c_n=Banner&c_p=Piece&c_t=https%3A%2F%2Fshop.example.com%2Fsale", "content_impression"},
        {"&c_n=Banner&c_p=Piece&c_i=click", "content_interaction"},
        {"&idgoal=1&revenue=9.5", "goal"},
        {"&idgoal=0&ec_id=A-1&revenue=30.5&ec_st=25&ec_tx=3.5&ec_sh=4&ec_dt=2"
         "&ec_items=%5B%5B%22SKU-1%22%2C%22Blue+Mug%22%2C%5B%22Kitchen%22%2C%22Mugs%22%5D%2C12.5%"
         "2C2%5D%5D",
         "ecommerce_order"},
        {"&idgoal=0&revenue=12.5"
         "&ec_items=%5B%5B%22SKU-1%22%2C%22Blue+Mug%22%2C%22Kitchen%22%2C12.5%2C1%5D%5D",
         "cart_update"},
        {"&ping=1", "heartbeat"},
    };
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char target[1024];
        snprintf(target, sizeof target, "%sk%zu%s&_id=0123456789abcdef", HIT, i, cases[i].params);
        int status = req(&f, "GET", target, "", NULL);
        if (status != 204)
            TEST_FAIL_("case %zu (%s): status %d: %s", i, cases[i].kind, status,
                       f.reply.body.data ? f.reply.body.data : "");
    }
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), sizeof cases / sizeof *cases);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ASSERT_EQ_STR(s_of(json_array_get(h, i), "kind"), cases[i].kind);

    json_t *ev = json_array_get(h, 2);
    ASSERT_EQ_STR(s_of(ev, "event_category"), "Video");
    ASSERT_EQ_STR(s_of(ev, "event_action"), "Play");
    ASSERT_EQ_STR(s_of(ev, "event_name"), "Intro");
    ASSERT_EQ_DBL(f_of(ev, "event_value"), 12.5);
    ASSERT_EQ_STR(s_of(json_array_get(h, 3), "target_url"), "https://other.example.org/out");
    ASSERT_EQ_STR(s_of(json_array_get(h, 4), "target_url"), "https://shop.example.com/f.pdf");
    json_t *se = json_array_get(h, 5);
    ASSERT_EQ_STR(s_of(se, "search_keyword"), "blue mug");
    ASSERT_EQ_STR(s_of(se, "search_category"), "Kitchen");
    ASSERT_EQ_INT(i_of(se, "search_count"), 7);
    ASSERT_EQ_STR(s_of(json_array_get(h, 7), "content_interaction"), "click");
    json_t *goal = json_array_get(h, 8);
    ASSERT_EQ_INT(i_of(goal, "goal_id"), 1);
    ASSERT_EQ_DBL(f_of(goal, "revenue"), 9.5);
    json_t *order = json_array_get(h, 9);
    ASSERT_EQ_INT(i_of(order, "goal_id"), 0);
    ASSERT_EQ_STR(s_of(order, "order_id"), "A-1");
    ASSERT_EQ_DBL(f_of(order, "revenue"), 30.5);
    ASSERT_EQ_DBL(f_of(order, "subtotal"), 25);
    ASSERT_EQ_DBL(f_of(order, "tax"), 3.5);
    ASSERT_EQ_DBL(f_of(order, "shipping"), 4);
    ASSERT_EQ_DBL(f_of(order, "discount"), 2);
    ASSERT_CONTAINS(s_of(order, "items"), "SKU-1");
    ASSERT_CONTAINS(s_of(order, "items"), "Blue Mug");
    /* Absent numbers are null, not 0. */
    ASSERT_TRUE(json_is_null(json_object_get(json_array_get(h, 0), "revenue")));
    ASSERT_EQ_INT(i_of(json_array_get(h, 0), "goal_id"), -1);
    json_decref(h);
    fixture_stop(&f);
}

static void test_visitor_context_fields(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET",
                      HIT "ctx&_pks=SKU-9&_pkn=Teapot&_pkc=Kitchen&_pkp=19.9"
                          "&pf_net=10&pf_srv=20&pf_tfr=30&pf_dm1=40&pf_dm2=50&pf_onl=60"
                          "&dimension1=gold&dimension3=x&uid=user%40example.com&res=1920x1080"
                          "&h=13&m=5&s=7&new_visit=1",
                      "Accept-Language: de-AT,de;q=0.9,en;q=0.5\r\n", NULL),
                  204);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 1);
    json_t *o = json_array_get(h, 0);
    ASSERT_EQ_STR(s_of(o, "kind"), "pageview");
    ASSERT_EQ_STR(s_of(o, "product_sku"), "SKU-9");
    ASSERT_EQ_STR(s_of(o, "product_name"), "Teapot");
    ASSERT_EQ_STR(s_of(o, "product_category"), "Kitchen");
    ASSERT_EQ_DBL(f_of(o, "product_price"), 19.9);
    ASSERT_TRUE(i_of(o, "flags") & (1 << 3)); /* HIT_FLAG_PRODUCT_VIEW */
    ASSERT_TRUE(i_of(o, "flags") & (1 << 5)); /* HIT_FLAG_NEW_VISIT */
    ASSERT_EQ_INT(i_of(o, "pf_net"), 10);
    ASSERT_EQ_INT(i_of(o, "pf_srv"), 20);
    ASSERT_EQ_INT(i_of(o, "pf_tfr"), 30);
    ASSERT_EQ_INT(i_of(o, "pf_dm1"), 40);
    ASSERT_EQ_INT(i_of(o, "pf_dm2"), 50);
    ASSERT_EQ_INT(i_of(o, "pf_onl"), 60);
    ASSERT_EQ_STR(s_of(o, "dimensions"), "{\"1\":\"gold\",\"3\":\"x\"}");
    ASSERT_EQ_STR(s_of(o, "user_id"), "user@example.com");
    ASSERT_EQ_INT(i_of(o, "screen_width"), 1920);
    ASSERT_EQ_INT(i_of(o, "screen_height"), 1080);
    ASSERT_EQ_INT(i_of(o, "local_time_s"), 13 * 3600 + 5 * 60 + 7);
    ASSERT_EQ_STR(s_of(o, "language"), "de");
    ASSERT_EQ_STR(s_of(o, "locale"), "de-at");
    json_decref(h);
    fixture_stop(&f);
}

/* ---- CORS and keep-alive ---- */

static void test_cors_headers_and_preflight(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", HIT "cors", "Origin: https://shop.example.com\r\n", NULL), 204);
    ASSERT_EQ_STR(hdr(&f, "Access-Control-Allow-Origin"), "https://shop.example.com");
    ASSERT_EQ_STR(hdr(&f, "Access-Control-Allow-Credentials"), "true");
    ASSERT_EQ_STR(hdr(&f, "Vary"), "Origin");
    ASSERT_EQ_INT(req(&f, "GET", HIT "nocors", "", NULL), 204);
    ASSERT_EQ_STR(hdr(&f, "Access-Control-Allow-Origin"), "*");
    ASSERT_TRUE(hdr(&f, "Access-Control-Allow-Credentials") == NULL);
    ASSERT_EQ_INT(req(&f, "OPTIONS", "/matomo.php",
                      "Origin: https://shop.example.com\r\n"
                      "Access-Control-Request-Method: POST\r\n"
                      "Access-Control-Request-Headers: Content-Type\r\n",
                      NULL),
                  204);
    ASSERT_EQ_STR(hdr(&f, "Access-Control-Allow-Origin"), "https://shop.example.com");
    ASSERT_EQ_STR(hdr(&f, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
    ASSERT_EQ_STR(hdr(&f, "Access-Control-Allow-Headers"), "Content-Type");
    ASSERT_EQ_U64(stored_count(&f), 2); /* the preflight stored nothing */
    fixture_stop(&f);
}

/* Reads one response from a kept-alive socket: headers, then
 * Content-Length bytes. Returns the status or -1. */
static int read_one_response(int fd, struct buf *head)
{
    buf_reset(head);
    char c;
    while (!head->data || !strstr(head->data, "\r\n\r\n")) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0 || recv(fd, &c, 1, 0) != 1) return -1;
        buf_putc(head, c);
    }
    const char *cl = strcasestr(head->data, "\r\nContent-Length:");
    long left = cl ? strtol(cl + 17, NULL, 10) : 0;
    while (left-- > 0)
        if (recv(fd, &c, 1, 0) != 1) return -1;
    return atoi(head->data + 9);
}

/* Two requests on one socket: both answered, neither with Connection: close. */
static void check_keep_alive(struct fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)f->server.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_EQ_INT(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    static const char one[] = "GET " HIT "ka1 HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char two[] = "POST " HIT "ka2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    struct buf head;
    buf_init(&head);
    ASSERT_EQ_INT(send(fd, one, strlen(one), MSG_NOSIGNAL), (long long)strlen(one));
    int status1 = read_one_response(fd, &head);
    bool closed1 = strcasestr(head.data ? head.data : "", "Connection: close") != NULL;
    ASSERT_EQ_INT(send(fd, two, strlen(two), MSG_NOSIGNAL), (long long)strlen(two));
    int status2 = read_one_response(fd, &head);
    bool closed2 = strcasestr(head.data ? head.data : "", "Connection: close") != NULL;
    buf_free(&head);
    close(fd);
    ASSERT_EQ_INT(status1, 204);
    ASSERT_TRUE(!closed1);
    ASSERT_EQ_INT(status2, 204);
    ASSERT_TRUE(!closed2);
}

static void test_keep_alive_stays_on(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    check_keep_alive(&f);
    ASSERT_EQ_U64(stored_count(&f), 2);
    fixture_stop(&f);
}

struct sender {
    int port, first, count, ok;
};

static void *send_many(void *arg)
{
    struct sender *s = arg;
    for (int i = s->first; i < s->first + s->count; i++) {
        char target[256];
        snprintf(target, sizeof target, "%sgc%d&_id=%016x", HIT, i, (unsigned)i + 1);
        struct http_reply reply;
        if (http_request(s->port, "GET", target, "", NULL, 0, &reply)) continue;
        s->ok += reply.status == 204;
        http_reply_free(&reply);
    }
    return NULL;
}

/* --fsync always: answers wait for a sync that many requests share (group
 * commit), keep-alive survives the parking, and every answered hit is there. */
static void test_fsync_always_group_commit(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start_with(&f, "--fsync always"));
    check_keep_alive(&f);
    enum { SENDERS = 8, EACH = 40 };
    pthread_t threads[SENDERS];
    struct sender senders[SENDERS];
    for (int t = 0; t < SENDERS; t++) {
        senders[t] = (struct sender){f.server.port, t * EACH, EACH, 0};
        pthread_create(&threads[t], NULL, send_many, &senders[t]);
    }
    int ok = 0;
    for (int t = 0; t < SENDERS; t++) {
        pthread_join(threads[t], NULL);
        ok += senders[t].ok;
    }
    ASSERT_EQ_INT(ok, SENDERS * EACH);
    ASSERT_EQ_U64(stored_count(&f), 2 + SENDERS * EACH);
    fixture_stop(&f);
}

/* A chunked body has no Content-Length to refuse up front: the server
 * reads and drops it once it passes 8 MiB, then answers 413 at the end. */
static void test_chunked_body_too_large(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)f.server.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_EQ_INT(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    static const char head[] = "POST /matomo.php HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/x-www-form-urlencoded\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    ASSERT_EQ_INT(send(fd, head, strlen(head), MSG_NOSIGNAL), (long long)strlen(head));
    static char chunk[65536 + 16];
    int n = snprintf(chunk, 16, "%x\r\n", 65536);
    memset(chunk + n, 'a', 65536);
    memcpy(chunk + n + 65536, "\r\n", 2);
    size_t chunk_len = (size_t)n + 65536 + 2;
    /* 9 MiB in 64 KiB chunks, then the last chunk. */
    bool sent = true;
    for (int i = 0; i < 144 && sent; i++) {
        size_t off = 0;
        while (off < chunk_len && sent) {
            ssize_t w = send(fd, chunk + off, chunk_len - off, MSG_NOSIGNAL);
            sent = w > 0;
            if (sent) off += (size_t)w;
        }
    }
    ASSERT_TRUE(sent);
    ASSERT_EQ_INT(send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL), 5);
    struct buf reply;
    buf_init(&reply);
    int status = read_one_response(fd, &reply);
    buf_free(&reply);
    close(fd);
    ASSERT_EQ_INT(status, 413);
    ASSERT_EQ_INT(req(&f, "GET", HIT "after", "", NULL), 204);
    ASSERT_EQ_U64(stored_count(&f), 1);
    fixture_stop(&f);
}

/* ---- privacy drops ---- */

static void test_dnt_and_gpc_are_honoured(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(
        req(&f, "GET", "/matomo.php?idsite=1&rec=1&url=" SITE_URL "%2Fdnt", "DNT: 1\r\n", NULL),
        204);
    ASSERT_EQ_U64(f.reply.body.len, 0);
    ASSERT_EQ_INT(req(&f, "GET", HIT "gpc", "Sec-GPC: 1\r\n", NULL), 204);
    ASSERT_EQ_U64(stored_count(&f), 0);
    ASSERT_EQ_INT(req(&f, "GET", HIT "dnt0", "DNT: 0\r\n", NULL), 204);
    ASSERT_EQ_U64(stored_count(&f), 1);
    fixture_stop(&f);
}

/* ---- refused hits ---- */

/* Sends a request that must be refused with want_status and a body
 * containing want_text, then proves the server still serves and nothing
 * but the probe hit was stored. */
static int refused(struct fixture *f, const char *method, const char *target, const char *headers,
                   const char *body, size_t body_len, int want_status, const char *want_text,
                   size_t *stored)
{
    http_reply_free(&f->reply);
    if (http_request(f->server.port, method, target, headers, body, body_len, &f->reply)) return -1;
    int status = f->reply.status;
    if (status != want_status) {
        printf("# %s %.80s: status %d, want %d: %.300s\n", method, target, status, want_status,
               f->reply.body.data ? f->reply.body.data : "");
        return -1;
    }
    if (want_text && (!f->reply.body.data || !strstr(f->reply.body.data, want_text))) {
        printf("# %s %.80s: body \"%.300s\" lacks \"%s\"\n", method, target,
               f->reply.body.data ? f->reply.body.data : "", want_text);
        return -1;
    }
    struct http_reply probe;
    if (http_request(f->server.port, "GET", HIT "probe", "", NULL, 0, &probe)) return -1;
    int probe_status = probe.status;
    http_reply_free(&probe);
    if (probe_status != 204) {
        printf("# the server stopped serving after %s %.80s\n", method, target);
        return -1;
    }
    (*stored)++;
    size_t n = stored_count(f);
    if (n != *stored) {
        printf("# after %s %.80s: %zu hits stored, want %zu\n", method, target, n, *stored);
        return -1;
    }
    return 0;
}

static void test_bad_requests_are_refused_and_nothing_stored(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    size_t stored = 0;
    ASSERT_EQ_INT(refused(&f, "GET", "/matomo.php?idsite=7&rec=1&url=" SITE_URL "%2F", "", NULL, 0,
                          400, "idsite", &stored),
                  0);
    ASSERT_EQ_INT(refused(&f, "GET", "/matomo.php?idsite=1&url=" SITE_URL "%2F", "", NULL, 0, 400,
                          "rec", &stored),
                  0);
    ASSERT_EQ_INT(refused(&f, "GET",
                          HIT "x&cdt=1762000000&token_auth=0123456789abcdef0123456789abcdef", "",
                          NULL, 0, 400, "token_auth", &stored),
                  0);
    ASSERT_EQ_INT(refused(&f, "GET", HIT "x&cip=192.0.2.1&token_auth=nottoken", "", NULL, 0, 400,
                          "token_auth", &stored),
                  0);
    ASSERT_EQ_INT(
        refused(&f, "GET", HIT "x&cdt=1762000000", "", NULL, 0, 400, "token_auth", &stored), 0);
    ASSERT_EQ_INT(
        refused(&f, "GET", HIT "%FF%FE%FD&action_name=x", "", NULL, 0, 400, "UTF-8", &stored), 0);
    ASSERT_EQ_INT(
        refused(&f, "GET", HIT "ok&action_name=%C0%AF", "", NULL, 0, 400, "UTF-8", &stored), 0);
    const char *malformed = "{\"requests\":[\"?idsite=1&rec=1\",";
    ASSERT_EQ_INT(refused(&f, "POST", "/matomo.php", "Content-Type: application/json\r\n",
                          malformed, strlen(malformed), 400, NULL, &stored),
                  0);
    const char *not_bulk = "{\"request\":5}";
    ASSERT_EQ_INT(refused(&f, "POST", "/matomo.php", "Content-Type: application/json\r\n", not_bulk,
                          strlen(not_bulk), 400, NULL, &stored),
                  0);
    ASSERT_EQ_INT(refused(&f, "PUT", HIT "put", "", "x", 1, 405, NULL, &stored), 0);
    char allow[128];
    ASSERT_EQ_STR(http_reply_header(&f.reply, "Allow", allow, sizeof allow),
                  "GET, HEAD, POST, OPTIONS");
    ASSERT_EQ_INT(refused(&f, "DELETE", "/matomo.php", "", NULL, 0, 405, NULL, &stored), 0);
    ASSERT_EQ_INT(refused(&f, "GET", "/nope.php?idsite=1&rec=1", "", NULL, 0, 404, NULL, &stored),
                  0);

    /* 100 KB of URL: libmicrohttpd's own 414. */
    size_t big = 100 * 1024;
    char *target = malloc(big + 256);
    ASSERT_TRUE(target != NULL);
    int n = snprintf(target, 256, "%s", HIT "long&action_name=");
    memset(target + n, 'a', big);
    target[n + (int)big] = '\0';
    int rc = refused(&f, "GET", target, "", NULL, 0, 414, NULL, &stored);
    free(target);
    ASSERT_EQ_INT(rc, 0);

    /* 50 MB body: refused from its Content-Length, before it is read. */
    size_t huge = 50u << 20;
    char *body = malloc(huge);
    ASSERT_TRUE(body != NULL);
    memset(body, 'a', huge);
    rc = refused(&f, "POST", "/matomo.php", "Content-Type: application/x-www-form-urlencoded\r\n",
                 body, huge, 413, NULL, &stored);
    free(body);
    ASSERT_EQ_INT(rc, 0);
    fixture_stop(&f);
}

static void test_token_with_cdt_lands_in_its_day(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    char target[512];
    /* 2025-11-01 10:00:00 UTC */
    snprintf(target, sizeof target, "%spast&cdt=1761991200&token_auth=%s", HIT, f.token);
    ASSERT_EQ_INT(req(&f, "GET", target, "", NULL), 204);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 1);
    ASSERT_EQ_INT(i_of(json_array_get(h, 0), "time_ms"), 1761991200000LL);
    ASSERT_TRUE(i_of(json_array_get(h, 0), "flags") & (1 << 4)); /* HIT_FLAG_TIME_FORCED */
    json_decref(h);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(
        run_tally(&out, "stats --data %s --site 1 --from 2025-10-31 --to 2025-11-02 --json", f.dir),
        0);
    ASSERT_EQ_STR(
        out.data,
        "{\"site\":1,\"days\":["
        "{\"date\":\"2025-10-31\",\"visits\":0,\"unique_visitors\":0,\"pageviews\":0,\"actions\":0,\"bots\":0}"
        ","
        "{\"date\":\"2025-11-01\",\"visits\":1,\"unique_visitors\":1,\"pageviews\":1,\"actions\":1,\"bots\":0}"
        ","
        "{\"date\":\"2025-11-02\",\"visits\":0,\"unique_visitors\":0,\"pageviews\":0,\"actions\":0,\"bots\":0}"
        "]}\n");
    buf_free(&out);
    fixture_stop(&f);
}

/* The visit rules end to end: hits with authorised times (cdt), read back
 * as visits. One visitor: a 29-minute gap joins, a 31-minute gap splits,
 * new_visit=1 splits, a campaign splits, an external referrer splits and
 * the same referrer again joins; a uid makes another visitor. */
static void test_visit_rules_over_http(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    static const struct {
        int minute;
        const char *extra;
    } hits[] = {
        {0, "a"},
        {29, "b"},
        {60, "c"},
        {61, "d&new_visit=1"},
        {62, "e%3Futm_campaign%3DSpring%26utm_source%3Dnewsletter"},
        {63, "f&urlref=https%3A%2F%2Fnews.example.org%2Fstory"},
        {64, "g&urlref=https%3A%2F%2Fnews.example.org%2Fstory"},
        {65, "h&uid=alice"},
    };
    const long long t0 = 1761991200; /* 2025-11-01 10:00:00 UTC */
    for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
        char target[512];
        snprintf(target, sizeof target, "%s%s&_id=00000000000000aa&cdt=%lld&token_auth=%s", HIT,
                 hits[i].extra, t0 + hits[i].minute * 60, f.token);
        ASSERT_EQ_INT(req(&f, "GET", target, "", NULL), 204);
    }
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(run_tally(&out, "visits --data %s --site 1 --from 2025-11-01 --to 2025-11-01",
                            f.dir), 0);
    json_t *visits = json_array();
    for (char *line = out.data, *eol; line && *line; line = eol ? eol + 1 : NULL) {
        eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        json_t *o = json_loads(line, 0, NULL);
        if (o) json_array_append_new(visits, o);
    }
    buf_free(&out);
    ASSERT_EQ_U64(json_array_size(visits), 6);
    static const struct {
        const char *entry, *exit;
        long long pageviews, visit_count, referrer_type;
        const char *campaign;
    } want[] = {
        {"a", "b", 2, 1, 0, ""},
        {"c", "c", 1, 2, 0, ""},
        {"d", "d", 1, 3, 0, ""},
        {"e?utm_campaign=Spring&utm_source=newsletter", NULL, 1, 4, 2, "spring"},
        {"f", "g", 2, 5, 1, ""},
        {"h", "h", 1, 1, 0, ""},
    };
    const char *first_visitor = s_of(json_array_get(visits, 0), "visitor_id");
    for (size_t i = 0; i < 6; i++) {
        json_t *v = json_array_get(visits, i);
        char url[256];
        snprintf(url, sizeof url, "https://shop.example.com/%s", want[i].entry);
        /* Campaign parameters may be stripped from stored URLs: compare the path. */
        if (!strstr(s_of(v, "entry_url"), "https://shop.example.com/") ||
            strncmp(s_of(v, "entry_url"), url, strlen("https://shop.example.com/") + 1) != 0)
            TEST_FAIL_("visit %zu entry %s, want %s", i, s_of(v, "entry_url"), url);
        if (want[i].exit) {
            snprintf(url, sizeof url, "https://shop.example.com/%s", want[i].exit);
            ASSERT_EQ_STR(s_of(v, "exit_url"), url);
        }
        ASSERT_EQ_INT(i_of(v, "pageviews"), want[i].pageviews);
        ASSERT_EQ_INT(i_of(v, "visit_count"), want[i].visit_count);
        ASSERT_EQ_INT(i_of(v, "referrer_type"), want[i].referrer_type);
        ASSERT_EQ_STR(s_of(v, "campaign_name"), want[i].campaign);
        ASSERT_TRUE(json_is_true(json_object_get(v, "returning")) == (want[i].visit_count > 1));
        bool same_visitor = strcmp(s_of(v, "visitor_id"), first_visitor) == 0;
        ASSERT_TRUE(same_visitor == (i < 5)); /* uid=alice is someone else */
    }
    ASSERT_EQ_STR(s_of(json_array_get(visits, 4), "referrer_name"), "news.example.org");
    ASSERT_EQ_INT(i_of(json_array_get(visits, 1), "days_since_last_visit"), 0);
    json_decref(visits);
    fixture_stop(&f);
}

static void test_visits_are_read_back(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", HIT "v1&_id=00000000000000aa", "", NULL), 204);
    ASSERT_EQ_INT(req(&f, "GET", HIT "v2&_id=00000000000000aa", "", NULL), 204);
    ASSERT_EQ_INT(req(&f, "GET", HIT "w1&_id=00000000000000bb", "", NULL), 204);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(run_tally(&out, "visits --data %s --site 1", f.dir), 0);
    int lines = 0;
    for (const char *p = out.data; *p; p++)
        lines += *p == '\n';
    ASSERT_EQ_INT(lines, 2);
    ASSERT_CONTAINS(out.data, "\"pageviews\":2");
    ASSERT_CONTAINS(out.data, "\"entry_url\":\"https://shop.example.com/v1\"");
    ASSERT_CONTAINS(out.data, "\"exit_url\":\"https://shop.example.com/v2\"");
    buf_free(&out);
    fixture_stop(&f);
}

/* When the log cannot be written (here a file-size limit, as a full disk),
 * hits are answered 503 and not acknowledged, the server keeps serving,
 * and every hit that was acknowledged before is stored. */
static void test_store_failure_answers_503(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    struct rlimit old, lim = {32 * 1024, 32 * 1024};
    getrlimit(RLIMIT_FSIZE, &old);
    /* The server inherits the limit; this process drops it again at once. */
    setrlimit(RLIMIT_FSIZE, &lim);
    bool started = fixture_start(&f);
    setrlimit(RLIMIT_FSIZE, &old);
    ASSERT_TRUE(started);
    int acked = 0, refused = 0;
    for (int i = 0; i < 2000 && refused < 3; i++) {
        char target[512];
        snprintf(target, sizeof target, "%sfull%d&action_name=%0200d", HIT, i, i);
        int status = req(&f, "GET", target, "", NULL);
        if (status == 204) acked++;
        else if (status == 503) refused++;
        else TEST_FAIL_("hit %d answered %d", i, status);
    }
    ASSERT_EQ_INT(refused, 3);
    ASSERT_TRUE(acked > 10);
    ASSERT_CONTAINS(f.reply.body.data, "could not be stored");
    ASSERT_EQ_INT(req(&f, "GET", "/", "", NULL), 200);
    server_stop(&f.server);
    ASSERT_EQ_U64(stored_count(&f), (uint64_t)acked);
    fixture_stop(&f);
}

/* Bots are counted, not tracked; bots=1 records them as hits, as Matomo. */
static void test_bots_are_counted_not_tracked(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    const char *bot = "User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; "
                      "+http://www.google.com/bot.html)\r\n";
    ASSERT_EQ_INT(req(&f, "GET", HIT "crawled", bot, NULL), 204);
    ASSERT_EQ_INT(req(&f, "GET", HIT "crawled2", "User-Agent: curl/8.4.0\r\n", NULL), 204);
    ASSERT_EQ_INT(req(&f, "GET", HIT "recorded&bots=1", bot, NULL), 204);
    ASSERT_EQ_INT(req(&f, "GET", HIT "human",
                      "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n",
                      NULL),
                  204);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 4);
    /* The counted ones keep nothing but site, time and the bot's name. */
    json_t *counted = json_array_get(h, 0);
    ASSERT_EQ_STR(s_of(counted, "kind"), "bot");
    ASSERT_EQ_STR(s_of(counted, "url"), "");
    ASSERT_EQ_STR(s_of(counted, "ip_anon"), "");
    ASSERT_EQ_STR(s_of(json_array_get(h, 1), "kind"), "bot");
    json_t *recorded = json_array_get(h, 2);
    ASSERT_EQ_STR(s_of(recorded, "kind"), "pageview");
    ASSERT_TRUE(i_of(recorded, "flags") & (1 << 2)); /* HIT_FLAG_BOT */
    json_decref(h);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(run_tally(&out, "stats --data %s --site 1 --json", f.dir), 0);
    ASSERT_CONTAINS(out.data, "\"visits\":2,\"unique_visitors\":2,\"pageviews\":2,\"actions\":2,"
                              "\"bots\":2}");
    buf_free(&out);
    fixture_stop(&f);
}

/* ---- the Reporting API entry used by Matomo's log importer ---- */

static void test_get_site_from_id(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    char body[256];
    snprintf(body, sizeof body,
             "module=API&method=SitesManager.getSiteFromId&idSite=1&format=json&token_auth=%s",
             f.token);
    ASSERT_EQ_INT(req(&f, "POST", "/", "Content-Type: application/x-www-form-urlencoded\r\n", body),
                  200);
    ASSERT_EQ_STR(hdr(&f, "Content-Type"), "application/json");
    json_t *j = json_loads(f.reply.body.data, 0, NULL);
    ASSERT_TRUE(json_is_object(j));
    json_t *o = j;
    ASSERT_EQ_STR(s_of(o, "idsite"), "1");
    ASSERT_EQ_STR(s_of(o, "name"), "Shop");
    ASSERT_EQ_STR(s_of(o, "main_url"), "https://shop.example.com");
    ASSERT_EQ_STR(s_of(o, "timezone"), "UTC");
    ASSERT_EQ_STR(s_of(o, "currency"), "USD");
    json_decref(j);

    ASSERT_EQ_INT(req(&f, "GET",
                      "/index.php?module=API&method=SitesManager.getSiteFromId&idSite=1"
                      "&token_auth=ffffffffffffffffffffffffffffffff",
                      "", NULL),
                  401);
    ASSERT_CONTAINS(f.reply.body.data, "\"result\":\"error\"");
    /* A report without a token is refused before anything is computed. */
    ASSERT_EQ_INT(req(&f, "GET", "/?module=API&method=VisitsSummary.get&idSite=1", "", NULL), 401);
    ASSERT_CONTAINS(f.reply.body.data, "\"result\":\"error\"");
    ASSERT_CONTAINS(f.reply.body.data, "token_auth");
    ASSERT_EQ_INT(req(&f, "GET", "/?module=API&method=Nope.nothing&idSite=1", "", NULL), 400);
    ASSERT_CONTAINS(f.reply.body.data, "Nope.nothing");
    /* GET / is the dashboard (test_web); a POST without a module says where things are. */
    ASSERT_EQ_INT(req(&f, "POST", "/", "", NULL), 200);
    ASSERT_CONTAINS(f.reply.body.data, "Tally is running.\nTracking endpoint: /matomo.php");
    ASSERT_EQ_U64(stored_count(&f), 0);
    fixture_stop(&f);
}

static void test_restart_restores_and_keeps_hits(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(req(&f, "GET", HIT "r1&_id=00000000000000cc", "", NULL), 204);
    server_stop(&f.server);
    ASSERT_EQ_INT(server_start(&f.server, f.dir, ""), 0);
    ASSERT_EQ_INT(req(&f, "GET", HIT "r2&_id=00000000000000cc", "", NULL), 204);
    json_t *h = stored_hits(&f);
    ASSERT_EQ_U64(json_array_size(h), 2);
    /* The second hit joined the visit restored from the log. */
    ASSERT_EQ_INT(i_of(json_array_get(h, 1), "visit_id"), i_of(json_array_get(h, 0), "visit_id"));
    json_decref(h);
    struct buf log;
    buf_init(&log);
    file_read_all(f.server.log_path, &log);
    ASSERT_CONTAINS(log.data, "restored 1 hits");
    buf_free(&log);
    fixture_stop(&f);
}

static void test_sites_and_tokens_reload_while_serving(void)
{
    static struct fixture f; /* outlives an early return: RUN cleans up */
    ASSERT_TRUE(fixture_start(&f));
    ASSERT_EQ_INT(
        req(&f, "GET",
            "/matomo.php?idsite=2&rec=1&send_image=0&url=https%3A%2F%2Fblog.example.org%2F", "",
            NULL),
        400);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(
        run_tally(&out, "site add --data %s --name Blog --url https://blog.example.org", f.dir), 0);
    ASSERT_EQ_STR(out.data, "2\n");
    buf_free(&out);
    char token[33];
    ASSERT_EQ_INT(harness_token_create(f.dir, 2, token), 0);
    /* api_maintain notices both files within a second or two. */
    char target[256];
    snprintf(target, sizeof target,
             "/matomo.php?idsite=2&rec=1&send_image=0&url=https%%3A%%2F%%2Fblog.example.org%%2F"
             "&cdt=1761991200&token_auth=%s",
             token);
    int status = 0;
    for (int i = 0; i < 50 && status != 204; i++) {
        status = req(&f, "GET", target, "", NULL);
        if (status != 204) usleep(100 * 1000);
    }
    ASSERT_EQ_INT(status, 204);
    /* The first site's token does not open the second site. */
    snprintf(target, sizeof target,
             "/matomo.php?idsite=2&rec=1&send_image=0&url=https%%3A%%2F%%2Fblog.example.org%%2F"
             "&cdt=1761991200&token_auth=%s",
             f.token);
    ASSERT_EQ_INT(req(&f, "GET", target, "", NULL), 400);
    fixture_stop(&f);
}

int main(void)
{
    RUN(test_get_answers_gif_and_stores_pageview);
    RUN(test_piwik_and_tally_paths_and_204);
    RUN(test_post_query_with_empty_body);
    RUN(test_post_form_body_wins_over_query);
    RUN(test_bulk_strings_urls_and_objects);
    RUN(test_bulk_labelled_as_form_data);
    RUN(test_bulk_invalid_items_are_listed);
    RUN(test_bulk_token_allows_cdt_and_cip);
    RUN(test_every_hit_kind_is_stored);
    RUN(test_visitor_context_fields);
    RUN(test_cors_headers_and_preflight);
    RUN(test_keep_alive_stays_on);
    RUN(test_fsync_always_group_commit);
    RUN(test_store_failure_answers_503);
    RUN(test_bots_are_counted_not_tracked);
    RUN(test_chunked_body_too_large);
    RUN(test_dnt_and_gpc_are_honoured);
    RUN(test_bad_requests_are_refused_and_nothing_stored);
    RUN(test_token_with_cdt_lands_in_its_day);
    RUN(test_visits_are_read_back);
    RUN(test_visit_rules_over_http);
    RUN(test_get_site_from_id);
    RUN(test_restart_restores_and_keeps_hits);
    RUN(test_sites_and_tokens_reload_while_serving);
    return TEST_DONE();
}
