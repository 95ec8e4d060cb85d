/* http: libmicrohttpd with one epoll thread.
 *
 * Each connection's request state (struct http_req, in *con_cls) is made on
 * the first access-handler call, fed the body on the following calls and
 * freed by the completion callback. The answer is queued only on the final
 * call: queueing on the first one turns keep-alive off (field-notes.md).
 * Early refusals (405, 413) are the exception: those connections should
 * close anyway.
 *
 * Group commit (--fsync always): an answer that needs the log synced is
 * parked: the connection is suspended and handed to the syncer thread,
 * which runs one api_sync for every connection parked meanwhile and
 * resumes them; libmicrohttpd then calls the handler again, which sends
 * the parked answer (or 503 when the sync failed). Under load one
 * fdatasync covers many hits instead of one.
 *
 * Everything but tracking and the dashboard's files (reports, logins,
 * settings) is answered by a pool of worker threads in the same way: the
 * connection is suspended, a worker computes the answer and resumes it. A
 * connection stays on the epoll thread that accepted it, so a report
 * computed there would hold up every other request of that thread: the
 * tracking hits of its keep-alive connections, and the reports a browser
 * sends beside it, which would run one after the other.
 *
 * X-Forwarded-For is deliberately ignored: any client can send it, so it
 * would let anyone choose the IP a hit is attributed to. A reverse-proxy
 * setting with a list of trusted proxies can come later. */
#include "http.h"

#include "../web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Request line and headers must fit in this; a longer URL gets
 * libmicrohttpd's own 414. Bodies are streamed past it into http_req.body. */
#define HTTP_CONNECTION_MEMORY (32u << 10)
#define HTTP_CONNECTION_TIMEOUT_S 30u
/* Decoded query parameters of one request; bounded by the memory limit
 * above in practice, capped here anyway. */
#define HTTP_ARENA_LIMIT (16u << 20)
/* Threads reading requests and answering tracking and files. */
#define HTTP_THREADS 4u
/* Threads answering the rest: as many as cores, so reports run beside each
 * other; past them, requests wait their turn. */
#define HTTP_WORKERS_MAX 64

struct parked {
    struct MHD_Connection *con;
    struct http_req *req;
};

struct http_server {
    struct MHD_Daemon *daemon;
    struct api *api;
    /* Group commit: connections waiting for the next sync. */
    pthread_t syncer;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct parked *parked;
    size_t parked_count, parked_cap;
    /* Connections waiting for a worker, oldest first. */
    pthread_t workers[HTTP_WORKERS_MAX];
    size_t worker_count;
    pthread_cond_t work;
    struct parked *jobs;
    size_t job_count, job_cap;
    bool stopping;
};

struct http_req {
    struct buf body;
    struct arena arena;
    bool too_large;           /* the body passed HTTP_MAX_BODY: answer 413 at the end */
    bool parked;              /* suspended for the syncer or a worker; answer is in resp */
    int sync_rc;              /* set before the connection is resumed: 0, or the failed sync */
    bool preflight;
    /* What a worker answers, and what it points to. */
    struct api_request request;
    struct track_params query;
    char ip[INET6_ADDRSTRLEN];
    struct api_response resp; /* the parked answer */
};

static const char allowed_methods[] = "GET, HEAD, POST, OPTIONS";

static enum MHD_Result add_query_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    struct track_params *p = cls;
    /* "?a" has no value: it is an empty one, as in Matomo. */
    if (track_params_add(p, key ? key : "", value ? value : "")) return MHD_NO;
    return MHD_YES;
}

static const char *header(struct MHD_Connection *con, const char *name)
{
    const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
    return v ? v : "";
}

/* The peer address as text; IPv4 clients of a dual-stack socket arrive as
 * ::ffff:a.b.c.d and are reported as plain IPv4. */
static void peer_ip(struct MHD_Connection *con, char out[INET6_ADDRSTRLEN])
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  INET6_ADDRSTRLEN);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, INET6_ADDRSTRLEN);
        else
            inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
    }
}

