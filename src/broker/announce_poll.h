/*
 * announce_poll.h - Avahi's main-loop interface (AvahiPoll) over a libuv loop
 * (announce_poll.c), so the Avahi client runs on the broker's loop without a thread of its
 * own and without ever blocking it.
 */
#ifndef IOTPLOT_BROKER_ANNOUNCE_POLL_H
#define IOTPLOT_BROKER_ANNOUNCE_POLL_H

#include <avahi-common/watch.h>
#include <uv.h>

typedef struct ipb_uvpoll ipb_uvpoll_t;

/* NULL when out of memory. */
ipb_uvpoll_t *ipb__uvpoll_new(uv_loop_t *loop);
const AvahiPoll *ipb__uvpoll_api(ipb_uvpoll_t *p);
/*
 * Free p once every watch and timeout it made is freed (avahi_client_free does that).
 * Their libuv handles close asynchronously and free themselves: the loop must run on.
 */
void ipb__uvpoll_free(ipb_uvpoll_t *p);

#endif
