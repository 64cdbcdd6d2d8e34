/*
 * acl.h - mosquitto-format access control lists.
 *
 *     # rules before any `user` line apply to anonymous clients
 *     topic read $SYS/#
 *     user alice
 *     topic readwrite alice/#
 *     topic deny alice/secret
 *     pattern readwrite %u/#          # every user gets their own prefix
 *
 * `topic` and `pattern` take an optional access (read, write, readwrite, deny; readwrite
 * when left out) and a topic filter (the rest of the line). `pattern` rules apply to every
 * client, with %u replaced by the user name and %c by the client id; a name or id holding
 * '/', '+' or '#' never matches a pattern, so nobody can widen their own prefix.
 * Once an ACL is configured, what it does not allow is denied, and a `deny` rule wins
 * over any allowing rule.
 */
#ifndef IPB_AUTH_ACL_H
#define IPB_AUTH_ACL_H

#include <stdbool.h>
#include <stddef.h>

enum {
    IPB_ACL_READ = 1,      /* receive a message published to a topic */
    IPB_ACL_WRITE = 2,     /* publish to a topic */
    /* Subscribe with a filter: some topic it can match is readable, and no deny rule covers
     * it all. What is granted wider than that is filtered per delivery (READ), as
     * mosquitto does: `#` for a user confined to `%u/#` receives only their own topics. */
    IPB_ACL_SUBSCRIBE = 4,
};

typedef struct ipb_acl ipb_acl_t;

/* Load from a file, or NULL with "file:line: reason" in err. */
ipb_acl_t *ipb_acl_load(const char *path, char *err, size_t errlen);
/* Parse text[0..len) (for tests and fuzzing); `name` is used in error messages. */
ipb_acl_t *ipb_acl_parse(const char *text, size_t len, const char *name, char *err,
                         size_t errlen);
void ipb_acl_free(ipb_acl_t *acl);

/*
 * May this client (username NULL when anonymous) do `access` on `topic` (a topic name for
 * READ and WRITE, a topic filter for SUBSCRIBE)?
 */
bool ipb_acl_check(const ipb_acl_t *acl, const char *username, const char *client_id,
                   const char *topic, size_t len, int access);

#endif
