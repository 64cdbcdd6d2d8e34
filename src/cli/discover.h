/*
 * discover.h - `-h auto` for `iotplot pub`, `sub` and `plotserver`: the first broker
 * announced on the local network over mDNS/DNS-SD, found through avahi-daemon.
 */
#ifndef IOTPLOT_CLI_DISCOVER_H
#define IOTPLOT_CLI_DISCOVER_H

#include <stdbool.h>

#include "mqtt_opts.h"

/* How long -h auto browses before it gives up. */
#define CLI_DISCOVER_MS 5000

/* True when o->host asks for discovery ("auto"). */
bool cli_discover_wanted(const cli_mqtt_opts_t *o);

/*
 * Browse for _mqtt._tcp (_secure-mqtt._tcp with tls) for at most CLI_DISCOVER_MS and
 * point o->host and o->port at the first one resolved: its address for plain MQTT, its
 * host name with TLS (certificates name hosts). Returns 0, or -1 after printing why (no
 * daemon, none found in time) unless o->quiet.
 */
int cli_discover(cli_mqtt_opts_t *o, bool tls);

#endif /* IOTPLOT_CLI_DISCOVER_H */
