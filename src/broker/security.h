/*
 * security.h - TLS contexts and the auth policy (security.c): password files, ACLs and
 * the limits every client is checked against, installed as the broker's ipb_auth_t.
 */
#ifndef IOTPLOT_BROKER_SECURITY_H
#define IOTPLOT_BROKER_SECURITY_H

#include <stddef.h>

typedef struct ipb_broker ipb_broker_t;
typedef struct ipb_conn ipb_conn_t;
typedef struct ipb_security ipb_security_t;

/* Load certificates, password and ACL files; install the auth hook. 0, or -1 with err. */
int ipb__security_open(ipb_broker_t *b, char *err, size_t errlen);
void ipb__security_close(ipb_broker_t *b);
/* ipb_broker_reload's certificates, password and ACL files (broker.c reopens the log). */
int ipb__security_reload(ipb_broker_t *b, char *err, size_t errlen);
/* use_identity_as_username: the connection's user name from its certificate; 0 or a reason. */
int ipb__tls_identity(ipb_conn_t *c);

#endif
