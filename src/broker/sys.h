/*
 * sys.h - the $SYS/broker topics (sys.c), published through the in-process API.
 */
#ifndef IOTPLOT_BROKER_SYS_H
#define IOTPLOT_BROKER_SYS_H

#include <stdint.h>

typedef struct ipb_broker ipb_broker_t;

void ipb__sys_tick(ipb_broker_t *b, uint64_t now);

#endif
