/*
 * handle_connect.c - the first packet of a connection: CONNECT, version negotiation,
 * client identifiers, authentication, session takeover and resumption, and CONNACK.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "core.h"
#include "handlers.h"
#include "local.h"
#include "log.h"
#include "outq.h"
#include "security.h"
#include "session.h"

/* Refuse with a CONNACK (3.x return code or 5.0 reason), then close. */
static int refuse(ipb_conn_t *c, uint8_t rc5, const char *why)
{
    uint8_t code = c->version == IPM_PROTO_V5 ? rc5 : ipm_reason_connack3(rc5);
    ipm_packet_t pkt = {.type = IPM_CONNACK};
    pkt.u.connack.reason = code;
    /* 5.0 says why in words too (allowed on CONNACK whatever the client asked for). */
    ipm_prop_t text = {.id = IPM_PROP_REASON_STRING, .bin = ipm_str(why)};
    if (c->version == IPM_PROTO_V5)
        pkt.u.connack.props = (ipm_props_t){.list = &text, .count = 1};
    ipb__out_send(c, &pkt);
    ipb__conn_will_drop(c); /* a refused connection has no will */
    char peer[64];
    ipb__conn_peer(c, peer, sizeof peer);
    ipb__log(c->b, IPB_LOG_NOTICE, "Refused connection from %s: %s.", peer, why);
    ipb__conn_close(c, NULL);
    return -1;
}

/*
 * CONNECT did not decode. The protocol level byte tells which CONNACK the client can
 * read: a version we do not speak gets the 3.1.1 "unacceptable protocol version".
 */
static int connect_error(ipb_conn_t *c, int rc, const ipm_frame_t *f, const uint8_t *data)
{
    size_t at = f->header_len;
    uint8_t level = 0;
    if (at + 2 <= f->total_len) {
        size_t namelen = (size_t)data[at] << 8 | data[at + 1];
        if (at + 2 + namelen < f->total_len)
            level = data[at + 2 + namelen];
    }
    if (rc == IPM_EBAD_VERSION) {
        c->version = IPM_PROTO_V311;
        return refuse(c, IPM_RC_UNSUPPORTED_PROTOCOL_VERSION, ipm_strerror(rc));
    }
    if (level == IPM_PROTO_V5 || rc == IPM_EBAD_CLIENT_ID) {
        c->version = level == IPM_PROTO_V5 ? IPM_PROTO_V5 : IPM_PROTO_V311;
        return refuse(c, ipm_err_reason(rc), ipm_strerror(rc));
    }
    char peer[64];
    ipb__conn_peer(c, peer, sizeof peer);
    ipb__log(c->b, IPB_LOG_NOTICE, "Bad CONNECT from %s: %s.", peer, ipm_strerror(rc));
    ipb__conn_close(c, NULL);
    return -1;
}

void ipb__connect_too_large(ipb_conn_t *c, const uint8_t *data, size_t len)
{
    /* The protocol level is in the first bytes when the name is "MQTT" (3.1.1, 5.0):
     * fixed header (2-5 bytes), name length, "MQTT", level. */
    size_t at = 1;
    while (at < len && at < 5 && (data[at] & 0x80))
        at++;
    at++;
    if ((data[0] >> 4) == IPM_CONNECT && at + 7 <= len && data[at] == 0 && data[at + 1] == 4 &&
        !memcmp(data + at + 2, "MQTT", 4) && data[at + 6] == IPM_PROTO_V5) {
        c->version = IPM_PROTO_V5;
        refuse(c, IPM_RC_PACKET_TOO_LARGE, "CONNECT larger than max_connect_size");
        return;
    }
    char peer[64];
    ipb__conn_peer(c, peer, sizeof peer);
    ipb__log(c->b, IPB_LOG_NOTICE, "Refused connection from %s: first packet larger than "
             "max_connect_size.", peer);
    ipb__conn_close(c, NULL);
}

