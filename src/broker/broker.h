/*
 * broker.h - the iotplot MQTT broker (3.1, 3.1.1, 5.0) as a library on a libuv loop.
 *
 * Everything hangs off one ipb_broker_t: there are no process globals, so a program (or a
 * test) can run as many brokers as it likes, each on the loop it is given. All functions
 * must be called on that loop's thread.
 *
 * Example: a broker on port 1883 until the loop is stopped.
 *
 *     ipb_config_t cfg;
 *     ipb_config_init(&cfg);
 *     ipb_config_add_listener(&cfg, 1883, NULL);
 *     ipb_broker_t *b;
 *     if (ipb_broker_new(uv_default_loop(), &cfg, &b) == 0 && ipb_broker_start(b) == 0)
 *         uv_run(uv_default_loop(), UV_RUN_DEFAULT);
 *
 * Seams, all declared here:
 *   - ipb_transport_vt: how a connection's bytes move: plain TCP, and TLS and/or WebSocket
 *     (one layered implementation), picked per listener when it accepts;
 *   - ipb_auth_t: called on CONNECT, PUBLISH, SUBSCRIBE and on every delivery
 *     (ipb_broker_start installs the broker's own, from password files and ACLs; call
 *     ipb_broker_set_auth after it to replace that);
 *   - ipb_store_t: write-through persistence of sessions and subscriptions (an
 *     embedder's, or with `persistence true` the broker's own SQLite store, which also
 *     keeps retained and queued messages and acknowledges only what it has committed);
 *   - ipb_local_subscribe / ipb_local_publish: in-process clients without a socket;
 *     ipb_local_receiver_new: one whose acknowledgements the publishers wait for.
 */
#ifndef IOTPLOT_BROKER_H
#define IOTPLOT_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "iotplot/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ipb_broker ipb_broker_t;
typedef struct ipb_conn ipb_conn_t;

/* ---- configuration ------------------------------------------------------------------ */

#define IPB_MAX_LISTENERS 16

/* Log types, as mosquitto's log_type names them; IPB_LOG_ALL selects every one. */
#define IPB_LOG_ERR 0x01u
#define IPB_LOG_WARNING 0x02u
#define IPB_LOG_NOTICE 0x04u
#define IPB_LOG_INFO 0x08u
#define IPB_LOG_DEBUG 0x10u
#define IPB_LOG_SUBSCRIBE 0x20u
#define IPB_LOG_UNSUBSCRIBE 0x40u
#define IPB_LOG_ALL 0xFFu

#define IPB_PATH_MAX 256

typedef struct {
    char address[64]; /* "" = every address */
    uint16_t port;    /* 0 = ephemeral, see ipb_broker_port() */
    int allow_anonymous; /* -1 = inherit the broker-wide setting */
    /* `protocol websockets`: an HTTP upgrade to WebSocket, and static files on GET
     * (http_dir, else the console compiled into the binary). */
    bool websockets;
    char http_dir[IPB_PATH_MAX];
    bool http_metrics; /* GET /metrics: Prometheus text (metrics.c), behind the /plots/ login */
    /* TLS when certfile is set (mosquitto.conf names). */
    char certfile[IPB_PATH_MAX], keyfile[IPB_PATH_MAX], cafile[IPB_PATH_MAX],
        capath[IPB_PATH_MAX];
    bool require_certificate;
    bool use_identity_as_username; /* the client certificate's CN is the user name */
    bool use_subject_as_username;  /* its whole subject (RFC 2253) is */
    char tls_version[16];          /* minimum: tlsv1.2 (default) or tlsv1.3 */
    char ciphers[256], ciphersuites[256];
    char crlfile[IPB_PATH_MAX];    /* revoked client certificates (PEM) */
    char psk_hint[64];             /* TLS-PSK on this listener, keys from psk_file */
    /* mosquitto.conf's listener directives beyond TLS. A listener whose address starts
     * with '/' is a unix socket at that path (`listener 0 /path`). */
    char mount_point[128];     /* before this listener's clients' topics and filters */
    char bind_interface[16];   /* SO_BINDTODEVICE: only this network interface */
    int socket_domain;         /* IPB_DOMAIN_*: which family a host name may bind */
    bool use_username_as_clientid;
    unsigned max_qos; /* highest QoS this listener's clients may publish or subscribe with */
    /* per_listener_settings: this listener's own security options; "" or -1 = the
     * broker-wide one (allow_anonymous above is one of them). */
    char password_file[IPB_PATH_MAX], acl_file[IPB_PATH_MAX], psk_file[IPB_PATH_MAX];
    char auto_id_prefix[64];
    int allow_zero_length_clientid;
} ipb_listener_config_t;

