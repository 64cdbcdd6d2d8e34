/*
 * bridge.c - a bridge to a remote broker, as mosquitto's: an MQTT client on the broker's
 * libuv loop, non-blocking from name lookup to keepalive, framing with the codec.
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
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "log.h"
#include "tls/tls.h"

#define BR_IDLE 0       /* waiting for the next attempt */
#define BR_RESOLVING 1
#define BR_CONNECTING 2
#define BR_CONNACK 3    /* CONNECT sent */
#define BR_UP 4
#define BR_CLOSING 5    /* the socket is closing */

/* What a packet id sent to the remote waits for (ids are shared with the local side). */
#define PID_FREE 0
#define PID_Q1 1        /* PUBLISH QoS 1 sent, PUBACK due */
#define PID_Q2_REC 2    /* PUBLISH QoS 2 sent, PUBREC due */
#define PID_Q2_COMP 3   /* PUBREL sent, PUBCOMP due; the local PUBREL not seen */
#define PID_Q2_RELD 4   /* PUBREL sent, PUBCOMP due; the local PUBREL seen */
#define PID_Q2_DONE 5   /* the remote completed; the local PUBREL not seen yet */

#define BACKLOG_MAX (1u << 20) /* bytes queued to the remote before the local side waits */
#define CONNECT_TIMEOUT_MS 10000

typedef struct ipb_bridge ipb_bridge_t;

typedef struct {
    ipb_transport_t t; /* first: the connection's transport */
    ipb_bridge_t *br;
} local_tr_t;

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf_t;

struct ipb_bridge {
    ipb_broker_t *b;
    const ipb_bridge_config_t *cfg;
    ipb_bridge_t *next;
    char remote_id[160], local_id[200], notify_topic[IPB__BRIDGE_TOPIC_MAX];
    /* remote */
    int state;
    uv_tcp_t tcp;
    uv_getaddrinfo_t gai;
    uv_connect_t creq;
    uv_timer_t timer; /* next attempt; CONNACK timeout; keepalive while up */
    unsigned addr, tries; /* address in use; attempts since the last success */
    uint32_t sleep_s;     /* the last backoff */
    uint8_t version;
    buf_t rin;            /* from the remote, a partial packet */
    uint64_t last_tx, last_rx;
    bool ping_out;
    uint32_t remote_max;  /* the remote's 5.0 maximum packet size; 0 = none */
    uint16_t remote_recv; /* the remote's 5.0 receive maximum */
    uint8_t *pid;         /* PID_* by packet id */
    ipb_tls_ctx_t *tls_ctx; /* bridge_cafile / bridge_capath: TLS to the remote */
    ipb_tls_t *tls;
    uint8_t *cbuf;        /* ciphertext read from the socket */
    /* local */
    local_tr_t ltr;
    ipb_conn_t *lc;
    bool lc_closed;       /* its transport was closed: ipb_conn_on_closed is due */
    bool lc_written;      /* an asynchronous write was taken: ipb_conn_on_written is due */
    bool lc_up;           /* CONNACK read */
    bool lc_end;          /* end it on the next kick (as if its socket had closed) */
    unsigned lc_subs;     /* SUBACKs due */
    buf_t lin;            /* from the broker, a partial packet */
    buf_t lout;           /* to the broker, fed on the next turn */
    uv_timer_t kick;      /* feeds lout, finishes closes: never inside the broker's flush */
    bool closing;
    unsigned open;        /* handles not yet closed while closing */
};

static void bridge_free(ipb_bridge_t *br);

/* One of a closing bridge's handles (or its name lookup) is done. */
static void closed_one(ipb_bridge_t *br)
{
    if (--br->open == 0)
        bridge_free(br);
}

static void on_handle_closed(uv_handle_t *h)
{
    closed_one(h->data);
}

/* ---- small helpers ------------------------------------------------------------------ */

static bool buf_add(buf_t *b, const void *p, size_t n)
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

