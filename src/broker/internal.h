/*
 * internal.h - the broker's data structures, shared by the files of src/broker only.
 *
 * Ownership in one paragraph: the broker owns listeners, connections, sessions, the topic
 * tree and the message store. A session outlives its connection (persistent sessions);
 * a connection points at its session while attached. Messages (ipb_msg_t) are
 * reference-counted and shared by every session they are queued for and by the retained
 * tree; their encodings (ipb_enc_t) are reference-counted and shared by every outgoing
 * queue entry that sends the same bytes.
 */
#ifndef IOTPLOT_BROKER_INTERNAL_H
#define IOTPLOT_BROKER_INTERNAL_H

#include "broker.h"
#include "layered.h"
#include "sys.h"

typedef struct ipb_session ipb_session_t;
typedef struct ipb_node ipb_node_t;

/* ---- messages and encodings (msg.c) ------------------------------------------------ */

/* Bytes of one packet, shared. For PUBLISH, pid_off locates the packet id (0 = none). */
typedef struct {
    uint32_t refs;
    uint32_t len;
    uint32_t pid_off;
    uint8_t data[];
} ipb_enc_t;

typedef struct ipb_msg {
    uint32_t refs;
    uint8_t qos;
    bool retain;
    uint16_t topic_len;
    uint32_t payload_len;
    uint16_t nprops;          /* forwarded 5.0 properties (no alias, expiry, sub id) */
    uint32_t expiry;          /* message expiry interval, seconds; 0 = none */
    uint32_t will_delay;      /* a will's delay interval, seconds */
    uint64_t expire_at;       /* loop ms when it expires; 0 = never */
    uint32_t origin;          /* serial of the publishing session, for no local */
    ipm_prop_t *props;
    char *topic;              /* NUL-terminated */
    uint8_t *payload;
    ipb_enc_t *cache[4];      /* [v5][qos > 0]: encodings without per-client parts */
} ipb_msg_t;

ipb_msg_t *ipb__msg_new(const char *topic, size_t tlen, const uint8_t *payload, size_t plen,
                        uint8_t qos, bool retain, const ipm_props_t *props, uint64_t now);
/* A message from an in-process caller, checked as a client's would be. 0 or IPM_E*. */
int ipb__msg_local(ipb_broker_t *b, const char *topic, const uint8_t *payload, size_t len,
                   uint8_t qos, bool retain, ipb_msg_t **out);
void ipb__msg_ref(ipb_msg_t *m);
void ipb__msg_unref(ipb_msg_t *m);
/* Seconds left before expiry (>= 1), 0 if expired, UINT32_MAX if it never expires. */
uint32_t ipb__msg_remaining(const ipb_msg_t *m, uint64_t now);
ipb_enc_t *ipb__enc_new(size_t len);
void ipb__enc_unref(ipb_enc_t *e);
/* Encode a packet into a new ipb_enc_t, or NULL. */
ipb_enc_t *ipb__enc_packet(const ipm_packet_t *pkt, uint8_t version);
/*
 * The PUBLISH encoding of m for a client speaking version at qos, with the given
 * subscription identifiers: shared from the cache when nothing per-client is needed.
 */
ipb_enc_t *ipb__enc_publish(ipb_msg_t *m, uint8_t version, uint8_t qos, const uint32_t *subids,
                            unsigned nsubids, uint64_t now);
/* A per-client encoding with a topic alias: the topic too, or (known) the alias alone. */
ipb_enc_t *ipb__enc_publish_alias(ipb_msg_t *m, uint8_t qos, const uint32_t *subids,
                                  unsigned nsubids, uint64_t now, uint16_t alias, bool known);

/* ---- deliveries and sessions (session.c) ------------------------------------------ */

#define IPB_DLV_QUEUED 0     /* not sent yet */
#define IPB_DLV_WAIT_ACK 1   /* PUBLISH sent, waiting for PUBACK or PUBREC */
#define IPB_DLV_WAIT_COMP 2  /* PUBREL sent, waiting for PUBCOMP */

typedef struct ipb_dlv {
    struct ipb_dlv *next;
    ipb_msg_t *msg;
    uint32_t *subids; /* NULL if none */
    uint16_t nsubids;
    uint16_t pid;
    uint8_t qos;
    uint8_t state;
    bool retain;
} ipb_dlv_t;

typedef struct ipb_sub ipb_sub_t;

