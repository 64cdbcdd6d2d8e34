/*
 * store.c - the client's tables, all in caller-given buffers: the message store (outgoing
 * QoS 1/2 messages until acknowledged, and the outbox), subscriptions kept for
 * resubscribing, incoming QoS 2 packet ids, incoming topic aliases.
 *
 * Every table is a packed sequence of small records, so a device pays only for what it
 * uses and nothing needs malloc.
 */
#include <string.h>

#include "client_int.h"

/*
 * Record headers are only ever read back by this client on this machine, so they are
 * copied in native byte order (memcpy: the store has no alignment).
 */
typedef struct {
    uint32_t len;
    uint16_t pid;
    uint8_t state, qos;
} rec_hdr_t;

typedef struct {
    uint16_t len;
    uint8_t options, pad;
    uint32_t sub_id;
} sub_hdr_t;

typedef struct {
    uint16_t alias, len;
} alias_hdr_t;

/* ---- message store ------------------------------------------------------------------- */

void ipm__rec_get(const ipm_client_t *c, size_t off, ipm__rec_t *r)
{
    rec_hdr_t h;
    memcpy(&h, c->mem.store + off, sizeof h);
    r->off = off;
    r->len = h.len;
    r->pid = h.pid;
    r->state = h.state;
    r->qos = h.qos;
}

void ipm__rec_put(ipm_client_t *c, const ipm__rec_t *r)
{
    rec_hdr_t h = {.len = r->len, .pid = r->pid, .state = r->state, .qos = r->qos};
    memcpy(c->mem.store + r->off, &h, sizeof h);
}

size_t ipm__rec_next(const ipm__rec_t *r)
{
    return r->off + IPM__REC_HDR + r->len;
}

int ipm__rec_find(const ipm_client_t *c, uint16_t pid, ipm__rec_t *r)
{
    for (size_t off = 0; off < c->store_len; off = ipm__rec_next(r)) {
        ipm__rec_get(c, off, r);
        if (r->pid == pid && r->state != IPM__MSG_QUEUED)
            return 1;
    }
    return 0;
}

/* Cut `n` bytes at `at` out of a packed table of *len bytes. */
static void cut(uint8_t *buf, size_t *len, size_t at, size_t n)
{
    memmove(buf + at, buf + at + n, *len - at - n);
    *len -= n;
}

void ipm__rec_remove(ipm_client_t *c, const ipm__rec_t *r)
{
    if (r->state == IPM__MSG_QUEUED)
        c->queued--;
    else if (r->qos > 0 && c->inflight > 0)
        c->inflight--;
    cut(c->mem.store, &c->store_len, r->off, IPM__REC_HDR + r->len);
}

void ipm__rec_shrink(ipm_client_t *c, ipm__rec_t *r)
{
    /* After PUBREC the message itself is the server's: keep only the packet id. */
    cut(c->mem.store, &c->store_len, r->off + IPM__REC_HDR, r->len);
    r->len = 0;
    ipm__rec_put(c, r);
}

int ipm__rec_append(ipm_client_t *c, const ipm_packet_t *pkt)
{
    int64_t n = ipm_packet_size(pkt, c->cfg.version);
    if (n < 0)
        return (int)n;
    if ((uint64_t)n > c->mem.store_cap || c->store_len > c->mem.store_cap - (size_t)n ||
        c->mem.store_cap - c->store_len - (size_t)n < IPM__REC_HDR)
        return IPM_EFULL;
    ipm__rec_t r = {.off = c->store_len, .len = (uint32_t)n, .pid = 0,
                    .state = IPM__MSG_QUEUED, .qos = pkt->u.publish.qos};
    int64_t w = ipm_encode(pkt, c->cfg.version, c->mem.store + r.off + IPM__REC_HDR,
                           c->mem.store_cap - r.off - IPM__REC_HDR);
    if (w < 0)
        return (int)w;
    ipm__rec_put(c, &r);
    c->store_len += IPM__REC_HDR + (size_t)n;
    c->queued++;
    return IPM_OK;
}

int ipm__rec_drop_oldest(ipm_client_t *c)
{
    ipm__rec_t r;
    for (size_t off = 0; off < c->store_len; off = ipm__rec_next(&r)) {
        ipm__rec_get(c, off, &r);
        if (r.state == IPM__MSG_QUEUED) {
            ipm__rec_remove(c, &r);
            c->dropped++;
            ipm__event(c, IPM_EV_DROPPED, IPM_EFULL, 0, NULL);
            return 1;
        }
    }
    return 0;
}

static bool pid_used(const ipm_client_t *c, uint16_t pid)
{
    ipm__rec_t r;
    if (c->wait_pid == pid)
        return true;
    for (size_t off = 0; off < c->store_len; off = ipm__rec_next(&r)) {
        ipm__rec_get(c, off, &r);
        if (r.pid == pid)
            return true;
    }
    return false;
}

