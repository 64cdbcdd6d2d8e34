/*
 * subtree.c - the topic tree: subscriptions, shared groups and retained messages, one
 * node per topic level.
 *
 * Children are found through one hash table keyed by (parent, level), so matching a topic
 * costs a few lookups per level (the exact level, '+', '#') whatever the number of
 * subscriptions. Each node also links its children in a list, which retained lookups
 * with wildcards walk.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

/* ---- fan-out ---------------------------------------------------------------------- */

/*
 * One fan-out gathers, per session, the highest QoS of its matching subscriptions and
 * all their identifiers, so overlapping subscriptions give one message (3.1.1 and 5.0).
 * Sessions are stamped with the fan-out's generation instead of being looked up.
 */
typedef struct {
    ipb_session_t *s;
    uint8_t qos;
    bool rap;
    uint16_t nids;
    uint32_t ids[8]; /* identifiers past 8 are dropped: a cap on per-message state */
} match_t;

typedef struct {
    ipb_broker_t *b;
    ipb_msg_t *m;
    match_t *v;
    size_t n, cap;
    ipb_sub_t **local;
    size_t nlocal, local_cap;
    bool oom;
} fan_t;

static void *grow_array(void *p, size_t *cap, size_t elem)
{
    size_t nc = *cap ? *cap * 2 : 16;
    void *np = realloc(p, nc * elem);
    if (np)
        *cap = nc;
    return np;
}

static void take(fan_t *f, ipb_sub_t *sub)
{
    uint8_t qos = sub->opts & IPM_SUBOPT_QOS_MASK;
    if (!sub->s) {
        if (f->nlocal == f->local_cap) {
            void *np = grow_array(f->local, &f->local_cap, sizeof *f->local);
            if (!np) {
                f->oom = true;
                return;
            }
            f->local = np;
        }
        f->local[f->nlocal++] = sub;
        return;
    }
    ipb_session_t *s = sub->s;
    if ((sub->opts & IPM_SUBOPT_NO_LOCAL) && s->serial == f->m->origin)
        return;
    match_t *mt;
    if (s->mgen == f->b->mgen) {
        mt = &f->v[s->midx];
    } else {
        if (f->n == f->cap) {
            void *np = grow_array(f->v, &f->cap, sizeof *f->v);
            if (!np) {
                f->oom = true;
                return;
            }
            f->v = np;
        }
        s->mgen = f->b->mgen;
        s->midx = (uint32_t)f->n;
        mt = &f->v[f->n++];
        mt->s = s;
        mt->qos = 0;
        mt->rap = false;
        mt->nids = 0;
    }
    if (qos > mt->qos)
        mt->qos = qos;
    if (sub->opts & IPM_SUBOPT_RETAIN_AS_PUBLISHED)
        mt->rap = true;
    if (sub->subid && mt->nids < 8)
        mt->ids[mt->nids++] = sub->subid;
}

/* Round robin: the next online member after the cursor, else the cursor's (queued). */
static void take_group(fan_t *f, ipb_group_t *g)
{
    ipb_sub_t *start = g->cursor ? g->cursor : g->members, *x = start, *pick = NULL;
    do {
        if (!x->s || x->s->conn) {
            pick = x;
            break;
        }
        x = x->next ? x->next : g->members;
    } while (x != start);
    if (!pick)
        pick = start;
    g->cursor = pick->next ? pick->next : g->members;
    if (!pick->s) {
        take(f, pick);
        return;
    }
    uint8_t qos = pick->opts & IPM_SUBOPT_QOS_MASK;
    if (qos > f->m->qos)
        qos = f->m->qos;
    uint32_t id = pick->subid;
    ipb__session_deliver(f->b, pick->s, f->m, qos, false, id ? &id : NULL, id ? 1 : 0);
}

static void take_node(fan_t *f, ipb_node_t *n)
{
    for (ipb_sub_t *x = n->subs; x; x = x->next)
        take(f, x);
    for (ipb_group_t *g = n->groups; g; g = g->next)
        take_group(f, g);
}

static void walk(fan_t *f, ipb_node_t *n, const char *t, size_t len, bool root)
{
    ipb_tree_t *tree = &f->b->tree;
    size_t j = 0;
    while (j < len && t[j] != '/')
        j++;
    bool last = j >= len;
    /* MQTT-4.7.2-1: wildcards at the first level do not match '$' topics. */
    bool wild = !(root && len && t[0] == '$');
    ipb_node_t *c = lookup(tree, n, t, j);
    if (c) {
        if (last) {
            take_node(f, c);
            ipb_node_t *h = lookup(tree, c, "#", 1); /* "a/#" also matches "a" */
            if (h)
                take_node(f, h);
        } else {
            walk(f, c, t + j + 1, len - j - 1, false);
        }
    }
    if (!wild)
        return;
    if ((c = lookup(tree, n, "+", 1))) {
        if (last) {
            take_node(f, c);
            ipb_node_t *h = lookup(tree, c, "#", 1);
            if (h)
                take_node(f, h);
        } else {
            walk(f, c, t + j + 1, len - j - 1, false);
        }
    }
    if ((c = lookup(tree, n, "#", 1)))
        take_node(f, c);
}

void ipb__fanout(ipb_broker_t *b, ipb_msg_t *m)
{
    /* The arrays are kept on the broker between fan-outs: no allocation per message. */
    fan_t f = {.b = b, .m = m, .v = b->fan_v, .cap = b->fan_cap, .local = b->fan_local,
               .local_cap = b->fan_local_cap};
    if (++b->mgen == 0) {
        /* The 32-bit generation wrapped: clear every stamp so none matches by accident. */
        for (size_t i = 0; i < b->nstab; i++)
            for (ipb_session_t *s = b->stab[i]; s; s = s->hnext)
                s->mgen = 0;
        b->mgen = 1;
    }
    walk(&f, b->tree.root, m->topic, m->topic_len, true);
    for (size_t i = 0; i < f.n; i++) {
        match_t *mt = &f.v[i];
        uint8_t qos = mt->qos < m->qos ? mt->qos : m->qos;
        bool retain = mt->rap && m->retain;
        ipb__session_deliver(b, mt->s, m, qos, retain, mt->ids, mt->nids);
    }
    for (size_t i = 0; i < f.nlocal; i++) {
        ipb_sub_t *x = f.local[i];
        uint8_t qos = x->opts & IPM_SUBOPT_QOS_MASK;
        x->cb(x->arg, m->topic, m->topic_len, m->payload, m->payload_len,
              qos < m->qos ? qos : m->qos, false);
    }
    if (f.oom)
        ipb__log(b, IPB_LOG_ERR, "Out of memory delivering a message on %s.", m->topic);
    b->fan_v = f.v;
    b->fan_cap = f.cap;
    b->fan_local = f.local;
    b->fan_local_cap = f.local_cap;
}