#define IPB_DOMAIN_ANY 0
#define IPB_DOMAIN_IPV4 1
#define IPB_DOMAIN_IPV6 2

/* Bridges (bridge.c): mosquitto.conf's `connection` blocks. */
#define IPB_MAX_BRIDGES 8
#define IPB_BRIDGE_MAX_TOPICS 16
#define IPB_BRIDGE_MAX_ADDRESSES 4
#define IPB_BRIDGE_OUT 0x01u
#define IPB_BRIDGE_IN 0x02u
#define IPB_BRIDGE_BOTH 0x03u
/* start_type (bridge_start.c) */
#define IPB_BRIDGE_AUTOMATIC 0
#define IPB_BRIDGE_LAZY 1
#define IPB_BRIDGE_ONCE 2

/* One `topic` line: pattern "" is mosquitto's place marker `""` (no pattern). */
typedef struct {
    char pattern[256];
    char local_prefix[128], remote_prefix[128]; /* "" = none */
    uint8_t direction; /* IPB_BRIDGE_OUT, _IN or _BOTH */
    uint8_t qos;
} ipb_bridge_topic_t;

typedef struct {
    char name[64];
    char host[IPB_BRIDGE_MAX_ADDRESSES][128];
    uint16_t port[IPB_BRIDGE_MAX_ADDRESSES];
    unsigned n_addresses;
    ipb_bridge_topic_t topics[IPB_BRIDGE_MAX_TOPICS];
    unsigned n_topics;
    char remote_clientid[128]; /* "" = hostname.NAME */
    char local_clientid[128];  /* "" = local.<remote_clientid> */
    char remote_username[128], remote_password[128];
    char local_username[128], local_password[128]; /* "" = the local side is trusted */
    bool has_remote_username, has_remote_password;
    char notification_topic[256]; /* "" = $SYS/broker/connection/<remote_clientid>/state */
    bool notifications, notifications_local_only;
    bool cleansession;
    int local_cleansession; /* -1 = as cleansession */
    uint16_t keepalive;     /* seconds, >= 5 */
    unsigned protocol_version; /* IPM_PROTO_V31, _V311 or _V5 */
    bool try_private;
    bool outgoing_retain;
    bool round_robin;
    uint32_t restart_base, restart_cap; /* seconds; cap 0 = a constant restart_base */
    unsigned start_type;                /* IPB_BRIDGE_AUTOMATIC, _LAZY or _ONCE */
    uint32_t idle_timeout, threshold;   /* lazy: seconds idle; messages queued */
    uint32_t max_packet_size;           /* outgoing to the remote; 0 = no limit */
    /* TLS to the remote when cafile, capath or psk is set. */
    char cafile[IPB_PATH_MAX], capath[IPB_PATH_MAX], certfile[IPB_PATH_MAX],
        keyfile[IPB_PATH_MAX];
    bool insecure;
    char tls_version[16];
    char identity[128], psk[129]; /* TLS-PSK instead: bridge_identity, bridge_psk (hex) */
} ipb_bridge_config_t;

