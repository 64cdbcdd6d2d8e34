/*
 * client.h - an MQTT 3.1 / 3.1.1 / 5.0 client, in the spirit of MicroPython's umqtt
 * MQTTClient: create, connect, set a callback, subscribe, publish, then call
 * ipm_client_check_msg() or ipm_client_wait_msg() in a loop.
 *
 * The core is pure C11: no malloc, no POSIX. The network is an ipm_transport_t and the
 * clock an ipm_platform_t (transport.h). Every buffer is the caller's (ipm_client_mem_t),
 * so a device can place them all in static memory; hosts may use ipm_client_new() (net.h,
 * library ipm_net), which allocates defaults and picks the TCP or TLS transport.
 *
 * What it does:
 * - QoS 0, 1 and 2 in both directions. Outgoing QoS 1/2 messages stay in the message store
 *   until acknowledged; packet ids skip ids in use; after a reconnect with a session
 *   present, unacknowledged PUBLISHes are re-sent with DUP and PUBRELs re-sent (MQTT 3.1.1
 *   and 5.0 section 4.4); without a session they are sent again as new messages. Incoming
 *   QoS 2 packet ids are remembered until PUBREL, so a message is delivered once.
 * - Keepalive: PINGREQ when idle, and the connection is declared dead when no PINGRESP
 *   comes back within the keepalive interval.
 * - 5.0: CONNECT/CONNACK properties, session expiry, will properties, publish properties
 *   both ways, topic aliases both ways (incoming ones resolved by the client, outgoing ones
 *   chosen by the caller), subscription options and identifiers, the server's Receive
 *   Maximum, Maximum Packet Size, Maximum QoS and Retain Available honoured, reason codes
 *   surfaced.
 * - Optional automatic reconnect with exponential backoff and jitter, restoring
 *   subscriptions, and a bounded outbox for publishes made while disconnected.
 * - Optional acknowledgement by the application after processing (cfg.manual_ack,
 *   ipm_client_ack()), so that an acknowledged message is a stored one.
 *
 * Threads: a client is not synchronised. Use it from one thread (for example a thread that
 * loops on ipm_client_wait_msg() and publishes from its callbacks), or serialise every
 * call with your own mutex and loop on wait_msg() with a short timeout (say 50 ms) so
 * other threads get the lock. Callbacks run inside check_msg()/wait_msg()/subscribe()/
 * flush() on the calling thread, and may call ipm_client_publish*() and
 * ipm_client_disconnect(), but not ipm_client_free() (net.h) or the blocking
 * subscribe/unsubscribe. The exception is ipm_client_ack() (cfg.manual_ack), which another
 * thread may call without a lock.
 *
 * Errors are the negative IPM_E* codes of codec.h (ipm_strerror() names them); the last
 * MQTT reason code from the server is ipm_client_reason().
 *
 * Example (host, with net.h):
 *
 *     static void on_msg(ipm_client_t *c, const ipm_msg_t *m, void *user)
 *     {
 *         printf("%.*s %.*s\n", (int)m->topic.len, (const char *)m->topic.data,
 *                (int)m->payload.len, (const char *)m->payload.data);
 *     }
 *     ...
 *     ipm_client_config_t cfg = ipm_client_config_default();
 *     cfg.host = "127.0.0.1";
 *     cfg.client_id = "sensor-1";
 *     ipm_client_t *c = ipm_client_new(&cfg, NULL, NULL);   // NULL: plain TCP
 *     ipm_client_set_callback(c, on_msg, NULL);
 *     if (ipm_client_connect(c) != IPM_OK) ...          // ipm_client_reason(c) says why
 *     ipm_client_subscribe(c, "cmd/#", 1);
 *     ipm_client_publish(c, "temp", "21.5", 4, 1, false);
 *     for (;;) if (ipm_client_wait_msg(c, 1000) < 0) break;
 *     ipm_client_disconnect(c, 0);
 *     ipm_client_free(c);
 */
