/*
 * msg.h - messages and their encodings (msg.c): one reference-counted allocation per
 * message, shared by every session it is queued for and by the retained tree; encodings
 * (ipb_enc_t) are reference-counted and shared by every outgoing queue entry that sends
 * the same bytes.
 */
#ifndef IOTPLOT_BROKER_MSG_H
#define IOTPLOT_BROKER_MSG_H

#include "broker.h"

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
    uint32_t srefs;           /* stored deliveries of it (persist.c) */
    uint64_t sid;             /* its row in the persistence file; 0 = none */
    ipm_prop_t *props;
    char *topic;              /* NUL-terminated */
    uint8_t *payload;
    const char *user;         /* the publisher's user name (in the allocation), or NULL */
    ipb_enc_t *cache[4];      /* [v5][qos > 0]: encodings without per-client parts */
    /* check_retain_source: who published it, "client id\0user name\0" ("" = none). */
    char *source;
} ipb_msg_t;

ipb_msg_t *ipb__msg_new(const char *topic, size_t tlen, const uint8_t *payload, size_t plen,
                        uint8_t qos, bool retain, const ipm_props_t *props, uint64_t now);
/* The same, published by a client logged in as user (NULL: none). */
ipb_msg_t *ipb__msg_new_by(const char *user, const char *topic, size_t tlen,
                           const uint8_t *payload, size_t plen, uint8_t qos, bool retain,
                           const ipm_props_t *props, uint64_t now);
/* A message from an in-process caller, checked as a client's would be. 0 or IPM_E*. */
int ipb__msg_local(ipb_broker_t *b, const char *topic, const uint8_t *payload, size_t len,
                   uint8_t qos, bool retain, ipb_msg_t **out);
/* Remember the publisher of a retained message (check_retain_source). 0 or IPM_ENOMEM. */
int ipb__msg_set_source(ipb_msg_t *m, const char *client_id, const char *username);
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
/* A per-client encoding without the topic's first skip bytes (a listener's mount point). */
ipb_enc_t *ipb__enc_publish_mounted(ipb_msg_t *m, uint8_t version, uint8_t qos,
                                    const uint32_t *subids, unsigned nsubids, uint64_t now,
                                    size_t skip);
/* A per-client encoding with a topic alias: the topic too, or (known) the alias alone. */
ipb_enc_t *ipb__enc_publish_alias(ipb_msg_t *m, uint8_t qos, const uint32_t *subids,
                                  unsigned nsubids, uint64_t now, uint16_t alias, bool known);

#endif
