/*
 * cli_net.h - unix sockets, SOCKS5 proxies and SRV lookups for `iotplot pub` / `sub`.
 */
#ifndef IOTPLOT_CLI_NET_H
#define IOTPLOT_CLI_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "mqtt_opts.h"

/* true when o needs the transport below (--unix, --proxy, -A) instead of the library's. */
bool cli_net_needed(const cli_mqtt_opts_t *o);

/* A client over a unix socket, a SOCKS5 proxy or from a source address, as o says, with
 * TLS over it when tls is not NULL; NULL when out of memory or the configuration is
 * refused (then *why may say why). o must outlive it. Free with cli_net_client_free(). */
ipm_client_t *cli_net_client_new(const cli_mqtt_opts_t *o, const ipm_client_config_t *cfg,
                                 const ipm_tls_opts_t *tls, const char **why);
void cli_net_client_free(ipm_client_t *c);
/* Why its last TLS handshake failed ("" without TLS). */
const char *cli_net_tls_error(const ipm_client_t *c);

/* -S: the SRV record of _mqtt._tcp.DOMAIN (_secure-mqtt._tcp with TLS) with the lowest
 * priority. Writes the target host and port; -1 when there is none. */
int cli_net_srv(const char *domain, bool tls, char *host, size_t cap, int *port);

#endif /* IOTPLOT_CLI_NET_H */