typedef struct {
    ipb_listener_config_t listeners[IPB_MAX_LISTENERS];
    unsigned n_listeners;
    int max_connections;            /* -1 = unlimited */
    bool allow_anonymous;
    uint16_t max_keepalive;         /* larger client keepalives are lowered (5.0) */
    uint32_t max_packet_size;       /* incoming; 0 = the protocol's limit */
    uint32_t message_size_limit;    /* payload bytes; 0 = no limit */
    uint16_t max_inflight_messages; /* QoS 1/2 in flight per client, each way */
    uint32_t max_queued_messages;   /* per session beyond the inflight window; 0 = no limit */
    uint64_t max_queued_bytes;      /* payload bytes queued per session; 0 = no limit */
    bool queue_qos0_messages;
    bool retain_available;
    uint32_t persistent_client_expiration; /* seconds for 3.x persistent sessions; 0 = never */
    uint32_t sys_interval;                 /* seconds between $SYS updates; 0 = off */
    uint16_t topic_alias_maximum;          /* aliases a 5.0 client may use towards us */
    uint32_t max_subscriptions;            /* per client */
    uint64_t max_outgoing_bytes; /* socket backlog per connection before QoS 0 is dropped */
    uint32_t connect_timeout_ms; /* time allowed for the first packet (CONNECT) */
    uint32_t max_connect_size;   /* largest first packet, before any login; 0 = max_packet_size */
    uint32_t max_sessions;       /* sessions kept, online or offline */
    bool per_listener_settings;
    /* Security (src/broker/auth): files in mosquitto's formats, and a failed-login limit. */
    char password_file[IPB_PATH_MAX];
    char acl_file[IPB_PATH_MAX];
    uint32_t max_login_failures;   /* per (source address, user) and window; 0 = no limit */
    uint32_t max_address_failures; /* per source address, all users, and window; 0 = none */
    uint32_t login_failure_window; /* seconds */
    char plots_dir[IPB_PATH_MAX];  /* served read-only under /plots/ by websockets listeners */
    /* Limits against abuse: larger topics or filters are refused, and past the memory
     * ceiling publishes from clients are refused with 0x97 (quota exceeded). */
    uint32_t max_topic_length;  /* bytes; default 4096 */
    uint32_t max_topic_levels;  /* default 64 */
    uint64_t memory_limit;      /* resident bytes; 0 = none (the default) */
    uint32_t max_retained_messages; /* distinct retained topics; 0 = none. Default 100000 */
    /* Persistence (store.c, persist.c): one SQLite file, every change committed before it
     * is acknowledged. */
    bool persistence;
    char persistence_location[IPB_PATH_MAX]; /* a folder; "" = the working directory */
    char persistence_file[IPB_PATH_MAX];     /* "" = iotplot.db */
    uint32_t persistence_sync;               /* IPB_PERSIST_SYNC_* */
    uint64_t persistence_queue_memory;       /* queued messages kept in memory; 0 = no cap */
    unsigned log_types;   /* IPB_LOG_* mask */
    unsigned log_dest;    /* IPB_LOG_DEST_* mask: several at once; 0 = none */
    char log_file[256];   /* for IPB_LOG_DEST_FILE */
    /* mosquitto.conf's general directives of the process and its log. */
    char pid_file[IPB_PATH_MAX];  /* written at start, removed at exit */
    char psk_file[IPB_PATH_MAX];  /* TLS-PSK keys: "identity:hexkey" lines */
    char user[64];                /* started as root: this user's ids after binding */
    bool log_timestamp;           /* each line starts with the time */
    char log_timestamp_format[64]; /* strftime(3) of that time; "" = Unix seconds */
    unsigned log_facility;        /* syslog's LOG_LOCAL0 + N; 8 = LOG_DAEMON */
    bool connection_messages;     /* log each connection and disconnection */
    bool set_tcp_nodelay;
    bool allow_zero_length_clientid;
    char auto_id_prefix[64];      /* of the ids the broker assigns */
    char clientid_prefixes[128];  /* "" = any client id; else ids must start with it */
    bool check_retain_source;     /* retained messages rechecked against their publisher */
    bool upgrade_outgoing_qos;    /* deliver at the subscription's QoS, not the message's */
    uint64_t max_inflight_bytes;  /* QoS 1/2 payload bytes in flight per client; 0 = none */
    /* DNS-SD over mDNS (announce.c): the listeners published through avahi-daemon. */
    bool announce;
    char announce_name[64];       /* "" = "iotplot on HOST" */
    ipb_bridge_config_t bridges[IPB_MAX_BRIDGES];
    unsigned n_bridges;
} ipb_config_t;

/* normal: a commit survives the process being killed; full: also a power loss (fsync). */
#define IPB_PERSIST_SYNC_NORMAL 0
#define IPB_PERSIST_SYNC_FULL 1

#define IPB_LOG_DEST_NONE 0x00u
#define IPB_LOG_DEST_STDERR 0x01u
#define IPB_LOG_DEST_STDOUT 0x02u
#define IPB_LOG_DEST_FILE 0x04u
#define IPB_LOG_DEST_SYSLOG 0x08u
#define IPB_LOG_DEST_TOPIC 0x10u /* $SYS/broker/log/<type letter> */

