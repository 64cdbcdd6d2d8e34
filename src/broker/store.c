/*
 * store.c - the persistence seam: where a store plugs in, and how what it kept is
 * replayed into a broker before it starts listening.
 */
#include <string.h>

#include "clock.h"
#include "core.h"
#include "msg.h"
#include "retain.h"
#include "session.h"
#include "tree.h"

void ipb_broker_set_store(ipb_broker_t *b, const ipb_store_t *store, void *ctx)
{
    b->store = store;
    b->store_ctx = ctx;
}

int ipb_broker_restore_retained(ipb_broker_t *b, const char *topic, const uint8_t *payload,
                                size_t len, uint8_t qos)
{
    ipb_msg_t *m;
    int rc = ipb__msg_local(b, topic, payload, len, qos, true, &m);
    if (rc)
        return rc;
    ipb__retain_put(b, m, false);
    ipb__msg_unref(m);
    return 0;
}

int ipb_broker_restore_session(ipb_broker_t *b, const char *client_id, uint32_t expiry_interval)
{
    if (!b || !client_id || !*client_id || !expiry_interval)
        return IPM_EINVALID;
    ipb_session_t *s = ipb__session_find(b, client_id);
    if (!s && !(s = ipb__session_new(b, client_id)))
        return IPM_ENOMEM;
    s->expiry = expiry_interval;
    s->expire_at = expiry_interval == IPM_SESSION_EXPIRY_NEVER
                       ? 0
                       : ipb__deadline(b, ipb__now(b), expiry_interval);
    if (s->expire_at)
        ipb__session_set_offline(b, s, true);
    return 0;
}

int ipb_broker_restore_sub(ipb_broker_t *b, const char *client_id, const char *filter,
                           uint8_t options, uint32_t subid)
{
    if (!b || !client_id || !filter)
        return IPM_EINVALID;
    ipb_session_t *s = ipb__session_find(b, client_id);
    if (!s)
        return IPM_EINVALID;
    size_t len = strlen(filter);
    ipm_bytes_t g, f;
    int shared = ipm_shared_split((const uint8_t *)filter, len, &g, &f);
    if (shared < 0 || (!shared && !ipm_topic_filter_valid((const uint8_t *)filter, len)) ||
        (options & IPM_SUBOPT_RESERVED_MASK) || (options & IPM_SUBOPT_QOS_MASK) > 2)
        return IPM_EBAD_FILTER;
    bool isnew;
    return ipb__sub_add(b, s, NULL, NULL, filter, len, options, subid, &isnew) ? 0 : IPM_ENOMEM;
}