static char *dup_bytes(ipm_bytes_t s)
{
    char *p = malloc(s.len + 1u);
    if (p) {
        memcpy(p, s.data, s.len);
        p[s.len] = 0;
    }
    return p;
}

/* The client-id: its own, or one we assign (5.0; 3.1.1 with a clean session). */
static char *client_id(ipb_conn_t *c, const ipm_connect_t *p, bool *assigned)
{
    const ipb_config_t *cfg = &c->b->cfg;
    const ipb_listener_config_t *l = &cfg->listeners[c->listener];
    *assigned = false;
    if (l->use_username_as_clientid && p->has_username)
        return dup_bytes(p->username);
    if (p->client_id.len)
        return dup_bytes(p->client_id);
    /* per_listener_settings: the listener's own values where it gave them. */
    bool own = cfg->per_listener_settings;
    bool zero_ok = own && l->allow_zero_length_clientid >= 0 ? l->allow_zero_length_clientid
                                                             : cfg->allow_zero_length_clientid;
    const char *prefix = own && l->auto_id_prefix[0] ? l->auto_id_prefix : cfg->auto_id_prefix;
    if (p->version == IPM_PROTO_V31 || (p->version == IPM_PROTO_V311 && !p->clean_start) ||
        !zero_ok)
        return NULL;
    char buf[96];
    snprintf(buf, sizeof buf, "%s%016llx%04x", prefix[0] ? prefix : "auto-",
             (unsigned long long)++c->b->next_auto_id, (unsigned)(uv_hrtime() & 0xFFFF));
    *assigned = true;
    return strdup(buf);
}

/* 0, a 5.0 reason code, or IPB__LOGIN_PENDING while the password hashes. */
static int check_auth(ipb_conn_t *c, const ipm_connect_t *p, const char *id)
{
    ipb_broker_t *b = c->b;
    const ipb_listener_config_t *l = &b->cfg.listeners[c->listener];
    bool anon = b->cfg.allow_anonymous;
    if (b->cfg.per_listener_settings && l->allow_anonymous >= 0)
        anon = l->allow_anonymous;
    if (!p->has_username && !anon)
        return IPM_RC_NOT_AUTHORIZED;
    char peer[64];
    ipb__conn_peer(c, peer, sizeof peer);
    ipb_auth_client_t cl = {.client_id = id, .username = c->username, .peer = peer,
                            .listener = c->listener, .version = p->version,
                            .anonymous_allowed = anon};
    return ipb__security_login(c, &cl, p);
}

/*
 * A client id belongs to the user whose session holds it: another user (or an anonymous
 * client) naming it is refused, and the owner's session and connection stay as they
 * are. A session made anonymously has no owner to protect.
 */
static bool owned_by_other(ipb_conn_t *c, const char *id)
{
    ipb_session_t *s = ipb__session_find(c->b, id);
    if (!s || !s->username || (c->username && !strcmp(s->username, c->username)))
        return false;
    char peer[64];
    ipb__conn_peer(c, peer, sizeof peer);
    ipb__log(c->b, IPB_LOG_WARNING, "Client id %s belongs to user %s: refused it to %s%s from %s.",
             id, s->username, c->username ? "user " : "an anonymous client",
             c->username ? c->username : "", peer);
    return true;
}