/* Defaults as mosquitto's (max_inflight 20, max_queued 1000, ...), no listener. */
void ipb_config_init(ipb_config_t *cfg);

/* Add a listener; address NULL or "" = every address. IPM_EFULL past IPB_MAX_LISTENERS. */
int ipb_config_add_listener(ipb_config_t *cfg, uint16_t port, const char *address);

/*
 * Read a mosquitto.conf-style file into cfg (on top of what it holds). On error returns a
 * negative IPM_E* and writes "file:line: reason" into err. Every mosquitto 2.0 directive
 * is known: read as mosquitto documents it, or (bridges, plugins, features not offered)
 * refused with a message saying so, never silently ignored. Persistence is the broker's
 * own SQLite store (persist.c). A value with " #" in it is
 * warned about on stderr ("file:line: warning: ..."): mosquitto has no such comments.
 */
int ipb_config_load(ipb_config_t *cfg, const char *path, char *err, size_t errlen);
/* The same for text[0..len) in memory (tests, fuzzing); `name` appears in errors. */
int ipb_config_parse(ipb_config_t *cfg, const char *text, size_t len, const char *name,
                     char *err, size_t errlen);

/* ---- the broker ------------------------------------------------------------------- */

/* Create a broker on loop (nothing listens yet). Returns 0 or a negative IPM_E*. */
int ipb_broker_new(uv_loop_t *loop, const ipb_config_t *cfg, ipb_broker_t **out);

/* Bind and listen on every configured listener. Returns 0 or a negative UV error. */
int ipb_broker_start(ipb_broker_t *b);

/*
 * SIGHUP: reopen the log file (after logrotate moved it), then read the certificates,
 * CRLs, TLS-PSK keys, the password file and the ACL file again. Connected clients stay.
 * If any of those fails to load, they all stay as they were and err says why. Either
 * outcome is logged. Returns 0 or -1.
 */
int ipb_broker_reload(ipb_broker_t *b, char *err, size_t errlen);

/* Port listener i is bound to (after start), or 0. */
uint16_t ipb_broker_port(const ipb_broker_t *b, unsigned i);

/*
 * Close every listener and connection (5.0 clients get DISCONNECT 0x8B), drop all state
 * and, once libuv has closed every handle, free b and call cb(arg) (cb may be NULL).
 * The loop must keep running until then.
 */
void ipb_broker_close(ipb_broker_t *b, void (*cb)(void *arg), void *arg);

/* ---- in-process clients ------------------------------------------------------------ */

/* Receives a message on the broker's loop thread; must not block. */
typedef void (*ipb_local_cb)(void *arg, const char *topic, size_t topic_len,
                             const uint8_t *payload, size_t payload_len, uint8_t qos,
                             bool retain);

/*
 * Subscribe an in-process receiver to filter (wildcards and $share/ allowed) at qos.
 * cb runs for each matching message (with retain set only for retained messages sent
 * because of this subscription, which are delivered before this returns). Subscribing
 * the same (filter, cb, arg) again replaces the QoS. Returns 0, IPM_EBAD_FILTER,
 * IPM_EINVALID or IPM_ENOMEM.
 */
int ipb_local_subscribe(ipb_broker_t *b, const char *filter, uint8_t qos, ipb_local_cb cb,
                        void *arg);

/* Remove what ipb_local_subscribe added. 0, or IPM_EINVALID if there was no such one. */
int ipb_local_unsubscribe(ipb_broker_t *b, const char *filter, ipb_local_cb cb, void *arg);

/*
 * A receiver that is also told who published: user is the user name the publishing
 * client logged in with (as the ACLs saw it), or NULL for an anonymous client, a will,
 * $SYS, an in-process publish and a retained message restored from a store.
 */
typedef void (*ipb_local_from_cb)(void *arg, const char *user, const char *topic,
                                  size_t topic_len, const uint8_t *payload,
                                  size_t payload_len, uint8_t qos, bool retain);

/* As ipb_local_subscribe / ipb_local_unsubscribe, with such a receiver. */
int ipb_local_subscribe_from(ipb_broker_t *b, const char *filter, uint8_t qos,
                             ipb_local_from_cb cb, void *arg);