#ifndef IOTPLOT_CLIENT_H
#define IOTPLOT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotplot/codec.h"
#include "iotplot/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time limits (override with -D). */
#ifndef IPM_CLIENT_CONNACK_PROPS_MAX
#define IPM_CLIENT_CONNACK_PROPS_MAX 256 /* CONNACK property bytes kept for the caller */
#endif
#ifndef IPM_CLIENT_MAX_PROPS
#define IPM_CLIENT_MAX_PROPS 16 /* properties of one will / connect / subscribe list */
#endif
#ifndef IPM_CLIENT_TOPIC_ALIAS_MAX
#define IPM_CLIENT_TOPIC_ALIAS_MAX 16 /* 5.0 Topic Alias Maximum sent when aliases_cap > 0 */
#endif
/* Acknowledgement by the application (cfg.manual_ack, ipm_client_ack()). 1 on hosts; the
 * device build (ports/ipm_port_config.h) sets 0, as the code does not fit its budget. */
#ifndef IPM_CLIENT_MANUAL_ACK
#define IPM_CLIENT_MANUAL_ACK 1
#endif
/* With acknowledgements waiting, the loop checks for ipm_client_ack() from another thread
 * at least this often (milliseconds), whatever timeout wait_msg() was given. */
#ifndef IPM_CLIENT_ACK_POLL_MS
#define IPM_CLIENT_ACK_POLL_MS 2
#endif

typedef struct ipm_client ipm_client_t;

/* ---- configuration ------------------------------------------------------------------- */

/* What to do with a publish made while disconnected when the outbox is full. */
typedef enum {
    IPM_OUTBOX_DROP_OLDEST = 0, /* discard the oldest queued message; count it as dropped */
    IPM_OUTBOX_REFUSE = 1       /* refuse the new one with IPM_EFULL; count it as dropped */
} ipm_outbox_policy_t;

/* The last will, published by the server if the connection ends without DISCONNECT. */
typedef struct {
    const char *topic; /* NULL = no will */
    const void *payload;
    size_t len;
    uint8_t qos;
    bool retain;
    const ipm_prop_t *props; /* 5.0 will properties (will delay, expiry, content type...) */
    uint16_t prop_count;
} ipm_will_t;

typedef struct {
    const char *host;      /* server name or address, passed to transport->open() */
    uint16_t port;         /* 1883 (8883 is usual for TLS) */
    const char *client_id; /* "" lets a 3.1.1/5.0 server assign one (needs clean_start) */
    const char *username;  /* NULL = none */
    const char *password;  /* NULL = none */
    uint8_t version;       /* IPM_PROTO_V31, IPM_PROTO_V311 (default) or IPM_PROTO_V5 */
    uint16_t keepalive;    /* seconds; 0 = off. Default 60 */
    /* Clean session (3.x): on every connect. Clean start (5.0): on the first connect only;
     * later connects resume the session, which lives session_expiry seconds. Default true */
    bool clean_start;
    uint32_t session_expiry; /* 5.0 Session Expiry Interval, seconds (0 = ends on close) */
    ipm_will_t will;
    const ipm_prop_t *connect_props; /* extra 5.0 CONNECT properties (user properties...) */
    uint16_t connect_prop_count;
    uint32_t connect_timeout_ms; /* TCP/TLS connect plus CONNACK. Default 10000 */
    uint32_t io_timeout_ms;      /* one send, and subscribe/unsubscribe acks. Default 10000 */
    /* Outgoing QoS 1/2 messages in flight at once, also capped by the server's Receive
     * Maximum; 0 = only that cap. Default 20, as paho and libmosquitto: some brokers
     * (mosquitto 2.0) lose queued deliveries when a publisher bursts far beyond that. */
    uint16_t max_inflight;
    /* Automatic reconnect from check_msg()/wait_msg() after a lost connection. */
    bool auto_reconnect;
    uint32_t reconnect_min_ms; /* first delay, doubled per failure. Default 500 */
    uint32_t reconnect_max_ms; /* cap. Default 30000; each delay gets up to 25% jitter */
    /* Outbox: publishes made while disconnected, sent in order after (re)connecting. */
    uint16_t outbox_max;       /* messages; 0 = publish while disconnected fails */
    ipm_outbox_policy_t outbox_policy;
#if IPM_CLIENT_MANUAL_ACK
    /* The application acknowledges incoming QoS 1/2 messages with ipm_client_ack() once it
     * has processed them (see there); needs mem.acks. Default false: acknowledged on
     * delivery. */
    bool manual_ack;
#endif
    const ipm_transport_t *transport; /* set by ipm_client_new() (net.h); copied by init */
    ipm_platform_t platform;          /* set by ipm_client_new() (net.h); copied by init */
} ipm_client_config_t;

