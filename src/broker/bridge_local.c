/*
 * bridge_local.c - the local side of a bridge (bridge.c has the remote side): a connection
 * of this broker over a transport of the bridge's own. The bridge writes packets into it as
 * a client would (fed on the next turn of the loop, never from inside the broker's own
 * writing to it), and what the broker writes to it is parsed here and goes to the remote.
 */
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "bridge_int.h"
#include "conn.h"
#include "core.h"
#include "log.h"

void ipb__bridge_kick(ipb_bridge_t *br)
{
    if (!uv_is_closing((uv_handle_t *)&br->kick))
        uv_timer_start(&br->kick, ipb__bridge_on_kick, 0, 0);
}

/* ---- writing to the broker ----------------------------------------- */

void ipb__bridge_local_send(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    if (!br->lc || br->lc_closed)
        return;
    int64_t size = ipm_packet_size(pkt, IPM_PROTO_V5);
    if (size < 0)
        return;
    size_t at = br->lout.len;
    uint8_t zero[64] = {0};
    for (int64_t left = size; left > 0; left -= (int64_t)sizeof zero)
        if (!ipb__bridge_buf_add(&br->lout, zero,
                                 left < (int64_t)sizeof zero ? (size_t)left : sizeof zero))
            return;
    ipm_encode(pkt, IPM_PROTO_V5, br->lout.p + at, (size_t)size);
    ipb__bridge_kick(br);
}

void ipb__bridge_local_ack(ipb_bridge_t *br, uint8_t type, uint16_t pid)
{
    ipm_packet_t pkt = {.type = type};
    pkt.u.ack.packet_id = pid;
    ipb__bridge_local_send(br, &pkt);
}

/* Hand lout to the broker as if it had been read from a socket. */
static void feed(ipb_bridge_t *br)
{
    size_t off = 0;
    while (off < br->lout.len && br->lc && !br->lc_closed && br->lc->state < IPB_CONN_CLOSING) {
        uv_buf_t buf;
        ipb_conn_read_buf(br->lc, br->lout.len - off, &buf);
        if (!buf.len)
            break;
        size_t n = br->lout.len - off < buf.len ? br->lout.len - off : buf.len;
        memcpy(buf.base, br->lout.p + off, n);
        off += n;
        ipb_conn_on_read(br->lc, (ssize_t)n, &buf);
    }
    br->lout.len = 0;
}

/* ---- notifications ------------------------------------------------------------------ */

void ipb__bridge_notify_local(ipb_bridge_t *br, bool up)
{
    if (br->cfg->notifications && !br->b->closing)
        ipb_local_publish(br->b, br->notify_topic, (const uint8_t *)(up ? "1" : "0"), 1, 1, true);
}

/* ---- the local side: a connection of this broker ------------------------------------ */

static void subscribe_local(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    for (unsigned i = 0; i < c->n_topics; i++) {
        const ipb_bridge_topic_t *t = &c->topics[i];
        char filter[IPB__BRIDGE_TOPIC_MAX];
        size_t flen = ipb__bridge_filter(t, false, filter, sizeof filter);
        if (!(t->direction & IPB_BRIDGE_OUT) || !flen)
            continue;
        /* No Local: what the bridge brought in does not go back; Retain As Published;
         * retained messages only for a new subscription, not on every reconnect. */
        ipm_sub_t sub = {.filter = {(const uint8_t *)filter, (uint32_t)flen},
                         .options = (uint8_t)(t->qos | IPM_SUBOPT_NO_LOCAL |
                                              IPM_SUBOPT_RETAIN_AS_PUBLISHED |
                                              (1u << IPM_SUBOPT_RETAIN_HANDLING_SHIFT))};
        ipm_packet_t pkt = {.type = IPM_SUBSCRIBE};
        pkt.u.subscribe =
            (ipm_subscribe_t){.packet_id = (uint16_t)(1 + i), .subs = &sub, .count = 1};
        br->lc_subs++;
        ipb__bridge_local_send(br, &pkt);
    }
}