int ipb_local_unsubscribe_from(ipb_broker_t *b, const char *filter, ipb_local_from_cb cb,
                               void *arg);

/*
 * A receiver that acknowledges what it takes, later and from any thread: the publishing
 * client's PUBACK (QoS 1) or PUBREC (QoS 2) waits until every such receiver that got the
 * message has acknowledged it (and, with `persistence true`, until the broker's own
 * commit), so a receiver that stores messages can say "acknowledged means stored" as a
 * broker with persistence does. Acknowledgements still leave each connection in the
 * order its packets came (MQTT-4.6.0-2): one that waits holds back the later ones.
 * Nothing is sent to a client that disconnects before the acknowledgement: it sends the
 * message again, to be delivered again at QoS 1; a QoS 2 resend the broker recognises is
 * not delivered again, and its PUBREC waits for every token given out before it.
 *
 * How many tokens can be outstanding is bounded by the publishers: a client may not
 * have more unacknowledged QoS 1/2 messages than its receive maximum (5.0) or its packet
 * ids; one with 65,535 waiting is disconnected.
 */
typedef struct ipb_local_receiver ipb_local_receiver_t;

typedef struct {
    const char *user;          /* as for ipb_local_from_cb */
    const char *topic;         /* NUL-terminated, topic_len bytes */
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;               /* of this delivery */
    bool retain;
    /* > 0: the publisher's acknowledgement waits for ipb_local_ack(r, token or later).
     * Tokens of one receiver increase by one from delivery to delivery that has one.
     * 0: nothing waits (QoS 0, a retained message at subscribe, an in-process publish,
     * a will, $SYS). */
    uint64_t token;
    /* Only for a receiver that records QoS 2 exchanges (ipb_local_receiver_qos2), and
     * only when the publisher sent the message at QoS 2 (whatever this delivery's QoS):
     * the publishing client's id and its packet id, and the PUBLISH's DUP flag. A message
     * with dup set may be one the receiver stored before a restart of the broker; one
     * without is new, even under an id the receiver still has. Otherwise NULL, 0, false. */
    const char *client_id;
    uint16_t packet_id;
    bool dup;
} ipb_local_msg_t;

/*
 * Runs on the loop thread for each delivery; must not block. Returns 0 when the
 * receiver took the message, or nonzero when it could not (e.g. its queue is full):
 * then the publisher, if one waits, is disconnected without the acknowledgement and
 * sends the message again. Tokens are cumulative, so a refused token must not stop
 * later ones from being acknowledged.
 */
typedef int (*ipb_local_recv_cb)(void *arg, const ipb_local_msg_t *m);

/*
 * Make a receiver (loop thread). It lives until the broker is closed, which frees it.
 * Returns 0, IPM_EINVALID or IPM_ENOMEM.
 */
int ipb_local_receiver_new(ipb_broker_t *b, ipb_local_recv_cb cb, void *arg,
                           ipb_local_receiver_t **out);

/*
 * A client's PUBREL (client id, packet id), given to every receiver that records QoS 2
 * exchanges, whether the broker still knows the id or not (after a restart without
 * persistence it does not, but the receiver may have the id recorded). The PUBCOMP waits
 * for ipb_local_ack(r, token or later), as a PUBLISH's acknowledgement does, so a
 * receiver that forgets the id in its store before acknowledging is never asked to
 * recognise a new message under an id it still holds: a client reuses an id only after
 * its PUBCOMP. Loop thread, must not block; nonzero when the receiver could not take it
 * (the client is disconnected without the PUBCOMP and sends the PUBREL again).
 * packet_id 0 (and token 0, nothing waits): the client starts a clean session, so every
 * id the receiver holds for it is stale; nonzero refuses the CONNECT (server busy).
 */
typedef int (*ipb_local_release_cb)(void *arg, const char *client_id, uint16_t packet_id,
                                    uint64_t token);

/*
 * Make r a receiver that makes QoS 2 exactly once across a restart of the broker itself:
 * its deliveries of QoS 2 messages name (client_id, packet_id, dup), and release is
 * called for every PUBREL (loop thread). The receiver is to keep the pair in the same
 * commit as what it stores of the message, acknowledge a message with dup set whose pair
 * it has without storing it again, and forget the pair on release. The broker then
 * routes a resend it has no record of (dup set, after a restart) as usual, and with
 * `persistence true` commits its own record of a message r took only after r
 * acknowledged it. Receivers that do not ask pay nothing. 0 or IPM_EINVALID.
 */
