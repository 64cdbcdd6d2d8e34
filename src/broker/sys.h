/*
 * sys.h - the $SYS/broker/... topics, like mosquitto's: one row per topic, published as
 * retained messages every sys_interval seconds. The same table generates the list in
 * docs/broker.md.
 */
#ifndef IOTPLOT_BROKER_SYS_H
#define IOTPLOT_BROKER_SYS_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"

/* Rows of kind IPB__SYS_LOAD; each keeps its averages in ipb__sys_t. */
#define IPB__SYS_NLOADS 7

/* The $SYS state a broker keeps between ticks. */
typedef struct {
    double load[IPB__SYS_NLOADS][3]; /* per-minute rates over 1, 5 and 15 minutes */
    uint64_t last[IPB__SYS_NLOADS];  /* the counter at the previous tick */
} ipb__sys_t;

typedef enum {
    IPB__SYS_TEXT,  /* a constant string */
    IPB__SYS_FIELD, /* a uint64_t of ipb_stats_t (a counter or a gauge) */
    IPB__SYS_FN,    /* computed by fn */
    IPB__SYS_LOAD,  /* the rates of a counter of ipb_stats_t: topic/1min, /5min, /15min */
} ipb__sys_kind_t;

typedef struct {
    const char *topic; /* after "$SYS/broker/" */
    ipb__sys_kind_t kind;
    const char *text;  /* TEXT */
    size_t field;      /* FIELD, LOAD: offset in ipb_stats_t */
    uint64_t (*fn)(const ipb_broker_t *b, uint64_t now); /* FN */
    const char *unit;  /* after the number ("seconds"), or NULL */
    const char *doc;
} ipb__sys_topic_t;

extern const ipb__sys_topic_t ipb__sys_topics[];
extern const size_t ipb__sys_topics_len;
/* The names of the load averages' subtopics, in the order of ipb__sys_t.load[i][]. */
extern const char *const ipb__sys_load_spans[3];

/* Every sys_interval seconds (from the loop's timer): update the loads, publish all. */
void ipb__sys_tick(ipb_broker_t *b, uint64_t now);

#endif /* IOTPLOT_BROKER_SYS_H */