/* A PUBLISH the broker delivers to the bridge: to the remote under its remote topic. */
static void local_publish(ipb_bridge_t *br, const ipm_publish_t *p)
{
    char topic[IPB__BRIDGE_TOPIC_MAX];
    size_t tlen = ipb__bridge_map(br->cfg, true, (const char *)p->topic.data, p->topic.len, topic,
                                  sizeof topic, NULL);
    ipm_packet_t pkt = {.type = IPM_PUBLISH};
    pkt.u.publish = *p;
    pkt.u.publish.topic = (ipm_bytes_t){(const uint8_t *)topic, (uint32_t)tlen};
    pkt.u.publish.retain = p->retain && br->cfg->outgoing_retain;
    if (br->version != IPM_PROTO_V5)
        pkt.u.publish.props = (ipm_props_t){0};
    int64_t size = tlen ? ipm_packet_size(&pkt, br->version) : -1;
    uint32_t max = br->cfg->max_packet_size;
    if (br->remote_max && (!max || br->remote_max < max))
        max = br->remote_max;
    if (br->state != IPB__BR_UP)
        return; /* not acknowledged: the session sends it again, with DUP, next time */
    if (size < 0 || (max && size > max)) {
        /* Too large for the remote (or not mappable): done with, as mosquitto drops it. */
        if (p->qos == 1)
            ipb__bridge_local_ack(br, IPM_PUBACK, p->packet_id);
        else if (p->qos == 2) {
            br->pid[p->packet_id] = IPB__BRPID_Q2_DONE;
            ipb__bridge_local_ack(br, IPM_PUBREC, p->packet_id);
        }
        return;
    }
    if (p->qos)
        br->pid[p->packet_id] = p->qos == 1 ? IPB__BRPID_Q1 : IPB__BRPID_Q2_REC;
    ipb__bridge_remote_send(br, &pkt);
}

static void local_packet(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    uint16_t pid = pkt->u.ack.packet_id;
    switch (pkt->type) {
    case IPM_CONNACK:
        if (pkt->u.connack.reason) {
            ipb__log(br->b, IPB_LOG_ERR,
                     "Bridge %s: this broker refused its local side "
                     "(reason 0x%02x).",
                     br->cfg->name, pkt->u.connack.reason);
            return;
        }
        br->lc_up = true;
        subscribe_local(br);
        if (br->state == IPB__BR_UP)
            ipb__bridge_notify_local(br, true);
        break;
    case IPM_SUBACK:
        /* Opened at start with the remote still away, only to make the session and its
         * subscriptions: offline again once they are in place, queueing. */
        if (br->lc_subs && --br->lc_subs == 0 && br->state != IPB__BR_UP)
            ipb__bridge_local_close(br);
        break;
    case IPM_PUBLISH: local_publish(br, &pkt->u.publish); break;
    case IPM_PUBREL:
        if (br->pid[pid] == IPB__BRPID_Q2_COMP) {
            br->pid[pid] = IPB__BRPID_Q2_RELD;
        } else {
            br->pid[pid] = IPB__BRPID_FREE;
            ipb__bridge_local_ack(br, IPM_PUBCOMP, pid);
        }
        break;
    case IPM_PUBACK: /* the broker took a message of the remote's: so may the remote know */
    case IPM_PUBREC:
    case IPM_PUBCOMP: ipb__bridge_remote_ack(br, pkt->type, pid); break;
    default: /* SUBACK, DISCONNECT: the connection's end follows through the transport */ break;
    }
}

static void local_parse(ipb_bridge_t *br)
{
    size_t used = 0;
    for (;;) {
        ipm_frame_t f;
        ipm_packet_t pkt;
        if (ipm_frame(br->lin.p + used, br->lin.len - used, 0, &f) < 0)
            break;
        if (ipm_decode(&f, br->lin.p + used, IPM_PROTO_V5, &pkt) == 0)
            local_packet(br, &pkt);
        used += f.total_len;
    }
    ipb__bridge_buf_consume(&br->lin, used);
}

static int ltr_read_start(ipb_transport_t *t)
{
    (void)t;
    return 0;
}

/* Bytes the broker writes to the bridge: parsed at once; none while the remote is backed
 * up, so the session's window and queue hold them instead of memory here. */
static int ltr_try_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    ipb_bridge_t *br = ((ipb__bridge_ltr_t *)t)->br;
    if (!br->closing && ipb__bridge_backlog(br) > IPB__BR_BACKLOG_MAX)
        return UV_EAGAIN;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!ipb__bridge_buf_add(&br->lin, bufs[i].base, bufs[i].len))
            return UV_ENOMEM;
        total += bufs[i].len;
    }
    local_parse(br);
    return (int)total;
}

static int ltr_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    ipb_bridge_t *br = ((ipb__bridge_ltr_t *)t)->br;
    for (unsigned i = 0; i < n; i++)
        if (!ipb__bridge_buf_add(&br->lin, bufs[i].base, bufs[i].len))
            return UV_ENOMEM;
    local_parse(br);
    br->lc_written = true; /* acknowledged once the remote has drained (kick) */
    if (ipb__bridge_backlog(br) <= IPB__BR_BACKLOG_MAX)
        ipb__bridge_kick(br);
    return 0;
}

