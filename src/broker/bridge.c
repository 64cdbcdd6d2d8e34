/*
 * bridge.c - a bridge to a remote broker, as mosquitto's: an MQTT client on the broker's
 * libuv loop, non-blocking from name lookup to keepalive (TLS through tls/), framing with
 * the codec; and the bridges' start and close. The local side is bridge_local.c.
 *
 * Its local side is a connection of this broker (ipb_conn_new) over a transport of the
 * bridge's own: the bridge writes CONNECT, SUBSCRIBE and the remote's PUBLISHes into it as
 * a client would, and reads what the broker writes to it. So the local side is a session
 * like any client's: persistent (local_cleansession false), queueing while the remote is
 * down, resending its window with DUP when the bridge comes back, stored with
 * `persistence true`. It speaks 5.0 to the broker for No Local (nothing the bridge brings
 * in goes back out) and Retain As Published.
 *
 * Acknowledgements pass through: a local PUBLISH is acknowledged to the broker only when
 * the remote has acknowledged it, and the remote's only when the broker has. Packet ids are
 * kept across: the local session's ids are unique among what is in flight to the bridge,
 * and the remote's among what it sends, so the same id serves both legs and a resend after
 * a reconnect reaches the remote with the id (and DUP) it knows.
 *
 * Why not src/client: it is built around a blocking, polling port for devices (one socket,
 * a loop that waits in the port); on the broker's loop every step must be a callback, and
 * the broker already has the session machinery that the client would duplicate.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "bridge_int.h"
#include "clock.h"
#include "config_table.h"
#include "conn.h"
#include "core.h"
#include "log.h"
#include "tls/tls.h"

static void bridge_free(ipb_bridge_t *br);

/* One of a closing bridge's handles (or its name lookup) is done. */
static void closed_one(ipb_bridge_t *br)
{
    if (--br->open == 0)
        bridge_free(br);
}

void ipb__bridge_handle_closed(uv_handle_t *h) { closed_one(h->data); }

/* ---- buffers ----------------------------------------------------------------------- */

bool ipb__bridge_buf_add(ipb__bbuf_t *b, const void *p, size_t n)
{
    if (!n)
        return true;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n)
            nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np)
            return false;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return true;
}

void ipb__bridge_buf_free(ipb__bbuf_t *b)
{
    free(b->p);
    *b = (ipb__bbuf_t){0};
}

void ipb__bridge_buf_consume(ipb__bbuf_t *b, size_t n)
{
    if (!n)
        return;
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

/* ---- writing to the remote ---------------------------------------------------------- */

typedef struct {
    uv_write_t req;
    ipb_bridge_t *br;
    uint8_t data[];
} wreq_t;

static void on_remote_written(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    ipb_bridge_t *br = w->br;
    free(w);
    (void)status; /* a failed write shows up as a read error */
    if (br->lc_written)
        ipb__bridge_kick(br);
}

size_t ipb__bridge_backlog(ipb_bridge_t *br)
{
    return br->state == IPB__BR_UP ? uv_stream_get_write_queue_size((uv_stream_t *)&br->tcp) : 0;
}

static bool remote_write(ipb_bridge_t *br, wreq_t *w, size_t len)
{
    w->br = br;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&br->tcp, &b, 1, on_remote_written) < 0) {
        free(w);
        return false;
    }
    br->last_tx = ipb__now(br->b);
    return true;
}

/* The ciphertext TLS has for the socket (handshake records too). */
static bool tls_flush(ipb_bridge_t *br)
{
    size_t n = ipb_tls_out_pending(br->tls);
    if (!n)
        return true;
    wreq_t *w = malloc(sizeof *w + n);
    if (!w)
        return false;
    return remote_write(br, w, ipb_tls_out_read(br->tls, w->data, n));
}

