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
    /* Failed logins allowed per window before refusing for the rest of it: of one user
     * from one address (a classroom shares one NAT address), and of all user names
     * together from one address (against spraying many names). */
    unsigned max_login_failures;   /* per (address, user); 0 = no limit; default 10 */
    unsigned max_address_failures; /* per address; 0 = no limit; default 100 */
    unsigned failure_window_s;     /* default 60 */
} ipb_authz_config_t;

typedef struct ipb_authz ipb_authz_t;

/* Defaults: no files, 10 failures per user and address, 100 per address, per 60 s. */
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
    IPB_AUTHZ_PENDING = 0x100, /* not a reason code: the password hash must run first */
};

/* Which limit a failure has just reached, for the log (ipb_authz_login_finish). */
enum { IPB_AUTHZ_LOCKED_NONE, IPB_AUTHZ_LOCKED_USER, IPB_AUTHZ_LOCKED_ADDRESS };

/*
 * May this client connect? `allow_anonymous` is the listener's setting. A username
 * without a password file is accepted as an identity (as mosquitto does), unless
 * anonymous access is off. `address` (no port) keys the failure rate limit; `now_s` is
 * any monotonic clock in seconds. Hashes on the calling thread: ipb_authz_login_start
 * and _finish are the same in steps.
 */
int ipb_authz_login(ipb_authz_t *a, bool allow_anonymous, const char *address, uint64_t now_s,
                    const char *username, const uint8_t *password, size_t password_len,
                    bool has_password);

/*
 * A login in three steps, so that the slow hash (PBKDF2: over 100 ms) runs off the event
 * loop. ipb_authz_login_start answers at once when it can (anonymous, locked out, no
 * password, a pair that verified before) and otherwise returns IPB_AUTHZ_PENDING with
 * *check set. ipb_authz_check_run hashes; it touches only the check, so any thread may
 * run it while the policy is reloaded. ipb_authz_login_finish, on the policy's thread,
 * counts a failure or remembers the pair, frees the check and returns the outcome;
 * *locked says whether this failure started a lockout (IPB_AUTHZ_LOCKED_*).
 *
 * A pending check counts as a failure until it succeeds, so one address cannot queue
 * more hashes than its limits allow.
 */
typedef struct ipb_authz_check ipb_authz_check_t;
int ipb_authz_login_start(ipb_authz_t *a, bool allow_anonymous, const char *address,
                          uint64_t now_s, const char *username, const uint8_t *password,
                          size_t password_len, bool has_password, ipb_authz_check_t **check,
                          int *locked);
void ipb_authz_check_run(ipb_authz_check_t *check);
int ipb_authz_login_finish(ipb_authz_t *a, ipb_authz_check_t *check, uint64_t now_s,
                           int *locked);
/* Drop a check whose policy is gone (the broker closed while it hashed). */
void ipb_authz_check_free(ipb_authz_check_t *check);

/*
 * May this client do `access` (IPB_ACL_*) on `topic`? Everything is allowed without an
 * ACL file, except what is always forbidden: publishing to a '$' topic.
 */
bool ipb_authz_allows(const ipb_authz_t *a, const char *username, const char *client_id,
                      const char *topic, size_t len, int access);

#endif
