/*
 * bridge_conf.h - the parsers of the bridge rows of config_table.c that need more than a
 * value (bridge_conf.c).
 */
#ifndef IOTPLOT_BROKER_BRIDGE_CONF_H
#define IOTPLOT_BROKER_BRIDGE_CONF_H

#include "config_table.h"

int ipb__bridge_parse_connection(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n);
int ipb__bridge_parse_address(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n);
int ipb__bridge_parse_topic(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n);
int ipb__bridge_parse_restart(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n);
int ipb__bridge_parse_tls_version(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n);

#endif
