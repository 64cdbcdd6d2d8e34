/*
 * fuzz_plotserver.c - the plot server's message handling end to end: topics and
 * payloads of any shape fed to a real ipp_server_t on a temporary folder, applied by
 * its ingest thread to a real store, save/plot jobs written by its writer thread.
 *
 * The input is a list of messages: [topic length (1 byte)][topic][payload length (2
 * bytes, little-endian)][payload]. A topic length byte of 0xFF instead makes a wide
 * message: the next byte picks the command and how far past the column limit it goes
 * (series and rows of 1000..1063 values, the sizes where stack arrays end), the series
 * name is the one-byte session "w" and the payload is built here. Every input ends with
 * ipp_server_sync(), so whatever goes wrong goes wrong during its own input.
 *
 * Figures are not drawn: ipp_figure_render() here checks what the writer hands it and
 * writes a stub file. The renderer has its own tests, and drawing would cost most of the
 * time (and bring fontconfig's process-lifetime cache, which LeakSanitizer reports).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iotplot/plotserver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A fresh server and folder after this many inputs: the store would otherwise grow
 * without end and every save read more rows (and a restart is exercised too). */
#define INPUTS_PER_SERVER 500

static ipp_server_t *server;
static char folder[64];
static unsigned inputs;
static char wide[64 * 1024];

static void quiet(void *arg, const char *line)
{
    (void)arg, (void)line;
}

static void cleanup(void)
{
    ipp_server_destroy(server);
    server = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", folder);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_plotserver: could not remove %s\n", folder);
}

static void start(void)
{
    char err[256];
    /* in memory where there is a tmpfs for it: the store commits after every input */
    snprintf(folder, sizeof folder, "%s/fuzz-plotserver-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(folder))
        abort();
    /* small limits, so the fuzzer reaches them: a payload of 64 KiB, 1 MiB waiting */
    ipp_server_config_t cfg = {.dir = folder, .log = quiet, .max_payload = 64 * 1024,
                               .max_queue = 1 << 20};
    if (ipp_server_create(&cfg, &server, err, sizeof err)) {
        fprintf(stderr, "fuzz_plotserver: %s\n", err);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    start();
    atexit(cleanup);
    return 0;
}

int ipp_figure_render(const ipp_data_t *d, const ipp_plotopts_t *o, double dpi,
                      const char *path, char *err, size_t errlen)
{
    (void)dpi;
    volatile double sum = 0; /* every column the writer read must be complete */
    for (size_t c = 0; c < d->ncols; c++)
        for (size_t r = 0; r < d->nrows; r++)
            sum += d->cols[c][r];
    for (size_t i = 0; i < o->nformats; i++)
        sum += (double)strlen(o->formats[i]);
    (void)sum;
    FILE *f = fopen(path, "wb");
    if (!f || fputs("figure\n", f) < 0) {
        if (f)
            fclose(f);
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return fclose(f) ? -1 : 0;
}

/* A new_series, data, save_series or plot_series of `n` values for series "wide". */
static size_t make_wide(uint8_t pick, const char **topic)
{
    static const char *const topics[] = {"w/new_series", "w/data", "w/data", "w/plot_series"};
    int n = 1000 + (pick & 0x3f);
    size_t len = (size_t)snprintf(wide, sizeof wide, "[\"wide\"");
    *topic = topics[pick >> 6];
    for (int i = 0; i < n && len + 32 < sizeof wide; i++) {
        if (pick >> 6 == 0)
            len += (size_t)snprintf(wide + len, sizeof wide - len, ", \"c%d\"", i);
        else if (pick >> 6 == 3) /* an options object with many unknown keys */
            len += (size_t)snprintf(wide + len, sizeof wide - len, "%s\"k%d\": %d",
                                    i ? ", " : ", {", i, i);
        else
            len += (size_t)snprintf(wide + len, sizeof wide - len, ", %d.5", i);
    }
    len += (size_t)snprintf(wide + len, sizeof wide - len, pick >> 6 == 3 ? "}]" : "]");
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0;
    char topic[256];
    if (++inputs % INPUTS_PER_SERVER == 0) {
        cleanup();
        start();
    }
    while (at < size) {
        uint8_t tl = data[at++];
        if (tl == 0xFF) {
            if (at >= size)
                break;
            const char *t;
            size_t len = make_wide(data[at++], &t);
            ipp_server_handle(server, t, strlen(t), (const uint8_t *)wide, len);
            continue;
        }
        if (tl > size - at)
            tl = (uint8_t)(size - at);
        memcpy(topic, data + at, tl);
        at += tl;
        size_t pl = 0;
        if (at + 2 <= size) {
            pl = (size_t)data[at] | (size_t)data[at + 1] << 8;
            at += 2;
        }
        if (pl > size - at)
            pl = size - at;
        ipp_server_handle(server, topic, tl, data + at, pl);
        at += pl;
    }
    if (ipp_server_sync(server, -1))
        abort(); /* the temporary folder is never full: every message must be applied */
    return 0;
}
