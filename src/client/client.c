/*
 * client.c - the client's public API: configuration, connect and session restore,
 * subscribe, publish, flush, and the check_msg()/wait_msg() loop with keepalive and
 * automatic reconnect.
 */
#include <string.h>

#include "client_int.h"

ipm_client_config_t ipm_client_config_default(void)
{
    ipm_client_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.port = 1883;
    cfg.client_id = "";
    cfg.version = IPM_PROTO_V311;
    cfg.keepalive = 60;
    cfg.clean_start = true;
    cfg.connect_timeout_ms = 10000;
    cfg.io_timeout_ms = 10000;
    cfg.max_inflight = 20;
    cfg.reconnect_min_ms = 500;
    cfg.reconnect_max_ms = 30000;
    return cfg;
}

int ipm_client_init(ipm_client_t *c, const ipm_client_config_t *cfg, const ipm_client_mem_t *mem)
{
    if (!c || !cfg || !mem)
        return IPM_EINVALID;
    memset(c, 0, sizeof *c);
    /* Protocol levels 3, 4 and 5 are 3.1, 3.1.1 and 5.0. */
    bool ok = cfg->transport && cfg->platform.now_ms && cfg->host &&
              cfg->version >= IPM_PROTO_V31 && cfg->version <= IPM_PROTO_V5 && cfg->will.qos <= 2 &&
              cfg->will.prop_count <= IPM_CLIENT_MAX_PROPS &&
              cfg->connect_prop_count <= IPM_CLIENT_MAX_PROPS && mem->rx_buf &&
              mem->rx_cap >= 128 && mem->tx_buf && mem->tx_cap >= 128 && mem->qos2_ids &&
              mem->qos2_cap && (mem->store || !mem->store_cap) && (mem->subs || !mem->subs_cap) &&
              (mem->aliases || !mem->aliases_cap);
#if IPM_CLIENT_MANUAL_ACK
    ok = ok && (!cfg->manual_ack || (mem->acks && mem->acks_cap));
#endif
    if (!ok)
        return IPM_EINVALID;
    c->cfg = *cfg;
    c->tr = *cfg->transport;
    c->mem = *mem;
    if (!c->cfg.client_id)
        c->cfg.client_id = "";
    if (!c->cfg.connect_timeout_ms)
        c->cfg.connect_timeout_ms = 10000;
    if (!c->cfg.io_timeout_ms)
        c->cfg.io_timeout_ms = 10000;
    if (!c->cfg.reconnect_min_ms)
        c->cfg.reconnect_min_ms = 500;
    if (c->cfg.reconnect_max_ms < c->cfg.reconnect_min_ms)
        c->cfg.reconnect_max_ms = c->cfg.reconnect_min_ms;
    c->backoff_ms = c->cfg.reconnect_min_ms;
    c->srv_recv_max = 65535;
    c->srv_max_qos = 2;
    c->srv_retain = true;
    return IPM_OK;
}

void ipm_client_set_callback(ipm_client_t *c, ipm_msg_cb cb, void *user)
{
    c->msg_cb = cb;
    c->msg_user = user;
}

void ipm_client_set_event_cb(ipm_client_t *c, ipm_event_cb cb, void *user)
{
    c->ev_cb = cb;
    c->ev_user = user;
}

/* ---- connect ------------------------------------------------------------------------- */

static uint16_t add_props(ipm_prop_t *dst, uint16_t n, const ipm_prop_t *src, uint16_t count)
{
    if (count)
        memcpy(dst + n, src, count * sizeof *src);
    return (uint16_t)(n + count);
}

static uint16_t num_prop(ipm_prop_t *dst, uint16_t n, uint8_t id, uint32_t num)
{
    memset(&dst[n], 0, sizeof dst[n]);
    dst[n].id = id;
    dst[n].num = num;
    return (uint16_t)(n + 1);
}