/* Encode and send one packet to the remote; false if it could not be. */
bool ipb__bridge_remote_send(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    if (br->state != IPB__BR_UP && !(br->state == IPB__BR_CONNACK && pkt->type == IPM_CONNECT))
        return false;
    int64_t size = ipm_packet_size(pkt, br->version);
    if (size < 0)
        return false;
    if (pkt->type != IPM_PINGREQ) /* keepalive pings are no activity for idle_timeout */
        br->last_out = ipb__now(br->b);
    wreq_t *w = malloc(sizeof *w + (size_t)size);
    if (!w)
        return false;
    if (ipm_encode(pkt, br->version, w->data, (size_t)size) != size) {
        free(w);
        return false;
    }
    if (!br->tls)
        return remote_write(br, w, (size_t)size);
    bool ok = ipb_tls_write(br->tls, w->data, (size_t)size) == 0;
    free(w);
    return ok && tls_flush(br);
}

void ipb__bridge_remote_ack(ipb_bridge_t *br, uint8_t type, uint16_t pid)
{
    ipm_packet_t pkt = {.type = type};
    pkt.u.ack.packet_id = pid;
    ipb__bridge_remote_send(br, &pkt);
}

/* ---- the remote connection ---------------------------------------------------------- */

static void on_retry(uv_timer_t *t) { ipb__bridge_attempt(t->data); }

static void on_tcp_closed(uv_handle_t *h)
{
    ipb_bridge_t *br = h->data;
    ipb__bridge_buf_free(&br->rin);
    ipb_tls_free(br->tls);
    br->tls = NULL;
    if (br->closing) {
        closed_one(br);
        return;
    }
    br->state = IPB__BR_IDLE;
    ipb__bridge_next(br);
}

/* The remote link is lost (or an attempt failed): close it, and the local side with it. */
void ipb__bridge_remote_down(ipb_bridge_t *br, const char *why)
{
    if (br->state == IPB__BR_CLOSING || br->state == IPB__BR_IDLE)
        return;
    bool was_up = br->state == IPB__BR_UP;
    if (was_up || br->state == IPB__BR_CONNACK)
        ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: connection to %s:%u %s.", br->cfg->name,
                 br->cfg->host[br->addr], br->cfg->port[br->addr], why);
    uv_timer_stop(&br->timer);
    if (br->state == IPB__BR_RESOLVING) {
        uv_cancel((uv_req_t *)&br->gai); /* its callback sees UV_ECANCELED */
        br->state = IPB__BR_CLOSING;
        return;
    }
    /* What the remote had not acknowledged goes again from the local session (with DUP);
     * a PUBREL it owes a PUBCOMP for goes again if the remote keeps the session. */
    for (unsigned i = 0; i < 65536; i++)
        if (br->pid[i] == IPB__BRPID_Q1 || br->pid[i] == IPB__BRPID_Q2_REC)
            br->pid[i] = IPB__BRPID_FREE;
    if (was_up) {
        ipb__bridge_notify_local(br, false);
        /* The main address first again after a loss, unless round robin. */
        br->addr = br->cfg->round_robin ? (br->addr + 1) % br->cfg->n_addresses : 0;
        br->tries = 0;
    }
    ipb__bridge_local_close(br);
    br->state = IPB__BR_CLOSING;
    uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
}

static void on_keepalive(uv_timer_t *t)
{
    ipb_bridge_t *br = t->data;
    uint64_t now = ipb__now(br->b), ka = (uint64_t)br->cfg->keepalive * 1000;
    if (br->state == IPB__BR_CONNACK) {
        ipb__bridge_remote_down(br, "gave no CONNACK in time");
        return;
    }
    if (br->state == IPB__BR_UP && ipb__bridge_idle(br, now)) {
        ipb__bridge_remote_down(br, "is closed: idle for idle_timeout");
        return;
    }
    if (now - br->last_rx >= ka + ka / 2) {
        ipb__bridge_remote_down(br, "timed out (no PINGRESP)");
        return;
    }
    if (now - br->last_tx >= ka && !br->ping_out) {
        ipm_packet_t pkt = {.type = IPM_PINGREQ};
        br->ping_out = ipb__bridge_remote_send(br, &pkt);
    }
}

