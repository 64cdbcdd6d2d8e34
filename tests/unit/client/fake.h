/*
 * fake.h - an in-memory transport and clock for the client's unit tests. The test plays
 * the server: it queues packets (encoded with the codec) for the client to read, and
 * decodes what the client sent. Time only moves when the client waits with nothing to
 * read, so every test is deterministic and instant.
 */
#ifndef IOTPLOT_TEST_CLIENT_FAKE_H
#define IOTPLOT_TEST_CLIENT_FAKE_H

#include "iotplot/client.h"

typedef struct {
    uint8_t in[16384];
    size_t in_len, in_off;
    uint8_t out[16384];
    size_t out_len, out_off;
    size_t chunk;      /* most bytes one recv returns (0 = all) */
    bool peer_closed;  /* recv reports IPM_ECLOSED once `in` is drained */
    bool is_open;
    int open_rc;
    int send_rc;       /* what send returns (IPM_OK: accept the bytes) */
    int opens;
    uint32_t now;
    uint8_t version;
} fake_t;

typedef struct {
    fake_t f;
    ipm_transport_t tr;
    ipm_client_config_t cfg;
    ipm_client_mem_t mem;
    ipm_client_t c;
    uint8_t rx[2048], tx[2048], store[4096], subs[512], aliases[256];
    uint16_t q2[4];
    ipm_ack_slot_t acks[3];
    int msgs;
    bool disconnect_in_cb; /* the message callback disconnects */
    char last_topic[128];
    char last_payload[128];
    uint8_t last_qos;
    int events[8];
    uint16_t last_event_pid;
    uint32_t seqs[16];     /* m->seq of every message delivered (manual ack) */
    uint32_t last_event_seq;
    bool ack_in_cb;        /* the message callback acknowledges what it gets */
} fixture_t;

/* A client over the fake transport with version `version`, not connected. */
void fx_init(fixture_t *x, uint8_t version);
/* Initialise the client again after changing x->cfg. */
void fx_reinit(fixture_t *x);
/* Queue a packet for the client to read. */
void fx_push(fixture_t *x, const ipm_packet_t *p);
void fx_push_raw(fixture_t *x, const uint8_t *b, size_t n);
void fx_connack(fixture_t *x, bool session_present, uint8_t reason, const ipm_prop_t *props,
                uint16_t nprops);
void fx_ack(fixture_t *x, uint8_t type, uint16_t pid);
/* Connect (CONNACK queued first); asserts success and skips the CONNECT sent. */
void fx_connect(fixture_t *x);
/* The next packet the client sent, decoded; its type, or 0 if it sent nothing more. */
int fx_next(fixture_t *x, ipm_packet_t *p);

#endif