/* The will as a message, with its delay; false if it is not allowed. */
static bool make_will(ipb_conn_t *c, const ipm_connect_t *p, const char *id, uint8_t *reason)
{
    if (!p->will)
        return true;
    if (p->will_retain && !c->b->cfg.retain_available) {
        *reason = IPM_RC_RETAIN_NOT_SUPPORTED;
        return false;
    }
    if (p->will_qos > c->b->cfg.listeners[c->listener].max_qos) {
        *reason = IPM_RC_QOS_NOT_SUPPORTED;
        return false;
    }
    /* A will is published in the client's name: it needs the right to write there. */
    ipb_broker_t *b = c->b;
    char mounted[IPM_MAX_STRING_LEN + 1];
    ipm_bytes_t will_topic = ipb__conn_mounted(c, p->will_topic, mounted);
    if (!will_topic.data) {
        *reason = IPM_RC_TOPIC_NAME_INVALID;
        return false;
    }
    if (b->auth && b->auth->publish && !ipb__conn_bridge_state(id, will_topic.data, will_topic.len)) {
        char topic[IPM_MAX_STRING_LEN + 1];
        memcpy(topic, will_topic.data, will_topic.len);
        topic[will_topic.len] = '\0';
        ipb_auth_client_t cl = {.client_id = id, .username = c->username,
                                .listener = c->listener, .version = p->version};
        if (b->auth->publish(b->auth_ctx, &cl, topic, p->will_qos, p->will_retain)) {
            *reason = IPM_RC_NOT_AUTHORIZED;
            return false;
        }
    }
    ipb_conn_rare_t *rare = ipb__conn_rare(c);
    if (!rare || !(rare->will = ipb__msg_new((const char *)will_topic.data, will_topic.len,
                                             p->will_payload.data, p->will_payload.len,
                                             p->will_qos, p->will_retain,
                                             p->version == IPM_PROTO_V5 ? &p->will_props : NULL,
                                             ipb__now(c->b)))) {
        *reason = IPM_RC_SERVER_BUSY;
        return false;
    }
    ipm_prop_t prop;
    if (p->version == IPM_PROTO_V5 &&
        ipm_props_get(&p->will_props, IPM_PROP_WILL_DELAY_INTERVAL, &prop))
        rare->will->will_delay = prop.num;
    c->will_on_close = true;
    return true;
}

/* Read the 5.0 CONNECT properties that shape the connection. */
static uint32_t read_props(ipb_conn_t *c, const ipm_connect_t *p, uint8_t *reason)
{
    uint32_t expiry = 0;
    ipm_prop_iter_t it;
    ipm_prop_t prop;
    ipm_props_iter(&p->props, &it);
    while (ipm_props_next(&it, &prop)) {
        switch (prop.id) {
        case IPM_PROP_SESSION_EXPIRY_INTERVAL:
            expiry = prop.num;
            break;
        case IPM_PROP_RECEIVE_MAXIMUM:
            c->recv_max = (uint16_t)prop.num;
            break;
        case IPM_PROP_REQUEST_PROBLEM_INFORMATION:
            c->no_problem_info = prop.num == 0; /* then no reason strings on acks */
            break;
        case IPM_PROP_MAXIMUM_PACKET_SIZE:
            c->max_packet = prop.num;
            break;
        case IPM_PROP_TOPIC_ALIAS_MAXIMUM:
            c->alias_max = (uint16_t)(prop.num < IPB_OUT_ALIAS_CAP ? prop.num : IPB_OUT_ALIAS_CAP);
            break;
        case IPM_PROP_AUTHENTICATION_METHOD:
            *reason = IPM_RC_BAD_AUTHENTICATION_METHOD; /* no enhanced authentication */
            break;
        default:
            break;
        }
    }
    return expiry;
}

/* Close the connection that holds the session now (MQTT-3.1.4-3). */
static void take_over(ipb_conn_t *c, ipb_session_t *s, bool ending)
{
    ipb_conn_t *old = ipb__session_unlink(c->b, s, ending);
    ipb__log(c->b, IPB_LOG_NOTICE, "Client %s already connected, closing old connection.",
             s->id);
    ipb__conn_kick(old, IPM_RC_SESSION_TAKEN_OVER, NULL);
}

