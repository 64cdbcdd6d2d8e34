/*
 * subtree.c - the topic tree: nodes, and the subscriptions and shared groups on them,
 * one node per topic level, and which nodes a topic matches. What a match receives is
 * route.c's; the retained messages on the nodes are retain.c's.
 *
 * Children are found through one hash table keyed by (parent, level), so matching a topic
 * costs a few lookups per level (the exact level, '+', '#') whatever the number of
 * subscriptions. Each node also links its children in a list, which retained lookups
 * with wildcards walk.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "session.h" /* a session's list of its subscriptions is kept here */
#include "tree.h"

static size_t hash_level(const ipb_node_t *parent, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

int ipb__tree_init(ipb_tree_t *t)
{
    memset(t, 0, sizeof *t);
    t->nslots = 256;
    t->slots = calloc(t->nslots, sizeof *t->slots);
    /* The root is allocated like any node: a struct ending in a flexible array may not be
     * a member of another struct (ISO C). */
    t->root = calloc(1, sizeof *t->root);
    if (!t->slots || !t->root) {
        free(t->slots);
        free(t->root);
        memset(t, 0, sizeof *t);
        return IPM_ENOMEM;
    }
    return 0;
}

static ipb_node_t *lookup(ipb_tree_t *t, ipb_node_t *parent, const char *s, size_t len)
{
    ipb_node_t *n = t->slots[hash_level(parent, s, len) & (t->nslots - 1)];
    for (; n; n = n->hnext)
        if (n->parent == parent && n->len == len && !memcmp(n->level, s, len))
            return n;
    return NULL;
}

ipb_node_t *ipb__tree_child(ipb_tree_t *t, ipb_node_t *parent, const char *s, size_t len)
{
    return lookup(t, parent, s, len);
}

static void grow(ipb_tree_t *t)
{
    size_t nn = t->nslots * 2;
    ipb_node_t **ns = calloc(nn, sizeof *ns);
    if (!ns)
        return; /* keep the longer chains; still correct */
    for (size_t i = 0; i < t->nslots; i++) {
        ipb_node_t *n = t->slots[i], *next;
        for (; n; n = next) {
            next = n->hnext;
            size_t h = hash_level(n->parent, n->level, n->len) & (nn - 1);
            n->hnext = ns[h];
            ns[h] = n;
        }
    }
    free(t->slots);
    t->slots = ns;
    t->nslots = nn;
}

static ipb_node_t *child_new(ipb_tree_t *t, ipb_node_t *parent, const char *s, size_t len)
{
    ipb_node_t *n = calloc(1, sizeof *n + len + 1);
    if (!n)
        return NULL;
    n->parent = parent;
    n->len = (uint16_t)len;
    memcpy(n->level, s, len);
    size_t h = hash_level(parent, s, len) & (t->nslots - 1);
    n->hnext = t->slots[h];
    t->slots[h] = n;
    n->next = parent->child;
    if (parent->child)
        parent->child->prev = n;
    parent->child = n;
    parent->nchildren++;
    if (++t->count > t->nslots)
        grow(t);
    return n;
}

ipb_node_t *ipb__tree_node(ipb_tree_t *t, const char *topic, size_t len, bool create)
{
    ipb_node_t *n = t->root;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < len && topic[j] != '/')
            j++;
        ipb_node_t *c = lookup(t, n, topic + i, j - i);
        if (!c && (!create || !(c = child_new(t, n, topic + i, j - i))))
            return NULL;
        n = c;
        if (j >= len)
            return n;
        i = j + 1;
    }
}

static void unhash(ipb_tree_t *t, ipb_node_t *n)
{
    ipb_node_t **pp = &t->slots[hash_level(n->parent, n->level, n->len) & (t->nslots - 1)];
    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
    t->count--;
}

void ipb__tree_prune(ipb_tree_t *t, ipb_node_t *n)
{
    while (n && n != t->root && !n->child && !n->subs && !n->groups && !n->retained) {
        ipb_node_t *p = n->parent;
        unhash(t, n);
        if (n->prev)
            n->prev->next = n->next;
        else
            p->child = n->next;
        if (n->next)
            n->next->prev = n->prev;
        p->nchildren--;
        free(n);
        n = p;
    }
}

static void free_subtree(ipb_node_t *n)
{
    ipb_node_t *c = n->child, *next;
    for (; c; c = next) {
        next = c->next;
        free_subtree(c);
        free(c);
    }
}