static void send_connect(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    ipm_packet_t pkt = {.type = IPM_CONNECT};
    ipm_connect_t *cp = &pkt.u.connect;
    cp->version = br->version;
    cp->clean_start = c->cleansession;
    cp->keepalive = c->keepalive;
    cp->client_id = ipm_str(br->remote_id);
    if (c->remote_username[0]) {
        cp->has_username = true;
        cp->username = ipm_str(c->remote_username);
    }
    if (c->remote_password[0] && (c->remote_username[0] || br->version == IPM_PROTO_V5)) {
        cp->has_password = true;
        cp->password = ipm_str(c->remote_password);
    }
    /* The remote says "0" for the bridge when it loses it: the bridge's will. */
    if (c->notifications && !c->notifications_local_only) {
        cp->will = true;
        cp->will_qos = 1;
        cp->will_retain = true;
        cp->will_topic = ipm_str(br->notify_topic);
        cp->will_payload = ipm_str("0");
    }
    ipm_prop_t props[2];
    uint16_t np = 0;
    if (br->version == IPM_PROTO_V5) {
        /* The remote keeps a persistent session as long as it is allowed to. */
        if (!c->cleansession)
            props[np++] = (ipm_prop_t){.id = IPM_PROP_SESSION_EXPIRY_INTERVAL, .num = UINT32_MAX};
        props[np++] = (ipm_prop_t){
            .id = IPM_PROP_RECEIVE_MAXIMUM,
            .num = br->b->cfg.max_inflight_messages ? br->b->cfg.max_inflight_messages : 65535};
        cp->props = (ipm_props_t){.list = props, .count = np};
    }
    cp->bridge = c->try_private && br->version != IPM_PROTO_V5;
    br->state = IPB__BR_CONNACK;
    if (!ipb__bridge_remote_send(br, &pkt))
        ipb__bridge_remote_down(br, "could not send CONNECT");
}

static void subscribe_remote(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    for (unsigned i = 0; i < c->n_topics; i++) {
        const ipb_bridge_topic_t *t = &c->topics[i];
        char filter[IPB__BRIDGE_TOPIC_MAX];
        size_t flen = ipb__bridge_filter(t, true, filter, sizeof filter);
        bool in = t->direction & IPB_BRIDGE_IN;
        /* An out-only line unsubscribes what a persistent remote session may still hold
         * from an earlier `in` (mosquitto's bridge_attempt_unsubscribe, on by default). */
        if (!flen || (!in && c->cleansession))
            continue;
        ipm_sub_t sub = {.filter = {(const uint8_t *)filter, (uint32_t)flen}, .options = t->qos};
        if (br->version == IPM_PROTO_V5 && c->try_private)
            sub.options |= IPM_SUBOPT_NO_LOCAL | IPM_SUBOPT_RETAIN_AS_PUBLISHED;
        ipm_packet_t pkt = {.type = in ? IPM_SUBSCRIBE : IPM_UNSUBSCRIBE};
        pkt.u.subscribe =
            (ipm_subscribe_t){.packet_id = (uint16_t)(60000 + i), .subs = &sub, .count = 1};
        ipb__bridge_remote_send(br, &pkt);
    }
}

