/*
 * security.h - TLS contexts and the auth policy (security.c): password files, ACLs and
 * the limits every client is checked against, installed as the broker's ipb_auth_t.
 */
#ifndef IOTPLOT_BROKER_SECURITY_H
#define IOTPLOT_BROKER_SECURITY_H

#include <stddef.h>

#include "broker.h"

typedef struct ipb_security ipb_security_t;

#define IPB__LOGIN_PENDING 0x100 /* not a reason code: the password is hashing */

/* Load certificates, password and ACL files; install the auth hook. 0, or -1 with err. */
int ipb__security_open(ipb_broker_t *b, char *err, size_t errlen);
void ipb__security_close(ipb_broker_t *b);
/*
 * May this CONNECT log in? 0 or a 5.0 reason code from the auth hook. With the broker's
 * own policy a password that needs its slow hash returns IPB__LOGIN_PENDING: the hash
 * runs on libuv's thread pool, c->login_wait is set meanwhile, and when it is done
 * c->login_ready and c->login_verdict hold the answer and b->resume(c) is called; the
 * next call for c returns that verdict.
 */
int ipb__security_login(ipb_conn_t *c, const ipb_auth_client_t *cl, const ipm_connect_t *p);
/* c is going away: a hash still running for it answers nobody (its failure still counts). */
void ipb__security_forget(ipb_conn_t *c);
/*
 * The same policy for a login that is not a CONNECT (HTTP Basic, layered.c): 0 or a 5.0
 * reason code now, or IPB__LOGIN_PENDING and done(arg, verdict) later on the loop, once
 * the hash has run on the thread pool, unless ipb__security_cancel(b, arg) came first.
 */
typedef void (*ipb_login_cb)(void *arg, uint8_t verdict);
int ipb__security_check(ipb_broker_t *b, const ipb_auth_client_t *cl, const ipm_connect_t *p,
                        ipb_login_cb done, void *arg);
void ipb__security_cancel(ipb_broker_t *b, void *arg);
/* ipb_broker_reload's certificates, password and ACL files (broker.c reopens the log). */
int ipb__security_reload(ipb_broker_t *b, char *err, size_t errlen);
/* use_identity_as_username: the connection's user name from its certificate; 0 or a reason. */
int ipb__tls_identity(ipb_conn_t *c);

#endif
