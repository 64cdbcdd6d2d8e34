/*
 * tree.h - the topic tree (subtree.c): one node per topic level, holding the
 * subscriptions, shared groups and retained message of that topic or filter.
 */
#ifndef IOTPLOT_BROKER_TREE_H
#define IOTPLOT_BROKER_TREE_H

#include "broker.h"
#include "msg.h"

typedef struct ipb_session ipb_session_t;
typedef struct ipb_node ipb_node_t;
typedef struct ipb_sub ipb_sub_t;
typedef struct ipb_group ipb_group_t;

struct ipb_sub {
    ipb_sub_t *next, *prev; /* in the node's or group's list */
    ipb_sub_t *snext;       /* in the session's list */
    ipb_node_t *node;
    ipb_group_t *group;     /* shared subscription, or NULL */
    ipb_session_t *s;       /* NULL for an in-process subscriber */
    ipb_local_cb cb;        /* in-process: cb, or from (then cb only names it) */
    ipb_local_from_cb from;
    ipb_local_receiver_t *rx; /* in-process, acknowledging (then cb only names it) */
    void *arg;
    uint32_t subid;
    uint8_t opts;
};

struct ipb_group {
    ipb_group_t *next;
    ipb_sub_t *members;
    ipb_sub_t *cursor; /* next member in the round robin */
    uint16_t len;
    char name[];
};

struct ipb_node {
    ipb_node_t *parent;
    ipb_node_t *hnext;              /* (parent, level) hash chain */
    ipb_node_t *child, *prev, *next; /* children, for retained lookups */
    ipb_sub_t *subs;
    ipb_group_t *groups;
    ipb_msg_t *retained;
    uint32_t nchildren;
    uint16_t len;
    char level[];
};

typedef struct {
    ipb_node_t **slots;
    size_t nslots, count;
    ipb_node_t *root;
} ipb_tree_t;

int ipb__tree_init(ipb_tree_t *t);
void ipb__tree_free(ipb_tree_t *t);
/* Node for a topic or filter, created if create is set; NULL if absent or no memory. */
ipb_node_t *ipb__tree_node(ipb_tree_t *t, const char *topic, size_t len, bool create);
ipb_node_t *ipb__tree_child(ipb_tree_t *t, ipb_node_t *parent, const char *s, size_t len);
/*
 * Call visit for every node whose filter matches topic: the exact levels, '+', '#' (also
 * "a/#" for "a"); wildcards at the first level skip '$' topics (MQTT-4.7.2-1).
 */
void ipb__tree_match(ipb_tree_t *t, const char *topic, size_t len,
                     void (*visit)(void *arg, ipb_node_t *n), void *arg);
/* Free n and empty ancestors. */
void ipb__tree_prune(ipb_tree_t *t, ipb_node_t *n);

/*
 * Add or replace the subscription of (s or cb/arg) to filter. *isnew tells whether it
 * existed. Returns the subscription or NULL (IPM_ENOMEM or a shared filter error).
 */
ipb_sub_t *ipb__sub_add(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                        const char *filter, size_t flen, uint8_t opts, uint32_t subid,
                        bool *isnew);
/* Remove one subscription; true if it existed. */
bool ipb__sub_remove(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                     const char *filter, size_t flen);
void ipb__sub_free(ipb_broker_t *b, ipb_sub_t *sub);

#endif