struct ipb_session {
    /* Pointers first, then packed small fields: one per client. */
    ipb_session_t *hnext; /* client-id hash chain */
    ipb_conn_t *conn;     /* NULL while offline */
    ipb_sub_t *subs;      /* this session's subscriptions */
    ipb_dlv_t *inflight, *inflight_tail; /* sent, waiting for an acknowledgement */
    ipb_dlv_t *queue, *queue_tail;       /* waiting for room in the inflight window */
    uint16_t *rx_qos2;    /* packet ids of QoS 2 received, waiting for PUBREL */
    ipb_msg_t *will;      /* delayed will waiting while offline */
    char *username;       /* who owns it: ACL checks of deliveries while offline */
    uint32_t serial;      /* tells sessions apart for No Local (0 = none) */
    uint32_t expire_at;   /* while offline: ipb__secs() deadline; 0 = never */
    uint32_t will_at;     /* ipb__secs() when the delayed will goes out */
    uint32_t nsubs;
    uint32_t nqueued;
    uint32_t queued_bytes; /* payload bytes queued, saturating (caps fit 31 bits) */
    uint32_t expiry;      /* session expiry interval, seconds */
    uint32_t mgen, midx;  /* scratch of one fan-out (see subtree.c) */
    uint32_t oidx;        /* 1 + slot in the broker's offline array; 0 = not there */
    uint16_t ninflight;
    uint16_t nrx_qos2;    /* the array's capacity follows from it: see rx_qos2_add() */
    uint16_t next_pid;
    char id[];            /* client identifier, in the same allocation */
};

ipb_session_t *ipb__session_find(ipb_broker_t *b, const char *id);
ipb_session_t *ipb__session_new(ipb_broker_t *b, const char *id);
/* Remove every trace of s (subscriptions, queues) and free it. */
void ipb__session_free(ipb_broker_t *b, ipb_session_t *s);
/* Clear queues and subscriptions (clean start on an existing session). */
void ipb__session_reset(ipb_broker_t *b, ipb_session_t *s);
void ipb__session_set_offline(ipb_broker_t *b, ipb_session_t *s, bool offline);
/*
 * Give s a message at qos (already min(message, subscription)). Sends now if online and
 * the window allows, else queues (dropping per policy). Takes no reference from the
 * caller: it adds its own.
 */
void ipb__session_deliver(ipb_broker_t *b, ipb_session_t *s, ipb_msg_t *m, uint8_t qos,
                          bool retain, const uint32_t *subids, unsigned nsubids);
/* Send what fits in the window from the queue (after an ack or on reconnect). */
void ipb__session_pump(ipb_broker_t *b, ipb_session_t *s);
/* Resend everything in flight with DUP (reconnect). */
void ipb__session_resend(ipb_broker_t *b, ipb_session_t *s);
/* Handle PUBACK / PUBREC / PUBCOMP for an outgoing message. */
void ipb__session_ack(ipb_broker_t *b, ipb_session_t *s, uint8_t type, const ipm_ack_t *a);
void ipb__sessions_tick(ipb_broker_t *b, uint64_t now);
void ipb__sessions_free_all(ipb_broker_t *b);

/* ---- topic tree (subtree.c) ------------------------------------------------------- */

typedef struct ipb_group ipb_group_t;

struct ipb_sub {
    ipb_sub_t *next, *prev; /* in the node's or group's list */
    ipb_sub_t *snext;       /* in the session's list */
    ipb_node_t *node;
    ipb_group_t *group;     /* shared subscription, or NULL */
    ipb_session_t *s;       /* NULL for an in-process subscriber */
    ipb_local_cb cb;
    void *arg;
    uint32_t subid;
    uint8_t opts;
};

struct ipb_group {
    ipb_group_t *next;
    ipb_sub_t *members;
    ipb_sub_t *cursor; /* next member in the round robin */
    uint16_t len;
    char name[];
};

struct ipb_node {
    ipb_node_t *parent;
    ipb_node_t *hnext;              /* (parent, level) hash chain */
    ipb_node_t *child, *prev, *next; /* children, for retained lookups */
    ipb_sub_t *subs;
    ipb_group_t *groups;
    ipb_msg_t *retained;
    uint32_t nchildren;
    uint16_t len;
    char level[];
};

typedef struct {
    ipb_node_t **slots;
    size_t nslots, count;
    ipb_node_t *root;
} ipb_tree_t;

int ipb__tree_init(ipb_tree_t *t);
void ipb__tree_free(ipb_tree_t *t);
/* Node for a topic or filter, created if create is set; NULL if absent or no memory. */
ipb_node_t *ipb__tree_node(ipb_tree_t *t, const char *topic, size_t len, bool create);
ipb_node_t *ipb__tree_child(ipb_tree_t *t, ipb_node_t *parent, const char *s, size_t len);
/* Free n and empty ancestors. */
void ipb__tree_prune(ipb_tree_t *t, ipb_node_t *n);