static int send_connect(ipm_client_t *c)
{
    const ipm_client_config_t *k = &c->cfg;
    ipm_prop_t props[IPM_CLIENT_MAX_PROPS + 4];
    uint16_t n = add_props(props, 0, k->connect_props, k->connect_prop_count);
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    if (k->version == IPM_PROTO_V5) {
        /* What this client can take, from the buffers it was given. */
        if (k->session_expiry)
            n = num_prop(props, n, IPM_PROP_SESSION_EXPIRY_INTERVAL, k->session_expiry);
        uint16_t recv_max = c->mem.qos2_cap;
#if IPM_CLIENT_MANUAL_ACK
        if (k->manual_ack && c->mem.acks_cap < recv_max)
            recv_max = c->mem.acks_cap; /* each message waits in mem.acks until acked */
#endif
        if (recv_max < 65535u)
            n = num_prop(props, n, IPM_PROP_RECEIVE_MAXIMUM, recv_max);
        if (c->mem.rx_cap < IPM_MAX_REMAINING_LENGTH)
            n = num_prop(props, n, IPM_PROP_MAXIMUM_PACKET_SIZE, (uint32_t)c->mem.rx_cap);
        if (c->mem.aliases_cap)
            n = num_prop(props, n, IPM_PROP_TOPIC_ALIAS_MAXIMUM, IPM_CLIENT_TOPIC_ALIAS_MAX);
        p.u.connect.props.list = props;
        p.u.connect.props.count = n;
        p.u.connect.will_props.list = k->will.props;
        p.u.connect.will_props.count = k->will.prop_count;
    }
    p.type = IPM_CONNECT;
    p.u.connect.version = k->version;
    p.u.connect.clean_start = k->clean_start && (k->version != IPM_PROTO_V5 || !c->connected_once);
    p.u.connect.keepalive = k->keepalive;
    p.u.connect.client_id = ipm_str(k->client_id);
    if (k->will.topic) {
        p.u.connect.will = true;
        p.u.connect.will_qos = k->will.qos;
        p.u.connect.will_retain = k->will.retain;
        p.u.connect.will_topic = ipm_str(k->will.topic);
        p.u.connect.will_payload = (ipm_bytes_t){k->will.payload, (uint32_t)k->will.len};
    }
    if (k->username) {
        p.u.connect.has_username = true;
        p.u.connect.username = ipm_str(k->username);
    }
    if (k->password) {
        p.u.connect.has_password = true;
        p.u.connect.password = ipm_str(k->password);
    }
    return ipm__send(c, &p);
}

/* Send a SUBSCRIBE (or UNSUBSCRIBE) for one filter. */
static int send_subscribe(ipm_client_t *c, uint8_t type, ipm_bytes_t filter, uint8_t options,
                          uint32_t sub_id, const ipm_prop_t *user, uint16_t nuser, uint16_t pid)
{
    ipm_prop_t props[IPM_CLIENT_MAX_PROPS + 1];
    uint16_t n = 0;
    ipm_sub_t s = {.filter = filter, .options = options};
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    if (c->cfg.version == IPM_PROTO_V5) {
        if (sub_id)
            n = num_prop(props, n, IPM_PROP_SUBSCRIPTION_IDENTIFIER, sub_id);
        n = add_props(props, n, user, nuser);
    }
    p.type = type;
    p.u.subscribe.packet_id = pid;
    p.u.subscribe.props.list = props;
    p.u.subscribe.props.count = n;
    p.u.subscribe.subs = &s;
    p.u.subscribe.count = 1;
    return ipm__send(c, &p);
}

/* Server limits from CONNACK (5.0); 3.x servers have none. One pass over the block. */
static void read_limits(ipm_client_t *c, const ipm_props_t *props)
{
    ipm_prop_iter_t it;
    ipm_prop_t p;
    c->srv_recv_max = 65535;
    c->srv_max_packet = 0;
    c->srv_alias_max = 0;
    c->srv_max_qos = 2;
    c->srv_retain = true;
    c->keepalive = c->cfg.keepalive;
    ipm_props_iter(props, &it);
    while (c->cfg.version == IPM_PROTO_V5 && ipm_props_next(&it, &p)) {
        switch (p.id) {
        case IPM_PROP_RECEIVE_MAXIMUM:
            c->srv_recv_max = (uint16_t)p.num; /* 0 is a protocol error the codec rejects */
            break;
        case IPM_PROP_MAXIMUM_PACKET_SIZE:
            c->srv_max_packet = p.num;
            break;
        case IPM_PROP_TOPIC_ALIAS_MAXIMUM:
            c->srv_alias_max = (uint16_t)p.num;
            break;
        case IPM_PROP_MAXIMUM_QOS:
            c->srv_max_qos = (uint8_t)p.num;
            break;
        case IPM_PROP_RETAIN_AVAILABLE:
            c->srv_retain = p.num != 0;
            break;
        case IPM_PROP_SERVER_KEEP_ALIVE:
            c->keepalive = (uint16_t)p.num;
            break;
        }
    }
}

