/*
 * log.c - the plot server's log lines: to the embedder's callback or stderr, at most
 * IPP_LOG_PER_SECOND a second (a flood of bad messages must not become a flood of lines).
 * A leaf: every other file of the server logs through it, and it calls none of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

static void emit(ipp_server_t *s, const char *line)
{
    if (s->cfg.log)
        s->cfg.log(s->cfg.log_arg, line);
    else
        fprintf(stderr, "%s\n", line);
}

void ipp__log(ipp_server_t *s, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    uint64_t suppressed = 0;
    pthread_mutex_lock(&s->log_mu);
    if (now - s->log_window >= 1.0) {
        suppressed = s->log_suppressed;
        s->log_window = now;
        s->log_lines = 0;
        s->log_suppressed = 0;
    }
    bool quiet = ++s->log_lines > IPP_LOG_PER_SECOND;
    s->log_suppressed += quiet;
    pthread_mutex_unlock(&s->log_mu);
    if (suppressed) {
        snprintf(line, sizeof line, "plot: %llu log lines suppressed (over %d a second)",
                 (unsigned long long)suppressed, IPP_LOG_PER_SECOND);
        emit(s, line);
    }
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    memcpy(line, "plot: ", 6);
    vsnprintf(line + 6, sizeof line - 6, fmt, ap);
    va_end(ap);
    emit(s, line);
}
