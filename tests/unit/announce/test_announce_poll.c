/*
 * test_announce_poll.c - AvahiPoll over libuv as Avahi's D-Bus glue uses it: two watches
 * on one descriptor (read and write), watches updated and freed from inside callbacks,
 * the one running and another, and one-shot timeouts. The loop ends only when every
 * handle is closed, so a handle left behind fails the test by hanging (ctest timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <avahi-common/timeval.h>

#include "announce_poll.h"

typedef struct {
    const AvahiPoll *api;
    AvahiWatch *rd, *wr;
    int fd;
    int reads, writes;
    AvahiWatchEvent seen;
} pair_t;

static void on_write(AvahiWatch *w, int fd, AvahiWatchEvent e, void *arg)
{
    pair_t *p = arg;
    assert_int_equal(e, AVAHI_WATCH_OUT);
    assert_int_equal(p->api->watch_get_events(w), AVAHI_WATCH_OUT);
    p->writes++;
    assert_int_equal(write(fd, "x", 1), 1);
    p->api->watch_update(w, 0); /* written once: stop asking */
}

static void on_read(AvahiWatch *w, int fd, AvahiWatchEvent e, void *arg)
{
    pair_t *p = arg;
    char c;
    assert_true(e & AVAHI_WATCH_IN);
    p->seen = p->api->watch_get_events(w);
    p->reads++;
    assert_int_equal(read(fd, &c, 1), 1);
    /* Both watches of this descriptor go while it dispatches, this one included. */
    p->api->watch_free(p->wr);
    p->api->watch_free(w);
    p->rd = p->wr = NULL;
}

/* sv[1]'s side: what arrives goes back, once. */
static void echo_through(AvahiWatch *w, int fd, AvahiWatchEvent e, void *arg);

static void test_two_watches_one_fd(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_uvpoll_t *up = ipb__uvpoll_new(&loop);
    assert_non_null(up);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pair_t p = {.api = ipb__uvpoll_api(up), .fd = sv[0]};
    /* Both on sv[0]: writing to it sends to sv[1]; the peer's echo makes sv[0] readable. */
    p.rd = p.api->watch_new(p.api, sv[0], AVAHI_WATCH_IN, on_read, &p);
    p.wr = p.api->watch_new(p.api, sv[0], AVAHI_WATCH_OUT, on_write, &p);
    assert_non_null(p.rd);
    assert_non_null(p.wr);
    AvahiWatch *echo = p.api->watch_new(p.api, sv[1], AVAHI_WATCH_IN, echo_through, &p);
    assert_non_null(echo);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns once every watch is freed and closed */
    assert_int_equal(p.writes, 1);
    assert_int_equal(p.reads, 1);
    assert_int_equal(p.seen, AVAHI_WATCH_IN);
    ipb__uvpoll_free(up);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(sv[0]);
    close(sv[1]);
}

static void echo_through(AvahiWatch *w, int fd, AvahiWatchEvent e, void *arg)
{
    pair_t *p = arg;
    char c;
    (void)e;
    assert_int_equal(read(fd, &c, 1), 1);
    assert_int_equal(write(fd, &c, 1), 1);
    p->api->watch_free(w);
}

typedef struct {
    const AvahiPoll *api;
    int fired;
    AvahiTimeout *never;
} timers_t;

static void on_timeout(AvahiTimeout *t, void *arg)
{
    timers_t *x = arg;
    x->fired++;
    /* One shot: it stays quiet until updated; freed here, the other with it. */
    x->api->timeout_free(t);
    x->api->timeout_free(x->never);
}

static void on_never(AvahiTimeout *t, void *arg)
{
    (void)t;
    (void)arg;
    fail_msg("a disabled timeout fired");
}

static void test_timeouts(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_uvpoll_t *up = ipb__uvpoll_new(&loop);
    timers_t x = {.api = ipb__uvpoll_api(up)};
    struct timeval tv;
    x.never = x.api->timeout_new(x.api, NULL, on_never, &x);
    AvahiTimeout *t = x.api->timeout_new(x.api, avahi_elapse_time(&tv, 1000, 0), on_timeout, &x);
    assert_non_null(x.never);
    assert_non_null(t);
    /* Brought forward: it fires at about 20 ms, not a second. */
    x.api->timeout_update(t, avahi_elapse_time(&tv, 20, 0));
    uint64_t t0 = uv_hrtime();
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(x.fired, 1);
    assert_true(uv_hrtime() - t0 < 900000000u);
    ipb__uvpoll_free(up);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_watches_one_fd),
        cmocka_unit_test(test_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
