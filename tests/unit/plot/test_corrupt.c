/*
 * test_corrupt.c - the plot server starts whatever its store file holds: a truncated
 * real store, one with a page of one series' rows overwritten, a PNG, random bytes,
 * another program's database, an empty file. The bad file is moved aside with a line
 * saying where, and what is readable is kept (and read back by ipp_store_read_readable).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "iotplot/plotserver.h"
#include "plotserver/plot_internal.h"

#define NSERIES 20
#define NROWS 800
#define VICTIM 7

typedef struct {
    pthread_mutex_t mu;
    char text[1 << 16];
    size_t len;
} logbuf_t;

static void log_cb(void *arg, const char *line)
{
    logbuf_t *l = arg;
    pthread_mutex_lock(&l->mu);
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", line);
    if (n > 0 && l->len + (size_t)n < sizeof l->text)
        l->len += (size_t)n;
    if (getenv("IPP_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", line);
    pthread_mutex_unlock(&l->mu);
}

static bool logged(logbuf_t *l, const char *needle)
{
    pthread_mutex_lock(&l->mu);
    bool hit = strstr(l->text, needle) != NULL;
    pthread_mutex_unlock(&l->mu);
    return hit;
}

static void send(ipp_server_t *s, const char *topic, const char *payload)
{
    ipp_server_handle(s, topic, strlen(topic), (const uint8_t *)payload, strlen(payload));
}

static ipp_server_t *start(const char *dir, logbuf_t *l)
{
    ipp_server_config_t cfg = {.dir = dir, .log = log_cb, .log_arg = l};
    ipp_server_t *s;
    char err[512];
    if (ipp_server_create(&cfg, &s, err, sizeof err))
        fail_msg("the server refused to start: %s", err);
    return s;
}

/* The value every row of series k carries in its first column: findable in the file. */
static double marker(int k)
{
    return k + 0.25;
}

/* A real store: NSERIES series of NROWS rows, written by the server and closed. */
static void make_store(const char *dir)
{
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    ipp_server_t *s = start(dir, &l);
    char msg[160];
    for (int k = 1; k <= NSERIES; k++) {
        snprintf(msg, sizeof msg, "[\"n%d\", \"m\", \"i\", \"b\", \"c\"]", k);
        send(s, "c/new_series", msg);
        for (int i = 0; i < NROWS; i++) {
            snprintf(msg, sizeof msg, "[\"n%d\", %.17g, %d, %d, %d]", k, marker(k), i, i, i);
            send(s, "c/data", msg);
        }
    }
    ipp_server_destroy(s); /* the last connection checkpoints the journal into the file */
}

static char *path_in(const char *dir, const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*len + 1);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* The name of the file the store was moved to ("" if none). */
static void aside_name(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d)))
        if (strstr(e->d_name, IPP_DB_NAME ".corrupt-") && !strstr(e->d_name, "-wal") &&
            !strstr(e->d_name, "-shm"))
            snprintf(out, cap, "%s", e->d_name);
    closedir(d);
}

/* Rows of series n<k> as save_series writes them, checked row by row; their count. */
static size_t saved_rows(ipp_server_t *s, const char *dir, int k)
{
    char msg[64], name[32], err[256];
    snprintf(name, sizeof name, "n%d.csv", k);
    snprintf(msg, sizeof msg, "[\"n%d\", \"%s\"]", k, name);
    send(s, "c/save_series", msg);
    assert_int_equal(ipp_server_sync(s, 30000), 0);
    ipp_data_t d;
    if (ipp_read_file(path_in(dir, name), &d, err, sizeof err))
        return 0;
    for (size_t r = 0; r < d.nrows; r++) {
        assert_true(d.cols[0][r] == marker(k));
        assert_true(d.cols[2][r] == d.cols[1][r]);
        assert_true(r == 0 || d.cols[1][r] > d.cols[1][r - 1]);
    }
    size_t n = d.nrows;
    ipp_data_free(&d);
    return n;
}

