/*
 * bridge.h - mosquitto's bridges (bridge.c, topic remapping in bridge_topic.c): an MQTT
 * client to a remote broker on the broker's loop, whose local side is a connection of
 * this broker like any client's, with a persistent session. Above the connection layer:
 * it feeds that connection bytes and reads what the broker writes to it through a
 * transport of its own (ipb_transport_vt), so queues, QoS, DUP on resend and persistence
 * are the sessions' own.
 */
#ifndef IOTPLOT_BROKER_BRIDGE_H
#define IOTPLOT_BROKER_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "broker.h"

#define IPB__BRIDGE_TOPIC_MAX 512

/* Start every configured bridge (they connect in the background). 0 or a negative IPM_E*. */
int ipb__bridges_start(ipb_broker_t *b);
/*
 * The broker closes: every bridge disconnects; `done` is called once the last one has
 * released its handles and its local connection.
 */
void ipb__bridges_close(ipb_broker_t *b, void (*done)(ipb_broker_t *b));

/* bridge_topic.c. The filter of t on one side into out; its length, 0 if it does not fit. */
size_t ipb__bridge_filter(const ipb_bridge_topic_t *t, bool remote, char *out, size_t cap);
/*
 * topic[0..len) crossing the bridge (outgoing: local to remote) as the other side's topic,
 * NUL-terminated in out; its length, or 0 when no topic line of that direction matches
 * (or the result does not fit). *qos (if set) is that line's QoS.
 */
size_t ipb__bridge_map(const ipb_bridge_config_t *bc, bool outgoing, const char *topic, size_t len,
                       char *out, size_t cap, uint8_t *qos);

#endif
