/*
 * log.c - mosquitto-style log lines: "<time>: <message>", filtered by log type, to every
 * destination of log_dest at once: stderr, stdout, a file (reopened on SIGHUP, for
 * logrotate), syslog, and $SYS/broker/log/<letter> through b->log_publish.
 */
#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core.h"
#include "log.h"

static int open_file(ipb_broker_t *b)
{
    b->log = fopen(b->cfg.log_file, "a");
    if (!b->log) {
        fprintf(stderr, "Error: cannot open log file %s.\n", b->cfg.log_file);
        return IPM_EIO;
    }
    return 0;
}

int ipb__log_open(ipb_broker_t *b)
{
    b->log = NULL;
    if (b->cfg.log_dest & IPB_LOG_DEST_FILE && open_file(b) < 0)
        return IPM_EIO;
    if (b->cfg.log_dest & IPB_LOG_DEST_SYSLOG) {
        static const int local[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                                    LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
        unsigned f = b->cfg.log_facility;
        openlog("iotplot", LOG_PID | LOG_NDELAY, f < 8 ? local[f] : LOG_DAEMON);
    }
    return 0;
}

int ipb__log_reopen(ipb_broker_t *b)
{
    if (!(b->cfg.log_dest & IPB_LOG_DEST_FILE))
        return 0;
    if (b->log)
        fclose(b->log);
    return open_file(b);
}

void ipb__log_close(ipb_broker_t *b)
{
    if (b->log)
        fclose(b->log);
    b->log = NULL;
    if (b->cfg.log_dest & IPB_LOG_DEST_SYSLOG)
        closelog();
}

/* mosquitto's letters of $SYS/broker/log/X, and syslog's priorities, by log type. */
static char letter(unsigned type, int *prio)
{
    *prio = LOG_INFO;
    if (type & IPB_LOG_ERR)
        return *prio = LOG_ERR, 'E';
    if (type & IPB_LOG_WARNING)
        return *prio = LOG_WARNING, 'W';
    if (type & IPB_LOG_NOTICE)
        return *prio = LOG_NOTICE, 'N';
    if (type & IPB_LOG_DEBUG)
        return *prio = LOG_DEBUG, 'D';
    if (type & (IPB_LOG_SUBSCRIBE | IPB_LOG_UNSUBSCRIBE))
        return 'M';
    return 'I';
}

static void stamp(const ipb_broker_t *b, char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    buf[0] = 0;
    if (!b->cfg.log_timestamp)
        return;
    /* The format is the operator's own configuration, as in mosquitto. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = b->cfg.log_timestamp_format[0] && localtime_r(&now, &tm)
                   ? strftime(buf, len - 2, b->cfg.log_timestamp_format, &tm)
                   : 0;
#pragma GCC diagnostic pop
    if (n)
        strcat(buf, ": ");
    else
        snprintf(buf, len, "%lld: ", (long long)now);
}

void ipb__log(ipb_broker_t *b, unsigned type, const char *fmt, ...)
{
    unsigned dest = b->cfg.log_dest;
    if (!dest || !(b->cfg.log_types & type & IPB_LOG_ALL))
        return;
    if (type & IPB__LOG_CONNECTION && !b->cfg.connection_messages)
        return;
    char line[1024], ts[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    stamp(b, ts, sizeof ts);
    if (dest & IPB_LOG_DEST_STDERR)
        fprintf(stderr, "%s%s\n", ts, line);
    if (dest & IPB_LOG_DEST_STDOUT) {
        fprintf(stdout, "%s%s\n", ts, line);
        fflush(stdout);
    }
    if (dest & IPB_LOG_DEST_FILE && b->log) {
        fprintf(b->log, "%s%s\n", ts, line);
        fflush(b->log);
    }
    int prio;
    char x = letter(type, &prio);
    if (dest & IPB_LOG_DEST_SYSLOG)
        syslog(prio, "%s", line);
    /* Not from inside itself: a line logged while publishing a line would loop. */
    if (dest & IPB_LOG_DEST_TOPIC && b->log_publish && !b->log_busy) {
        char topic[20], msg[1200];
        snprintf(topic, sizeof topic, "$SYS/broker/log/%c", x);
        int n = snprintf(msg, sizeof msg, "%s%s", ts, line);
        b->log_busy = true;
        b->log_publish(b, topic, msg, n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        b->log_busy = false;
    }
}
