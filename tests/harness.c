/* harness: the real binary, real sockets, real files. See harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_PREFIX "tally-test-"
#define MAX_ARGS 64

static const char *tmp_base(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static const char *tally_bin(void)
{
    const char *b = getenv("TALLY_BIN");
    return b && *b ? b : "build/tally";
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

int harness_tmpdir(char out[256])
{
    if (snprintf(out, 256, "%s/" HARNESS_PREFIX "XXXXXX", tmp_base()) >= 256) return -ENAMETOOLONG;
    return mkdtemp(out) ? 0 : -errno;
}

static void rmtree_rec(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char child[4096];
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                rmtree_rec(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

void harness_rmtree(const char *path)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/" HARNESS_PREFIX, tmp_base());
    if (!path || strncmp(path, prefix, strlen(prefix)) != 0 || strstr(path, "..")) {
        fprintf(stderr, "harness_rmtree: refusing to remove %s (not a test folder)\n",
                path ? path : "(null)");
        return;
    }
    rmtree_rec(path);
    /* server_start keeps the server's log beside the data folder. */
    char log[300];
    snprintf(log, sizeof log, "%s.log", path);
    unlink(log);
}

/* ---- server ---- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -EADDRNOTAVAIL;
    if (!bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Splits s on spaces into argv (single quotes group); words point into s. */
static int split_args(char *s, char **argv, int max)
{
    int n = 0;
    char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p) break;
        if (n == max - 1) return -E2BIG;
        char *w = p, *o = p;
        bool quoted = false;
        while (*p && (quoted || *p != ' ')) {
            if (*p == '\'') {
                quoted = !quoted;
                p++;
                continue;
            }
            *o++ = *p++;
        }
        if (*p) p++;
        *o = '\0';
        argv[n++] = w;
    }
    argv[n] = NULL;
    return n;
}

static bool server_answers(int port)
{
    struct http_reply r;
    if (http_request(port, "GET", "/", "", NULL, 0, &r)) return false;
    bool ok = r.status > 0;
    http_reply_free(&r);
    return ok;
}

int server_start(struct server *s, const char *data_dir, const char *extra_args)
{
    memset(s, 0, sizeof *s);
    snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir);
    snprintf(s->log_path, sizeof s->log_path, "%s.log", data_dir);
    /* The port is free when we look; someone may take it before the server
     * binds, so a server that exits at once is retried on another port. */
    for (int attempt = 0; attempt < 3; attempt++) {
        int port = free_port();
        if (port < 0) return port;
        char listen[64], extra[1024];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
        snprintf(extra, sizeof extra, "%s", extra_args ? extra_args : "");
        char *argv[MAX_ARGS];
        int n = 0;
        argv[n++] = (char *)tally_bin();
        argv[n++] = "serve";
        argv[n++] = "--data";
        argv[n++] = s->data_dir;
        argv[n++] = "--listen";
        argv[n++] = listen;
        if (!strstr(extra, "--fsync")) {
            argv[n++] = "--fsync";
            argv[n++] = "never";
        }
        if (split_args(extra, argv + n, MAX_ARGS - n) < 0) return -E2BIG;
        pid_t pid = fork();
        if (pid < 0) return -errno;
        if (pid == 0) {
            int log = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
            int null = open("/dev/null", O_RDONLY);
            if (log < 0 || null < 0) _exit(127);
            dup2(null, STDIN_FILENO);
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
            execv(argv[0], argv);
            dprintf(log, "harness: cannot run %s: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        s->pid = pid;
        s->port = port;
        for (int waited = 0; waited < 10000; waited += 20) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                s->pid = 0;
                break;
            }
            if (server_answers(port)) return 0;
            sleep_ms(20);
        }
        if (s->pid) {
            server_kill(s);
            return -ETIMEDOUT;
        }
    }
    return -EADDRINUSE;
}

static void wait_or_kill(struct server *s, int sig)
{
    if (s->pid <= 0) return;
    kill(s->pid, sig);
    for (int waited = 0; waited < 15000; waited += 10) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        sleep_ms(10);
    }
    /* A server that ignores SIGTERM for 15 s is a bug; do not hang the tests. */
    fprintf(stderr, "harness: server %d did not stop; killing it\n", (int)s->pid);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void server_stop(struct server *s)
{
    wait_or_kill(s, SIGTERM);
}

void server_kill(struct server *s)
{
    wait_or_kill(s, SIGKILL);
}