static ipb_session_t *attach_session(ipb_conn_t *c, const char *id, bool clean, bool *present)
{
    ipb_session_t *s = ipb__session_find(c->b, id);
    /* An anonymous session taken by a user (owned_by_other refused the other cases) is
     * not resumed: its subscriptions were authorized for nobody in particular. */
    bool stranger = s && !s->username && c->username;
    if (s && s->conn)
        take_over(c, s, clean || stranger);
    s = ipb__session_attach(c->b, c, s, id, clean || stranger, present);
    if (s)
        s->trusted = c->trusted; /* whoever takes a bridge's id over is not the bridge */
    return s;
}

static void send_connack(ipb_conn_t *c, bool present, bool assigned, uint16_t server_ka)
{
    ipb_broker_t *b = c->b;
    ipm_prop_t props[11];
    unsigned n = 0;
    if (c->version == IPM_PROTO_V5) {
        uint16_t rm = b->cfg.max_inflight_messages ? b->cfg.max_inflight_messages : UINT16_MAX;
        props[n++] = (ipm_prop_t){.id = IPM_PROP_RECEIVE_MAXIMUM, .num = rm};
        props[n++] = (ipm_prop_t){.id = IPM_PROP_TOPIC_ALIAS_MAXIMUM,
                                  .num = b->cfg.topic_alias_maximum};
        props[n++] = (ipm_prop_t){.id = IPM_PROP_RETAIN_AVAILABLE,
                                  .num = b->cfg.retain_available};
        unsigned max_qos = b->cfg.listeners[c->listener].max_qos;
        if (max_qos < 2) /* absent means 2 (MQTT-3.2.2.3.4) */
            props[n++] = (ipm_prop_t){.id = IPM_PROP_MAXIMUM_QOS, .num = max_qos};
        if (b->cfg.max_packet_size)
            props[n++] = (ipm_prop_t){.id = IPM_PROP_MAXIMUM_PACKET_SIZE,
                                      .num = b->cfg.max_packet_size};
        props[n++] = (ipm_prop_t){.id = IPM_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, .num = 1};
        props[n++] = (ipm_prop_t){.id = IPM_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, .num = 1};
        props[n++] = (ipm_prop_t){.id = IPM_PROP_SHARED_SUBSCRIPTION_AVAILABLE, .num = 1};
        if (assigned)
            props[n++] = (ipm_prop_t){.id = IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER,
                                      .bin = ipm_str(c->s->id)};
        if (server_ka)
            props[n++] = (ipm_prop_t){.id = IPM_PROP_SERVER_KEEP_ALIVE, .num = server_ka};
    }
    ipm_packet_t pkt = {.type = IPM_CONNACK};
    pkt.u.connack.session_present = present;
    pkt.u.connack.props = (ipm_props_t){.list = props, .count = (uint16_t)n};
    ipb__out_send(c, &pkt);
}

static void log_connect(ipb_conn_t *c, const ipm_connect_t *p)
{
    char peer[64];
    ipb__conn_peer(c, peer, sizeof peer);
    if (c->username)
        ipb__log(c->b, IPB_LOG_NOTICE | IPB__LOG_CONNECTION,
                 "New client connected from %s as %s (p%u, c%u, k%u, u'%s').", peer, c->s->id,
                 p->version == IPM_PROTO_V5 ? 5u : p->version == IPM_PROTO_V311 ? 2u : 1u,
                 p->clean_start, c->keepalive, c->username);
    else
        ipb__log(c->b, IPB_LOG_NOTICE | IPB__LOG_CONNECTION,
                 "New client connected from %s as %s (p%u, c%u, k%u).", peer, c->s->id,
                 p->version == IPM_PROTO_V5 ? 5u : p->version == IPM_PROTO_V311 ? 2u : 1u,
                 p->clean_start, c->keepalive);
}