static enum MHD_Result queue(struct MHD_Connection *con, const struct api_response *resp,
                             bool preflight)
{
    /* A 304 has no body, but HEAD and 200 carry the length of what was sent. */
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->status == 304 ? 0 : resp->body.len, resp->body.data, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (resp->content_type && resp->body.len)
        MHD_add_response_header(r, "Content-Type", resp->content_type);
    MHD_add_response_header(r, "Cache-Control",
                            resp->cache_control ? resp->cache_control : "no-store");
    /* Error texts may quote what the client sent: never let a browser
     * sniff them into HTML, or run anything in them. */
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            resp->content_security_policy
                                ? resp->content_security_policy
                                : "default-src 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    if (resp->etag) MHD_add_response_header(r, "ETag", resp->etag);
    if (resp->content_encoding) MHD_add_response_header(r, "Content-Encoding", resp->content_encoding);
    if (resp->etag) MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (*resp->allow_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", resp->allow_origin);
        MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
        MHD_add_response_header(r, "Vary", "Origin");
    } else {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    }
    if (preflight) {
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type");
        MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    }
    if (resp->status == 405) MHD_add_response_header(r, "Allow", allowed_methods);
    if (*resp->set_cookie) MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result refuse(struct MHD_Connection *con, int status, const char *text)
{
    struct api_response resp = {.status = status, .content_type = "text/plain; charset=utf-8"};
    resp.body.data = (char *)text;
    resp.body.len = strlen(text);
    return queue(con, &resp, false);
}

static const char too_large_text[] = "request body too large: at most 8 MiB (HTTP_MAX_BODY)\n";

/* Sends the answer of a resumed connection: the parked one, or 503 when
 * the sync failed (the hit is not acknowledged; the tracker may retry). */
static enum MHD_Result answer_parked(struct MHD_Connection *con, struct http_req *req)
{
    req->parked = false;
    enum MHD_Result ret =
        req->sync_rc ? refuse(con, 503, "the hit could not be synced to disk; retry later\n")
                     : queue(con, &req->resp, req->preflight);
    buf_free(&req->resp.body);
    return ret;
}

/* Suspends the connection and adds it to queue (the syncer's or the
 * workers'), waking its thread. Past http_stop's start nobody takes it:
 * the caller answers itself (returns false). */
static bool park(struct http_server *server, struct MHD_Connection *con, struct http_req *req,
                 struct parked **queue, size_t *count, size_t *cap, pthread_cond_t *wake)
{
    pthread_mutex_lock(&server->lock);
    if (server->stopping) {
        pthread_mutex_unlock(&server->lock);
        return false;
    }
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *queue = realloc(*queue, *cap * sizeof **queue);
        if (!*queue) abort();
    }
    /* Suspended before the other thread can see it, so it is never resumed early. */
    req->parked = true;
    MHD_suspend_connection(con);
    (*queue)[(*count)++] = (struct parked){con, req};
    pthread_cond_signal(wake);
    pthread_mutex_unlock(&server->lock);
    return true;
}

/* Answers req->request into req->resp, syncing the log when it must. */
static void answer(struct http_server *server, struct http_req *req)
{
    api_handle(server->api, &req->request, &req->resp);
    req->sync_rc = req->resp.sync_needed ? api_sync(server->api) : 0;
}

static void *worker_main(void *arg)
{
    struct http_server *server = arg;
    pthread_mutex_lock(&server->lock);
    for (;;) {
        while (!server->job_count && !server->stopping)
            pthread_cond_wait(&server->work, &server->lock);
        if (!server->job_count) break; /* stopping, and nothing left */
        struct parked job = server->jobs[0];
        memmove(server->jobs, server->jobs + 1, --server->job_count * sizeof *server->jobs);
        pthread_mutex_unlock(&server->lock);
        answer(server, job.req);
        MHD_resume_connection(job.con);
        pthread_mutex_lock(&server->lock);
    }
    pthread_mutex_unlock(&server->lock);
    return NULL;
}