static void rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* After a bad file: it is moved aside (said in one line), and the new store works. */
static void expect_moved_and_working(const char *dir, logbuf_t *l, ipp_server_t *s)
{
    char aside[256];
    aside_name(dir, aside, sizeof aside);
    assert_true(aside[0] != '\0');
    assert_true(logged(l, "moved to "));
    assert_true(logged(l, aside));
    send(s, "c/new_series", "[\"fresh\", \"x\"]");
    send(s, "c/data", "[\"fresh\", 42]");
    send(s, "c/save_series", "[\"fresh\", \"fresh.csv\"]");
    assert_int_equal(ipp_server_sync(s, 30000), 0);
    ipp_data_t d;
    char err[256];
    assert_int_equal(ipp_read_file(path_in(dir, "fresh.csv"), &d, err, sizeof err), 0);
    assert_int_equal(d.nrows, 1);
    ipp_data_free(&d);
}

static void test_truncated(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-corrupt-XXXXXX";
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    make_store(dir);
    struct stat sb;
    assert_int_equal(stat(path_in(dir, IPP_DB_NAME), &sb), 0);
    assert_int_equal(truncate(path_in(dir, IPP_DB_NAME), sb.st_size / 2), 0);
    ipp_server_t *s = start(dir, &l);
    expect_moved_and_working(dir, &l, s);
    /* the first half of the file still holds whole series: they are kept */
    assert_true(logged(&l, "a new store holds the "));
    assert_int_equal(saved_rows(s, dir, 1), NROWS);
    ipp_server_destroy(s);
    rmrf(dir);
}

/* Overwrite one page that holds rows of series VICTIM only; the page number, or -1. */
static long damage_one_series(const char *path)
{
    size_t len;
    uint8_t *buf = slurp(path, &len);
    const size_t ps = 4096;
    long hit = -1;
    int found = 0;
    for (size_t p = 1; p < len / ps; p++) {
        bool mine = false, other = false;
        for (size_t o = p * ps; o + 8 <= (p + 1) * ps; o++) {
            double v;
            memcpy(&v, buf + o, 8);
            for (int k = 1; k <= NSERIES; k++)
                if (v == marker(k))
                    *(k == VICTIM ? &mine : &other) = true;
        }
        if (mine && !other && ++found == 3) /* not the first: some rows before it */
            hit = (long)p;
    }
    if (hit >= 0) {
        srand(7);
        for (size_t o = (size_t)hit * ps + 8; o < (size_t)(hit + 1) * ps; o++)
            buf[o] = (uint8_t)rand();
        spit(path, buf, len);
    }
    free(buf);
    return hit;
}