/*
 * Every buffer the client uses, all owned by the caller and untouched by it after
 * ipm_client_free(). Sizes are the limits of the client:
 * - rx_buf: the largest packet accepted (5.0: sent to the server as Maximum Packet Size;
 *   a larger packet ends the connection with reason 0x95).
 * - tx_buf: the largest packet sent; a larger publish fails with IPM_ETOO_LARGE.
 * - store: outgoing QoS 1/2 messages until acknowledged, plus the outbox. Each message
 *   takes its encoded size plus 8 bytes.
 * - subs: subscriptions kept for resubscribing (filter length + 8 bytes each).
 * - qos2_ids: incoming QoS 2 messages awaiting PUBREL (5.0: sent as Receive Maximum).
 * - aliases: incoming 5.0 topic aliases (topic length + 4 bytes each); 0 = none accepted.
 * - acks: with cfg.manual_ack, incoming packets whose acknowledgement waits for
 *   ipm_client_ack() (5.0: Receive Maximum is the smaller of qos2_cap and acks_cap).
 *
 * Example: all static, for a device.
 *
 *     static uint8_t rx[1024], tx[1024], store[2048], subs[256], aliases[256];
 *     static uint16_t q2[8];
 *     static const ipm_client_mem_t mem = {rx, sizeof rx, tx, sizeof tx, store, sizeof store,
 *                                          subs, sizeof subs, q2, 8, aliases, sizeof aliases};
 */
typedef struct {
    uint8_t *rx_buf;
    size_t rx_cap;
    uint8_t *tx_buf;
    size_t tx_cap;
    uint8_t *store;
    size_t store_cap;
    uint8_t *subs;
    size_t subs_cap;
    uint16_t *qos2_ids;
    uint16_t qos2_cap;
    uint8_t *aliases;
    size_t aliases_cap;
#if IPM_CLIENT_MANUAL_ACK
    struct ipm_ack_slot *acks;
    uint16_t acks_cap;
#endif
} ipm_client_mem_t;

#if IPM_CLIENT_MANUAL_ACK
/* One acknowledgement waiting for the application (mem.acks). Private. */
typedef struct ipm_ack_slot {
    uint32_t seq;
    uint16_t packet_id;
    uint8_t type; /* IPM_PUBACK, IPM_PUBREC or IPM_PUBCOMP */
} ipm_ack_slot_t;
#endif

/*
 * Defaults: port 1883, version 3.1.1, keepalive 60 s, clean start, 10 s timeouts, 20 in flight,
 * reconnect off (500 ms .. 30 s when on), outbox 0, drop-oldest. Never fails.
 *
 *     ipm_client_config_t cfg = ipm_client_config_default();
 *     cfg.host = "broker.local";
 */
ipm_client_config_t ipm_client_config_default(void);

/* ---- messages and events ------------------------------------------------------------- */

/*
 * A message received. Everything points into the client's receive buffer and is valid
 * only during the callback. `topic` is resolved from the topic alias when the server used
 * one. `props` holds the 5.0 properties (empty for 3.x): walk them with ipm_props_iter()
 * or pick one with ipm_props_get(&m->props, IPM_PROP_CONTENT_TYPE, &p).
 */