static void buf_free(buf_t *b)
{
    free(b->p);
    *b = (buf_t){0};
}

static void buf_consume(buf_t *b, size_t n)
{
    if (!n)
        return;
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void on_kick(uv_timer_t *t);

static void schedule_kick(ipb_bridge_t *br)
{
    if (!uv_is_closing((uv_handle_t *)&br->kick))
        uv_timer_start(&br->kick, on_kick, 0, 0);
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
        schedule_kick(br);
}

static size_t backlog(ipb_bridge_t *br)
{
    return br->state == BR_UP ? uv_stream_get_write_queue_size((uv_stream_t *)&br->tcp) : 0;
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
static bool remote_send(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    if (br->state != BR_UP && !(br->state == BR_CONNACK && pkt->type == IPM_CONNECT))
        return false;
    int64_t size = ipm_packet_size(pkt, br->version);
    if (size < 0)
        return false;
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

static void remote_ack(ipb_bridge_t *br, uint8_t type, uint16_t pid)
{
    ipm_packet_t pkt = {.type = type};
    pkt.u.ack.packet_id = pid;
    remote_send(br, &pkt);
}

/* ---- writing to the broker (the local side) ----------------------------------------- */

static void local_send(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    if (!br->lc || br->lc_closed)
        return;
    int64_t size = ipm_packet_size(pkt, IPM_PROTO_V5);
    if (size < 0)
        return;
    size_t at = br->lout.len;
    uint8_t zero[64] = {0};
    for (int64_t left = size; left > 0; left -= (int64_t)sizeof zero)
        if (!buf_add(&br->lout, zero, left < (int64_t)sizeof zero ? (size_t)left : sizeof zero))
            return;
    ipm_encode(pkt, IPM_PROTO_V5, br->lout.p + at, (size_t)size);
    schedule_kick(br);
}

static void local_ack(ipb_bridge_t *br, uint8_t type, uint16_t pid)
{
    ipm_packet_t pkt = {.type = type};
    pkt.u.ack.packet_id = pid;
    local_send(br, &pkt);
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

static void notify_local(ipb_bridge_t *br, bool up)
{
    if (br->cfg->notifications && !br->b->closing)
        ipb_local_publish(br->b, br->notify_topic, (const uint8_t *)(up ? "1" : "0"), 1, 1,
                          true);
}

/* ---- the remote connection ---------------------------------------------------------- */

static void attempt(ipb_bridge_t *br);

static void on_retry(uv_timer_t *t)
{
    attempt(t->data);
}

static void local_open(ipb_bridge_t *br);
static void local_close(ipb_bridge_t *br);

static void on_tcp_closed(uv_handle_t *h)
{
    ipb_bridge_t *br = h->data;
    buf_free(&br->rin);
    ipb_tls_free(br->tls);
    br->tls = NULL;
    if (br->closing) {
        closed_one(br);
        return;
    }
    br->state = BR_IDLE;
    /* The next address right away while some are untried in this round; else back off. */
    uint32_t delay_ms = 0;
    if (br->tries >= br->cfg->n_addresses) {
        br->tries = 0;
        const ipb_bridge_config_t *c = br->cfg;
        if (!c->restart_cap) {
            br->sleep_s = c->restart_base;
        } else {
            /* Decorrelated jitter: random between base and three times the last sleep. */
            uint32_t hi = br->sleep_s ? br->sleep_s * 3 : c->restart_base * 3;
            uint32_t s = c->restart_base + (uint32_t)(rand() % (int)(hi - c->restart_base + 1));
            br->sleep_s = s < c->restart_cap ? s : c->restart_cap;
        }
        delay_ms = br->sleep_s * 1000;
    }
    uv_timer_start(&br->timer, on_retry, delay_ms, 0);
}

/* The remote link is lost (or an attempt failed): close it, and the local side with it. */
static void remote_down(ipb_bridge_t *br, const char *why)
{
    if (br->state == BR_CLOSING || br->state == BR_IDLE)
        return;
    bool was_up = br->state == BR_UP;
    if (was_up || br->state == BR_CONNACK)
        ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: connection to %s:%u %s.", br->cfg->name,
                 br->cfg->host[br->addr], br->cfg->port[br->addr], why);
    uv_timer_stop(&br->timer);
    if (br->state == BR_RESOLVING) {
        uv_cancel((uv_req_t *)&br->gai); /* its callback sees UV_ECANCELED */
        br->state = BR_CLOSING;
        return;
    }
    /* What the remote had not acknowledged goes again from the local session (with DUP);
     * a PUBREL it owes a PUBCOMP for goes again if the remote keeps the session. */
    for (unsigned i = 0; i < 65536; i++)
        if (br->pid[i] == PID_Q1 || br->pid[i] == PID_Q2_REC)
            br->pid[i] = PID_FREE;
    if (was_up) {
        notify_local(br, false);
        /* The main address first again after a loss, unless round robin. */
        br->addr = br->cfg->round_robin ? (br->addr + 1) % br->cfg->n_addresses : 0;
        br->tries = 0;
    }
    local_close(br);
    br->state = BR_CLOSING;
    uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
}

static void on_keepalive(uv_timer_t *t)
{
    ipb_bridge_t *br = t->data;
    uint64_t now = ipb__now(br->b), ka = (uint64_t)br->cfg->keepalive * 1000;
    if (br->state == BR_CONNACK) {
        remote_down(br, "gave no CONNACK in time");
        return;
    }
    if (now - br->last_rx >= ka + ka / 2) {
        remote_down(br, "timed out (no PINGRESP)");
        return;
    }
    if (now - br->last_tx >= ka && !br->ping_out) {
        ipm_packet_t pkt = {.type = IPM_PINGREQ};
        br->ping_out = remote_send(br, &pkt);
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
            props[np++] = (ipm_prop_t){.id = IPM_PROP_SESSION_EXPIRY_INTERVAL,
                                       .num = UINT32_MAX};
        props[np++] = (ipm_prop_t){.id = IPM_PROP_RECEIVE_MAXIMUM,
                                   .num = br->b->cfg.max_inflight_messages
                                              ? br->b->cfg.max_inflight_messages
                                              : 65535};
        cp->props = (ipm_props_t){.list = props, .count = np};
    }
    cp->bridge = c->try_private && br->version != IPM_PROTO_V5;
    br->state = BR_CONNACK;
    if (!remote_send(br, &pkt))
        remote_down(br, "could not send CONNECT");
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
        ipm_sub_t sub = {.filter = {(const uint8_t *)filter, (uint32_t)flen},
                         .options = t->qos};
        if (br->version == IPM_PROTO_V5 && c->try_private)
            sub.options |= IPM_SUBOPT_NO_LOCAL | IPM_SUBOPT_RETAIN_AS_PUBLISHED;
        ipm_packet_t pkt = {.type = in ? IPM_SUBSCRIBE : IPM_UNSUBSCRIBE};
        pkt.u.subscribe = (ipm_subscribe_t){.packet_id = (uint16_t)(60000 + i), .subs = &sub,
                                            .count = 1};
        remote_send(br, &pkt);
    }
}

static void on_connack(ipb_bridge_t *br, const ipm_connack_t *ca)
{
    if (ca->reason) {
        char why[64];
        snprintf(why, sizeof why, "refused the bridge (code %u)", ca->reason);
        remote_down(br, why);
        return;
    }
    br->state = BR_UP;
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
        if (br->pid[i] != PID_Q2_COMP && br->pid[i] != PID_Q2_RELD)
            continue;
        if (ca->session_present)
            remote_ack(br, IPM_PUBREL, (uint16_t)i);
        else
            br->pid[i] = br->pid[i] == PID_Q2_RELD ? PID_FREE : PID_Q2_DONE;
    }
    if (br->cfg->notifications && !br->cfg->notifications_local_only) {
        /* QoS 0: every packet id belongs to the local side's messages; the will ("0")
         * is QoS 1. */
        ipm_packet_t pkt = {.type = IPM_PUBLISH};
        pkt.u.publish = (ipm_publish_t){.topic = ipm_str(br->notify_topic), .retain = true,
                                        .payload = ipm_str("1")};
        remote_send(br, &pkt);
    }
    subscribe_remote(br);
    /* A local side still open from before (made at start) holds, unacknowledged, what the
     * broker sent it meanwhile: it connects again, so that the session resends it. */
    if (br->lc)
        local_close(br);
    else
        local_open(br);
}

/* A PUBLISH from the remote: into the broker under its local topic, same QoS and id. */
static void remote_publish(ipb_bridge_t *br, const ipm_publish_t *p)
{
    char topic[IPB__BRIDGE_TOPIC_MAX];
    size_t tlen = ipb__bridge_map(br->cfg, false, (const char *)p->topic.data, p->topic.len,
                                  topic, sizeof topic, NULL);
    if (!tlen || !br->lc) {
        /* Not ours to bring in (or no local side): acknowledged, dropped. A local side
         * still connecting gets it after its CONNECT, in order. */
        if (p->qos)
            remote_ack(br, p->qos == 1 ? IPM_PUBACK : IPM_PUBREC, p->packet_id);
        return;
    }
    ipm_packet_t pkt = {.type = IPM_PUBLISH};
    pkt.u.publish = *p;
    pkt.u.publish.topic = (ipm_bytes_t){(const uint8_t *)topic, (uint32_t)tlen};
    if (br->version != IPM_PROTO_V5)
        pkt.u.publish.props = (ipm_props_t){0};
    local_send(br, &pkt);
}

static void remote_packet(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    const ipm_ack_t *a = &pkt->u.ack;
    switch (pkt->type) {
    case IPM_CONNACK:
        if (br->state == BR_CONNACK)
            on_connack(br, &pkt->u.connack);
        break;
    case IPM_PUBLISH:
        remote_publish(br, &pkt->u.publish);
        break;
    case IPM_PUBACK:
        if (br->pid[a->packet_id] == PID_Q1) {
            br->pid[a->packet_id] = PID_FREE;
            local_ack(br, IPM_PUBACK, a->packet_id);
        }
        break;
    case IPM_PUBREC:
        if (br->pid[a->packet_id] == PID_Q2_REC) {
            if (a->reason >= 0x80) {
                br->pid[a->packet_id] = PID_Q2_DONE; /* refused: the flow ends here */
            } else {
                br->pid[a->packet_id] = PID_Q2_COMP;
                remote_ack(br, IPM_PUBREL, a->packet_id);
            }
            local_ack(br, IPM_PUBREC, a->packet_id);
        } else {
            remote_ack(br, IPM_PUBREL, a->packet_id); /* MQTT-4.3.3: answer it anyway */
        }
        break;
    case IPM_PUBCOMP:
        if (br->pid[a->packet_id] == PID_Q2_RELD) {
            br->pid[a->packet_id] = PID_FREE;
            local_ack(br, IPM_PUBCOMP, a->packet_id);
        } else if (br->pid[a->packet_id] == PID_Q2_COMP) {
            br->pid[a->packet_id] = PID_Q2_DONE;
        }
        break;
    case IPM_PUBREL:
        local_ack(br, IPM_PUBREL, a->packet_id);
        break;
    case IPM_PINGRESP:
        br->ping_out = false;
        break;
    case IPM_DISCONNECT:
        remote_down(br, "was ended by the remote");
        break;
    default: /* SUBACK, UNSUBACK: nothing waits for them */
        break;
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
    if (!buf_add(&br->rin, p, n))
        remote_down(br, "out of memory");
}

static void on_remote_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    ipb_bridge_t *br = s->data;
    (void)buf;
    if (n < 0) {
        remote_down(br, n == UV_EOF ? "was closed by the remote" : uv_strerror((int)n));
        return;
    }
    br->last_rx = ipb__now(br->b);
    if (br->tls) {
        bool was_ready = ipb_tls_ready(br->tls);
        if (ipb_tls_feed(br->tls, br->cbuf, (size_t)n, on_plain, br) < 0 || !tls_flush(br)) {
            remote_down(br, ipb_tls_error(br->tls));
            return;
        }
        if (!was_ready && ipb_tls_ready(br->tls))
            send_connect(br);
    } else {
        br->rin.len += (size_t)n;
    }
    size_t used = 0;
    while (br->state == BR_UP || br->state == BR_CONNACK) {
        ipm_frame_t f;
        int rc = ipm_frame(br->rin.p + used, br->rin.len - used, 0, &f);
        if (rc == IPM_ENEED_MORE)
            break;
        ipm_packet_t pkt;
        if (rc == 0)
            rc = ipm_decode(&f, br->rin.p + used, br->version, &pkt);
        if (rc < 0) {
            remote_down(br, ipm_strerror(rc));
            return;
        }
        remote_packet(br, &pkt);
        used += f.total_len;
    }
    if (br->state == BR_UP || br->state == BR_CONNACK)
        buf_consume(&br->rin, used);
}

static void on_connected(uv_connect_t *req, int status)
{
    ipb_bridge_t *br = req->data;
    if (br->state != BR_CONNECTING)
        return; /* closed meanwhile */
    if (status < 0) {
        ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: cannot connect to %s:%u: %s.",
                 br->cfg->name, br->cfg->host[br->addr], br->cfg->port[br->addr],
                 uv_strerror(status));
        br->addr = (br->addr + 1) % br->cfg->n_addresses;
        br->state = BR_CLOSING;
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
        br->state = BR_CONNACK;
        br->tls = ipb_tls_new_client(br->tls_ctx, c->host[br->addr], !c->insecure);
        if (!br->tls || ipb_tls_feed(br->tls, NULL, 0, on_plain, br) < 0 || !tls_flush(br)) {
            remote_down(br, "could not start TLS");
            return;
        }
    }
    uint64_t ka = (uint64_t)br->cfg->keepalive * 1000;
    uv_timer_start(&br->timer, on_keepalive, CONNECT_TIMEOUT_MS < ka ? CONNECT_TIMEOUT_MS : ka,
                   1000);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ipb_bridge_t *br = req->data;
    if (br->state != BR_RESOLVING) { /* cancelled by a close */
        uv_freeaddrinfo(res);
        br->state = BR_IDLE;
        if (br->closing)
            closed_one(br);
        return;
    }
    if (status < 0 || !res) {
        ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: cannot resolve %s: %s.", br->cfg->name,
                 br->cfg->host[br->addr], uv_strerror(status));
        uv_freeaddrinfo(res);
        br->addr = (br->addr + 1) % br->cfg->n_addresses;
        br->state = BR_IDLE;
        uv_tcp_init(br->b->loop, &br->tcp);
        br->tcp.data = br;
        br->state = BR_CLOSING;
        uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
        return;
    }
    uv_tcp_init(br->b->loop, &br->tcp);
    br->tcp.data = br;
    br->creq.data = br;
    br->state = BR_CONNECTING;
    int rc = uv_tcp_connect(&br->creq, &br->tcp, res->ai_addr, on_connected);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        br->state = BR_CLOSING;
        uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
    }
}

