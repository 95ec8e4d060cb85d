/* harness: what integration tests need to use Tally as a user does: a
 * fresh data folder, the real `tally serve` on a loopback port, raw HTTP
 * requests, and CLI runs with their output. The binary is $TALLY_BIN. */
#ifndef TALLY_HARNESS_H
#define TALLY_HARNESS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../src/base/base.h"

/* Creates an empty folder under $TMPDIR (or /tmp) and writes its path. */
int harness_tmpdir(char out[256]);
/* rm -rf path (refuses anything outside the temp folder). */
void harness_rmtree(const char *path);

struct server {
    pid_t pid;
    int port;
    char data_dir[256];
    char log_path[300]; /* the server's stderr, for privacy checks */
};
/* Starts `tally serve --data DATA_DIR --listen 127.0.0.1:PORT --fsync never
 * EXTRA_ARGS` on a free port and waits until it answers. extra_args may be
 * "" and is split on spaces; when it names --fsync, that policy is used. */
int server_start(struct server *s, const char *data_dir, const char *extra_args);
void server_stop(struct server *s); /* SIGTERM, then wait */
void server_kill(struct server *s); /* SIGKILL, then wait */
/* Prints up to bytes of the server's stderr as TAP comments, from its
 * first sanitizer report or else its end: what a crashed server said
 * explains a failed test. */
void server_log_tail(const struct server *s, size_t bytes);

struct http_reply {
    int status;
    struct buf headers; /* raw header block, lines "Name: value\r\n" */
    struct buf body;
};
/* Sends one request on a new connection and reads the whole answer.
 * extra_headers is "" or "Name: value\r\n..." lines. Returns 0 or -errno. */
int http_request(int port, const char *method, const char *target, const char *extra_headers,
                 const char *body, size_t body_len, struct http_reply *reply);
void http_reply_free(struct http_reply *reply);
/* Value of a response header (case-insensitive name) or NULL; copied into out. */
const char *http_reply_header(const struct http_reply *reply, const char *name, char *out,
                              size_t outlen);

/* Runs `$TALLY_BIN ARGS` (args split on spaces; single quotes group) and
 * captures stdout and stderr together into out. Returns the exit status,
 * or -1 if it did not exit normally. */
int run_tally(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with input (at most a few KiB) as the command's stdin. */
int run_tally_input(struct buf *out, const char *input, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs `tally token create --data DATA_DIR --site SITE_ID` and copies the
 * printed token into out. Returns 0, or -1 when the command failed. */
int harness_token_create(const char *data_dir, unsigned site_id, char out[33]);

/* ---- requests ---- */
/* Appends s[0 .. n) percent-encoded: all but letters, digits and -_.~ */
void buf_url_encode(struct buf *b, const char *s, size_t n);
/* Appends "a=x y|b=z" as "a=x%20y&b=z" ('&' first when b is not empty). */
void buf_encode_params(struct buf *b, const char *params);

/* ---- tracking ---- */
/* Sends GET /matomo.php?QUERY (already encoded) with User-Agent ua ("":
 * none). Returns the status (-1: no answer); anything but 204 is printed
 * with the request as a TAP comment. */
int track_get(const struct server *s, const char *query, const char *ua);
/* One hit of visitor cid (16 hex) at t_ms on site, as Matomo's log importer
 * sends it: params is "a=x y|b=z" (encoded here), then idsite, rec,
 * send_image=0, cid, cdt and token_auth (write access, for cdt). */
int track_visitor_hit(const struct server *s, const char *token, unsigned site, const char *cid,
                      int64_t t_ms, const char *ua, const char *params);

/* ---- a small report data set on one site ---- */
/* One hit of it: its visitor (a letter from A to O, whose cid is sixteen
 * times one hex digit: A is 1...1), its day (0: the day before yesterday,
 * 1: yesterday, in UTC), its time of day, and params as track_visitor_hit
 * takes them. */
struct dataset_hit {
    char visitor;
    int day, h, m;
    const char *params;
};
/* A fresh data folder with one site (UTC), a token for it, a server on it,
 * and the data set's two days as YYYY-MM-DD. */
struct report_site {
    struct server server;
    char data_dir[256];
    char token[33];
    char d0[11], d1[11];
};
/* Makes the site NAME with URL and starts the server; on false, out holds
 * what the failing command printed. */
bool report_site_start(struct report_site *rs, const char *name, const char *url,
                       struct buf *out);
/* Sends the hits with user agent ua; false at the first not answered 204. */
bool report_site_send(struct report_site *rs, const struct dataset_hit *hits, size_t n,
                      const char *ua);
/* api_jsonv and api_error_says on the site. */
json_t *report_site_api(const struct report_site *rs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool report_site_error_says(const struct report_site *rs, const char *query, int want_status,
                            const char *part);

/* ---- the Reporting API ---- */
/* GET /index.php?module=API&idSite=SITE&token_auth=TOKEN&QUERY: the status
 * goes to *status (-1: no answer), the body is returned (caller frees;
 * NULL when there was no answer). */
char *api_get(const struct server *s, const char *token, unsigned site, const char *query,
              int *status);
/* The JSON answer of a query expected to succeed (format=json is added),
 * or NULL with the query, status and body printed as a TAP comment. */
json_t *api_jsonv(const struct server *s, const char *token, unsigned site, const char *fmt,
                  va_list ap);
/* Whether the query answers want_status with an error whose message holds
 * part; prints what came instead as a TAP comment. */
bool api_error_says(const struct server *s, const char *token, unsigned site, const char *query,
                    int want_status, const char *part);
/* The row of a report table whose label is label, or NULL. */
json_t *report_row(const json_t *rows, const char *label);
/* Checks "key=value key=value ..." against an object: a JSON number is
 * compared as a number, a string as text ('~' in a value stands for a
 * space), "key=-" says the key must be absent. On a mismatch, writes
 * what differed to why and returns false. */
bool json_fields_match(const json_t *obj, const char *spec, char *why, size_t whylen);
/* rows as compact JSON, cut to fit a failure message (one static buffer). */
const char *json_text(const json_t *rows);

/* Holds the answer a test is looking at, freeing the one before, so an
 * assertion that ends the test leaks nothing: keep(NULL) after each test. */
json_t *keep(json_t *j);

/* Report assertions for tests that include test.h: an object's fields
 * (json_fields_match's spec), a row found by label, a row count. */
#define ASSERT_FIELDS(obj, spec)                                                                   \
    do {                                                                                           \
        char why_[1400];                                                                           \
        if (!json_fields_match((obj), (spec), why_, sizeof why_)) TEST_FAIL_("%s", why_);          \
    } while (0)
#define ASSERT_ROW(rows, label, spec)                                                              \
    do {                                                                                           \
        const json_t *r_ = report_row((rows), (label));                                            \
        if (!r_) TEST_FAIL_("no row \"%s\" in %s", (label), json_text(rows));                      \
        ASSERT_FIELDS(r_, spec);                                                                   \
    } while (0)
#define ASSERT_ROWS(rows, n)                                                                       \
    do {                                                                                           \
        if (!json_is_array(rows)) TEST_FAIL_("not an array of rows: %s", json_text(rows));         \
        if (json_array_size(rows) != (size_t)(n))                                                  \
            TEST_FAIL_("%zu rows, want %d: %s", json_array_size(rows), (n), json_text(rows));      \
    } while (0)

/* True when needle occurs anywhere in any file under dir (binary-safe). */
int harness_grep_tree(const char *dir, const char *needle);

#endif