/*
 * Add or replace the subscription of (s or cb/arg) to filter. *isnew tells whether it
 * existed. Returns the subscription or NULL (IPM_ENOMEM or a shared filter error).
 */
ipb_sub_t *ipb__sub_add(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                        const char *filter, size_t flen, uint8_t opts, uint32_t subid,
                        bool *isnew);
/* Remove one subscription; true if it existed. */
bool ipb__sub_remove(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                     const char *filter, size_t flen);
void ipb__sub_free(ipb_broker_t *b, ipb_sub_t *sub);

/* Deliver m to every matching subscriber (publish.c: ipb__publish calls this). */
void ipb__fanout(ipb_broker_t *b, ipb_msg_t *m);

/* ---- retained messages (retain.c) --------------------------------------------------- */

/* Store, replace or (empty payload) clear the retained message of m's topic. */
void ipb__retain_set(ipb_broker_t *b, ipb_msg_t *m);
/* The same, telling the store (notify) or not (a replay from the store). */
void ipb__retain_put(ipb_broker_t *b, ipb_msg_t *m, bool notify);
/* Send retained messages matching filter to s (or cb) at most at qos. */
void ipb__retain_send(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                      const char *filter, size_t flen, uint8_t opts, uint32_t subid);

/* ---- connections (conn.c) --------------------------------------------------------- */

#define IPB_CONN_NEW 0        /* waiting for CONNECT */
#define IPB_CONN_ACTIVE 1     /* CONNECT accepted */
#define IPB_CONN_CLOSING 2    /* final bytes flushing, reading stopped */
#define IPB_CONN_CLOSED 3     /* transport closing */

/* One queued outgoing packet. PUBLISH entries patch the first byte and the packet id. */
typedef struct ipb_out {
    struct ipb_out *next;
    ipb_enc_t *enc;
    uint16_t pid;
    uint8_t first;
    uint8_t pid_be[2];
} ipb_out_t;

typedef struct {
    char *topic;
    uint16_t len;
} ipb_alias_t;

/* 5.0 topic aliases of one connection, allocated when first used. */
#define IPB_OUT_ALIAS_CAP 64 /* aliases we assign per client, at most */
typedef struct {
    ipb_alias_t *in;  /* [topic_alias_maximum]: set by the client */
    ipb_alias_t *out; /* [out_max]: assigned by us, first topics first */
    uint16_t out_max, out_n;
} ipb_aliases_t;

struct ipb_conn {
    /* Pointers first, then packed small fields: one per client, 136 bytes. */
    ipb_broker_t *b;
    ipb_transport_t *tr;
    ipb_session_t *s;
    ipb_conn_t *next, *prev;   /* all connections */
    ipb_conn_t *fnext;         /* connections with output to flush */
    uint8_t *rbuf;             /* partial packet, allocated only while one is pending */
    ipb_out_t *out, *out_tail;
    uint64_t out_bytes;
    ipb_msg_t *will;
    char *username;
    ipb_aliases_t *alias;      /* NULL until a topic alias is used either way */
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
    /* Flags as bits: one byte for all, so an idle connection stays within 136 bytes. */
    bool in_flush : 1;
    bool will_on_close : 1;    /* publish the will when this connection ends */
    bool no_problem_info : 1;  /* 5.0 Request Problem Information 0: no reason strings */
    uint8_t rshift;            /* rbuf holds 1 << rshift bytes */
};

/* Queue an encoded packet (takes the reference). */
void ipb__conn_queue(ipb_conn_t *c, ipb_enc_t *e, uint8_t first, uint16_t pid);
/* Encode and queue a packet. Returns 0 or a negative IPM_E*. */
int ipb__conn_send(ipb_conn_t *c, const ipm_packet_t *pkt);
/* Send a 5.0 DISCONNECT with reason (if 5.0 and reason set), then close. */
void ipb__conn_kick(ipb_conn_t *c, uint8_t reason, const char *why);
/* Close now-ish: detach from the session, handle the will, flush, close the transport. */
void ipb__conn_close(ipb_conn_t *c, const char *why);
void ipb__conn_want_flush(ipb_conn_t *c);
void ipb__flush_all(ipb_broker_t *b);
void ipb__conns_tick(ipb_broker_t *b, uint64_t now);
void ipb__conn_peer(ipb_conn_t *c, char *buf, size_t len);

/* ---- packet handlers (handle_*.c) ------------------------------------------------- */