int ipb__handle_connect_raw(ipb_conn_t *c, int rc, const ipm_frame_t *f, const uint8_t *data,
                            const ipm_connect_t *p)
{
    ipb_broker_t *b = c->b;
    if (rc < 0)
        return connect_error(c, rc, f, data);
    c->version = p->version;
    c->bridge = p->bridge;
    uint8_t reason = 0;
    uint32_t expiry = 0;
    if (p->version == IPM_PROTO_V5)
        expiry = read_props(c, p, &reason);
    else if (!p->clean_start)
        expiry = b->cfg.persistent_client_expiration ? b->cfg.persistent_client_expiration
                                                     : IPM_SESSION_EXPIRY_NEVER;
    if (reason)
        return refuse(c, reason, "unsupported authentication method");
    bool assigned;
    char *id = client_id(c, p, &assigned);
    if (!id)
        return refuse(c, IPM_RC_CLIENT_IDENTIFIER_NOT_VALID, "client identifier not allowed");
    const char *prefix = b->cfg.clientid_prefixes;
    if (prefix[0] && strncmp(id, prefix, strlen(prefix))) {
        free(id);
        return refuse(c, IPM_RC_NOT_AUTHORIZED, "client identifier outside clientid_prefixes");
    }
    free(c->username); /* from the first pass of a CONNECT that waited for its hash */
    c->username = NULL;
    if (p->has_username && !(c->username = dup_bytes(p->username))) {
        free(id);
        return refuse(c, IPM_RC_SERVER_BUSY, "out of memory");
    }
    if ((reason = (uint8_t)ipb__tls_identity(c)) != 0) {
        free(id);
        return refuse(c, reason, "no verified client certificate to take the user name from");
    }
    int login = c->trusted ? 0 : check_auth(c, p, id); /* a bridge of ours logs in as itself */
    if (login == IPB__LOGIN_PENDING) {
        free(id);
        return 1;
    }
    if (login == 0 && owned_by_other(c, id)) {
        free(id);
        return refuse(c, IPM_RC_CLIENT_IDENTIFIER_NOT_VALID,
                      "client identifier in use by another user");
    }
    if ((reason = (uint8_t)login) != 0 || !make_will(c, p, id, &reason)) {
        free(id);
        return refuse(c, reason, reason == IPM_RC_QOS_NOT_SUPPORTED ? "will QoS above max_qos"
                                                                    : "not authorized");
    }
    c->keepalive = p->keepalive;
    uint16_t server_ka = 0;
    if (p->version != IPM_PROTO_V5 && b->cfg.max_keepalive < UINT16_MAX &&
        (p->keepalive > b->cfg.max_keepalive || !p->keepalive)) {
        /* As mosquitto: 3.x has no way to lower the keepalive, so such a client is refused. */
        free(id);
        return refuse(c, IPM_RC_CLIENT_IDENTIFIER_NOT_VALID, "keepalive above max_keepalive");
    }
    if (p->version == IPM_PROTO_V5 && b->cfg.max_keepalive &&
        (p->keepalive > b->cfg.max_keepalive || (!p->keepalive && b->cfg.max_keepalive < UINT16_MAX)))
        c->keepalive = server_ka = b->cfg.max_keepalive;
    /* Before the session: a QoS 2 id kept by a receiver for the old one must not be taken
     * for the new session's message under the same id. */
    if (p->clean_start && ipb__local_clean_start(b, id)) {
        free(id);
        return refuse(c, IPM_RC_SERVER_BUSY, "an in-process receiver is busy");
    }
    bool present;
    ipb_session_t *s = attach_session(c, id, p->clean_start, &present);
    free(id);
    if (!s)
        return refuse(c, IPM_RC_SERVER_BUSY, "too many sessions");
    s->expiry = expiry;
    s->listener = c->listener;
    if (b->store && b->store->session_set && expiry)
        b->store->session_set(b->store_ctx, s->id, expiry);
    c->state = IPB_CONN_ACTIVE;
    if (++b->st.clients_connected > b->st.clients_maximum)
        b->st.clients_maximum = b->st.clients_connected;
    b->st.clients_total++;
    send_connack(c, present, assigned, server_ka);
    log_connect(c, p);
    ipb__session_resend(b, s);
    ipb__session_pump(b, s);
    return 0;
}