typedef struct {
    ipm_bytes_t topic;
    ipm_bytes_t payload;
    uint8_t qos;
    bool retain;
    bool dup;
    uint16_t packet_id; /* 0 for QoS 0 */
    ipm_props_t props;
#if IPM_CLIENT_MANUAL_ACK
    uint32_t seq; /* cfg.manual_ack, QoS 1/2: pass it to ipm_client_ack(); else 0 */
#endif
} ipm_msg_t;

typedef void (*ipm_msg_cb)(ipm_client_t *c, const ipm_msg_t *m, void *user);

typedef enum {
    IPM_EV_CONNECTED,    /* CONNACK accepted; session_present set; props = CONNACK's */
    IPM_EV_DISCONNECTED, /* connection lost or closed; err and reason (server DISCONNECT) */
    IPM_EV_PUBLISHED,    /* a QoS 1/2 publish was acknowledged; packet_id, reason */
    IPM_EV_DROPPED,      /* a queued message was discarded (outbox full, or refused) */
    IPM_EV_SUBACK,       /* a SUBACK arrived for a resubscription after reconnect */
    IPM_EV_RELEASED      /* cfg.manual_ack: PUBREL of an incoming QoS 2 message; packet_id,
                            seq (its PUBCOMP waits for ipm_client_ack(), see there) */
} ipm_event_type_t;

typedef struct {
    ipm_event_type_t type;
    int err;             /* IPM_OK or the IPM_E* that ended the connection */
    uint8_t reason;      /* the server's reason code behind the event (ipm_client_reason()) */
    uint16_t packet_id;
    bool session_present;
    const ipm_props_t *props; /* properties of the packet behind the event, or NULL */
#if IPM_CLIENT_MANUAL_ACK
    uint32_t seq; /* IPM_EV_RELEASED: pass it to ipm_client_ack() */
#endif
} ipm_event_t;

typedef void (*ipm_event_cb)(ipm_client_t *c, const ipm_event_t *ev, void *user);

/* A message to publish with 5.0 properties (ipm_client_publish_ex). */
typedef struct {
    const char *topic;
    const void *payload;
    size_t len;
    uint8_t qos;
    bool retain;
    const ipm_prop_t *props; /* e.g. user property, content type, response topic... */
    uint16_t prop_count;
} ipm_message_t;

/* Options of one 5.0 subscription (ipm_client_subscribe_ex); 3.x uses qos only. */
typedef struct {
    uint8_t qos;
    bool no_local;
    bool retain_as_published;
    uint8_t retain_handling;  /* 0 send retained, 1 only if new, 2 never */
    uint32_t subscription_id; /* 0 = none */
    const ipm_prop_t *props;  /* user properties, or NULL */
    uint16_t prop_count;
} ipm_sub_opts_t;

/* ---- lifecycle ----------------------------------------------------------------------- */

/*
 * Initialise a client in caller-owned memory. cfg (host, client_id, ... strings and the
 * will, prop lists) is copied by pointer: those must outlive the client. cfg->transport
 * and cfg->platform.now_ms are required.
 * Errors: IPM_EINVALID (no transport/clock, bad version, will QoS 3, buffers smaller than
 * 128 bytes). No I/O happens here.
 *
 *     ipm_client_t c;
 *     cfg.transport = &my_transport;
 *     cfg.platform.now_ms = my_millis;
 *     if (ipm_client_init(&c, &cfg, &mem) != IPM_OK) ...
 */
int ipm_client_init(ipm_client_t *c, const ipm_client_config_t *cfg, const ipm_client_mem_t *mem);

/*
 * Callback for incoming messages (one per client; NULL to ignore messages). Set it before
 * ipm_client_connect(): a kept session may deliver queued messages right after CONNACK.
 * Never fails.
 *
 *     ipm_client_set_callback(c, on_msg, &my_state);
 */
