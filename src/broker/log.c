/*
 * log.c - mosquitto-style log lines: "<unix time>: <message>", filtered by log type.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "log.h"

int ipb__log_open(ipb_broker_t *b)
{
    switch (b->cfg.log_dest) {
    case IPB_LOG_DEST_STDOUT:
        b->log = stdout;
        break;
    case IPB_LOG_DEST_FILE:
        b->log = fopen(b->cfg.log_file, "a");
        if (!b->log) {
            fprintf(stderr, "Error: cannot open log file %s.\n", b->cfg.log_file);
            return IPM_EIO;
        }
        break;
    case IPB_LOG_DEST_NONE:
        b->log = NULL;
        break;
    default:
        b->log = stderr;
        break;
    }
    return 0;
}

void ipb__log_close(ipb_broker_t *b)
{
    if (b->log && b->log != stdout && b->log != stderr)
        fclose(b->log);
    b->log = NULL;
}

void ipb__log(ipb_broker_t *b, unsigned type, const char *fmt, ...)
{
    if (!b->log || !(b->cfg.log_types & type))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(b->log, "%lld: %s\n", (long long)time(NULL), line);
    fflush(b->log);
}
