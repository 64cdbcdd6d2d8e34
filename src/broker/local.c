/*
 * local.c - the in-process API (ipb_local_subscribe / ipb_local_publish in broker.h):
 * clients without a socket, such as the plot server and $SYS. Their messages are checked
 * as a client's would be and take the same route. A receiver may also be told who
 * published each message (ipb_local_subscribe_from).
 */
#include <string.h>

#include "core.h"
#include "msg.h"
#include "route.h"
#include "tree.h"

/*
 * Both kinds of receiver live in the tree as (cb, arg): a from-receiver's address stands
 * in cb as its name, for finding and replacing it, and is only ever called as `from`.
 */
static ipb_local_cb name_of(ipb_local_from_cb from)
{
    return (ipb_local_cb)(void (*)(void))from;
}

static int subscribe(ipb_broker_t *b, const char *filter, uint8_t qos, ipb_local_cb cb,
                     ipb_local_from_cb from, void *arg)
{
    if (!b || !filter || !cb || qos > 2)
        return IPM_EINVALID;
    size_t len = strlen(filter);
    ipm_bytes_t g, f;
    int shared = ipm_shared_split((const uint8_t *)filter, len, &g, &f);
    if (shared < 0 || (!shared && !ipm_topic_filter_valid((const uint8_t *)filter, len)))
        return IPM_EBAD_FILTER;
    bool isnew;
    ipb_sub_t *sub = ipb__sub_add(b, NULL, cb, arg, filter, len, qos, 0, &isnew);
    if (!sub)
        return IPM_ENOMEM;
    sub->from = from;
    if (!shared)
        ipb__route_retained_local(b, sub, filter, len);
    return 0;
}

int ipb_local_subscribe(ipb_broker_t *b, const char *filter, uint8_t qos, ipb_local_cb cb,
                        void *arg)
{
    return subscribe(b, filter, qos, cb, NULL, arg);
}

int ipb_local_subscribe_from(ipb_broker_t *b, const char *filter, uint8_t qos,
                             ipb_local_from_cb cb, void *arg)
{
    return subscribe(b, filter, qos, cb ? name_of(cb) : NULL, cb, arg);
}

int ipb_local_unsubscribe(ipb_broker_t *b, const char *filter, ipb_local_cb cb, void *arg)
{
    if (!b || !filter || !cb)
        return IPM_EINVALID;
    return ipb__sub_remove(b, NULL, cb, arg, filter, strlen(filter)) ? 0 : IPM_EINVALID;
}

int ipb_local_unsubscribe_from(ipb_broker_t *b, const char *filter, ipb_local_from_cb cb,
                               void *arg)
{
    return ipb_local_unsubscribe(b, filter, cb ? name_of(cb) : NULL, arg);
}

int ipb_local_publish(ipb_broker_t *b, const char *topic, const uint8_t *payload, size_t len,
                      uint8_t qos, bool retain)
{
    ipb_msg_t *m;
    int rc = ipb__msg_local(b, topic, payload, len, qos, retain, &m);
    if (rc)
        return rc;
    ipb__publish(b, m);
    ipb__msg_unref(m);
    return 0;
}