static void on_connack(ipb_bridge_t *br, const ipm_connack_t *ca)
{
    if (ca->reason) {
        char why[64];
        snprintf(why, sizeof why, "refused the bridge (code %u)", ca->reason);
        ipb__bridge_remote_down(br, why);
        return;
    }
    br->state = IPB__BR_UP;
    br->ever_up = true;
    /* The CONNACK deadline is met: keepalive and idle_timeout checks once a second. */
    uv_timer_start(&br->timer, on_keepalive, 1000, 1000);
    br->tries = 0;
    br->sleep_s = 0;
    br->remote_max = 0;
    br->remote_recv = 65535;
    ipm_prop_t p;
    if (br->version == IPM_PROTO_V5) {
        if (ipm_props_get(&ca->props, IPM_PROP_MAXIMUM_PACKET_SIZE, &p))
            br->remote_max = p.num;
        if (ipm_props_get(&ca->props, IPM_PROP_RECEIVE_MAXIMUM, &p))
            br->remote_recv = (uint16_t)p.num;
    }
    ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s connected to %s:%u as %s.", br->cfg->name,
             br->cfg->host[br->addr], br->cfg->port[br->addr], br->remote_id);
    /* PUBRELs the remote still owes a PUBCOMP for, if it kept the session. */
    for (unsigned i = 1; i < 65536; i++) {
        if (br->pid[i] != IPB__BRPID_Q2_COMP && br->pid[i] != IPB__BRPID_Q2_RELD)
            continue;
        if (ca->session_present)
            ipb__bridge_remote_ack(br, IPM_PUBREL, (uint16_t)i);
        else
            br->pid[i] = br->pid[i] == IPB__BRPID_Q2_RELD ? IPB__BRPID_FREE : IPB__BRPID_Q2_DONE;
    }
    if (br->cfg->notifications && !br->cfg->notifications_local_only) {
        /* QoS 0: every packet id belongs to the local side's messages; the will ("0")
         * is QoS 1. */
        ipm_packet_t pkt = {.type = IPM_PUBLISH};
        pkt.u.publish = (ipm_publish_t){
            .topic = ipm_str(br->notify_topic), .retain = true, .payload = ipm_str("1")};
        ipb__bridge_remote_send(br, &pkt);
    }
    subscribe_remote(br);
    /* A local side still open from before (made at start) holds, unacknowledged, what the
     * broker sent it meanwhile: it connects again, so that the session resends it. */
    if (br->lc)
        ipb__bridge_local_close(br);
    else
        ipb__bridge_local_open(br);
}

/* A PUBLISH from the remote: into the broker under its local topic, same QoS and id. */
static void remote_publish(ipb_bridge_t *br, const ipm_publish_t *p)
{
    char topic[IPB__BRIDGE_TOPIC_MAX];
    size_t tlen = ipb__bridge_map(br->cfg, false, (const char *)p->topic.data, p->topic.len, topic,
                                  sizeof topic, NULL);
    if (!tlen || !br->lc) {
        /* Not ours to bring in (or no local side): acknowledged, dropped. A local side
         * still connecting gets it after its CONNECT, in order. */
        if (p->qos)
            ipb__bridge_remote_ack(br, p->qos == 1 ? IPM_PUBACK : IPM_PUBREC, p->packet_id);
        return;
    }
    ipm_packet_t pkt = {.type = IPM_PUBLISH};
    pkt.u.publish = *p;
    pkt.u.publish.topic = (ipm_bytes_t){(const uint8_t *)topic, (uint32_t)tlen};
    if (br->version != IPM_PROTO_V5)
        pkt.u.publish.props = (ipm_props_t){0};
    ipb__bridge_local_send(br, &pkt);
}

static void remote_packet(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    const ipm_ack_t *a = &pkt->u.ack;
    switch (pkt->type) {
    case IPM_CONNACK:
        if (br->state == IPB__BR_CONNACK)
            on_connack(br, &pkt->u.connack);
        break;
    case IPM_PUBLISH: remote_publish(br, &pkt->u.publish); break;
    case IPM_PUBACK:
        if (br->pid[a->packet_id] == IPB__BRPID_Q1) {
            br->pid[a->packet_id] = IPB__BRPID_FREE;
            ipb__bridge_local_ack(br, IPM_PUBACK, a->packet_id);
        }
        break;
    case IPM_PUBREC:
        if (br->pid[a->packet_id] == IPB__BRPID_Q2_REC) {
            if (a->reason >= 0x80) {
                br->pid[a->packet_id] = IPB__BRPID_Q2_DONE; /* refused: the flow ends here */
            } else {
                br->pid[a->packet_id] = IPB__BRPID_Q2_COMP;
                ipb__bridge_remote_ack(br, IPM_PUBREL, a->packet_id);
            }
            ipb__bridge_local_ack(br, IPM_PUBREC, a->packet_id);
        } else {
            ipb__bridge_remote_ack(br, IPM_PUBREL, a->packet_id); /* MQTT-4.3.3: answer it anyway */
        }
        break;
    case IPM_PUBCOMP:
        if (br->pid[a->packet_id] == IPB__BRPID_Q2_RELD) {
            br->pid[a->packet_id] = IPB__BRPID_FREE;
            ipb__bridge_local_ack(br, IPM_PUBCOMP, a->packet_id);
        } else if (br->pid[a->packet_id] == IPB__BRPID_Q2_COMP) {
            br->pid[a->packet_id] = IPB__BRPID_Q2_DONE;
        }
        break;
    case IPM_PUBREL: ipb__bridge_local_ack(br, IPM_PUBREL, a->packet_id); break;
    case IPM_PINGRESP: br->ping_out = false; break;
    case IPM_DISCONNECT: ipb__bridge_remote_down(br, "was ended by the remote"); break;
    default: /* SUBACK, UNSUBACK: nothing waits for them */ break;
    }
}