int ipb_local_receiver_qos2(ipb_local_receiver_t *r, ipb_local_release_cb release);

/* Subscribe r to filter at qos, as ipb_local_subscribe; a receiver may have many. */
int ipb_local_subscribe_receiver(ipb_broker_t *b, const char *filter, uint8_t qos,
                                 ipb_local_receiver_t *r);
int ipb_local_unsubscribe_receiver(ipb_broker_t *b, const char *filter,
                                   ipb_local_receiver_t *r);

/*
 * Acknowledge every delivery of r with a token up to `token`. Any thread, cheap (an
 * atomic and a uv_async_send; the loop does the rest on its next turn); not after
 * ipb_broker_close() was called.
 *
 *     static int on_msg(void *arg, const ipb_local_msg_t *m)
 *     {
 *         return queue_for_writer(arg, m->payload, m->payload_len, m->token);
 *     }
 *     ... on the writer thread, once rows up to token are on disk:
 *         ipb_local_ack(r, token);
 */
void ipb_local_ack(ipb_local_receiver_t *r, uint64_t token);

/*
 * Publish as if a client had (loop thread only). A retained message replaces the stored
 * one; an empty retained payload clears it. Returns 0, IPM_EBAD_TOPIC, IPM_EBAD_QOS or
 * IPM_ENOMEM. Called from inside an ipb_local_cb, delivery happens after that callback
 * returns.
 */
int ipb_local_publish(ipb_broker_t *b, const char *topic, const uint8_t *payload, size_t len,
                      uint8_t qos, bool retain);

/* ---- transports ------------------------------------------------------------------- */

/*
 * A connection's byte stream. The broker core never touches sockets: it reads through
 * the callbacks below and writes through the vtable, so TLS and WebSocket are further
 * implementations, not copies of TCP. An implementation embeds ipb_transport_t first.
 */
typedef struct ipb_transport ipb_transport_t;
typedef struct {
    const char *name; /* "tcp", "tls", "ws" */
    int (*read_start)(ipb_transport_t *t);
    int (*read_stop)(ipb_transport_t *t);
    /* Write what it can now: bytes taken (maybe partial), UV_EAGAIN, or a UV error. */
    int (*try_write)(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n);
    /*
     * Write everything, asynchronously; the memory stays valid until the transport calls
     * ipb_conn_on_written(). At most one such write is outstanding per transport.
     */
    int (*write)(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n);
    /* Close; ipb_conn_on_closed() follows from a later loop callback. */
    void (*close)(ipb_transport_t *t);
    /*
     * Optional: half-close after the queued writes (TCP FIN), reading on, so that a peer
     * still writing when we end the connection reads our last packet instead of a reset.
     * 0 or a UV error. NULL: a closing connection is closed as soon as it is flushed.
     */
    int (*shutdown)(ipb_transport_t *t);
    /* "address:port" of the peer into buf. */
    void (*peer)(ipb_transport_t *t, char *buf, size_t len);
    /*
     * Optional (TLS): the verified client certificate's CN, or its whole subject, into
     * buf. 0, or -1 when there is none. NULL for transports without certificates.
     */
    int (*identity)(ipb_transport_t *t, bool whole_subject, char *buf, size_t len);
} ipb_transport_vt;

struct ipb_transport {
    const ipb_transport_vt *vt;
    ipb_conn_t *conn;
};

/*
 * Called by a listener for each accepted connection whose transport is ready to read.
 * Returns the connection or NULL (the caller then closes t itself).
 */
ipb_conn_t *ipb_conn_new(ipb_broker_t *b, unsigned listener, ipb_transport_t *t);
/* Where the transport should put the next bytes it reads (suggested size ignored). */
void ipb_conn_read_buf(ipb_conn_t *c, size_t suggested, uv_buf_t *buf);
/* Bytes arrived in the buffer from ipb_conn_read_buf (n > 0), or end/error (n < 0). */
void ipb_conn_on_read(ipb_conn_t *c, ssize_t n, const uv_buf_t *buf);
/*
 * c is not to be read now (its share of this loop turn is read, or it is a busy
 * connection whose turn this is not): a transport's socket alloc callback then gives
 * libuv no buffer and passes the UV_ENOBUFS that follows to ipb_conn_on_read, for which
 * it is no error; the socket stays readable and is read in a later turn.
 */