void ipm_client_set_callback(ipm_client_t *c, ipm_msg_cb cb, void *user);
/*
 * Callback for connection and delivery events (optional). Never fails.
 *
 *     static void on_ev(ipm_client_t *c, const ipm_event_t *ev, void *user)
 *     {
 *         if (ev->type == IPM_EV_DISCONNECTED) printf("lost: %s\n", ipm_strerror(ev->err));
 *     }
 *     ipm_client_set_event_cb(c, on_ev, NULL);
 */
void ipm_client_set_event_cb(ipm_client_t *c, ipm_event_cb cb, void *user);

/* ---- connection ---------------------------------------------------------------------- */

/*
 * Open the transport, send CONNECT and wait for CONNACK (cfg.connect_timeout_ms). On a
 * session present, re-sends what was unacknowledged; otherwise restores the subscriptions
 * made earlier. Then sends the outbox.
 * Returns IPM_OK; IPM_EREFUSED when the server refused (ipm_client_reason() gives the
 * CONNACK code, ipm_reason_string() names it); IPM_ERESOLVE, IPM_EIO, IPM_ETLS,
 * IPM_ETIMEOUT for the transport; IPM_EMALFORMED / IPM_EPROTOCOL for a bad answer;
 * IPM_ESTATE if already connected.
 *
 *     int rc = ipm_client_connect(c);
 *     if (rc == IPM_EREFUSED)
 *         fprintf(stderr, "refused: %s\n", ipm_reason_string(ipm_client_reason(c)));
 */
int ipm_client_connect(ipm_client_t *c);

/*
 * Send DISCONNECT with `reason` (5.0; 0 = normal, 0x04 = publish the will) and close.
 * Messages still unacknowledged stay in the store for the next connect. Returns IPM_OK
 * or IPM_ENOT_CONNECTED; a failed send still closes.
 *
 *     ipm_client_flush(c, 5000);     // optional: wait for acknowledgements first
 *     ipm_client_disconnect(c, 0);
 */
int ipm_client_disconnect(ipm_client_t *c, uint8_t reason);

/*
 * Close the transport without DISCONNECT, as if the connection dropped: the server
 * publishes the will. Unacknowledged messages stay for the next connect. No auto
 * reconnect follows until ipm_client_connect() is called again. Never fails.
 *
 *     ipm_client_close(c);          // e.g. before a deep sleep; the will tells the others
 */
void ipm_client_close(ipm_client_t *c);

/*
 * true while connected (CONNACK accepted and the transport up); false while connecting,
 * waiting to reconnect, or closed.
 *
 *     if (!ipm_client_connected(c)) show_offline_icon();
 */
bool ipm_client_connected(const ipm_client_t *c);

/*
 * The CONNACK of the current (or last) connection: session present flag and its 5.0
 * properties (assigned client id, server keepalive, limits...). The properties are empty
 * if they exceeded IPM_CLIENT_CONNACK_PROPS_MAX bytes.
 *
 *     ipm_prop_t p;
 *     if (ipm_props_get(ipm_client_connack_props(c), IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER, &p))
 *         printf("id %.*s\n", (int)p.bin.len, (const char *)p.bin.data);
 */
bool ipm_client_session_present(const ipm_client_t *c);
const ipm_props_t *ipm_client_connack_props(const ipm_client_t *c);

/* ---- subscriptions ------------------------------------------------------------------- */

/*
 * Subscribe and wait for SUBACK (cfg.io_timeout_ms), delivering messages that arrive
 * meanwhile. The subscription is kept for resubscribing after a reconnect.
 * Returns the granted QoS (0..2) or a negative error: IPM_EDENIED when the server refused
 * (ipm_client_reason() has the SUBACK reason code), IPM_EBAD_FILTER, IPM_ENOT_CONNECTED,
 * IPM_ETIMEOUT, IPM_ENOSPACE (the subscription table is full; nothing was sent), transport
 * errors.
 *
 *     if (ipm_client_subscribe(c, "sensors/+/temp", 1) < 0) ...
 *     ipm_sub_opts_t o = {.qos = 2, .no_local = true, .subscription_id = 7};
 *     ipm_client_subscribe_ex(c, "cmd/#", &o);
 */
