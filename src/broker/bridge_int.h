/*
 * bridge_int.h - what bridge.c (the remote side) and bridge_local.c (the local side) of a
 * bridge share: its state, and the calls each makes of the other.
 */
#ifndef IOTPLOT_BROKER_BRIDGE_INT_H
#define IOTPLOT_BROKER_BRIDGE_INT_H

#include "bridge.h"
#include "tls/tls.h"

#define IPB__BR_IDLE 0 /* waiting for the next attempt */
#define IPB__BR_RESOLVING 1
#define IPB__BR_CONNECTING 2
#define IPB__BR_CONNACK 3 /* CONNECT sent */
#define IPB__BR_UP 4
#define IPB__BR_CLOSING 5 /* the socket is closing */

/* What a packet id sent to the remote waits for (ids are shared with the local side). */
#define IPB__BRPID_FREE 0
#define IPB__BRPID_Q1 1      /* PUBLISH QoS 1 sent, PUBACK due */
#define IPB__BRPID_Q2_REC 2  /* PUBLISH QoS 2 sent, PUBREC due */
#define IPB__BRPID_Q2_COMP 3 /* PUBREL sent, PUBCOMP due; the local PUBREL not seen */
#define IPB__BRPID_Q2_RELD 4 /* PUBREL sent, PUBCOMP due; the local PUBREL seen */
#define IPB__BRPID_Q2_DONE 5 /* the remote completed; the local PUBREL not seen yet */

/* Bytes queued to the remote before the local side waits (the session holds the rest). */
#define IPB__BR_BACKLOG_MAX (1u << 20)
/* Time allowed from the TCP connection to the CONNACK (the TLS handshake included). */
#define IPB__BR_CONNACK_MS 10000

typedef struct ipb_bridge ipb_bridge_t;

typedef struct {
    ipb_transport_t t; /* first: the connection's transport */
    ipb_bridge_t *br;
} ipb__bridge_ltr_t;

typedef struct {
    uint8_t *p;
    size_t len, cap;
} ipb__bbuf_t;

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
    uv_timer_t timer;     /* next attempt; CONNACK timeout; keepalive while up */
    unsigned addr, tries; /* address in use; attempts since the last success */
    uint32_t sleep_s;     /* the last backoff */
    uint8_t version;
    ipb__bbuf_t rin; /* from the remote, a partial packet */
    uint64_t last_tx, last_rx;
    bool ping_out;
    bool ever_up;      /* the remote accepted it once (start_type once) */
    uint64_t last_out; /* the last packet but PINGREQ sent to the remote (idle_timeout) */
    uint32_t remote_max;    /* the remote's 5.0 maximum packet size; 0 = none */
    uint16_t remote_recv;   /* the remote's 5.0 receive maximum */
    uint8_t *pid;           /* PID_* by packet id */
    ipb_tls_ctx_t *tls_ctx; /* bridge_cafile / bridge_capath: TLS to the remote */
    ipb_tls_t *tls;
    uint8_t *cbuf; /* ciphertext read from the socket */
    /* local */
    ipb__bridge_ltr_t ltr;
    ipb_conn_t *lc;
    bool lc_closed;   /* its transport was closed: ipb_conn_on_closed is due */
    bool lc_written;  /* an asynchronous write was taken: ipb_conn_on_written is due */
    bool lc_up;       /* CONNACK read */
    bool lc_end;      /* end it on the next kick (as if its socket had closed) */
    unsigned lc_subs; /* SUBACKs due */
    ipb__bbuf_t lin;  /* from the broker, a partial packet */
    ipb__bbuf_t lout; /* to the broker, fed on the next turn */
    uv_timer_t kick;  /* feeds lout, finishes closes: never inside the broker's flush */
    bool closing;
    unsigned open; /* handles not yet closed while closing */
};

/* ---- the remote side (bridge.c) ------------------------------------------------------ */

/* Encode and send one packet to the remote; false if it could not be. */
bool ipb__bridge_remote_send(ipb_bridge_t *br, const ipm_packet_t *pkt);
void ipb__bridge_remote_ack(ipb_bridge_t *br, uint8_t type, uint16_t pid);
/* The remote link is lost (or an attempt failed): close it, and the local side with it. */
void ipb__bridge_remote_down(ipb_bridge_t *br, const char *why);
/* Bytes queued for the remote's socket. */
size_t ipb__bridge_backlog(ipb_bridge_t *br);
/* One of a closing bridge's handles is closed (the last one frees it). */
void ipb__bridge_handle_closed(uv_handle_t *h);

/* Resolve the current address and connect (bridge.c). */
void ipb__bridge_attempt(ipb_bridge_t *br);

/* ---- when to connect (bridge_start.c) ------------------------------------------------ */

/* At the broker's start: connect now, or (lazy) once enough waits for the remote. */
void ipb__bridge_start(ipb_bridge_t *br);
/* The remote link is closed (lost, refused, idle): the next attempt by the start type,
 * with restart_timeout's backoff after a round of the addresses. */
void ipb__bridge_next(ipb_bridge_t *br);
/* A lazy bridge with nothing sent for idle_timeout and nothing waiting: close it. */
bool ipb__bridge_idle(ipb_bridge_t *br, uint64_t now);

/* ---- buffers (bridge.c) -------------------------------------------------------------- */

bool ipb__bridge_buf_add(ipb__bbuf_t *b, const void *p, size_t n);
void ipb__bridge_buf_free(ipb__bbuf_t *b);
void ipb__bridge_buf_consume(ipb__bbuf_t *b, size_t n);

/* ---- the local side (bridge_local.c) ------------------------------------------------- */

/* Open the local connection and send its CONNECT (a no-op while one is still closing). */
void ipb__bridge_local_open(ipb_bridge_t *br);
/* End it on the next kick, as if its socket had closed. */
void ipb__bridge_local_close(ipb_bridge_t *br);
void ipb__bridge_local_send(ipb_bridge_t *br, const ipm_packet_t *pkt);
void ipb__bridge_local_ack(ipb_bridge_t *br, uint8_t type, uint16_t pid);
/* The retained 1 / 0 of the notification topic on this broker. */
void ipb__bridge_notify_local(ipb_bridge_t *br, bool up);
/* Run the kick timer on the next turn: feed the local side, finish its close. */
void ipb__bridge_kick(ipb_bridge_t *br);
void ipb__bridge_on_kick(uv_timer_t *t);

#endif