static void on_remote_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ipb_bridge_t *br = h->data;
    (void)suggested;
    if (br->tls) {
        *buf = uv_buf_init((char *)br->cbuf, br->cbuf ? 65536 : 0);
        return;
    }
    if (br->rin.cap - br->rin.len < 16384) {
        size_t nc = br->rin.cap ? br->rin.cap * 2 : 65536;
        uint8_t *np = realloc(br->rin.p, nc);
        if (!np) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        br->rin.p = np;
        br->rin.cap = nc;
    }
    *buf = uv_buf_init((char *)br->rin.p + br->rin.len, (unsigned)(br->rin.cap - br->rin.len));
}

/* Plaintext out of TLS: after what is left of a partial packet. */
static void on_plain(void *arg, uint8_t *p, size_t n)
{
    ipb_bridge_t *br = arg;
    if (!ipb__bridge_buf_add(&br->rin, p, n))
        ipb__bridge_remote_down(br, "out of memory");
}

static void on_remote_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    ipb_bridge_t *br = s->data;
    (void)buf;
    if (n < 0) {
        ipb__bridge_remote_down(br, n == UV_EOF ? "was closed by the remote" : uv_strerror((int)n));
        return;
    }
    br->last_rx = ipb__now(br->b);
    if (br->tls) {
        bool was_ready = ipb_tls_ready(br->tls);
        if (ipb_tls_feed(br->tls, br->cbuf, (size_t)n, on_plain, br) < 0 || !tls_flush(br)) {
            ipb__bridge_remote_down(br, ipb_tls_error(br->tls));
            return;
        }
        if (!was_ready && ipb_tls_ready(br->tls))
            send_connect(br);
    } else {
        br->rin.len += (size_t)n;
    }
    size_t used = 0;
    while (br->state == IPB__BR_UP || br->state == IPB__BR_CONNACK) {
        ipm_frame_t f;
        int rc = ipm_frame(br->rin.p + used, br->rin.len - used, 0, &f);
        if (rc == IPM_ENEED_MORE)
            break;
        ipm_packet_t pkt;
        if (rc == 0)
            rc = ipm_decode(&f, br->rin.p + used, br->version, &pkt);
        if (rc < 0) {
            ipb__bridge_remote_down(br, ipm_strerror(rc));
            return;
        }
        remote_packet(br, &pkt);
        used += f.total_len;
    }
    if (br->state == IPB__BR_UP || br->state == IPB__BR_CONNACK)
        ipb__bridge_buf_consume(&br->rin, used);
}