bool ipb_conn_read_spent(const ipb_conn_t *c);
/* The outstanding write() finished with status (0 or a UV error). */
void ipb_conn_on_written(ipb_conn_t *c, int status);
/* The transport is closed; the connection is freed. */
void ipb_conn_on_closed(ipb_conn_t *c);

/* ---- authentication and authorization hook -------------------------------------- */

/* Who a check is about. */
typedef struct {
    const char *client_id;
    const char *username; /* NULL if none */
    const char *peer;     /* "address:port" */
    unsigned listener;
    uint8_t version;
    bool anonymous_allowed; /* on CONNECT: allow_anonymous as it applies to this listener */
} ipb_auth_client_t;

/*
 * Each function returns 0 to allow or a 5.0 reason code to refuse (the broker maps it to
 * the 3.x code where needed). A NULL table or NULL function allows everything, which is
 * what the broker does until password files and ACLs exist.
 */
typedef struct {
    uint8_t (*connect)(void *ctx, const ipb_auth_client_t *cl, const ipm_connect_t *c);
    uint8_t (*publish)(void *ctx, const ipb_auth_client_t *cl, const char *topic,
                       uint8_t qos, bool retain);
    uint8_t (*subscribe)(void *ctx, const ipb_auth_client_t *cl, const char *filter,
                         uint8_t qos);
    /* Before each delivery (also retained messages and wills) to a client. */
    uint8_t (*deliver)(void *ctx, const ipb_auth_client_t *cl, const char *topic);
} ipb_auth_t;

void ipb_broker_set_auth(ipb_broker_t *b, const ipb_auth_t *auth, void *ctx);

/* ---- storage ---------------------------------------------------------------------- */

/*
 * Write-through persistence. The in-memory state (session table, subscription tree,
 * retained tree) is authoritative; a store sees every change to what must survive a
 * restart and may replay it at start through ipb_local_publish (retained) and the
 * session calls that a persistent store adds then. NULL (the default) keeps everything
 * in memory only. Each function returns 0 or a negative IPM_E*, which is logged.
 */
typedef struct {
    int (*retain_set)(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                      uint8_t qos); /* len 0 clears */
    int (*session_set)(void *ctx, const char *client_id, uint32_t expiry_interval);
    int (*session_del)(void *ctx, const char *client_id);
    int (*sub_set)(void *ctx, const char *client_id, const char *filter, uint8_t options,
                   uint32_t subid);
    int (*sub_del)(void *ctx, const char *client_id, const char *filter);
} ipb_store_t;

void ipb_broker_set_store(ipb_broker_t *b, const ipb_store_t *store, void *ctx);

/* ---- the plot store over HTTP (GET /api/...) ---------------------------------------- */

/* What a request to the API asks, parsed and checked by the broker (docs/console.md). */
typedef enum { IPB_API_SERIES, IPB_API_ROWS } ipb_api_route_t;
typedef struct {
    ipb_api_route_t route; /* /api/series: the list; /api/rows: rows of one series */
    const char *user;      /* the verified user, whose sessions only may be read; NULL
                              where the listener needs no login: everyone's */
    const char *session, *name; /* IPB_API_ROWS: which series (no control characters) */
    int64_t version, since, limit; /* 0 when not given */
    size_t max_body;       /* the answer must not be longer */
} ipb_api_req_t;

/*
 * Answer req: the HTTP status (200, or 404 for a series that is not there or not the
 * user's, 500) and, with 200, a malloc'd JSON body in *body (*len bytes) that the broker
 * frees. Called on a thread of libuv's pool, never on the loop (so it may read a
 * database), with at most a few calls at a time; it must not call the broker.
 */
typedef int (*ipb_api_fn)(void *ctx, const ipb_api_req_t *req, char **body, size_t *len);

/*
 * Serve GET /api/... on every websockets listener with fn (NULL: no API, 404), with the
 * logins of /plots/: where a CONNECT without a user name is refused, a request needs
 * HTTP Basic credentials (401 without). Call before ipb_broker_start.
 */