void server_log_tail(const struct server *s, size_t bytes)
{
    struct buf log;
    buf_init(&log);
    if (file_read_all(s->log_path, &log) == 0 && log.len) {
        /* A sanitizer's report starts at its ERROR line: show that first. */
        const char *error = strstr(log.data, "ERROR: ");
        size_t from = error ? (size_t)(error - log.data) : log.len > bytes ? log.len - bytes : 0;
        size_t to = from + bytes < log.len ? from + bytes : log.len;
        printf("# the server's log:\n# ");
        for (size_t i = from; i < to; i++) {
            putchar(log.data[i]);
            if (log.data[i] == '\n' && i + 1 < to) printf("# ");
        }
        putchar('\n');
    }
    buf_free(&log);
}

/* ---- HTTP client ---- */

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Sends everything unless the server answers (or closes) first: a server
 * refusing a huge body answers early and stops reading. */
static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
        if (poll(&p, 1, 10000) <= 0) return;
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) return;
        size_t chunk = len < 65536 ? len : 65536;
        ssize_t n = send(fd, data, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static int parse_reply(struct buf *raw, struct http_reply *reply)
{
    char *end = raw->data ? strstr(raw->data, "\r\n\r\n") : NULL;
    if (!end || strncmp(raw->data, "HTTP/1.", 7) != 0) return -EPROTO;
    reply->status = atoi(raw->data + 9);
    char *first_eol = strstr(raw->data, "\r\n");
    buf_append(&reply->headers, first_eol + 2, (size_t)(end + 2 - (first_eol + 2)));
    size_t body_off = (size_t)(end + 4 - raw->data);
    size_t body_len = raw->len - body_off;
    char cl[32];
    if (http_reply_header(reply, "Content-Length", cl, sizeof cl)) {
        size_t want = strtoul(cl, NULL, 10);
        if (want < body_len) body_len = want;
    }
    buf_append(&reply->body, raw->data + body_off, body_len);
    return 0;
}

int http_request(int port, const char *method, const char *target, const char *extra_headers,
                 const char *body, size_t body_len, struct http_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    buf_init(&reply->headers);
    buf_init(&reply->body);
    int fd = connect_loopback(port);
    if (fd < 0) return fd;
    struct buf req;
    buf_init(&req);
    buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s", method,
               target, port, extra_headers ? extra_headers : "");
    if (body) buf_printf(&req, "Content-Length: %zu\r\n", body_len);
    buf_puts(&req, "\r\n");
    send_all(fd, req.data, req.len);
    buf_free(&req);
    if (body && body_len) send_all(fd, body, body_len);

    struct buf raw;
    buf_init(&raw);
    char chunk[65536];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 15000) <= 0) break;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF, or a reset after the answer */
        buf_append(&raw, chunk, (size_t)n);
    }
    close(fd);
    int rc = parse_reply(&raw, reply);
    buf_free(&raw);
    return rc;
}

void http_reply_free(struct http_reply *reply)
{
    buf_free(&reply->headers);
    buf_free(&reply->body);
}

const char *http_reply_header(const struct http_reply *reply, const char *name, char *out,
                              size_t outlen)
{
    size_t name_len = strlen(name);
    const char *p = reply->headers.data;
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        if (!eol) break;
        if ((size_t)(eol - p) > name_len && p[name_len] == ':' &&
            strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return out;
        }
        p = eol + 2;
    }
    return NULL;
}

/* ---- CLI ---- */