static void on_connected(uv_connect_t *req, int status)
{
    ipb_bridge_t *br = req->data;
    if (br->state != IPB__BR_CONNECTING)
        return; /* closed meanwhile */
    if (status < 0) {
        ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: cannot connect to %s:%u: %s.", br->cfg->name,
                 br->cfg->host[br->addr], br->cfg->port[br->addr], uv_strerror(status));
        br->addr = (br->addr + 1) % br->cfg->n_addresses;
        br->state = IPB__BR_CLOSING;
        uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
        return;
    }
    uv_tcp_nodelay(&br->tcp, 1);
    br->last_rx = br->last_tx = ipb__now(br->b);
    br->ping_out = false;
    uv_read_start((uv_stream_t *)&br->tcp, on_remote_alloc, on_remote_read);
    if (!br->tls_ctx) {
        send_connect(br);
    } else {
        /* CONNECT once the handshake is done (on_remote_read). */
        const ipb_bridge_config_t *c = br->cfg;
        br->state = IPB__BR_CONNACK;
        br->tls = ipb_tls_new_client(br->tls_ctx, c->host[br->addr], !c->insecure);
        if (!br->tls || ipb_tls_feed(br->tls, NULL, 0, on_plain, br) < 0 || !tls_flush(br)) {
            ipb__bridge_remote_down(br, "could not start TLS");
            return;
        }
    }
    uint64_t ka = (uint64_t)br->cfg->keepalive * 1000;
    uv_timer_start(&br->timer, on_keepalive, IPB__BR_CONNACK_MS < ka ? IPB__BR_CONNACK_MS : ka,
                   1000);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ipb_bridge_t *br = req->data;
    if (br->state != IPB__BR_RESOLVING) { /* cancelled by a close */
        uv_freeaddrinfo(res);
        br->state = IPB__BR_IDLE;
        if (br->closing)
            closed_one(br);
        return;
    }
    if (status < 0 || !res) {
        ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: cannot resolve %s: %s.", br->cfg->name,
                 br->cfg->host[br->addr], uv_strerror(status));
        uv_freeaddrinfo(res);
        br->addr = (br->addr + 1) % br->cfg->n_addresses;
        br->state = IPB__BR_IDLE;
        uv_tcp_init(br->b->loop, &br->tcp);
        br->tcp.data = br;
        br->state = IPB__BR_CLOSING;
        uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
        return;
    }
    uv_tcp_init(br->b->loop, &br->tcp);
    br->tcp.data = br;
    br->creq.data = br;
    br->state = IPB__BR_CONNECTING;
    int rc = uv_tcp_connect(&br->creq, &br->tcp, res->ai_addr, on_connected);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        br->state = IPB__BR_CLOSING;
        uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
    }
}

void ipb__bridge_attempt(ipb_bridge_t *br)
{
    if (br->closing)
        return;
    char port[8];
    snprintf(port, sizeof port, "%u", br->cfg->port[br->addr]);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    br->tries++;
    br->gai.data = br;
    br->state = IPB__BR_RESOLVING;
    if (uv_getaddrinfo(br->b->loop, &br->gai, on_resolved, br->cfg->host[br->addr], port, &hints) <
        0) {
        br->state = IPB__BR_IDLE;
        uv_timer_start(&br->timer, on_retry, 1000u * br->cfg->restart_base, 0);
    }
}

/* ---- start and close ---------------------------------------------------------------- */

struct ipb_bridges {
    ipb_bridge_t *list;
    void (*done)(ipb_broker_t *b); /* the last bridge has closed */
};

static void names(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    if (c->remote_clientid[0])
        snprintf(br->remote_id, sizeof br->remote_id, "%s", c->remote_clientid);
    else
        snprintf(br->remote_id, sizeof br->remote_id, "%s.%s", host, c->name);
    if (c->local_clientid[0])
        snprintf(br->local_id, sizeof br->local_id, "%s", c->local_clientid);
    else
        snprintf(br->local_id, sizeof br->local_id, "local.%s", br->remote_id);
    if (c->notification_topic[0])
        snprintf(br->notify_topic, sizeof br->notify_topic, "%s", c->notification_topic);
    else
        snprintf(br->notify_topic, sizeof br->notify_topic, "$SYS/broker/connection/%s/state",
                 br->remote_id);
}

static const char *or_null(const char *s) { return s[0] ? s : NULL; }

