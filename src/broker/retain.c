/*
 * retain.c - the retained store: at most one message per topic, kept on the topic tree's
 * nodes; what matches a filter is found here and sent by route.c.
 *
 * A subscription's retained messages are found by walking only the tree below the
 * filter's literal prefix: '+' visits the children of one node, '#' a whole subtree.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "log.h"
#include "persist.h"
#include "retain.h"

void ipb__retain_set(ipb_broker_t *b, ipb_msg_t *m)
{
    ipb__retain_put(b, m, true);
}

/* At max_retained_messages, a new topic is not retained (replacing and clearing are). */
static bool retain_full(ipb_broker_t *b, const ipb_msg_t *m)
{
    /* Only what clients retain counts: the broker's own $SYS topics are bounded. */
    if (!b->cfg.max_retained_messages || b->retained_by_clients < b->cfg.max_retained_messages ||
        !m->payload_len || m->topic[0] == '$')
        return false;
    ipb_node_t *n = ipb__tree_node(&b->tree, m->topic, m->topic_len, false);
    if (n && n->retained)
        return false;
    if (!b->retain_full_logged) {
        ipb__log(b, IPB_LOG_WARNING,
                 "max_retained_messages (%u) reached: new retained topics are not kept.",
                 b->cfg.max_retained_messages);
        b->retain_full_logged = true;
    }
    return true;
}

void ipb__retain_put(ipb_broker_t *b, ipb_msg_t *m, bool notify)
{
    if (retain_full(b, m))
        return;
    ipb_node_t *n = ipb__tree_node(&b->tree, m->topic, m->topic_len, m->payload_len > 0);
    if (notify && b->store && b->store->retain_set) {
        int rc = b->store->retain_set(b->store_ctx, m->topic, m->payload, m->payload_len,
                                      m->qos);
        if (rc < 0)
            ipb__log(b, IPB_LOG_ERR, "Error storing retained message on %s: %s.", m->topic,
                     ipm_strerror(rc));
    }
    /* '$' topics are the broker's own ($SYS), rewritten every interval: never stored. */
    if (notify && b->persist && m->topic[0] != '$')
        ipb__persist_retain(b->persist, m, ipb__now(b));
    if (!n)
        return;
    bool by_client = m->topic[0] != '$';
    if (n->retained) {
        ipb__msg_unref(n->retained);
        n->retained = NULL;
        b->st.retained--;
        b->retained_by_clients -= by_client;
    }
    if (m->payload_len) {
        ipb__msg_ref(m);
        n->retained = m;
        b->st.retained++;
        b->retained_by_clients += by_client;
    } else {
        ipb__tree_prune(&b->tree, n);
    }
}

/* One match: fn is the caller's (route.c), which decides what a match receives. */
typedef struct {
    ipb_broker_t *b;
    void (*fn)(void *arg, ipb_msg_t *m);
    void *arg;
} rctx_t;

static void found(rctx_t *r, ipb_msg_t *m)
{
    r->fn(r->arg, m);
}

static void found_all(rctx_t *r, ipb_node_t *n)
{
    if (n->retained)
        found(r, n->retained);
    for (ipb_node_t *c = n->child; c; c = c->next)
        found_all(r, c);
}

static void walk(rctx_t *r, ipb_node_t *n, const char *f, size_t len, bool root)
{
    size_t j = 0;
    while (j < len && f[j] != '/')
        j++;
    bool last = j >= len;
    if (j == 1 && f[0] == '#') {
        if (!root && n->retained)
            found(r, n->retained); /* "a/#" matches "a" itself */
        for (ipb_node_t *c = n->child; c; c = c->next)
            if (!(root && c->len && c->level[0] == '$'))
                found_all(r, c);
        return;
    }
    if (j == 1 && f[0] == '+') {
        for (ipb_node_t *c = n->child; c; c = c->next) {
            if (root && c->len && c->level[0] == '$')
                continue;
            if (last) {
                if (c->retained)
                    found(r, c->retained);
            } else {
                walk(r, c, f + 2, len - 2, false);
            }
        }
        return;
    }
    ipb_node_t *c = ipb__tree_child(&r->b->tree, n, f, j);
    if (!c)
        return;
    if (last) {
        if (c->retained)
            found(r, c->retained);
    } else {
        walk(r, c, f + j + 1, len - j - 1, false);
    }
}

void ipb__retain_match(ipb_broker_t *b, const char *filter, size_t flen,
                       void (*fn)(void *arg, ipb_msg_t *m), void *arg)
{
    rctx_t r = {b, fn, arg};
    walk(&r, b->tree.root, filter, flen, true);
}