int ipm_client_subscribe(ipm_client_t *c, const char *filter, uint8_t qos);
int ipm_client_subscribe_ex(ipm_client_t *c, const char *filter, const ipm_sub_opts_t *opts);

/*
 * Unsubscribe and wait for UNSUBACK; the filter leaves the table kept for reconnects.
 * Returns IPM_OK, IPM_EDENIED (5.0 reason >= 0x80 in ipm_client_reason(), e.g. 0x11 is
 * success "no subscription existed"), IPM_EBAD_FILTER, IPM_ENOT_CONNECTED, IPM_ETIMEOUT.
 *
 *     ipm_client_unsubscribe(c, "cmd/#");
 */
int ipm_client_unsubscribe(ipm_client_t *c, const char *filter);

/* ---- publishing ---------------------------------------------------------------------- */

/*
 * Publish a message. QoS 0 is sent at once. QoS 1 and 2 are kept in the message store and
 * sent as the server's Receive Maximum allows; completion is reported by an
 * IPM_EV_PUBLISHED event and ipm_client_flush() waits for all of them. While disconnected
 * (with cfg.outbox_max > 0) any QoS is queued in the outbox and sent in order after
 * connecting.
 * Returns the packet id (> 0) for QoS 1/2 sent or in flight, 0 for QoS 0 sent or any
 * message queued, or: IPM_EBAD_TOPIC, IPM_EBAD_QOS, IPM_EINVALID (5.0 property not allowed,
 * retain/QoS beyond what the server allows, a topic alias used wrongly), IPM_ETOO_LARGE
 * (bigger than tx_buf or the server's Maximum Packet Size), IPM_EFULL (store or outbox full
 * with the refuse policy), IPM_ENOT_CONNECTED (disconnected and no outbox), transport errors.
 *
 *     ipm_client_publish(c, "temp", "21.5", 4, 1, false);
 *     ipm_prop_t up[] = {{.id = IPM_PROP_USER_PROPERTY, .bin = ipm_str("unit"),
 *                         .val = ipm_str("C")},
 *                        {.id = IPM_PROP_CONTENT_TYPE, .bin = ipm_str("text/plain")}};
 *     ipm_message_t m = {.topic = "temp", .payload = "21.5", .len = 4, .qos = 2,
 *                        .props = up, .prop_count = 2};
 *     ipm_client_publish_ex(c, &m);
 *
 * With auto reconnect, a message whose send fails because the connection just dropped is
 * kept (QoS 0 in the outbox, if there is one) and goes out after reconnecting; the call
 * then succeeds.
 *
 * Topic aliases (5.0) are the caller's: a message with a topic and an IPM_PROP_TOPIC_ALIAS
 * (1..32, and within the server's Topic Alias Maximum) sets the alias; later QoS 0
 * messages on the same connection may then give topic "" with that alias. The server
 * forgets aliases when the connection ends, so an empty topic is refused (IPM_EINVALID)
 * while disconnected, at QoS 1/2, behind queued messages, or for an alias not yet set.
 */
int ipm_client_publish(ipm_client_t *c, const char *topic, const void *payload, size_t len,
                       uint8_t qos, bool retain);
int ipm_client_publish_ex(ipm_client_t *c, const ipm_message_t *m);

/*
 * Wait until every QoS 1/2 message is acknowledged and the outbox is empty, delivering
 * incoming messages meanwhile. Returns IPM_OK, IPM_ETIMEOUT, or the error that ended the
 * connection (without auto reconnect).
 */
int ipm_client_flush(ipm_client_t *c, uint32_t timeout_ms);

/* ---- the loop ------------------------------------------------------------------------ */

