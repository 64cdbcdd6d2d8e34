/*
 * handle_publish.c - PUBLISH and PUBREL from clients, the path every message takes into
 * the broker (ipb__publish), wills, and the in-process publish/subscribe API.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Words for the reasons a PUBLISH is refused, sent as the 5.0 Reason String. */
static const char *refusal_text(uint8_t reason)
{
    switch (reason) {
    case IPM_RC_NOT_AUTHORIZED: return "not authorized to publish to this topic";
    case IPM_RC_QUOTA_EXCEEDED: return "message too large, or the broker is over its memory limit";
    case IPM_RC_TOPIC_NAME_INVALID: return "topic longer or deeper than the broker allows";
    case IPM_RC_PACKET_IDENTIFIER_NOT_FOUND: return "no such packet identifier";
    default: return NULL;
    }
}

static void ack(ipb_conn_t *c, uint8_t type, uint16_t pid, uint8_t reason)
{
    ipm_packet_t pkt = {.type = type};
    pkt.u.ack.packet_id = pid;
    pkt.u.ack.reason = c->version == IPM_PROTO_V5 ? reason : 0;
    const char *why = refusal_text(reason);
    ipm_prop_t text = {.id = IPM_PROP_REASON_STRING, .bin = ipm_str(why)};
    /* MQTT-3.1.2-29: none when the client asked for no problem information. */
    if (c->version == IPM_PROTO_V5 && why && !c->no_problem_info)
        pkt.u.ack.props = (ipm_props_t){.list = &text, .count = 1};
    ipb__conn_send(c, &pkt);
}

static void run_deferred(ipb_broker_t *b)
{
    b->draining = true;
    for (size_t i = 0; i < b->ndeferred; i++) {
        ipb_msg_t *m = b->deferred[i];
        b->deferred[i] = NULL;
        ipb__publish(b, m); /* nested publishes append; this loop reaches them too */
        ipb__msg_unref(m);
    }
    b->ndeferred = 0;
    b->draining = false;
}

void ipb__publish(ipb_broker_t *b, ipb_msg_t *m)
{
    if (b->fanout_depth) {
        /* Published from inside a delivery callback: after the current fan-out. */
        if (b->ndeferred == b->deferred_cap) {
            size_t nc = b->deferred_cap ? b->deferred_cap * 2 : 16;
            ipb_msg_t **nd = realloc(b->deferred, nc * sizeof *nd);
            if (!nd)
                return;
            b->deferred = nd;
            b->deferred_cap = nc;
        }
        ipb__msg_ref(m);
        b->deferred[b->ndeferred++] = m;
        return;
    }
    b->fanout_depth++;
    if (m->retain && b->cfg.retain_available)
        ipb__retain_set(b, m);
    ipb__fanout(b, m);
    b->fanout_depth--;
    if (!b->fanout_depth && b->ndeferred && !b->draining)
        run_deferred(b);
}

void ipb__will_publish(ipb_broker_t *b, ipb_msg_t *will)
{
    ipb__publish(b, will);
}

/* Resolve a 5.0 topic alias; returns the topic, or a reason code to disconnect with. */
static uint8_t resolve_alias(ipb_conn_t *c, ipm_publish_t *p)
{
    ipm_prop_t prop;
    if (c->version != IPM_PROTO_V5 || !ipm_props_get(&p->props, IPM_PROP_TOPIC_ALIAS, &prop))
        return p->topic.len ? 0 : IPM_RC_PROTOCOL_ERROR;
    uint16_t max = c->b->cfg.topic_alias_maximum;
    if (prop.num == 0 || prop.num > max)
        return IPM_RC_TOPIC_ALIAS_INVALID;
    if (!c->alias && !(c->alias = calloc(1, sizeof *c->alias)))
        return IPM_RC_SERVER_BUSY;
    if (!c->alias->in && !(c->alias->in = calloc(max, sizeof *c->alias->in)))
        return IPM_RC_SERVER_BUSY;
    ipb_alias_t *a = &c->alias->in[prop.num - 1];
    if (!p->topic.len) {
        if (!a->topic)
            return IPM_RC_PROTOCOL_ERROR; /* an alias never set */
        p->topic = (ipm_bytes_t){(const uint8_t *)a->topic, a->len};
        return 0;
    }
    char *t = malloc(p->topic.len + 1u);
    if (!t)
        return IPM_RC_SERVER_BUSY;
    memcpy(t, p->topic.data, p->topic.len);
    t[p->topic.len] = 0;
    free(a->topic);
    a->topic = t;
    a->len = (uint16_t)p->topic.len;
    return 0;
}

static bool rx_qos2_has(ipb_session_t *s, uint16_t pid)
{
    for (unsigned i = 0; i < s->nrx_qos2; i++)
        if (s->rx_qos2[i] == pid)
            return true;
    return false;
}