int ipm__session_start(ipm_client_t *c, const ipm_connack_t *ack)
{
    read_limits(c, &ack->props);
    c->aliases_len = 0;
    c->alias_out = 0;
    c->inflight = 0;
    if (!ack->session_present)
        c->qos2_count = 0;
    ipm__rec_t r;
    int rc = IPM_OK;
    for (size_t off = 0; rc == IPM_OK && off < c->store_len;) {
        ipm__rec_get(c, off, &r);
        if (r.state == IPM__MSG_QUEUED) {
            off = ipm__rec_next(&r);
        } else if (ack->session_present) {
            /* MQTT-4.4.0-1: same packet ids, PUBLISH with DUP, PUBREL as it was. */
            c->inflight++;
            rc = ipm__send_rec(c, &r, true);
            off = ipm__rec_next(&r);
        } else if (r.state == IPM__MSG_REL) {
            ipm__rec_remove(c, &r); /* the server had it (PUBREC) before losing the session */
            ipm__event(c, IPM_EV_PUBLISHED, IPM_OK, r.pid, NULL);
        } else {
            r.state = IPM__MSG_QUEUED; /* the server forgot it: send it again as new */
            r.pid = 0;
            ipm__rec_put(c, &r);
            c->queued++;
            off = ipm__rec_next(&r);
        }
    }
    size_t off = 0;
    ipm_bytes_t filter;
    uint8_t options;
    uint32_t sub_id;
    while (rc == IPM_OK && !ack->session_present &&
           ipm__subs_next(c, &off, &filter, &options, &sub_id))
        rc = send_subscribe(c, IPM_SUBSCRIBE, filter, options, sub_id, NULL, 0, ipm__pid_alloc(c));
    return rc == IPM_OK ? ipm__drain(c) : rc;
}

static int connect_once(ipm_client_t *c)
{
    c->rx_len = 0;
    c->ping_out = false;
    c->reason = 0;
    c->last_err = 0;
#if IPM_CLIENT_MANUAL_ACK
    c->ack_count = 0; /* the server sends the unacknowledged again on a kept session */
#endif
    c->state = IPM__ST_CONNECTING;
    uint32_t start = ipm__now(c);
    int rc = c->tr.open(c->tr.ctx, c->cfg.host, c->cfg.port, c->cfg.connect_timeout_ms);
    if (rc < 0) {
        ipm__lost(c, rc);
        return rc;
    }
    rc = send_connect(c);
    if (rc < 0) {
        ipm__lost(c, rc);
        return rc;
    }
    while (c->state == IPM__ST_CONNECTING) {
        uint32_t spent = ipm__now(c) - start;
        if (spent >= c->cfg.connect_timeout_ms) {
            ipm__lost(c, IPM_ETIMEOUT);
            return IPM_ETIMEOUT;
        }
        rc = ipm__pump(c, c->cfg.connect_timeout_ms - spent);
        if (rc < 0)
            return rc;
    }
    return c->state == IPM__ST_CONNECTED ? IPM_OK : (c->last_err ? c->last_err : IPM_ECLOSED);
}

int ipm_client_connect(ipm_client_t *c)
{
    if (c->in_cb || c->state == IPM__ST_CONNECTING || c->state == IPM__ST_CONNECTED)
        return IPM_ESTATE;
    return connect_once(c);
}

static void close_now(ipm_client_t *c, int err)
{
    if (c->state == IPM__ST_CONNECTED || c->state == IPM__ST_CONNECTING)
        c->tr.close(c->tr.ctx);
    bool was = c->state == IPM__ST_CONNECTED;
    c->state = IPM__ST_IDLE;
    c->ping_out = false;
    c->last_err = 0;
    if (was)
        ipm__event(c, IPM_EV_DISCONNECTED, err, 0, NULL);
}

int ipm_client_disconnect(ipm_client_t *c, uint8_t reason)
{
    if (c->state != IPM__ST_CONNECTED) {
        close_now(c, IPM_OK);
        return IPM_ENOT_CONNECTED;
    }
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = IPM_DISCONNECT;
    p.u.disconnect.reason = c->cfg.version == IPM_PROTO_V5 ? reason : 0;
    int rc = ipm__send(c, &p);
    close_now(c, IPM_OK);
    return rc < 0 ? rc : IPM_OK;
}

