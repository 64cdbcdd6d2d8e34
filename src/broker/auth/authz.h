/*
 * authz.h - the broker's security policy in one object: who may connect (password file,
 * anonymous access, failed-login rate limit) and what each client may do (ACL file).
 *
 * The broker calls it from its auth hook; `iotplot broker` reloads it on SIGHUP. A reload
 * that fails keeps the policy in force and says why.
 */
#ifndef IPB_AUTH_AUTHZ_H
#define IPB_AUTH_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "iotplot/mqtt_protocol.h"
#include "passwd.h"

typedef struct {
    const char *password_file; /* NULL: no password file */
    const char *acl_file;      /* NULL: no ACL (everything allowed) */
    /* Failed logins from one address allowed per window before refusing it for a while. */
    unsigned max_login_failures; /* 0 = no limit; default 10 */
    unsigned failure_window_s;   /* default 60 */
} ipb_authz_config_t;

typedef struct ipb_authz ipb_authz_t;

/* Defaults: no files, 10 failures per 60 s. */
void ipb_authz_config_init(ipb_authz_config_t *cfg);

/* Load the files. NULL with "file:line: reason" in err. */
ipb_authz_t *ipb_authz_new(const ipb_authz_config_t *cfg, char *err, size_t errlen);
void ipb_authz_free(ipb_authz_t *a);

/* Read the files again; on failure keep the old ones. 0 or -1 with the reason. */
int ipb_authz_reload(ipb_authz_t *a, char *err, size_t errlen);

bool ipb_authz_has_passwords(const ipb_authz_t *a);

/* Outcome of a login attempt, as 5.0 reason codes (0 = accepted). */
enum {
    IPB_AUTHZ_OK = IPM_RC_SUCCESS,
    IPB_AUTHZ_BAD_LOGIN = IPM_RC_BAD_USER_NAME_OR_PASSWORD,
    IPB_AUTHZ_NOT_ALLOWED = IPM_RC_NOT_AUTHORIZED, /* anonymous access is off */
    IPB_AUTHZ_BANNED = IPM_RC_BANNED, /* too many failures from this address: try later */
};

/*
 * May this client connect? `allow_anonymous` is the listener's setting. A username
 * without a password file is accepted as an identity (as mosquitto does), unless
 * anonymous access is off. `address` (no port) keys the failure rate limit; `now_s` is
 * any monotonic clock in seconds.
 */
int ipb_authz_login(ipb_authz_t *a, bool allow_anonymous, const char *address, uint64_t now_s,
                    const char *username, const uint8_t *password, size_t password_len,
                    bool has_password);

/*
 * May this client do `access` (IPB_ACL_*) on `topic`? Everything is allowed without an
 * ACL file, except what is always forbidden: publishing to a '$' topic.
 */
bool ipb_authz_allows(const ipb_authz_t *a, const char *username, const char *client_id,
                      const char *topic, size_t len, int access);

#endif
