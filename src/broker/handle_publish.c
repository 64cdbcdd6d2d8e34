/*
 * handle_publish.c - PUBLISH and PUBREL from clients: aliases resolved, QoS 2 duplicates
 * recognised, refusals acknowledged with their reasons, and the message handed to
 * routing (route.c).
 */
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "handlers.h"
#include "local.h"
#include "outq.h"
#include "persist.h"
#include "route.h"
#include "session.h"

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
    ipb__out_send(c, &pkt);
}

/* Why this PUBLISH is not delivered (a 5.0 reason for the ack), or 0 to deliver it. */
static uint8_t refusal(ipb_conn_t *c, const ipm_publish_t *p, ipb_drop_t *why)
{
    ipb_broker_t *b = c->b;
    *why = IPB_DROP_MESSAGE_SIZE;
    if (b->cfg.message_size_limit && p->payload.len > b->cfg.message_size_limit)
        return IPM_RC_QUOTA_EXCEEDED; /* 0x95 is not a PUBACK reason */
    /* '$' topics, ACLs and topic limits: the auth hook (security.c) says no. */
    if (!b->auth || !b->auth->publish || c->trusted ||
        ipb__conn_bridge_state(c->s->id, p->topic.data, p->topic.len))
        return 0;
    char topic[IPM_MAX_STRING_LEN + 1];
    memcpy(topic, p->topic.data, p->topic.len);
    topic[p->topic.len] = 0;
    ipb_auth_client_t cl = {.client_id = c->s->id, .username = c->username,
                            .listener = c->listener, .version = c->version};
    uint8_t rc = b->auth->publish(b->auth_ctx, &cl, topic, p->qos, p->retain);
    /* The reason codes security.c refuses with, each for one cause. */
    *why = rc == IPM_RC_NOT_AUTHORIZED       ? IPB_DROP_NOT_AUTHORIZED
           : rc == IPM_RC_TOPIC_NAME_INVALID ? IPB_DROP_TOPIC_LIMIT
           : rc == IPM_RC_QUOTA_EXCEEDED     ? IPB_DROP_MEMORY_LIMIT
                                             : IPB_DROP_REFUSED;
    return rc;
}

/*
 * Acknowledge now, or (persistence) once the commit holding what this packet changed is
 * done. An acknowledgement also waits when an earlier one of the session still does, so
 * they leave in the order their packets came (MQTT-4.6.0-2).
 */
static int ack_after(ipb_conn_t *c, bool wait, uint8_t type, uint16_t pid, uint8_t reason)
{
    ipb_broker_t *b = c->b;
    if (!wait) {
        ack(c, type, pid, reason);
        return 0;
    }
    if (ipb__persist_hold(b->persist, c->s, c, type, pid, reason))
        return 0;
    ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
    return -1;
}

/*
 * After waiting for in-process receivers (local.c): the commit's turn. What the packet
 * changed may be committed by now; if anything is pending it is held, to be safe.
 * A QoS 2 id received is committed only now when a receiver that records QoS 2 exchanges
 * took its message (ipb__handle_publish): committed before that receiver's own record, a
 * crash in between would make the client's resend look stored to the broker although
 * the receiver never stored it. Written again for a resend (or an acknowledgement that
 * only waited for its turn): the first copy's connection may have closed before this.
 */
static void local_release(ipb_conn_t *c, bool changed, uint8_t type, uint16_t pid,
                          uint8_t reason)
{
    ipb_persist_t *p = c->b->persist;
    if (c->state != IPB_CONN_ACTIVE || !c->s)
        return;
    if (p && type == IPM_PUBREC && !reason && c->s->expiry &&
        ipb__session_rx_has(c->s, pid)) {
        ipb__persist_rx(p, c->s->id, pid, true);
        changed = true;
    }
    ack_after(c, p && ((changed && ipb__persist_pending(p)) || ipb__session_held(c->s)), type,
              pid, reason);
}

/* First in-process receivers that acknowledge (local.h), then the commit (persist.h). */
static int ack_waiting(ipb_conn_t *c, bool changed, bool barrier, uint8_t type, uint16_t pid,
                       uint8_t reason)
{
    ipb_persist_t *p = c->b->persist;
    int held = ipb__local_ack(c, changed, type, pid, reason, barrier, local_release);
    if (held < 0) {
        ipb__conn_kick(c, IPM_RC_RECEIVE_MAXIMUM_EXCEEDED, "too many messages waiting");
        return -1;
    }
    if (held)
        return 0;
    return ack_after(c, changed || (p && ipb__session_held(c->s)), type, pid, reason);
}

static int ack_stored(ipb_conn_t *c, uint64_t mark, uint8_t type, uint16_t pid, uint8_t reason)
{
    ipb_persist_t *p = c->b->persist;
    return ack_waiting(c, p && ipb__persist_mark(p) != mark, false, type, pid, reason);
}

void ipb__publish_release(ipb_broker_t *b, ipb_conn_t *c, uint8_t type, uint16_t pid,
                          uint8_t reason, bool stored)
{
    if (c->state != IPB_CONN_ACTIVE)
        return;
    if (type == IPM_PUBREC && !stored && !reason && ipb__session_rx_release(c->s, pid) &&
        b->persist && c->s->expiry) {
        /* The refusal ends the flow: a PUBLISH under this id again (3.x resending it after
         * reconnecting, 5.0 a new message) is routed and stored, not taken for one already
         * stored. The id's row, if an earlier commit wrote it, goes too. */
        ipb__persist_rx(b->persist, c->s->id, pid, false);
    }
    if (stored || reason) {
        ack(c, type, pid, reason);
    } else if (c->version == IPM_PROTO_V5 && type != IPM_PUBCOMP) {
        ack(c, type, pid, IPM_RC_QUOTA_EXCEEDED);
    } else {
        /* 3.x has no refusal: the client resends after reconnecting. */
        ipb__conn_kick(c, 0, "its message could not be stored");
    }
}