static void test_damaged_pages(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-corrupt-XXXXXX", copy[] = "/tmp/ipp-corrupt-XXXXXX";
    char aside[256], err[256];
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(copy));
    make_store(dir);
    assert_true(damage_one_series(path_in(dir, IPP_DB_NAME)) > 0);
    /* keep a copy of the damaged store for reading it as `iotplot plot --db` does */
    size_t len;
    uint8_t *buf = slurp(path_in(dir, IPP_DB_NAME), &len);
    spit(path_in(copy, IPP_DB_NAME), buf, len);
    free(buf);

    ipp_server_t *s = start(dir, &l);
    aside_name(dir, aside, sizeof aside);
    assert_true(aside[0] != '\0');
    assert_true(logged(&l, "damaged (quick_check: "));
    assert_true(logged(&l, aside));
    assert_true(logged(&l, "a new store holds the 20 series"));
    assert_true(logged(&l, "store: series 'n7' of session 'c' (version 1) is damaged: "));
    for (int k = 1; k <= NSERIES; k++) {
        size_t n = saved_rows(s, dir, k);
        if (k == VICTIM)
            assert_true(n > 0 && n < NROWS);
        else
            assert_int_equal(n, NROWS);
    }
    /* and the damaged series goes on growing */
    send(s, "c/data", "[\"n7\", 7.25, 5000, 5000, 5000]");
    size_t before = saved_rows(s, dir, VICTIM);
    assert_true(before > 0);
    ipp_server_destroy(s);
    s = start(dir, &l); /* the new store is healthy: nothing more moved aside */
    ipp_server_destroy(s);
    assert_int_equal(access(path_in(dir, IPP_DB_NAME ".salvage"), F_OK), -1);

    /* reading the damaged file itself: every series, the damaged one in part */
    ipp_store_t *st;
    ipp_series_info_t info;
    ipp_data_t d;
    int64_t missing;
    assert_int_equal(ipp_store_open(copy, &st, err, sizeof err), 0);
    for (int k = 1; k <= NSERIES; k++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", k);
        assert_int_equal(ipp_store_find(st, "c", name, 0, &info), 0);
        assert_int_equal(ipp_store_read_readable(st, info.id, -1, &d, &missing), 0);
        if (k == VICTIM) {
            assert_true(missing != 0);
            assert_true(d.nrows > 0 && d.nrows < NROWS);
            assert_true(missing < 0 || d.nrows + (size_t)missing == NROWS);
        } else {
            assert_int_equal(missing, 0);
            assert_int_equal(d.nrows, NROWS);
        }
        for (size_t r = 1; r < d.nrows; r++)
            assert_true(d.cols[2][r] > d.cols[2][r - 1]);
        ipp_data_free(&d);
    }
    ipp_store_close(st);
    rmrf(dir);
    rmrf(copy);
}

/* Not a store at all: moved aside whole, a new store starts. */
static void start_on(const uint8_t *bytes, size_t len, const char *needle)
{
    char dir[] = "/tmp/ipp-corrupt-XXXXXX";
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    spit(path_in(dir, IPP_DB_NAME), bytes, len);
    ipp_server_t *s = start(dir, &l);
    expect_moved_and_working(dir, &l, s);
    assert_true(logged(&l, needle));
    assert_true(logged(&l, "starting a new store"));
    ipp_server_destroy(s);
    char aside[256];
    aside_name(dir, aside, sizeof aside);
    size_t n;
    uint8_t *kept = slurp(path_in(dir, aside), &n); /* untouched */
    assert_int_equal(n, len);
    assert_memory_equal(kept, bytes, len);
    free(kept);
    rmrf(dir);
}

static void test_foreign(void **state)
{
    (void)state;
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                  'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
                                  0x90, 0x77, 0x53, 0xde, 0, 0, 0, 0, 'I', 'E', 'N', 'D'};
    start_on(png, sizeof png, "not a plot store");
    uint8_t noise[3 * 4096];
    srand(3);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)rand();
    start_on(noise, sizeof noise, "not a plot store");
}

static void test_other_database(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-corrupt-XXXXXX";
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path_in(dir, IPP_DB_NAME), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE series(x); INSERT INTO series VALUES(1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    ipp_server_t *s = start(dir, &l);
    expect_moved_and_working(dir, &l, s);
    assert_true(logged(&l, "not a plot store (no such column: id)"));
    ipp_server_destroy(s);
    rmrf(dir);
}

static void test_empty_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-corrupt-XXXXXX", aside[256];
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    spit(path_in(dir, IPP_DB_NAME), (const uint8_t *)"", 0);
    ipp_server_t *s = start(dir, &l);
    assert_true(logged(&l, "is empty (0 bytes): starting a new store"));
    aside_name(dir, aside, sizeof aside);
    assert_string_equal(aside, "");
    send(s, "c/new_series", "[\"e\", \"x\"]");
    send(s, "c/data", "[\"e\", 1]");
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_int_equal(st.rows, 1);
    ipp_server_destroy(s);
    rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated),   cmocka_unit_test(test_damaged_pages),
        cmocka_unit_test(test_foreign),     cmocka_unit_test(test_other_database),
        cmocka_unit_test(test_empty_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