static void attempt(ipb_bridge_t *br)
{
    if (br->closing)
        return;
    char port[8];
    snprintf(port, sizeof port, "%u", br->cfg->port[br->addr]);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    br->tries++;
    br->gai.data = br;
    br->state = BR_RESOLVING;
    if (uv_getaddrinfo(br->b->loop, &br->gai, on_resolved, br->cfg->host[br->addr], port,
                       &hints) < 0) {
        br->state = BR_IDLE;
        uv_timer_start(&br->timer, on_retry, 1000u * br->cfg->restart_base, 0);
    }
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
        pkt.u.subscribe = (ipm_subscribe_t){.packet_id = (uint16_t)(1 + i), .subs = &sub,
                                            .count = 1};
        br->lc_subs++;
        local_send(br, &pkt);
    }
}

/* A PUBLISH the broker delivers to the bridge: to the remote under its remote topic. */
static void local_publish(ipb_bridge_t *br, const ipm_publish_t *p)
{
    char topic[IPB__BRIDGE_TOPIC_MAX];
    size_t tlen = ipb__bridge_map(br->cfg, true, (const char *)p->topic.data, p->topic.len,
                                  topic, sizeof topic, NULL);
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
    if (br->state != BR_UP)
        return; /* not acknowledged: the session sends it again, with DUP, next time */
    if (size < 0 || (max && size > max)) {
        /* Too large for the remote (or not mappable): done with, as mosquitto drops it. */
        if (p->qos == 1)
            local_ack(br, IPM_PUBACK, p->packet_id);
        else if (p->qos == 2) {
            br->pid[p->packet_id] = PID_Q2_DONE;
            local_ack(br, IPM_PUBREC, p->packet_id);
        }
        return;
    }
    if (p->qos)
        br->pid[p->packet_id] = p->qos == 1 ? PID_Q1 : PID_Q2_REC;
    remote_send(br, &pkt);
}

