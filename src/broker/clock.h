/*
 * clock.h - the broker's clock (clock.c): loop milliseconds, and the whole seconds that
 * session and will deadlines are kept in.
 */
#ifndef IOTPLOT_BROKER_CLOCK_H
#define IOTPLOT_BROKER_CLOCK_H

#include <stdint.h>

typedef struct ipb_broker ipb_broker_t;

/* The loop's cached time in milliseconds (uv_now). */
uint64_t ipb__now(ipb_broker_t *b);
/* Whole seconds since the broker started, at least 1: deadlines of sessions and wills. */
uint32_t ipb__secs(ipb_broker_t *b, uint64_t now);
/* The ipb__secs() value at which interval seconds from now have surely passed. */
uint32_t ipb__deadline(ipb_broker_t *b, uint64_t now, uint32_t interval);

#endif
