/*
 * conn.h - one client connection (conn.c): its state, writing its queue out, its timers
 * and its end (kick, close). Reading and dispatch are dispatch.c, above the handlers.
 *
 * The layers below read some fields (sessions look at state, version and the client's
 * limits; outq.c appends to the queue) but call nothing here.
 */
#ifndef IOTPLOT_BROKER_CONN_H
#define IOTPLOT_BROKER_CONN_H

#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "broker.h"
#include "msg.h"

typedef struct ipb_session ipb_session_t;
typedef struct ipb_out ipb_out_t;

#define IPB_CONN_NEW 0        /* waiting for CONNECT */
#define IPB_CONN_ACTIVE 1     /* CONNECT accepted */
#define IPB_CONN_CLOSING 2    /* final bytes flushing, reading stopped */
#define IPB_CONN_CLOSED 3     /* transport closing */

/*
 * What few connections use, allocated by the first use (ipb__conn_rare()) and freed with
 * the connection, so an idle client pays one pointer for all three.
 */
typedef struct ipb_conn_rare {
    ipb_msg_t *will;           /* the will, while connected */
    ipb_aliases_t *alias;      /* NULL until a topic alias is used either way */
    struct ipb_ackq *ackq;     /* acknowledgements waiting for in-process receivers (local.c) */
} ipb_conn_rare_t;

struct ipb_conn {
    /* Pointers first, then packed small fields: one per client, 136 bytes (144 of heap,
     * glibc's next size class below is 128: 120 bytes asked). */
    ipb_broker_t *b;
    ipb_transport_t *tr;
    ipb_session_t *s;
    ipb_conn_t *next, *prev;   /* all connections */
    ipb_conn_t *fnext;         /* connections with output to flush */
    uint8_t *rbuf;             /* partial packet, allocated only while one is pending */
    ipb_out_t *out, *out_tail;
    uint64_t out_bytes;
    char *username;
    ipb_conn_rare_t *rare;     /* NULL until a will, a topic alias or a local ack needs it */
    uint32_t rlen;
    uint32_t out_off;          /* bytes of the head entry already written */
    uint32_t writing;          /* bytes handed to an async write */
    uint32_t last_rx;          /* loop ms, truncated: compared by wrapping difference */
    uint32_t max_packet;       /* the client's maximum packet size; 0 = none */
    uint16_t keepalive;
    uint16_t recv_max;         /* the client's receive maximum */
    uint16_t alias_max;        /* the client's topic alias maximum (ours to use) */
    uint8_t version;
    uint8_t state;
    uint8_t listener;
    /* Flags as bits: one byte for all. */
    bool in_flush : 1;
    bool will_on_close : 1;    /* publish the will when this connection ends */
    bool no_problem_info : 1;  /* 5.0 Request Problem Information 0: no reason strings */
    bool write_shut : 1;       /* closing: our side is half-closed, the peer's bytes drained */
    bool peer_eof : 1;         /* closing: the peer has closed its side */
    bool login_wait : 1;       /* its password is hashing (security.c): not reading */
    bool login_ready : 1;      /* the hash is done: login_verdict answers its CONNECT */
    uint8_t rshift;            /* rbuf holds 1 << rshift bytes */
    uint8_t login_verdict;     /* 0 or the refusal's 5.0 reason code */
    /* A 3.x CONNECT with mosquitto's bridge bit (0x80 on the protocol level): its
     * subscriptions are No Local and Retain As Published, so nothing echoes back. */
    bool bridge : 1;
    /* The local side of one of our own bridges (bridge.c): no login, no ACL, as
     * mosquitto's. */
    bool trusted : 1;
    bool read_heavy : 1;       /* filled what it was given when last read (dispatch.c) */
};

/*
 * A bridge's state notifications, its will among them: mosquitto's bridges publish them
 * to $SYS/broker/connection/<their client id>/state (a 5.0 bridge has no bridge bit to
 * tell it by). The one '$SYS' topic a client may publish to, and only under its own id.
 */
static inline bool ipb__conn_bridge_state(const char *id, const uint8_t *topic, size_t len)
{
    static const char pre[] = "$SYS/broker/connection/", post[] = "/state";
    size_t plen = sizeof pre - 1, ilen = strlen(id), slen = sizeof post - 1;
    return len == plen + ilen + slen && !memcmp(topic, pre, plen) &&
           !memcmp(topic + plen, id, ilen) && !memcmp(topic + plen + ilen, post, slen);
}

/* c's rarely used part, allocated on first use; NULL without memory. Inline: alias.c and
 * local.c, which conn.c calls, need it. */
static inline ipb_conn_rare_t *ipb__conn_rare(ipb_conn_t *c)
{
    if (!c->rare)
        c->rare = calloc(1, sizeof *c->rare);
    return c->rare;
}

static inline ipb_msg_t *ipb__conn_will(const ipb_conn_t *c)
{
    return c->rare ? c->rare->will : NULL;
}

/* Drop c's will (refused, or published or handed to its session). */
static inline void ipb__conn_will_drop(ipb_conn_t *c)
{
    if (c->rare) {
        ipb__msg_unref(c->rare->will);
        c->rare->will = NULL;
    }
}

/* A closing connection's peer closed its side: close once our last bytes are out. */
void ipb__conn_on_peer_eof(ipb_conn_t *c);
/* Send a 5.0 DISCONNECT with reason (if 5.0 and reason set), then close. */
void ipb__conn_kick(ipb_conn_t *c, uint8_t reason, const char *why);
/* Close now-ish: detach from the session (its will policy runs), flush, close. */
void ipb__conn_close(ipb_conn_t *c, const char *why);
/* Write every connection's queue, once per loop turn (prepare and check hooks). */
void ipb__flush_all(ipb_broker_t *b);
/* Connect timeouts, keepalive, and peers that never read their last packets. */
void ipb__conns_tick(ipb_broker_t *b, uint64_t now);
/* dispatch.c: a loop turn's reading is over; sets the next turn's read rotation. */
void ipb__read_turn_end(ipb_broker_t *b);
/* dispatch.c: go on with a connection whose CONNECT waited for its password hash, reading
 * again and handling what it kept (reached through b->resume). */
void ipb__conn_resume(ipb_conn_t *c);
/* "address:port" of the peer, from the transport. */
void ipb__conn_peer(ipb_conn_t *c, char *buf, size_t len);
/* The mount_point of the connection's listener, or NULL. */
const char *ipb__conn_mount(const ipb_conn_t *c);
/*
 * A topic or filter of c's client as the broker keeps it: the mount point before it (a
 * shared filter keeps `$share/GROUP/` first). Writes into out (IPM_MAX_STRING_LEN + 1
 * bytes) and returns it, or the bytes as they were without a mount point; len 0 with a
 * NULL data when the result would be longer than the protocol allows.
 */
ipm_bytes_t ipb__conn_mounted(const ipb_conn_t *c, ipm_bytes_t topic, char *out);

#endif