static void local_packet(ipb_bridge_t *br, const ipm_packet_t *pkt)
{
    uint16_t pid = pkt->u.ack.packet_id;
    switch (pkt->type) {
    case IPM_CONNACK:
        if (pkt->u.connack.reason) {
            ipb__log(br->b, IPB_LOG_ERR, "Bridge %s: this broker refused its local side "
                     "(reason 0x%02x).", br->cfg->name, pkt->u.connack.reason);
            return;
        }
        br->lc_up = true;
        subscribe_local(br);
        if (br->state == BR_UP)
            notify_local(br, true);
        break;
    case IPM_SUBACK:
        /* Opened at start with the remote still away, only to make the session and its
         * subscriptions: offline again once they are in place, queueing. */
        if (br->lc_subs && --br->lc_subs == 0 && br->state != BR_UP)
            local_close(br);
        break;
    case IPM_PUBLISH:
        local_publish(br, &pkt->u.publish);
        break;
    case IPM_PUBREL:
        if (br->pid[pid] == PID_Q2_COMP) {
            br->pid[pid] = PID_Q2_RELD;
        } else {
            br->pid[pid] = PID_FREE;
            local_ack(br, IPM_PUBCOMP, pid);
        }
        break;
    case IPM_PUBACK:  /* the broker took a message of the remote's: so may the remote know */
    case IPM_PUBREC:
    case IPM_PUBCOMP:
        remote_ack(br, pkt->type, pid);
        break;
    default: /* SUBACK, DISCONNECT: the connection's end follows through the transport */
        break;
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
    buf_consume(&br->lin, used);
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
    ipb_bridge_t *br = ((local_tr_t *)t)->br;
    if (!br->closing && backlog(br) > BACKLOG_MAX)
        return UV_EAGAIN;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!buf_add(&br->lin, bufs[i].base, bufs[i].len))
            return UV_ENOMEM;
        total += bufs[i].len;
    }
    local_parse(br);
    return (int)total;
}