/* run_tally and run_tally_input: input NULL leaves stdin as it is. */
static int run_tally_va(struct buf *out, const char *input, const char *fmt, va_list ap)
{
    struct buf cmd;
    buf_init(&cmd);
    char *text = NULL;
    int need = vasprintf(&text, fmt, ap);
    if (need < 0) return -1;
    buf_append(&cmd, text, (size_t)need);
    free(text);

    char *argv[MAX_ARGS];
    argv[0] = (char *)tally_bin();
    if (split_args(cmd.data, argv + 1, MAX_ARGS - 1) < 0) {
        buf_free(&cmd);
        return -1;
    }
    int pipefd[2], infd[2] = {-1, -1};
    if (pipe(pipefd)) {
        buf_free(&cmd);
        return -1;
    }
    if (input && pipe(infd)) {
        close(pipefd[0]);
        close(pipefd[1]);
        buf_free(&cmd);
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        if (input) {
            close(infd[1]);
            dup2(infd[0], STDIN_FILENO);
        }
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        execv(argv[0], argv);
        fprintf(stderr, "harness: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    buf_free(&cmd);
    if (input) {
        /* A small input fits the pipe, so it is written whole before the
         * output is read; our read end stays open meanwhile, so a command
         * that exits without reading cannot make the write raise SIGPIPE. */
        for (size_t done = 0, len = strlen(input); pid > 0 && done < len;) {
            ssize_t n = write(infd[1], input + done, len - done);
            if (n < 0 && errno != EINTR) break;
            if (n > 0) done += (size_t)n;
        }
        close(infd[0]);
        close(infd[1]);
    }
    if (pid < 0) {
        close(pipefd[0]);
        return -1;
    }
    char chunk[65536];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        buf_append(out, chunk, (size_t)n);
    }
    if (!out->data) buf_puts(out, ""); /* callers may strstr an empty output */
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_tally(struct buf *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = run_tally_va(out, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int run_tally_input(struct buf *out, const char *input, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = run_tally_va(out, input, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- files ---- */

int harness_grep_tree(const char *dir, const char *needle)
{
    struct stat st;
    if (lstat(dir, &st)) return 0;
    if (S_ISREG(st.st_mode)) {
        struct buf b;
        buf_init(&b);
        int found = file_read_all(dir, &b) == 0 && b.len &&
                    memmem(b.data, b.len, needle, strlen(needle)) != NULL;
        buf_free(&b);
        return found;
    }
    if (!S_ISDIR(st.st_mode)) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
        found = harness_grep_tree(child, needle);
    }
    closedir(d);
    return found;
}

int harness_token_create(const char *data_dir, unsigned site_id, char out[33])
{
    struct buf text;
    buf_init(&text);
    int rc = run_tally(&text, "token create --data %s --site %u", data_dir, site_id);
    /* The command prints the token alone on its line. */
    bool ok = rc == 0 && text.len == 33 && text.data[32] == '\n';
    if (ok) {
        memcpy(out, text.data, 32);
        out[32] = '\0';
    }
    buf_free(&text);
    return ok ? 0 : -1;
}

/* ---- requests ---- */

void buf_url_encode(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

void buf_encode_params(struct buf *b, const char *params)
{
    const char *p = params;
    while (*p) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (b->len) buf_putc(b, '&');
        size_t name = eq ? (size_t)(eq - p) : len;
        buf_append(b, p, name);
        if (eq) {
            buf_putc(b, '=');
            buf_url_encode(b, eq + 1, len - name - 1);
        }
        p += len + (end != NULL);
    }
}

/* ---- the Reporting API ---- */

int track_get(const struct server *s, const char *query, const char *ua)
{
    struct buf target, headers;
    buf_init(&target);
    buf_init(&headers);
    buf_printf(&target, "/matomo.php?%s", query);
    if (*ua) buf_printf(&headers, "User-Agent: %s\r\n", ua);
    struct http_reply r = {0};
    int rc = http_request(s->port, "GET", target.data, headers.len ? headers.data : "", NULL, 0,
                          &r);
    int status = rc ? -1 : r.status;
    if (status != 204)
        printf("# tracking %s answered %d: %.300s\n", target.data, status,
               r.body.data ? r.body.data : "");
    http_reply_free(&r);
    buf_free(&target);
    buf_free(&headers);
    return status;
}

int track_visitor_hit(const struct server *s, const char *token, unsigned site, const char *cid,
                      int64_t t_ms, const char *ua, const char *params)
{
    struct buf query;
    buf_init(&query);
    buf_encode_params(&query, params);
    buf_printf(&query, "&idsite=%u&rec=1&send_image=0&cid=%s&cdt=%lld&token_auth=%s", site, cid,
               (long long)(t_ms / 1000), token);
    int status = track_get(s, query.data, ua);
    buf_free(&query);
    return status;
}

bool report_site_start(struct report_site *rs, const char *name, const char *url,
                       struct buf *out)
{
    buf_reset(out);
    return !harness_tmpdir(rs->data_dir) &&
           run_tally(out, "site add --data %s --name %s --url %s", rs->data_dir, name, url) == 0 &&
           !harness_token_create(rs->data_dir, 1, rs->token) &&
           server_start(&rs->server, rs->data_dir, "") == 0;
}

bool report_site_send(struct report_site *rs, const struct dataset_hit *hits, size_t n,
                      const char *ua)
{
    int64_t today = now_ms() / MS_PER_DAY;
    format_date(today - 2, rs->d0);
    format_date(today - 1, rs->d1);
    for (size_t i = 0; i < n; i++) {
        char cid[17];
        memset(cid, "123456789abcdef"[hits[i].visitor - 'A'], 16);
        cid[16] = '\0';
        int64_t t = (today - 2 + hits[i].day) * MS_PER_DAY +
                    (hits[i].h * 60LL + hits[i].m) * 60000LL;
        if (track_visitor_hit(&rs->server, rs->token, 1, cid, t, ua, hits[i].params) != 204)
            return false;
    }
    return true;
}

json_t *report_site_api(const struct report_site *rs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = api_jsonv(&rs->server, rs->token, 1, fmt, ap);
    va_end(ap);
    return j;
}

bool report_site_error_says(const struct report_site *rs, const char *query, int want_status,
                            const char *part)
{
    return api_error_says(&rs->server, rs->token, 1, query, want_status, part);
}

bool api_error_says(const struct server *s, const char *token, unsigned site, const char *query,
                    int want_status, const char *part)
{
    int status;
    char *body = api_get(s, token, site, query, &status);
    bool ok = body && status == want_status && strstr(body, part) &&
              strstr(body, "\"result\":\"error\"");
    if (!ok)
        printf("# %s: want %d with \"%s\", got %d: %.400s\n", query, want_status, part, status,
               body ? body : "(none)");
    free(body);
    return ok;
}

char *api_get(const struct server *s, const char *token, unsigned site, const char *query,
              int *status)
{
    char target[4096];
    snprintf(target, sizeof target, "/index.php?module=API&idSite=%u&token_auth=%s&%s", site,
             token, query);
    struct http_reply r = {0};
    *status = -1;
    if (http_request(s->port, "GET", target, "", NULL, 0, &r)) return NULL;
    *status = r.status;
    char *body = strdup(r.body.data ? r.body.data : "");
    http_reply_free(&r);
    return body;
}

json_t *api_jsonv(const struct server *s, const char *token, unsigned site, const char *fmt,
                  va_list ap)
{
    char query[3000], full[3100];
    vsnprintf(query, sizeof query, fmt, ap);
    snprintf(full, sizeof full, "format=json&%s", query);
    int status;
    char *body = api_get(s, token, site, full, &status);
    json_t *j = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    if (!j) printf("# %s: status %d, body %.500s\n", query, status, body ? body : "(none)");
    free(body);
    return j;
}

json_t *report_row(const json_t *rows, const char *label)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *l = json_string_value(json_object_get(r, "label"));
        if (l && strcmp(l, label) == 0) return r;
    }
    return NULL;
}

json_t *keep(json_t *j)
{
    static json_t *answer;
    json_decref(answer);
    answer = j;
    return j;
}

const char *json_text(const json_t *rows)
{
    static char text[1600];
    char *t = rows ? json_dumps(rows, JSON_COMPACT) : NULL;
    snprintf(text, sizeof text, "%s", t ? t : "(no answer)");
    free(t);
    return text;
}

bool json_fields_match(const json_t *obj, const char *spec, char *why, size_t whylen)
{
    if (!json_is_object(obj)) {
        snprintf(why, whylen, "not an object (want %s)", spec);
        return false;
    }
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", spec);
    for (char *save = NULL, *kv = strtok_r(copy, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *key = kv, *want = eq + 1;
        for (char *sp = eq + 1; *sp; sp++)
            if (*sp == '~') *sp = ' ';
        json_t *v = json_object_get(obj, key);
        char got[256];
        bool same;
        if (strcmp(want, "-") == 0) {
            snprintf(got, sizeof got, "%s", v ? "present" : "absent");
            same = !v;
        } else if (json_is_number(v)) {
            double x = json_number_value(v);
            snprintf(got, sizeof got, "%.10g", x);
            char *end;
            double y = strtod(want, &end);
            same = *end == '\0' && fabs(x - y) <= 1e-9 * (1 + fabs(y));
        } else if (json_is_string(v)) {
            snprintf(got, sizeof got, "\"%s\"", json_string_value(v));
            same = strcmp(json_string_value(v), want) == 0;
        } else {
            snprintf(got, sizeof got, "%s", v ? "(not a number or string)" : "(absent)");
            same = false;
        }
        if (!same) {
            char *text = json_dumps(obj, JSON_COMPACT);
            snprintf(why, whylen, "%s: want %s, got %s in %.900s", key, want, got, text);
            free(text);
            return false;
        }
    }
    return true;
}
