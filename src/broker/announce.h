/*
 * announce.h - DNS-SD over mDNS (announce.c): with `announce true` the broker's listeners
 * are published through the Avahi daemon, so devices on the network find the broker by
 * browsing for _mqtt._tcp (_secure-mqtt._tcp with TLS, _http._tcp for the console).
 */
#ifndef IOTPLOT_BROKER_ANNOUNCE_H
#define IOTPLOT_BROKER_ANNOUNCE_H

typedef struct ipb_broker ipb_broker_t;
typedef struct ipb_announce ipb_announce_t;

/*
 * Start announcing the open listeners (after they are bound, so ephemeral ports are
 * known). Never fails the broker: without a daemon it logs one line and announces once
 * one appears. Does nothing unless cfg.announce.
 */
void ipb__announce_open(ipb_broker_t *b);
/* Withdraw the announcements and free them; the loop must run on for their handles. */
void ipb__announce_close(ipb_broker_t *b);

#endif