static int ltr_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    ipb_bridge_t *br = ((local_tr_t *)t)->br;
    for (unsigned i = 0; i < n; i++)
        if (!buf_add(&br->lin, bufs[i].base, bufs[i].len))
            return UV_ENOMEM;
    local_parse(br);
    br->lc_written = true; /* acknowledged once the remote has drained (kick) */
    if (backlog(br) <= BACKLOG_MAX)
        schedule_kick(br);
    return 0;
}

static void ltr_close(ipb_transport_t *t)
{
    ipb_bridge_t *br = ((local_tr_t *)t)->br;
    br->lc_closed = true;
    schedule_kick(br);
}

static void ltr_peer(ipb_transport_t *t, char *buf, size_t len)
{
    snprintf(buf, len, "bridge %s", ((local_tr_t *)t)->br->cfg->name);
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

static void local_open(ipb_bridge_t *br)
{
    ipb_broker_t *b = br->b;
    if (br->lc)
        return; /* the last one is still closing: opened again from the kick */
    /* The local side belongs to no listener: the first unused slot has every listener
     * option at zero (no mount point, no certificate identity). */
    br->ltr.t.vt = &local_vt;
    br->ltr.br = br;
    br->lc = ipb_conn_new(b, b->cfg.n_listeners, &br->ltr.t);
    if (!br->lc) {
        remote_down(br, "has no room for its local side");
        return;
    }
    br->lc->trusted = true;
    br->lc_up = br->lc_end = false;
    br->lc_subs = 0;
    br->lin.len = br->lout.len = 0;
    const ipb_bridge_config_t *c = br->cfg;
    bool clean = c->local_cleansession < 0 ? c->cleansession : c->local_cleansession;
    ipm_prop_t props[2];
    uint16_t np = 0;
    if (!clean)
        props[np++] = (ipm_prop_t){.id = IPM_PROP_SESSION_EXPIRY_INTERVAL, .num = UINT32_MAX};
    /* No more in flight towards the bridge than the remote takes from it. */
    props[np++] = (ipm_prop_t){.id = IPM_PROP_RECEIVE_MAXIMUM, .num = br->remote_recv};
    ipm_packet_t pkt = {.type = IPM_CONNECT};
    pkt.u.connect = (ipm_connect_t){.version = IPM_PROTO_V5, .clean_start = clean,
                                    .client_id = ipm_str(br->local_id),
                                    .props = {.list = props, .count = np}};
    local_send(br, &pkt);
}

/* End the local side (the remote is gone, or the broker closes) on the next kick, as if
 * its socket had closed: never from inside the broker's own writing to it. */
static void local_close(ipb_bridge_t *br)
{
    br->lc_up = false;
    br->lout.len = 0;
    br->lc_end = br->lc != NULL;
    schedule_kick(br);
}

static void on_kick(uv_timer_t *t)
{
    ipb_bridge_t *br = t->data;
    if (br->lc && br->lc_written && (br->closing || backlog(br) <= BACKLOG_MAX)) {
        br->lc_written = false;
        ipb_conn_on_written(br->lc, 0);
    }
    if (br->lc && br->lc_closed) {
        ipb_conn_t *c = br->lc;
        br->lc = NULL;
        br->lc_closed = br->lc_written = false;
        ipb_conn_on_closed(c);
        if (br->state == BR_UP && !br->closing)
            local_open(br); /* the remote came back while the last local side closed */
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
        uv_close((uv_handle_t *)&br->kick, on_handle_closed);
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

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

static int tls_start(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    if (!c->cafile[0] && !c->capath[0] && !c->psk[0])
        return 0;
    char err[256];
    ipb_tls_client_config_t tc = {.cafile = or_null(c->cafile), .capath = or_null(c->capath),
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
        local_open(br);
        attempt(br);
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
    buf_free(&br->lin);
    buf_free(&br->lout);
    buf_free(&br->rin);
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
        uv_close((uv_handle_t *)&br->timer, on_handle_closed);
        if (br->state == BR_RESOLVING) {
            br->open++;
            uv_cancel((uv_req_t *)&br->gai);
            br->state = BR_IDLE;
        } else if (br->state == BR_CLOSING) {
            br->open++; /* its close callback is on the way */
        } else if (br->state != BR_IDLE) {
            br->open++;
            br->state = BR_CLOSING;
            uv_close((uv_handle_t *)&br->tcp, on_tcp_closed);
        }
        local_close(br);
    }
}