int ipb__handle_publish(ipb_conn_t *c, ipm_publish_t *p)
{
    ipb_broker_t *b = c->b;
    ipb_session_t *s = c->s;
    b->st.pub_received++;
    uint8_t rc = ipb__alias_in(c, p);
    char mounted[IPM_MAX_STRING_LEN + 1];
    if (!rc && ipb__conn_mount(c) &&
        !(p->topic = ipb__conn_mounted(c, p->topic, mounted)).data)
        rc = IPM_RC_TOPIC_NAME_INVALID; /* too long with the mount point */
    if (!rc && p->retain && !b->cfg.retain_available)
        rc = IPM_RC_RETAIN_NOT_SUPPORTED;
    if (!rc && p->qos > b->cfg.listeners[c->listener].max_qos)
        rc = IPM_RC_QOS_NOT_SUPPORTED; /* 3.x clients were never told: closed as mosquitto does */
    /* MQTT-3.3.4-6: a Subscription Identifier is the server's to send, never the client's. */
    ipm_prop_t subid;
    if (!rc && c->version == IPM_PROTO_V5 &&
        ipm_props_get(&p->props, IPM_PROP_SUBSCRIPTION_IDENTIFIER, &subid))
        rc = IPM_RC_PROTOCOL_ERROR;
    /* The Receive Maximum we announced binds 5.0 clients only: 3.x has none, and its QoS 2
     * ids waiting for PUBREL are bounded by the id space (65,535 ids, 2 bytes each). */
    if (!rc && c->version == IPM_PROTO_V5 && p->qos == 2 &&
        !ipb__session_rx_has(s, p->packet_id) &&
        s->flow && s->flow->nrx_qos2 >= (b->cfg.max_inflight_messages ? b->cfg.max_inflight_messages : UINT16_MAX))
        rc = IPM_RC_RECEIVE_MAXIMUM_EXCEEDED;
    if (rc) {
        ipb__conn_kick(c, rc, "sent a PUBLISH that is not allowed");
        return -1;
    }
    if (p->qos == 2 && ipb__session_rx_has(s, p->packet_id)) {
        /* A resend: delivered already, but perhaps not committed yet (its first PUBREC
         * was dropped with the connection that sent it): then it waits for the commit. */
        bool wait = b->persist && ipb__persist_pending(b->persist);
        return ack_waiting(c, wait, true, IPM_PUBREC, p->packet_id, 0);
    }
    ipb_drop_t why;
    uint8_t refused = refusal(c, p, &why);
    uint64_t mark = b->persist ? ipb__persist_mark(b->persist) : 0;
    bool recorded = false; /* a receiver keeps the QoS 2 id with the message (local.h) */
    if (!refused) {
        ipb_msg_t *m = ipb__msg_new_by(c->username, (const char *)p->topic.data, p->topic.len,
                                       p->payload.data, p->payload.len, p->qos, p->retain,
                                       c->version == IPM_PROTO_V5 ? &p->props : NULL,
                                       ipb__now(b));
        if (!m) {
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
            return -1;
        }
        m->origin = s->serial;
        if (p->retain && b->cfg.check_retain_source &&
            ipb__msg_set_source(m, s->id, c->username) < 0) {
            ipb__msg_unref(m);
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
            return -1;
        }
        if (p->qos)
            ipb__local_begin(b, c, m, p->qos == 2 ? p->packet_id : 0, p->dup);
        ipb__publish(b, m);
        ipb__msg_unref(m);
        if (p->qos && !ipb__local_end(b, &recorded)) {
            /* A receiver could not take it: no acknowledgement, the client sends again. */
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "its message could not be delivered");
            return -1;
        }
    } else {
        b->st.pub_dropped++;
        b->st.dropped[why]++;
    }
    if (p->qos == 1)
        return ack_stored(c, mark, IPM_PUBACK, p->packet_id, refused);
    if (p->qos == 2) {
        if (!refused && !ipb__session_rx_add(s, p->packet_id)) {
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
            return -1;
        }
        /* Exactly once across a restart: the id is kept with the message it came with;
         * after the receiver's record when one took it (local_release). */
        if (!refused && b->persist && s->expiry && !recorded)
            ipb__persist_rx(b->persist, s->id, p->packet_id, true);
        return ack_stored(c, mark, IPM_PUBREC, p->packet_id, refused);
    }
    return 0;
}

int ipb__handle_pubrel(ipb_conn_t *c, const ipm_ack_t *a)
{
    ipb_broker_t *b = c->b;
    uint64_t mark = b->persist ? ipb__persist_mark(b->persist) : 0;
    bool had = ipb__session_rx_release(c->s, a->packet_id);
    if (had && b->persist && c->s->expiry)
        ipb__persist_rx(b->persist, c->s->id, a->packet_id, false);
    /* Receivers that record QoS 2 ids forget this one before the PUBCOMP, known to the
     * broker or not: after a restart without persistence only they may have it. */
    int took = ipb__local_pubrel(c, a->packet_id);
    if (took < 0) {
        ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "its PUBREL could not be delivered");
        return -1;
    }
    /* 0x92 only when no one could have had the id. A receiver that took the PUBREL held
     * the message's record (the client got its PUBREC, which waited for that commit)
     * unless the message never reached it; the client completes the exchange alike. */
    return ack_stored(c, mark, IPM_PUBCOMP, a->packet_id,
                      had || took ? 0 : IPM_RC_PACKET_IDENTIFIER_NOT_FOUND);
}
