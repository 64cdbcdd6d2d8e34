/*
 * test_fulldisk.c - the plot server on a real 2 MiB tmpfs filled to the last byte: the
 * rows it acknowledged wait while commits fail, the queue's bound pushes back, and once
 * space returns every row it counts is in the store, read back through save_series.
 * Needs to mount a tmpfs (root, as in CI); skipped with the reason otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iotplot/plotserver.h"

typedef struct {
    pthread_mutex_t mu;
    int failing, again, full; /* lines: cannot write, writing again, queue full */
} logcount_t;

static void log_cb(void *arg, const char *line)
{
    logcount_t *l = arg;
    if (getenv("IPP_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", line);
    pthread_mutex_lock(&l->mu);
    l->failing += strstr(line, "store: cannot write") != NULL;
    l->again += strstr(line, "store: writing again") != NULL;
    l->full += strstr(line, "queue full") != NULL;
    pthread_mutex_unlock(&l->mu);
}

static void send(ipp_server_t *s, const char *topic, const char *payload)
{
    ipp_server_handle(s, topic, strlen(topic), (const uint8_t *)payload, strlen(payload));
}

/* Write zeros to path until the file system says it is full. */
static void fill(const char *path)
{
    static char block[4096];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    ssize_t n;
    while ((n = write(fd, block, sizeof block)) > 0)
        ;
    while ((n = write(fd, block, 1)) > 0) /* the last partial block too */
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

static void sent_rows(ipp_server_t *s, int from, int to)
{
    char msg[64];
    for (int i = from; i < to; i++) {
        snprintf(msg, sizeof msg, "[\"n\", %d, %d.5]", i, i);
        send(s, "full/data", msg);
    }
}

static char mnt[] = "/tmp/ipp-full-XXXXXX";
static bool mounted;

/* A failed assertion leaves the test early: never leave the mount behind. */
static int unmount(void **state)
{
    (void)state;
    if (mounted) {
        umount2(mnt, MNT_DETACH);
        rmdir(mnt);
    }
    return 0;
}

static void test_full_disk(void **state)
{
    (void)state;
    char dir[64], filler[64], err[256];
    assert_non_null(mkdtemp(mnt));
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m")) {
        int e = errno;
        rmdir(mnt);
        printf("skipped: cannot mount a 2 MiB tmpfs (%s); run as root\n", strerror(e));
        skip();
    }
    mounted = true;
    snprintf(dir, sizeof dir, "%s/out", mnt);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    logcount_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    /* 512 KiB of messages may wait: the first 5,000 rows fit, 20,000 more do not (and
     * what is taken fits the store once the filler is gone) */
    ipp_server_config_t cfg = {.dir = dir, .log = log_cb, .log_arg = &l,
                               .max_queue = (size_t)512 << 10};
    ipp_server_t *s;
    assert_int_equal(ipp_server_create(&cfg, &s, err, sizeof err), 0);
    send(s, "full/new_series", "[\"n\", \"i\", \"v\"]");
    sent_rows(s, 0, 100);
    assert_int_equal(ipp_server_sync(s, 10000), 0);

    fill(filler);
    sent_rows(s, 100, 5100);
    /* the commit fails: sync says so instead of waiting, the rows are kept */
    struct timespec t0, now, pause = {0, 20000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (ipp_server_sync(s, 100) == 0 || !l.failing) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        assert_true(now.tv_sec - t0.tv_sec < 30);
        nanosleep(&pause, NULL);
    }
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_true(st.rows < 5100); /* never more than the store holds */
    assert_int_equal(st.dropped, 0);
    /* while failing, nothing more is taken: beyond max_queue messages are refused */
    sent_rows(s, 5100, 25100);
    ipp_server_stats(s, &st);
    assert_true(st.dropped > 0);
    assert_true(l.full > 0);
    uint64_t refused = st.dropped;
    nanosleep(&(struct timespec){1, 0}, NULL); /* several retries, still one line */
    assert_int_equal(l.failing, 1);
    assert_int_equal(l.again, 0);

    /* space returns: everything kept is stored, by itself */
    assert_int_equal(unlink(filler), 0);
    assert_int_equal(ipp_server_sync(s, 30000), 0);
    assert_int_equal(l.again, 1);
    ipp_server_stats(s, &st);
    assert_int_equal(st.messages, 1 + 25100);
    assert_int_equal(st.dropped, refused);
    assert_int_equal(st.rows + st.dropped, 25100);
    send(s, "full/save_series", "[\"n\", \"n.csv\"]");
    assert_int_equal(ipp_server_sync(s, 30000), 0);
    ipp_server_destroy(s);

    /* every row counted is in the store, in order, with its own values */
    char p[128];
    ipp_data_t d;
    snprintf(p, sizeof p, "%s/n.csv", dir);
    assert_int_equal(ipp_read_file(p, &d, err, sizeof err), 0);
    assert_int_equal(d.nrows, st.rows);
    assert_true(d.nrows >= 5100); /* all of what was taken while failing */
    for (size_t i = 0; i < d.nrows; i++) {
        assert_true(i == 0 || d.cols[0][i] > d.cols[0][i - 1]);
        assert_true(d.cols[1][i] == d.cols[0][i] + 0.5);
        if (i < 5100)
            assert_true(d.cols[0][i] == (double)i);
    }
    ipp_data_free(&d);
    assert_int_equal(umount(mnt), 0);
    mounted = false;
    assert_int_equal(rmdir(mnt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_disk, unmount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