/* One api_sync for every connection parked while the previous one ran. */
static void *syncer_main(void *arg)
{
    struct http_server *server = arg;
    struct parked *batch = NULL;
    size_t batch_cap = 0;
    pthread_mutex_lock(&server->lock);
    for (;;) {
        while (!server->parked_count && !server->stopping)
            pthread_cond_wait(&server->wake, &server->lock);
        if (!server->parked_count) break; /* stopping, and nothing left */
        size_t n = server->parked_count;
        if (n > batch_cap) {
            free(batch);
            batch_cap = server->parked_cap;
            batch = malloc(batch_cap * sizeof *batch);
            if (!batch) abort();
        }
        memcpy(batch, server->parked, n * sizeof *batch);
        server->parked_count = 0;
        pthread_mutex_unlock(&server->lock);

        int rc = api_sync(server->api);
        for (size_t i = 0; i < n; i++) {
            batch[i].req->sync_rc = rc;
            MHD_resume_connection(batch[i].con);
        }
        pthread_mutex_lock(&server->lock);
    }
    pthread_mutex_unlock(&server->lock);
    free(batch);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *server = cls;
    struct http_req *req = *con_cls;

    if (req && req->parked) return answer_parked(con, req);
    if (!req) {
        /* First call, right after the headers: only early refusals answer here. */
        req = calloc(1, sizeof *req);
        if (!req) return MHD_NO;
        buf_init(&req->body);
        arena_init(&req->arena, HTTP_ARENA_LIMIT);
        *con_cls = req;
        if (!api_method_allowed(method))
            return refuse(con, 405, "method not allowed: use GET, POST, HEAD or OPTIONS\n");
        const char *cl =
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t declared;
        if (cl && !parse_i64(cl, 0, INT64_MAX, &declared) && declared > (int64_t)HTTP_MAX_BODY)
            return refuse(con, 413, too_large_text);
        return MHD_YES;
    }

    if (*upload_data_size) {
        /* A body without Content-Length (chunked) can still grow too big:
         * keep reading and dropping it, and answer 413 once it ended. */
        if (!req->too_large && req->body.len + *upload_data_size > HTTP_MAX_BODY) {
            req->too_large = true;
            buf_free(&req->body);
        }
        if (!req->too_large) buf_append(&req->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (req->too_large) return refuse(con, 413, too_large_text);

    track_params_init(&req->query, &req->arena);
    MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, add_query_param, &req->query);

    peer_ip(con, req->ip);
    const char *dnt = header(con, "DNT"), *gpc = header(con, "Sec-GPC");
    req->request = (struct api_request){
        .method = method,
        .path = url,
        .query = &req->query,
        .body = req->body.len ? req->body.data : NULL,
        .body_len = req->body.len,
        .content_type = header(con, MHD_HTTP_HEADER_CONTENT_TYPE),
        .origin = header(con, "Origin"),
        .if_none_match = header(con, MHD_HTTP_HEADER_IF_NONE_MATCH),
        .accept_encoding = header(con, MHD_HTTP_HEADER_ACCEPT_ENCODING),
        .host = header(con, MHD_HTTP_HEADER_HOST),
        .cookie = header(con, MHD_HTTP_HEADER_COOKIE),
        .tally_requested = header(con, "X-Tally-Requested"),
        .ctx =
            {
                .ip = req->ip,
                .user_agent = header(con, MHD_HTTP_HEADER_USER_AGENT),
                .accept_language = header(con, MHD_HTTP_HEADER_ACCEPT_LANGUAGE),
                .sec_ch_ua = header(con, "Sec-CH-UA"),
                .sec_ch_ua_mobile = header(con, "Sec-CH-UA-Mobile"),
                .sec_ch_ua_platform = header(con, "Sec-CH-UA-Platform"),
                .sec_ch_ua_platform_version = header(con, "Sec-CH-UA-Platform-Version"),
                .sec_ch_ua_model = header(con, "Sec-CH-UA-Model"),
                .do_not_track = strcmp(dnt, "1") == 0 || strcmp(gpc, "1") == 0,
                .now_ms = now_ms(),
                .token_auth = NULL,
                .trusted = false,
            },
    };
    struct api_response *resp = &req->resp;
    *resp = (struct api_response){0};
    buf_init(&resp->body);
    req->preflight = strcmp(method, "OPTIONS") == 0;
    if (!web_handle(&req->request, resp)) {
        if (!api_is_tracking_path(url)) {
            if (park(server, con, req, &server->jobs, &server->job_count, &server->job_cap,
                     &server->work))
                return MHD_YES;
            answer(server, req);
            return answer_parked(con, req);
        }
        api_handle(server->api, &req->request, resp);
    }
    if (resp->sync_needed) {
        if (park(server, con, req, &server->parked, &server->parked_count, &server->parked_cap,
                 &server->wake))
            return MHD_YES;
        req->sync_rc = api_sync(server->api);
        return answer_parked(con, req);
    }
    enum MHD_Result ret = queue(con, resp, req->preflight);
    buf_free(&resp->body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    struct http_req *req = *con_cls;
    if (!req) return;
    buf_free(&req->body);
    buf_free(&req->resp.body);
    arena_free(&req->arena);
    free(req);
    *con_cls = NULL;
}

/* Binds ourselves (rather than letting libmicrohttpd do it) so a busy port
 * or a bad address is reported with its real reason. */
static int listen_socket(const char *listen_addr, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon) {
        snprintf(err, errlen, "--listen '%.100s': expected HOST:PORT, e.g. 127.0.0.1:8080",
                 listen_addr);
        return -EINVAL;
    }
    size_t host_len = (size_t)(colon - listen_addr);
    const char *h = listen_addr;
    if (host_len >= 2 && h[0] == '[' && h[host_len - 1] == ']') {
        h++;
        host_len -= 2;
    }
    if (host_len >= sizeof host) {
        snprintf(err, errlen, "--listen: host too long");
        return -EINVAL;
    }
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    int64_t port;
    if (parse_i64(colon + 1, 1, 65535, &port)) {
        snprintf(err, errlen, "--listen '%.100s': the port must be a number from 1 to 65535",
                 listen_addr);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(host_len ? host : NULL, colon + 1, &hints, &res);
    if (gai) {
        snprintf(err, errlen, "--listen '%.100s': %s", listen_addr, gai_strerror(gai));
        return -EINVAL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, rc = 0;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
        rc = -errno;
        snprintf(err, errlen, "cannot listen on %.100s: %s", listen_addr, strerror(errno));
        if (fd >= 0) close(fd);
    }
    freeaddrinfo(res);
    return rc ? rc : fd;
}

/* The syncer and the workers answer every connection parked before they
 * end; later requests are answered where they arrive. */
static void stop_threads(struct http_server *server)
{
    pthread_mutex_lock(&server->lock);
    server->stopping = true;
    pthread_cond_signal(&server->wake);
    pthread_cond_broadcast(&server->work);
    pthread_mutex_unlock(&server->lock);
    pthread_join(server->syncer, NULL);
    for (size_t i = 0; i < server->worker_count; i++)
        pthread_join(server->workers[i], NULL);
}

int http_start(const char *listen_addr, struct api *api, struct http_server **out, char *err,
               size_t errlen)
{
    int fd = listen_socket(listen_addr, err, errlen);
    if (fd < 0) return fd;
    struct http_server *server = calloc(1, sizeof *server);
    if (!server) {
        close(fd);
        return -ENOMEM;
    }
    server->api = api;
    pthread_mutex_init(&server->lock, NULL);
    pthread_cond_init(&server->wake, NULL);
    pthread_cond_init(&server->work, NULL);
    if (pthread_create(&server->syncer, NULL, syncer_main, server)) {
        snprintf(err, errlen, "cannot start the sync thread");
        close(fd);
        free(server);
        return -EAGAIN;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t workers = cores < 2 ? 2 : cores > HTTP_WORKERS_MAX ? HTTP_WORKERS_MAX : (size_t)cores;
    while (server->worker_count < workers &&
           !pthread_create(&server->workers[server->worker_count], NULL, worker_main, server))
        server->worker_count++;
    if (server->worker_count < workers) {
        snprintf(err, errlen, "cannot start the worker threads");
        close(fd);
        stop_threads(server);
        free(server);
        return -EAGAIN;
    }
    /* No MHD_USE_ERROR_LOG: its messages may name client addresses, and
     * raw IPs never reach the logs. */
    server->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request, server,
        MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
        MHD_OPTION_THREAD_POOL_SIZE, HTTP_THREADS, MHD_OPTION_END);
    if (!server->daemon) {
        snprintf(err, errlen, "libmicrohttpd could not start on %.100s", listen_addr);
        close(fd);
        stop_threads(server);
        free(server);
        return -EIO;
    }
    *out = server;
    return 0;
}

void http_stop(struct http_server *server)
{
    if (!server) return;
    /* Parked connections are answered first; then the daemon closes the
     * listening socket and waits for its threads. */
    stop_threads(server);
    MHD_stop_daemon(server->daemon);
    free(server->parked);
    free(server->jobs);
    pthread_cond_destroy(&server->wake);
    pthread_cond_destroy(&server->work);
    pthread_mutex_destroy(&server->lock);
    free(server);
}