void ipb_broker_set_api(ipb_broker_t *b, ipb_api_fn fn, void *ctx);

/*
 * Replaying what a store kept, at start (before ipb_broker_start). None of these calls
 * the store back. Each returns 0 or a negative IPM_E*:
 *   - a retained message (IPM_EBAD_TOPIC, IPM_EBAD_QOS, IPM_ENOMEM);
 *   - an offline session that expires expiry_interval seconds from now (or never);
 *   - one subscription of a restored session (IPM_EINVALID if there is no such session,
 *     IPM_EBAD_FILTER, IPM_ENOMEM).
 */
int ipb_broker_restore_retained(ipb_broker_t *b, const char *topic, const uint8_t *payload,
                                size_t len, uint8_t qos);
int ipb_broker_restore_session(ipb_broker_t *b, const char *client_id,
                               uint32_t expiry_interval);
int ipb_broker_restore_sub(ipb_broker_t *b, const char *client_id, const char *filter,
                           uint8_t options, uint32_t subid);

/* ---- statistics (also published under $SYS) --------------------------------------- */

/*
 * Why a message was dropped, one row each: X(NAME, "label", "meaning"). The label is the
 * `reason` of iotplot_broker_messages_dropped_total; every reason but EXPIRED also counts
 * in pub_dropped ($SYS/broker/publish/messages/dropped).
 */
#define IPB_DROP_MAP(X)                                                                    \
    X(MESSAGE_SIZE, "message_size_limit", "a payload above message_size_limit, refused")    \
    X(NOT_AUTHORIZED, "not_authorized", "a publish the ACL file or the auth hook refused")   \
    X(TOPIC_LIMIT, "topic_limit", "a topic above max_topic_length or max_topic_levels")     \
    X(MEMORY_LIMIT, "memory_limit", "a publish refused above memory_limit")                 \
    X(REFUSED, "refused", "a publish the auth hook refused with another reason code")       \
    X(QUEUE_FULL, "queue_full", "a session's queue at max_queued_messages or _bytes")       \
    X(OUTGOING_BYTES, "outgoing_bytes", "QoS 0 to a connection max_outgoing_bytes behind")  \
    X(PACKET_TOO_LARGE, "packet_too_large", "larger than the receiver's maximum packet")   \
    X(NO_MEMORY, "out_of_memory", "no memory for the delivery")                             \
    X(EXPIRED, "expired", "its message expiry interval ran out while it was queued")

typedef enum {
#define IPB_DROP_ENUM(e, label, doc) IPB_DROP_##e,
    IPB_DROP_MAP(IPB_DROP_ENUM)
#undef IPB_DROP_ENUM
    IPB_DROP_N
} ipb_drop_t;

typedef struct {
    uint64_t clients_connected, clients_total, clients_maximum;
    uint64_t msgs_received, msgs_sent, bytes_received, bytes_sent;
    uint64_t pub_received, pub_sent, pub_dropped;
    uint64_t subscriptions, retained;
    uint64_t store_failures; /* commits of the persistence file that failed */
    uint64_t login_failures; /* logins refused (MQTT and HTTP), by the password file, a
                                lockout or an auth hook */
    uint64_t dropped[IPB_DROP_N]; /* messages dropped, by reason */
} ipb_stats_t;

void ipb_broker_stats(const ipb_broker_t *b, ipb_stats_t *out);

/*
 * More lines for GET /metrics, after the broker's own: an embedder's metrics (iotplot
 * serve adds the plot server's). fn writes Prometheus text into buf like snprintf
 * (returns the length of the whole text, even past len) on the loop thread. NULL: none.
 */
typedef size_t (*ipb_metrics_fn)(void *arg, char *buf, size_t len);
void ipb_broker_set_metrics(ipb_broker_t *b, ipb_metrics_fn fn, void *arg);

/*
 * One Prometheus histogram, # HELP and # TYPE lines included, into buf like snprintf:
 * counts[i] observations at most bounds[i] (not cumulative: this sums them), n bounds in
 * increasing order, count observations in all (the +Inf bucket) summing to sum.
 */
size_t ipb_metrics_histogram(char *buf, size_t len, const char *name, const char *help,
                             const double *bounds, const uint64_t *counts, unsigned n,
                             uint64_t count, double sum);

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_BROKER_H */