static int tls_start(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    if (!c->cafile[0] && !c->capath[0] && !c->psk[0])
        return 0;
    char err[256];
    ipb_tls_client_config_t tc = {.cafile = or_null(c->cafile),
                                  .capath = or_null(c->capath),
                                  .certfile = or_null(c->certfile),
                                  .keyfile = or_null(c->keyfile),
                                  .tls_version = or_null(c->tls_version),
                                  .psk_identity = or_null(c->identity),
                                  .psk_hex = or_null(c->psk)};
    if (!(br->tls_ctx = ipb_tls_client_ctx_new(&tc, err, sizeof err)) ||
        !(br->cbuf = malloc(65536))) {
        ipb__log(br->b, IPB_LOG_ERR, "Error: bridge %s: %s.", c->name,
                 br->tls_ctx ? "out of memory" : err);
        return -1;
    }
    return 0;
}

int ipb__bridges_start(ipb_broker_t *b)
{
    if (!b->cfg.n_bridges)
        return 0;
    if (b->cfg.n_listeners >= IPB_MAX_LISTENERS) {
        ipb__log(b, IPB_LOG_ERR, "Error: bridges need one of the %d listener slots free.",
                 IPB_MAX_LISTENERS);
        return IPM_EFULL;
    }
    /* The local sides' slot: every listener option at its default (max_qos 2, no mount
     * point, no certificate identity), so no listener's limits apply to a bridge. */
    ipb__config_listener_defaults(&b->cfg.listeners[b->cfg.n_listeners]);
    if (!(b->bridges = calloc(1, sizeof *b->bridges)))
        return IPM_ENOMEM;
    for (unsigned i = 0; i < b->cfg.n_bridges; i++) {
        ipb_bridge_t *br = calloc(1, sizeof *br);
        uint8_t *pid = calloc(65536, 1);
        if (!br || !pid) {
            free(br);
            free(pid);
            return IPM_ENOMEM;
        }
        br->b = b;
        br->cfg = &b->cfg.bridges[i];
        br->pid = pid;
        br->version = (uint8_t)br->cfg->protocol_version;
        br->remote_recv = 65535;
        names(br);
        if (tls_start(br) < 0) {
            ipb_tls_ctx_free(br->tls_ctx);
            free(br->cbuf);
            free(pid);
            free(br);
            return IPM_EINVALID;
        }
        uv_timer_init(b->loop, &br->timer);
        uv_timer_init(b->loop, &br->kick);
        br->timer.data = br->kick.data = br;
        br->next = b->bridges->list;
        b->bridges->list = br;
        /* The local session and its subscriptions from the start, so that messages for
         * the remote queue even before it is first reached. */
        ipb__bridge_local_open(br);
        ipb__bridge_start(br);
    }
    return 0;
}

static void bridge_free(ipb_bridge_t *br)
{
    ipb_broker_t *b = br->b;
    ipb_bridge_t **pp = &b->bridges->list;
    while (*pp != br)
        pp = &(*pp)->next;
    *pp = br->next;
    ipb__bridge_buf_free(&br->lin);
    ipb__bridge_buf_free(&br->lout);
    ipb__bridge_buf_free(&br->rin);
    free(br->pid);
    free(br->cbuf);
    ipb_tls_ctx_free(br->tls_ctx);
    free(br);
    if (!b->bridges->list) {
        void (*done)(ipb_broker_t *) = b->bridges->done;
        free(b->bridges);
        b->bridges = NULL;
        done(b);
    }
}

void ipb__bridges_close(ipb_broker_t *b, void (*done)(ipb_broker_t *b))
{
    if (!b->bridges) {
        done(b);
        return;
    }
    b->bridges->done = done;
    for (ipb_bridge_t *br = b->bridges->list; br; br = br->next) {
        br->closing = true;
        br->open = 2; /* the timers; the kick timer closes once the local side is gone */
        uv_close((uv_handle_t *)&br->timer, ipb__bridge_handle_closed);
        if (br->state == IPB__BR_RESOLVING) {
            br->open++;
            uv_cancel((uv_req_t *)&br->gai);
            br->state = IPB__BR_IDLE;
        } else if (br->state == IPB__BR_CLOSING) {
            br->open++; /* its close callback is on the way */
        } else if (br->state != IPB__BR_IDLE) {
            br->open++;
            br->state = IPB__BR_CLOSING;
            uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
        }
        ipb__bridge_local_close(br);
    }
}