void ipb__tree_free(ipb_tree_t *t)
{
    /* Subscriptions and retained messages are released by their owners first. */
    if (t->root)
        free_subtree(t->root);
    free(t->root);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- subscriptions ---------------------------------------------------------------- */

static bool same_owner(const ipb_sub_t *x, ipb_session_t *s, ipb_local_cb cb, void *arg)
{
    return x->s == s && (s || (x->cb == cb && x->arg == arg));
}

static ipb_group_t *group_get(ipb_node_t *n, const ipm_bytes_t *name, bool create)
{
    for (ipb_group_t *g = n->groups; g; g = g->next)
        if (g->len == name->len && !memcmp(g->name, name->data, name->len))
            return g;
    if (!create)
        return NULL;
    ipb_group_t *g = calloc(1, sizeof *g + name->len + 1);
    if (!g)
        return NULL;
    g->len = (uint16_t)name->len;
    memcpy(g->name, name->data, name->len);
    g->next = n->groups;
    n->groups = g;
    return g;
}

static void group_drop(ipb_node_t *n, ipb_group_t *g)
{
    ipb_group_t **pp = &n->groups;
    while (*pp != g)
        pp = &(*pp)->next;
    *pp = g->next;
    free(g);
}

/* Split a filter into (node filter, group); 0 ordinary, 1 shared, <0 invalid. */
static int split(const char *f, size_t flen, ipm_bytes_t *group, ipm_bytes_t *plain)
{
    int rc = ipm_shared_split((const uint8_t *)f, flen, group, plain);
    if (rc == 0)
        *plain = (ipm_bytes_t){(const uint8_t *)f, (uint32_t)flen};
    return rc;
}

static ipb_sub_t *find_sub(ipb_sub_t *head, ipb_session_t *s, ipb_local_cb cb, void *arg)
{
    for (ipb_sub_t *x = head; x; x = x->next)
        if (same_owner(x, s, cb, arg))
            return x;
    return NULL;
}

ipb_sub_t *ipb__sub_add(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                        const char *filter, size_t flen, uint8_t opts, uint32_t subid,
                        bool *isnew)
{
    ipm_bytes_t gname, plain;
    int shared = split(filter, flen, &gname, &plain);
    if (shared < 0)
        return NULL;
    ipb_node_t *n = ipb__tree_node(&b->tree, (const char *)plain.data, plain.len, true);
    if (!n)
        return NULL;
    ipb_group_t *g = shared ? group_get(n, &gname, true) : NULL;
    if (shared && !g) {
        ipb__tree_prune(&b->tree, n);
        return NULL;
    }
    ipb_sub_t **head = g ? &g->members : &n->subs;
    ipb_sub_t *sub = find_sub(*head, s, cb, arg);
    *isnew = !sub;
    if (!sub) {
        sub = calloc(1, sizeof *sub);
        if (!sub) {
            if (g && !g->members)
                group_drop(n, g);
            ipb__tree_prune(&b->tree, n);
            return NULL;
        }
        sub->node = n;
        sub->group = g;
        sub->s = s;
        sub->cb = cb;
        sub->arg = arg;
        sub->next = *head;
        if (*head)
            (*head)->prev = sub;
        *head = sub;
        if (s) {
            sub->snext = s->subs;
            s->subs = sub;
            s->nsubs++;
        }
        b->st.subscriptions++;
    }
    sub->opts = opts;
    sub->subid = subid;
    return sub;
}

void ipb__sub_free(ipb_broker_t *b, ipb_sub_t *sub)
{
    ipb_node_t *n = sub->node;
    ipb_group_t *g = sub->group;
    ipb_sub_t **head = g ? &g->members : &n->subs;
    if (g && g->cursor == sub)
        g->cursor = sub->next;
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        *head = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    if (sub->s) {
        ipb_sub_t **pp = &sub->s->subs;
        while (*pp != sub)
            pp = &(*pp)->snext;
        *pp = sub->snext;
        sub->s->nsubs--;
    }
    if (g && !g->members)
        group_drop(n, g);
    b->st.subscriptions--;
    free(sub);
    ipb__tree_prune(&b->tree, n);
}

bool ipb__sub_remove(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                     const char *filter, size_t flen)
{
    ipm_bytes_t gname, plain;
    int shared = split(filter, flen, &gname, &plain);
    if (shared < 0)
        return false;
    ipb_node_t *n = ipb__tree_node(&b->tree, (const char *)plain.data, plain.len, false);
    if (!n)
        return false;
    ipb_group_t *g = shared ? group_get(n, &gname, false) : NULL;
    if (shared && !g)
        return false;
    ipb_sub_t *sub = find_sub(g ? g->members : n->subs, s, cb, arg);
    if (!sub)
        return false;
    ipb__sub_free(b, sub);
    return true;
}

/* ---- matching --------------------------------------------------------------------- */

typedef struct {
    ipb_tree_t *t;
    void (*visit)(void *arg, ipb_node_t *n);
    void *arg;
} walk_t;

static void walk(walk_t *f, ipb_node_t *n, const char *t, size_t len, bool root)
{
    ipb_tree_t *tree = f->t;
    size_t j = 0;
    while (j < len && t[j] != '/')
        j++;
    bool last = j >= len;
    /* MQTT-4.7.2-1: wildcards at the first level do not match '$' topics. */
    bool wild = !(root && len && t[0] == '$');
    ipb_node_t *c = lookup(tree, n, t, j);
    if (c) {
        if (last) {
            f->visit(f->arg, c);
            ipb_node_t *h = lookup(tree, c, "#", 1); /* "a/#" also matches "a" */
            if (h)
                f->visit(f->arg, h);
        } else {
            walk(f, c, t + j + 1, len - j - 1, false);
        }
    }
    if (!wild)
        return;
    if ((c = lookup(tree, n, "+", 1))) {
        if (last) {
            f->visit(f->arg, c);
            ipb_node_t *h = lookup(tree, c, "#", 1);
            if (h)
                f->visit(f->arg, h);
        } else {
            walk(f, c, t + j + 1, len - j - 1, false);
        }
    }
    if ((c = lookup(tree, n, "#", 1)))
        f->visit(f->arg, c);
}

void ipb__tree_match(ipb_tree_t *t, const char *topic, size_t len,
                     void (*visit)(void *arg, ipb_node_t *n), void *arg)
{
    walk_t f = {t, visit, arg};
    walk(&f, t->root, topic, len, true);
}
