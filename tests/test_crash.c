/* Crash safety: `tally serve` is killed with SIGKILL in the middle of a
 * steady stream of hits, restarted, and every hit that got a 2xx answer
 * must be stored exactly once. The second test streams hits dated in past
 * days, so the server is sealing segments (and removing logs) while it is
 * killed. */
#include "test.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define HITS 3000

struct stream {
    struct server server;
    char token[33];
    bool acked[HITS];
    int64_t past_base_s; /* 0: hits dated now; else cdt = base + i seconds */
};

static bool setup(struct stream *s, int64_t past_base_s)
{
    memset(s, 0, sizeof *s);
    s->past_base_s = past_base_s;
    char dir[256];
    if (harness_tmpdir(dir)) return false;
    struct buf out;
    buf_init(&out);
    bool ok = run_tally(&out, "site add --data %s --name Crash --url https://crash.example.com", dir) == 0;
    buf_free(&out);
    ok = ok && harness_token_create(dir, 1, s->token) == 0;
    return ok && server_start(&s->server, dir, "") == 0;
}

static int send_hit(struct stream *s, int i)
{
    char target[512];
    int n = snprintf(target, sizeof target,
                     "/matomo.php?idsite=1&rec=1&send_image=0&_id=%016x&pv_id=k%06d"
                     "&url=https%%3A%%2F%%2Fcrash.example.com%%2Fp%%2F%d",
                     (unsigned)(i % 97) * 2654435761u + 1, i, i);
    if (s->past_base_s)
        snprintf(target + n, sizeof target - (size_t)n, "&cdt=%lld&token_auth=%s",
                 (long long)(s->past_base_s + i * 240), s->token);
    struct http_reply reply;
    if (http_request(s->server.port, "GET", target, "", NULL, 0, &reply)) return -1;
    int status = reply.status;
    http_reply_free(&reply);
    return status;
}

/* Counts, per hit number, how often `tally hits` shows its pv_id. */
static bool count_stored(const char *data_dir, int counts[HITS])
{
    memset(counts, 0, sizeof(int) * HITS);
    struct buf out;
    buf_init(&out);
    bool ok = run_tally(&out, "hits --data %s --site 1 --from 2000-01-01 --to 2100-01-01 --json",
                        data_dir) == 0;
    for (const char *p = out.data; ok && (p = strstr(p, "\"pv_id\":")); p++) {
        p += 8;
        while (*p == ' ') p++;
        if (p[0] == '"' && p[1] == 'k') {
            int i = atoi(p + 2);
            if (i >= 0 && i < HITS) counts[i]++;
        }
    }
    buf_free(&out);
    return ok;
}

static int count_segments(const char *data_dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seg/1", data_dir);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0;
    }
    closedir(d);
    return n;
}

struct killer {
    struct server *server;
    useconds_t delay_us;
};

static void *kill_later(void *arg)
{
    struct killer *k = arg;
    usleep(k->delay_us);
    kill(k->server->pid, SIGKILL);
    return NULL;
}

/* Streams all hits; `kills` times the server is SIGKILLed at an arbitrary
 * moment by another thread and restarted when the stream notices. */
static void stream_with_kills(struct stream *s, int kills)
{
    int sent = 0;
    for (int round = 0; round <= kills && sent < HITS; round++) {
        pthread_t thread;
        struct killer k = {&s->server, (useconds_t)(150000 + rand() % 250000)};
        bool killing = round < kills;
        if (killing) pthread_create(&thread, NULL, kill_later, &k);
        while (sent < HITS) {
            /* No retries: a hit whose answer was lost may or may not be
             * stored, and must not be stored twice. */
            int status = send_hit(s, sent);
            s->acked[sent++] = status >= 200 && status < 300;
            if (status < 0) break; /* the server is gone */
        }
        if (killing) {
            pthread_join(thread, NULL);
            server_kill(&s->server); /* reaps it */
            char dir[256];
            snprintf(dir, sizeof dir, "%s", s->server.data_dir);
            if (server_start(&s->server, dir, "")) return;
        }
    }
}

static void check_exactly_once(struct stream *s)
{
    int acked = 0;
    for (int i = 0; i < HITS; i++) acked += s->acked[i];
    printf("# %d of %d hits acknowledged\n", acked, HITS);
    ASSERT_TRUE(acked > HITS / 2);
    static int counts[HITS];
    ASSERT_TRUE(count_stored(s->server.data_dir, counts));
    for (int i = 0; i < HITS; i++) {
        if (s->acked[i] && counts[i] != 1)
            TEST_FAIL_("acknowledged hit %d stored %d times", i, counts[i]);
        if (counts[i] > 1) TEST_FAIL_("hit %d stored %d times", i, counts[i]);
    }
}

static void test_sigkill_mid_stream_loses_no_acknowledged_hit(void)
{
    static struct stream s;
    ASSERT_TRUE(setup(&s, 0));
    stream_with_kills(&s, 2);
    server_stop(&s.server);
    check_exactly_once(&s);
    /* And the store is healthy afterwards. */
    struct buf out;
    buf_init(&out);
    int rc = run_tally(&out, "check --data %s", s.server.data_dir);
    ASSERT_EQ_INT(rc, 0);
    buf_free(&out);
    harness_rmtree(s.server.data_dir);
}

static void test_sigkill_while_sealing_loses_no_acknowledged_hit(void)
{
    static struct stream s;
    /* Hits four minutes apart from ten days ago to yesterday: each closed
     * day is sealed (then gets delta segments) while the stream goes on. */
    ASSERT_TRUE(setup(&s, (int64_t)time(NULL) - 10 * 86400));
    stream_with_kills(&s, 3);
    /* Let the last maintenance pass seal what it can, then check again
     * after a clean restart too. */
    sleep(2);
    server_stop(&s.server);
    check_exactly_once(&s);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", s.server.data_dir);
    ASSERT_TRUE(server_start(&s.server, dir, "") == 0);
    sleep(2);
    server_kill(&s.server);
    check_exactly_once(&s);
    int segments = count_segments(dir);
    printf("# %d segment files\n", segments);
    ASSERT_TRUE(segments >= 8);
    struct buf out;
    buf_init(&out);
    ASSERT_EQ_INT(run_tally(&out, "check --data %s", dir), 0);
    buf_free(&out);
    harness_rmtree(dir);
}

int main(void)
{
    srand((unsigned)time(NULL));
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_sigkill_mid_stream_loses_no_acknowledged_hit);
    TEST_RUN(test_sigkill_while_sealing_loses_no_acknowledged_hit);
    return TEST_DONE();
}