/*
 * Handle what has arrived without blocking: deliver messages to the callback, answer
 * acknowledgements, send PINGREQ when the keepalive is due and detect a dead peer, send
 * queued messages the server's Receive Maximum now allows, and (auto reconnect) reconnect
 * when the backoff delay has passed (that attempt blocks up to cfg.connect_timeout_ms).
 * Unacknowledged messages are re-sent only on reconnecting, as MQTT-4.4.0-1 requires; a
 * server that stops answering is found by the keepalive, and the reconnect re-sends.
 * Returns the number of messages delivered (>= 0), or a negative error when the connection
 * failed: IPM_ECLOSED, IPM_EIO, IPM_ETIMEOUT (dead peer), IPM_EMALFORMED and other decode
 * errors, IPM_EPROTOCOL, IPM_ENOT_CONNECTED. With auto reconnect, connection failures are
 * reported through IPM_EV_DISCONNECTED events instead and the return is >= 0.
 *
 *     while (running) { ipm_client_check_msg(c); do_other_work(); }
 */
int ipm_client_check_msg(ipm_client_t *c);

/*
 * Like check_msg(), but wait up to timeout_ms for the first message; returns once one or
 * more messages were delivered, or at the timeout with 0. Errors as check_msg().
 *
 *     for (;;) { int n = ipm_client_wait_msg(c, 1000); if (n < 0) break; }
 */
int ipm_client_wait_msg(ipm_client_t *c, uint32_t timeout_ms);

#if IPM_CLIENT_MANUAL_ACK
/* ---- acknowledgement by the application (cfg.manual_ack) ------------------------------ */

/*
 * With cfg.manual_ack the client does not acknowledge an incoming QoS 1/2 message when
 * it delivers it: the message gets a sequence number (m->seq) and its acknowledgement
 * waits until the application calls ipm_client_ack() with that number or a later one,
 * meaning "everything delivered up to here is processed" (stored, committed...). The
 * acknowledgements then go out in delivery order, from the loop (check_msg()/wait_msg()),
 * within IPM_CLIENT_ACK_POLL_MS.
 *
 * - QoS 1: the PUBACK waits.
 * - QoS 2: the PUBREC waits, since a server that has the PUBREC never sends the PUBLISH
 *   again: a message lost before being processed would be lost for good. PUBREL is then
 *   reported as an IPM_EV_RELEASED event with its own seq, and the PUBCOMP waits for
 *   that seq to be acknowledged (the packet id is not reused before PUBCOMP).
 *   Exactly once across a crash of the application: a crash after processing but before
 *   the PUBREC reached the server makes it send the PUBLISH again (DUP) on the next
 *   connection. An application that must not apply it twice records the packet id in
 *   the same transaction as the data, skips (but acknowledges) a QoS 2 message whose id
 *   it holds, and forgets the id on IPM_EV_RELEASED, recording that before acknowledging
 *   the event's seq. The same record serves after a reconnect: a QoS 2 message whose
 *   PUBREC had not gone out comes back from the server and is delivered again (DUP).
 * - When the connection ends, the waiting acknowledgements are dropped: with a kept
 *   session the server sends every unacknowledged message again (QoS 1 may then arrive
 *   twice) and PUBRELs again; acknowledging an older seq later does nothing.
 * - mem.acks bounds the messages waiting; one more ends the connection with IPM_EQUOTA.
 *   A 5.0 server is told the bound as Receive Maximum; 3.x has no such flow control, and
 *   a server resuming a session may send thousands at once, so on a host give it (and
 *   qos2_ids) room for every packet id, 65535, as ipm_client_new() does.
 *
 * Threads: ipm_client_ack() is the one call that may run on another thread while a
 * thread loops on wait_msg() (one acknowledging thread at a time); it only publishes the
 * number for the loop. A number older than the last one is ignored. Never fails.
 *
 * Example: a worker thread stores messages and acknowledges after each commit.
 *
 *     static void on_msg(ipm_client_t *c, const ipm_msg_t *m, void *user)
 *     {
 *         queue_push(user, m->topic, m->payload, m->seq);   // copy: m is the client's
 *     }
 *     ...
 *     cfg.manual_ack = true;
 *     cfg.clean_start = false;                // a kept session, so unacknowledged
 *     cfg.client_id = "archiver";             // messages come back after a crash
 *     ipm_client_t *c = ipm_client_new(&cfg, NULL, NULL);  // mem.acks included
 *     ...
 *     // worker thread:
 *     for (;;) { uint32_t last = store_batch(queue); db_commit(); ipm_client_ack(c, last); }
 */