void ipm_client_close(ipm_client_t *c)
{
    close_now(c, IPM_ECLOSED);
}

bool ipm_client_connected(const ipm_client_t *c)
{
    return c->state == IPM__ST_CONNECTED;
}

bool ipm_client_session_present(const ipm_client_t *c)
{
    return c->session_present;
}

const ipm_props_t *ipm_client_connack_props(const ipm_client_t *c)
{
    return &c->connack_props;
}

uint8_t ipm_client_reason(const ipm_client_t *c)
{
    return c->reason;
}

uint32_t ipm_client_dropped(const ipm_client_t *c)
{
    return c->dropped;
}

uint32_t ipm_client_pending(const ipm_client_t *c)
{
    return (uint32_t)c->queued + c->inflight;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* PINGREQ when the keepalive is due; a dead peer when its answer is late. */
static int keepalive(ipm_client_t *c, uint32_t now, uint32_t *wait_ms)
{
    if (!c->keepalive)
        return IPM_OK;
    uint32_t ka = c->keepalive * 1000u;
    uint32_t since = now - (c->ping_out ? c->ping_ms : c->last_tx_ms);
    if (since < ka) {
        if (*wait_ms > ka - since)
            *wait_ms = ka - since;
        return IPM_OK;
    }
    if (c->ping_out) {
        ipm__lost(c, IPM_ETIMEOUT);
        return IPM_ETIMEOUT;
    }
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = IPM_PINGREQ;
    int rc = ipm__send(c, &p);
    if (rc < 0)
        return rc;
    c->ping_out = true;
    c->ping_ms = now;
    if (*wait_ms > ka)
        *wait_ms = ka;
    return IPM_OK;
}

/*
 * One turn of the loop, waiting at most wait_ms. Returns IPM_OK, 1 when there is nothing
 * to wait on (waiting to reconnect without a sleep hook), or the error that ended the
 * connection (without auto reconnect).
 */
static int step(ipm_client_t *c, uint32_t wait_ms)
{
    uint32_t now = ipm__now(c);
    if (c->state == IPM__ST_BACKOFF) {
        int32_t due = (int32_t)(c->reconnect_at - now);
        if (due <= 0) {
            (void)connect_once(c); /* failures come back as events and a new delay */
            return IPM_OK;
        }
        if (!c->cfg.platform.sleep_ms)
            return 1;
        if (wait_ms)
            c->cfg.platform.sleep_ms(c->cfg.platform.ctx,
                                     (uint32_t)due < wait_ms ? (uint32_t)due : wait_ms);
        return IPM_OK;
    }
    if (c->state != IPM__ST_CONNECTED)
        return c->last_err < 0 ? c->last_err : IPM_ENOT_CONNECTED;
    int rc = keepalive(c, now, &wait_ms);
    if (rc == IPM_OK)
        rc = ipm__pump(c, wait_ms);
    return rc < 0 && c->state == IPM__ST_BACKOFF ? IPM_OK : rc;
}

int ipm_client_wait_msg(ipm_client_t *c, uint32_t timeout_ms)
{
    if (c->in_cb)
        return IPM_ESTATE;
    uint32_t start = ipm__now(c);
    c->delivered = 0;
    for (;;) {
        uint32_t spent = ipm__now(c) - start;
        uint32_t left = spent < timeout_ms ? timeout_ms - spent : 0;
        int rc = step(c, left);
        if (rc < 0)
            return rc;
        if (c->delivered || left == 0 || rc == 1)
            return c->delivered;
    }
}

int ipm_client_check_msg(ipm_client_t *c)
{
    return ipm_client_wait_msg(c, 0);
}

int ipm_client_flush(ipm_client_t *c, uint32_t timeout_ms)
{
    if (c->in_cb)
        return IPM_ESTATE;
    uint32_t start = ipm__now(c);
    while (c->queued + c->inflight > 0) {
        uint32_t spent = ipm__now(c) - start;
        if (spent >= timeout_ms)
            return IPM_ETIMEOUT;
        int rc = step(c, timeout_ms - spent < 100u ? timeout_ms - spent : 100u);
        if (rc < 0)
            return rc;
    }
    return IPM_OK;
}

/* ---- subscribe ----------------------------------------------------------------------- */

/* Wait for the SUBACK/UNSUBACK of wait_pid, handling everything else that arrives. */
static int wait_ack(ipm_client_t *c)
{
    uint32_t start = ipm__now(c);
    int rc = IPM_OK;
    while (!c->wait_done) {
        uint32_t spent = ipm__now(c) - start;
        if (c->state != IPM__ST_CONNECTED) {
            rc = c->last_err < 0 ? c->last_err : IPM_ENOT_CONNECTED;
            break;
        }
        if (spent >= c->cfg.io_timeout_ms) {
            rc = IPM_ETIMEOUT;
            break;
        }
        rc = step(c, c->cfg.io_timeout_ms - spent);
        if (rc < 0)
            break;
        rc = IPM_OK;
    }
    c->wait_pid = 0;
    return rc;
}

/* Subscribe or unsubscribe may start: not in a callback, a valid filter, connected. */
static int can_request(const ipm_client_t *c, const char *filter)
{
    if (c->in_cb)
        return IPM_ESTATE;
    if (!filter || !ipm_topic_filter_valid((const uint8_t *)filter, strlen(filter)))
        return IPM_EBAD_FILTER;
    return c->state == IPM__ST_CONNECTED ? IPM_OK : IPM_ENOT_CONNECTED;
}

/* Send SUBSCRIBE or UNSUBSCRIBE and wait for its acknowledgement: its reason code, or < 0. */
static int request(ipm_client_t *c, uint8_t type, const char *filter, uint8_t options,
                   const ipm_sub_opts_t *o)
{
    c->wait_pid = ipm__pid_alloc(c);
    c->wait_type = (uint8_t)(type + 1); /* SUBACK, UNSUBACK */
    c->wait_done = false;
    int rc = send_subscribe(c, type, ipm_str(filter), options, o ? o->subscription_id : 0,
                            o ? o->props : NULL, o ? o->prop_count : 0, c->wait_pid);
    if (rc == IPM_OK)
        rc = wait_ack(c);
    c->wait_pid = 0;
    if (rc < 0)
        return rc;
    c->reason = c->wait_rc;
    return c->wait_rc;
}

int ipm_client_subscribe_ex(ipm_client_t *c, const char *filter, const ipm_sub_opts_t *o)
{
    int rc = can_request(c, filter);
    if (rc < 0)
        return rc;
    if (!o || o->qos > 2 || o->retain_handling > 2 || o->prop_count > IPM_CLIENT_MAX_PROPS)
        return o && o->qos > 2 ? IPM_EBAD_QOS : IPM_EINVALID;
    uint8_t options = o->qos;
    if (c->cfg.version == IPM_PROTO_V5)
        options |= (o->no_local ? IPM_SUBOPT_NO_LOCAL : 0) |
                   (o->retain_as_published ? IPM_SUBOPT_RETAIN_AS_PUBLISHED : 0) |
                   (uint8_t)(o->retain_handling << IPM_SUBOPT_RETAIN_HANDLING_SHIFT);
    rc = ipm__subs_add(c, filter, options, o->subscription_id);
    if (rc == IPM_OK)
        rc = request(c, IPM_SUBSCRIBE, filter, options, o);
    if (rc >= IPM_SUBACK_FAILURE || rc < 0)
        ipm__subs_del(c, filter);
    return rc >= IPM_SUBACK_FAILURE ? IPM_EDENIED : rc;
}

int ipm_client_subscribe(ipm_client_t *c, const char *filter, uint8_t qos)
{
    ipm_sub_opts_t o = {.qos = qos};
    return ipm_client_subscribe_ex(c, filter, &o);
}

int ipm_client_unsubscribe(ipm_client_t *c, const char *filter)
{
    int rc = can_request(c, filter);
    if (rc < 0)
        return rc;
    ipm__subs_del(c, filter);
    rc = request(c, IPM_UNSUBSCRIBE, filter, 0, NULL);
    return rc >= IPM_RC_UNSPECIFIED_ERROR ? IPM_EDENIED : rc < 0 ? rc : IPM_OK;
}

/* ---- publish ------------------------------------------------------------------------- */

/* Make room in the outbox for one more message while disconnected. */
static int outbox_room(ipm_client_t *c)
{
    if (c->cfg.outbox_max == 0)
        return IPM_ENOT_CONNECTED;
    if (c->queued < c->cfg.outbox_max)
        return IPM_OK;
    if (c->cfg.outbox_policy == IPM_OUTBOX_REFUSE || !ipm__rec_drop_oldest(c)) {
        c->dropped++;
        ipm__event(c, IPM_EV_DROPPED, IPM_EFULL, 0, NULL);
        return IPM_EFULL;
    }
    return IPM_OK;
}

/* Validate a message; *alias_bit is the outgoing topic alias it sets, if any. */
static int check_message(const ipm_client_t *c, const ipm_message_t *m, uint32_t *alias_bit)
{
    *alias_bit = 0;
    if (!m || !m->topic || (m->len && !m->payload))
        return IPM_EINVALID;
    if (m->qos > 2)
        return IPM_EBAD_QOS;
    if (m->prop_count && (c->cfg.version != IPM_PROTO_V5 || !m->props))
        return IPM_EINVALID;
    if (c->state == IPM__ST_CONNECTED && (m->qos > c->srv_max_qos || (m->retain && !c->srv_retain)))
        return IPM_EINVALID;
    ipm_prop_t a;
    ipm_props_t props = {.list = m->props, .count = m->prop_count};
    if (!m->prop_count || !ipm_props_get(&props, IPM_PROP_TOPIC_ALIAS, &a))
        return m->topic[0] ? IPM_OK : IPM_EBAD_TOPIC;
    /* An outgoing topic alias lives as long as the connection: only while connected, and
     * an empty topic only at QoS 0, sent at once, for an alias set on this connection. */
    if (c->state != IPM__ST_CONNECTED || a.num == 0 || a.num > c->srv_alias_max || a.num > 32)
        return IPM_EINVALID;
    *alias_bit = 1u << (a.num - 1);
    if (!m->topic[0] && (m->qos || c->queued || !(c->alias_out & *alias_bit)))
        return IPM_EINVALID;
    return IPM_OK;
}

int ipm_client_publish_ex(ipm_client_t *c, const ipm_message_t *m)
{
    uint32_t alias_bit;
    int rc = check_message(c, m, &alias_bit);
    if (rc < 0)
        return rc;
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = IPM_PUBLISH;
    p.u.publish.topic = ipm_str(m->topic);
    p.u.publish.payload = (ipm_bytes_t){m->payload, (uint32_t)m->len};
    p.u.publish.qos = m->qos;
    p.u.publish.retain = m->retain;
    p.u.publish.packet_id = m->qos ? 1 : 0; /* the real id is set when it is sent */
    p.u.publish.props.list = m->props;
    p.u.publish.props.count = m->prop_count;
    int64_t size = ipm_packet_size(&p, c->cfg.version);
    if (size < 0)
        return (int)size;
    if ((uint64_t)size > c->mem.tx_cap || m->len > IPM_MAX_REMAINING_LENGTH ||
        (c->state == IPM__ST_CONNECTED && c->srv_max_packet && (uint64_t)size > c->srv_max_packet))
        return IPM_ETOO_LARGE;
    bool online = c->state == IPM__ST_CONNECTED;
    c->alias_out |= alias_bit;
    if (online && m->qos == 0 && c->queued == 0) {
        rc = ipm__send(c, &p);
        if (rc >= 0 || c->state != IPM__ST_BACKOFF)
            return rc;
        online = false; /* lost while sending: keep it for after the reconnect */
    }
    if (!online && (rc = outbox_room(c)) < 0)
        return rc;
    rc = ipm__rec_append(c, &p);
    while (rc == IPM_EFULL && !online && c->cfg.outbox_policy == IPM_OUTBOX_DROP_OLDEST &&
           ipm__rec_drop_oldest(c))
        rc = ipm__rec_append(c, &p);
    if (rc < 0)
        return rc;
    if (!online)
        return 0;
    rc = ipm__drain(c);
    if (rc < 0 && c->state != IPM__ST_BACKOFF)
        return rc; /* with auto reconnect, it is stored and goes out after reconnecting */
    /* A QoS 1/2 message is still the last record: report its packet id once sent. */
    ipm__rec_t r;
    if (m->qos == 0 || c->store_len < IPM__REC_HDR + (size_t)size)
        return 0;
    ipm__rec_get(c, c->store_len - IPM__REC_HDR - (size_t)size, &r);
    return r.state == IPM__MSG_SENT && r.len == (uint32_t)size ? r.pid : 0;
}

int ipm_client_publish(ipm_client_t *c, const char *topic, const void *payload, size_t len,
                       uint8_t qos, bool retain)
{
    ipm_message_t m = {.topic = topic, .payload = payload, .len = len, .qos = qos,
                       .retain = retain};
    return ipm_client_publish_ex(c, &m);
}