static void ltr_close(ipb_transport_t *t)
{
    ipb_bridge_t *br = ((ipb__bridge_ltr_t *)t)->br;
    br->lc_closed = true;
    ipb__bridge_kick(br);
}

static void ltr_peer(ipb_transport_t *t, char *buf, size_t len)
{
    snprintf(buf, len, "bridge %s", ((ipb__bridge_ltr_t *)t)->br->cfg->name);
}

static const ipb_transport_vt local_vt = {
    .name = "bridge",
    .read_start = ltr_read_start,
    .read_stop = ltr_read_start,
    .try_write = ltr_try_write,
    .write = ltr_write,
    .close = ltr_close,
    .peer = ltr_peer,
};

void ipb__bridge_local_open(ipb_bridge_t *br)
{
    ipb_broker_t *b = br->b;
    if (br->lc)
        return; /* the last one is still closing: opened again from the kick */
    /* The local side belongs to no listener: the first unused slot, which
     * ipb__bridges_start filled with the listener defaults. */
    br->ltr.t.vt = &local_vt;
    br->ltr.br = br;
    br->lc = ipb_conn_new(b, b->cfg.n_listeners, &br->ltr.t);
    if (!br->lc) {
        ipb__bridge_remote_down(br, "has no room for its local side");
        return;
    }
    const ipb_bridge_config_t *c = br->cfg;
    /* With local_username it logs in like a client, and the ACL applies to it as that user. */
    br->lc->trusted = !c->local_username[0];
    br->lc_up = br->lc_end = false;
    br->lc_subs = 0;
    br->lin.len = br->lout.len = 0;
    bool clean = c->local_cleansession < 0 ? c->cleansession : c->local_cleansession;
    ipm_prop_t props[2];
    uint16_t np = 0;
    if (!clean)
        props[np++] = (ipm_prop_t){.id = IPM_PROP_SESSION_EXPIRY_INTERVAL, .num = UINT32_MAX};
    /* No more in flight towards the bridge than the remote takes from it. */
    props[np++] = (ipm_prop_t){.id = IPM_PROP_RECEIVE_MAXIMUM, .num = br->remote_recv};
    ipm_packet_t pkt = {.type = IPM_CONNECT};
    pkt.u.connect = (ipm_connect_t){.version = IPM_PROTO_V5,
                                    .clean_start = clean,
                                    .client_id = ipm_str(br->local_id),
                                    .props = {.list = props, .count = np}};
    if (c->local_username[0]) {
        pkt.u.connect.has_username = true;
        pkt.u.connect.username = ipm_str(c->local_username);
    }
    if (c->local_password[0]) {
        pkt.u.connect.has_password = true;
        pkt.u.connect.password = ipm_str(c->local_password);
    }
    ipb__bridge_local_send(br, &pkt);
}

/* End the local side (the remote is gone, or the broker closes) on the next kick, as if
 * its socket had closed: never from inside the broker's own writing to it. */
void ipb__bridge_local_close(ipb_bridge_t *br)
{
    br->lc_up = false;
    br->lout.len = 0;
    br->lc_end = br->lc != NULL;
    ipb__bridge_kick(br);
}

void ipb__bridge_on_kick(uv_timer_t *t)
{
    ipb_bridge_t *br = t->data;
    if (br->lc && br->lc_written &&
        (br->closing || ipb__bridge_backlog(br) <= IPB__BR_BACKLOG_MAX)) {
        br->lc_written = false;
        ipb_conn_on_written(br->lc, 0);
    }
    if (br->lc && br->lc_closed) {
        ipb_conn_t *c = br->lc;
        br->lc = NULL;
        br->lc_closed = br->lc_written = false;
        ipb_conn_on_closed(c);
        if (br->state == IPB__BR_UP && !br->closing)
            ipb__bridge_local_open(br); /* the remote came back while the last local side closed */
    }
    if (br->lout.len)
        feed(br);
    if (br->lc && br->lc_end) {
        br->lc_end = false;
        if (!br->lc_closed && br->lc->state < IPB_CONN_CLOSING)
            ipb_conn_on_read(br->lc, UV_EOF, NULL);
    }
    /* The kick timer goes last: the local connection may still need it until it is gone. */
    if (br->closing && !br->lc && !uv_is_closing((uv_handle_t *)&br->kick))
        uv_close((uv_handle_t *)&br->kick, ipb__bridge_handle_closed);
}