uint16_t ipm__pid_alloc(ipm_client_t *c)
{
    /* At most 65535 ids; the store cannot hold that many records of 8+ bytes each unless
     * it is huge, and then the scan stops after one full turn. */
    for (uint32_t tries = 0; tries < 65535u; tries++) {
        c->next_pid = (uint16_t)(c->next_pid == 65535u ? 1u : c->next_pid + 1u);
        if (!pid_used(c, c->next_pid))
            return c->next_pid;
    }
    return 0;
}

/* ---- subscriptions: [sub_hdr_t][filter] ------------------------------------------------ */

#define SUB_HDR sizeof(sub_hdr_t)

int ipm__subs_next(const ipm_client_t *c, size_t *off, ipm_bytes_t *filter, uint8_t *options,
                   uint32_t *sub_id)
{
    if (*off + SUB_HDR > c->subs_len)
        return 0;
    sub_hdr_t h;
    memcpy(&h, c->mem.subs + *off, sizeof h);
    filter->len = h.len;
    filter->data = c->mem.subs + *off + SUB_HDR;
    *options = h.options;
    *sub_id = h.sub_id;
    *off += SUB_HDR + filter->len;
    return 1;
}

void ipm__subs_del(ipm_client_t *c, const char *filter)
{
    size_t n = strlen(filter), off = 0, at = 0;
    ipm_bytes_t f;
    uint8_t o;
    uint32_t id;
    while (at = off, ipm__subs_next(c, &off, &f, &o, &id)) {
        if (f.len == n && !memcmp(f.data, filter, n)) {
            cut(c->mem.subs, &c->subs_len, at, off - at);
            return;
        }
    }
}

int ipm__subs_add(ipm_client_t *c, const char *filter, uint8_t options, uint32_t sub_id)
{
    size_t n = strlen(filter);
    ipm__subs_del(c, filter);
    if (n > 0xFFFFu || c->mem.subs_cap < c->subs_len || c->mem.subs_cap - c->subs_len < SUB_HDR + n)
        return IPM_ENOSPACE;
    sub_hdr_t h = {.len = (uint16_t)n, .options = options, .sub_id = sub_id};
    memcpy(c->mem.subs + c->subs_len, &h, sizeof h);
    memcpy(c->mem.subs + c->subs_len + SUB_HDR, filter, n);
    c->subs_len += SUB_HDR + n;
    return IPM_OK;
}

/* ---- incoming QoS 2 ids ---------------------------------------------------------------- */

bool ipm__q2_has(const ipm_client_t *c, uint16_t pid)
{
    for (uint16_t i = 0; i < c->qos2_count; i++)
        if (c->mem.qos2_ids[i] == pid)
            return true;
    return false;
}

int ipm__q2_add(ipm_client_t *c, uint16_t pid)
{
    if (c->qos2_count >= c->mem.qos2_cap)
        return IPM_EQUOTA;
    c->mem.qos2_ids[c->qos2_count++] = pid;
    return IPM_OK;
}

void ipm__q2_del(ipm_client_t *c, uint16_t pid)
{
    for (uint16_t i = 0; i < c->qos2_count; i++) {
        if (c->mem.qos2_ids[i] == pid) {
            c->mem.qos2_ids[i] = c->mem.qos2_ids[--c->qos2_count];
            return;
        }
    }
}

/* ---- incoming topic aliases: [alias_hdr_t][topic] ------------------------------------- */

static int alias_find(const ipm_client_t *c, uint16_t alias, size_t *at, ipm_bytes_t *topic)
{
    alias_hdr_t h;
    for (size_t off = 0; off + sizeof h <= c->aliases_len; off += sizeof h + h.len) {
        memcpy(&h, c->mem.aliases + off, sizeof h);
        if (h.alias == alias) {
            *at = off;
            topic->data = c->mem.aliases + off + sizeof h;
            topic->len = h.len;
            return 1;
        }
    }
    return 0;
}

int ipm__alias_get(const ipm_client_t *c, uint16_t alias, ipm_bytes_t *topic)
{
    size_t at;
    return alias_find(c, alias, &at, topic);
}

int ipm__alias_set(ipm_client_t *c, uint16_t alias, ipm_bytes_t topic)
{
    size_t at;
    ipm_bytes_t old;
    if (alias_find(c, alias, &at, &old)) {
        size_t end = at + sizeof(alias_hdr_t) + old.len;
        cut(c->mem.aliases, &c->aliases_len, at, end - at);
    }
    if (topic.len > 0xFFFFu || c->mem.aliases_cap < c->aliases_len ||
        c->mem.aliases_cap - c->aliases_len < sizeof(alias_hdr_t) + topic.len)
        return IPM_EQUOTA;
    alias_hdr_t h = {.alias = alias, .len = (uint16_t)topic.len};
    memcpy(c->mem.aliases + c->aliases_len, &h, sizeof h);
    memcpy(c->mem.aliases + c->aliases_len + sizeof h, topic.data, topic.len);
    c->aliases_len += sizeof h + topic.len;
    return IPM_OK;
}