void ipm_client_ack(ipm_client_t *c, uint32_t seq);
#endif

/* ---- state --------------------------------------------------------------------------- */

/*
 * State readers; none fails.
 *
 * ipm_client_reason: the last reason code from the server (CONNACK, SUBACK, UNSUBACK,
 *   PUBACK/PUBREC/PUBCOMP, a server DISCONNECT); 3.x CONNACK return codes as they are.
 * ipm_client_dropped: messages dropped from or refused by the outbox since init.
 * ipm_client_pending: QoS 1/2 messages not yet acknowledged plus queued messages.
 *
 *     if (ipm_client_wait_msg(c, 100) == IPM_ECLOSED)
 *         printf("server said 0x%02x\n", ipm_client_reason(c));   // e.g. 0x8B shutting down
 *     printf("%u lost while offline, %u waiting\n", ipm_client_dropped(c),
 *            ipm_client_pending(c));
 */
uint8_t ipm_client_reason(const ipm_client_t *c);
uint32_t ipm_client_dropped(const ipm_client_t *c);
uint32_t ipm_client_pending(const ipm_client_t *c);

/*
 * Name of a 5.0 reason code ("Bad User Name or Password", "Not authorized"...), and of a
 * 3.x CONNACK return code, whose numbers differ. Never NULL.
 *
 *     fprintf(stderr, "refused: %s\n", v5 ? ipm_reason_string(rc) : ipm_connack3_string(rc));
 */
const char *ipm_reason_string(uint8_t reason);
const char *ipm_connack3_string(uint8_t code);

/* ---- private ------------------------------------------------------------------------- */

/* The client. Its members are private; it is here so it can be allocated statically. */
struct ipm_client {
    ipm_client_config_t cfg;
    ipm_transport_t tr;
    ipm_client_mem_t mem;
    ipm_msg_cb msg_cb;
    void *msg_user;
    ipm_event_cb ev_cb;
    void *ev_user;
    void *host_alloc; /* ipm_client_new()'s allocation, or NULL */
    uint8_t state;
    bool session_present;
    bool ping_out;
    uint8_t reason;
    size_t rx_len;
    size_t store_len;
    size_t subs_len;
    size_t aliases_len;
    uint16_t qos2_count;
    uint16_t next_pid;
    uint16_t inflight;
    uint16_t queued;
    uint16_t srv_recv_max;
    uint16_t srv_alias_max;
    uint8_t srv_max_qos;
    bool srv_retain;
    uint16_t keepalive;
    uint32_t srv_max_packet;
    uint32_t last_tx_ms;
    uint32_t ping_ms;
    uint32_t backoff_ms;
    uint32_t reconnect_at;
    uint32_t dropped;
    uint16_t wait_pid;
    uint8_t wait_type;
    bool wait_done;
    uint8_t wait_rc;
    bool in_cb;
    bool connected_once;
    int last_err;
    int delivered;
    uint32_t alias_out; /* outgoing topic aliases 1..32 set on this connection */
#if IPM_CLIENT_MANUAL_ACK
    uint32_t ack_seq;  /* the last sequence number given to the application */
    uint32_t acked;    /* written by ipm_client_ack(), possibly on another thread */
    uint16_t ack_head; /* waiting acknowledgements: mem.acks[ack_head..], a ring */
    uint16_t ack_count;
#endif
    ipm_props_t connack_props;
    uint8_t connack_buf[IPM_CLIENT_CONNACK_PROPS_MAX];
};

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_CLIENT_H */
