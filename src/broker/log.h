/*
 * log.h - the broker's log lines (log.c), mosquitto style, filtered by log type.
 */
#ifndef IOTPLOT_BROKER_LOG_H
#define IOTPLOT_BROKER_LOG_H

typedef struct ipb_broker ipb_broker_t;

/* Or-ed into a type: a connection or disconnection line (connection_messages). */
#define IPB__LOG_CONNECTION 0x100u

void ipb__log(ipb_broker_t *b, unsigned type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ipb__log_open(ipb_broker_t *b);
/* The log file again (SIGHUP, after logrotate moved it). 0, or IPM_EIO. */
int ipb__log_reopen(ipb_broker_t *b);
void ipb__log_close(ipb_broker_t *b);

#endif