static bool rx_qos2_add(ipb_session_t *s, uint16_t pid)
{
    /* Capacity is 0, or the smallest power of two >= max(4, count): grow when full. */
    unsigned cap = 0;
    if (s->nrx_qos2)
        for (cap = 4; cap < s->nrx_qos2; cap *= 2)
            ;
    if (s->nrx_qos2 == cap) {
        unsigned nc = cap ? cap * 2u : 4u;
        uint16_t *n = realloc(s->rx_qos2, nc * sizeof *n);
        if (!n)
            return false;
        s->rx_qos2 = n;
    }
    s->rx_qos2[s->nrx_qos2++] = pid;
    return true;
}

/* Why this PUBLISH is not delivered (a 5.0 reason for the ack), or 0 to deliver it. */
static uint8_t refusal(ipb_conn_t *c, const ipm_publish_t *p)
{
    ipb_broker_t *b = c->b;
    if (b->cfg.message_size_limit && p->payload.len > b->cfg.message_size_limit)
        return IPM_RC_QUOTA_EXCEEDED; /* 0x95 is not a PUBACK reason */
    /* '$' topics, ACLs and topic limits: the auth hook (security.c) says no. */
    if (!b->auth || !b->auth->publish)
        return 0;
    char topic[IPM_MAX_STRING_LEN + 1];
    memcpy(topic, p->topic.data, p->topic.len);
    topic[p->topic.len] = 0;
    ipb_auth_client_t cl = {.client_id = c->s->id, .username = c->username,
                            .listener = c->listener, .version = c->version};
    return b->auth->publish(b->auth_ctx, &cl, topic, p->qos, p->retain);
}

int ipb__handle_publish(ipb_conn_t *c, ipm_publish_t *p)
{
    ipb_broker_t *b = c->b;
    ipb_session_t *s = c->s;
    b->st.pub_received++;
    uint8_t rc = resolve_alias(c, p);
    if (!rc && p->retain && !b->cfg.retain_available)
        rc = IPM_RC_RETAIN_NOT_SUPPORTED;
    if (!rc && p->qos == 2 && !rx_qos2_has(s, p->packet_id) &&
        s->nrx_qos2 >= (b->cfg.max_inflight_messages ? b->cfg.max_inflight_messages : UINT16_MAX))
        rc = IPM_RC_RECEIVE_MAXIMUM_EXCEEDED;
    if (rc) {
        ipb__conn_kick(c, rc, "sent a PUBLISH that is not allowed");
        return -1;
    }
    if (p->qos == 2 && rx_qos2_has(s, p->packet_id)) {
        ack(c, IPM_PUBREC, p->packet_id, 0); /* a resend: delivered already */
        return 0;
    }
    uint8_t refused = refusal(c, p);
    if (!refused) {
        ipb_msg_t *m = ipb__msg_new((const char *)p->topic.data, p->topic.len, p->payload.data,
                                    p->payload.len, p->qos, p->retain,
                                    c->version == IPM_PROTO_V5 ? &p->props : NULL,
                                    ipb__now(b));
        if (!m) {
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
            return -1;
        }
        m->origin = s->serial;
        ipb__publish(b, m);
        ipb__msg_unref(m);
    } else {
        b->st.pub_dropped++;
    }
    if (p->qos == 1) {
        ack(c, IPM_PUBACK, p->packet_id, refused);
    } else if (p->qos == 2) {
        if (!refused && !rx_qos2_add(s, p->packet_id)) {
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
            return -1;
        }
        ack(c, IPM_PUBREC, p->packet_id, refused);
    }
    return 0;
}

int ipb__handle_pubrel(ipb_conn_t *c, const ipm_ack_t *a)
{
    ipb_session_t *s = c->s;
    for (unsigned i = 0; i < s->nrx_qos2; i++) {
        if (s->rx_qos2[i] != a->packet_id)
            continue;
        s->rx_qos2[i] = s->rx_qos2[--s->nrx_qos2];
        ack(c, IPM_PUBCOMP, a->packet_id, 0);
        return 0;
    }
    ack(c, IPM_PUBCOMP, a->packet_id, IPM_RC_PACKET_IDENTIFIER_NOT_FOUND);
    return 0;
}

/* ---- in-process clients ----------------------------------------------------------- */

int ipb_local_subscribe(ipb_broker_t *b, const char *filter, uint8_t qos, ipb_local_cb cb,
                        void *arg)
{
    if (!b || !filter || !cb || qos > 2)
        return IPM_EINVALID;
    size_t len = strlen(filter);
    ipm_bytes_t g, f;
    int shared = ipm_shared_split((const uint8_t *)filter, len, &g, &f);
    if (shared < 0 || (!shared && !ipm_topic_filter_valid((const uint8_t *)filter, len)))
        return IPM_EBAD_FILTER;
    bool isnew;
    if (!ipb__sub_add(b, NULL, cb, arg, filter, len, qos, 0, &isnew))
        return IPM_ENOMEM;
    if (!shared)
        ipb__retain_send(b, NULL, cb, arg, filter, len, qos, 0);
    return 0;
}

int ipb_local_unsubscribe(ipb_broker_t *b, const char *filter, ipb_local_cb cb, void *arg)
{
    if (!b || !filter || !cb)
        return IPM_EINVALID;
    return ipb__sub_remove(b, NULL, cb, arg, filter, strlen(filter)) ? 0 : IPM_EINVALID;
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