/* The first packet: rc is ipm_decode()'s result for it. Returns -1 if c is closing. */
int ipb__handle_connect_raw(ipb_conn_t *c, int rc, const ipm_frame_t *f, const uint8_t *data,
                            const ipm_connect_t *p);
int ipb__handle_publish(ipb_conn_t *c, ipm_publish_t *p);
int ipb__handle_pubrel(ipb_conn_t *c, const ipm_ack_t *a);
int ipb__handle_subscribe(ipb_conn_t *c, const ipm_subscribe_t *p);
int ipb__handle_unsubscribe(ipb_conn_t *c, const ipm_subscribe_t *p);
/* Publish a message from anywhere (client, will, $SYS, local): retained + fan-out. */
void ipb__publish(ipb_broker_t *b, ipb_msg_t *m);
/* The will of a connection or session: publish now. */
void ipb__will_publish(ipb_broker_t *b, ipb_msg_t *will);

/* ---- $SYS (sys.c) and logging (log.c) ----------------------------------------------- */

void ipb__log(ipb_broker_t *b, unsigned type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ipb__log_open(ipb_broker_t *b);
void ipb__log_close(ipb_broker_t *b);

/* ---- TCP listeners (listener.c, tcp.c) ---------------------------------------------- */

typedef struct {
    uv_tcp_t h;
    ipb_broker_t *b;
    unsigned index;
    uint16_t port;
    bool open;
    bool layered;          /* TLS and/or WebSocket: accepted by layered.c */
    ipb_layer_opts_t layer; /* its options, kept current by security.c */
} ipb_listener_t;

int ipb__tcp_accept(ipb_broker_t *b, unsigned index, uv_stream_t *server);
int ipb__listener_open(ipb_broker_t *b, unsigned i);

/* ---- TLS contexts and the auth policy (security.c) ------------------------------------ */

typedef struct ipb_security ipb_security_t;
/* Load certificates, password and ACL files; install the auth hook. 0, or -1 with err. */
int ipb__security_open(ipb_broker_t *b, char *err, size_t errlen);
void ipb__security_close(ipb_broker_t *b);
/* use_identity_as_username: the connection's user name from its certificate; 0 or a reason. */
int ipb__tls_identity(ipb_conn_t *c);

/* ---- the broker ------------------------------------------------------------------- */

#define IPB_RBUF_SHARED 65536

struct ipb_broker {
    uv_loop_t *loop;
    ipb_config_t cfg;
    ipb_listener_t listeners[IPB_MAX_LISTENERS];
    uv_timer_t tick;
    uv_prepare_t prep;
    uv_check_t check;
    unsigned open_handles;
    void (*closed_cb)(void *arg);
    void *closed_arg;
    bool closing;

    ipb_conn_t *conns;
    uint32_t nconns;
    uint32_t closed_since_trim;
    ipb_conn_t *flush;

    ipb_session_t **stab;      /* client id -> session */
    size_t nstab, nsessions;
    ipb_session_t **offline;   /* offline sessions with an expiry or a delayed will */
    size_t noffline, offline_cap;
    uint32_t next_serial;
    uint64_t next_auto_id;

    ipb_tree_t tree;
    uint32_t mgen;             /* fan-out generation, see ipb_session_t.mgen */
    void *fan_v, *fan_local;   /* fan-out scratch, reused (subtree.c) */
    size_t fan_cap, fan_local_cap;

    const ipb_auth_t *auth;
    void *auth_ctx;
    ipb_security_t *sec;
    bool retain_full_logged;
    uint32_t retained_by_clients; /* retained topics not under '$' (max_retained_messages) */
    const ipb_store_t *store;
    void *store_ctx;

    unsigned fanout_depth;
    ipb_msg_t **deferred;      /* local publishes made during a fan-out */
    size_t ndeferred, deferred_cap;
    bool draining;

    ipb_stats_t st;
    uint64_t queued_total;     /* deliveries queued or in flight, all sessions */
    uint64_t clients_disconnected;
    uint64_t start_ms, next_sys;
    ipb__sys_t sys;

    FILE *log;
    uint8_t rbuf[IPB_RBUF_SHARED]; /* every connection reads here first */
};

uint64_t ipb__now(ipb_broker_t *b);
/* Whole seconds since the broker started, at least 1: deadlines of sessions and wills. */
uint32_t ipb__secs(ipb_broker_t *b, uint64_t now);
/* The ipb__secs() value at which interval seconds from now have surely passed. */
uint32_t ipb__deadline(ipb_broker_t *b, uint64_t now, uint32_t interval);

#endif
