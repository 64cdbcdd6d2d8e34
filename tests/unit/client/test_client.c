/*
 * test_client.c - the client's session and QoS state machine against an in-memory server:
 * CONNECT contents, QoS 0/1/2 both ways, packet ids, Receive Maximum, keepalive and the dead
 * peer, session restore after reconnect, the outbox, topic aliases, hostile input, and
 * acknowledgement by the application (manual ack).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

static fixture_t X;

static void expect_type(fixture_t *x, int type, ipm_packet_t *p)
{
    ipm_packet_t tmp;
    assert_int_equal(fx_next(x, p ? p : &tmp), type);
}

static void test_connect_v311(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    x->cfg.username = "u";
    x->cfg.keepalive = 30;
    x->cfg.will = (ipm_will_t){.topic = "w", .payload = "bye", .len = 3, .qos = 1, .retain = true};
    fx_reinit(x);
    fx_connack(x, true, 0, NULL, 0);
    assert_int_equal(ipm_client_connect(&x->c), IPM_OK);
    assert_true(ipm_client_connected(&x->c));
    assert_true(ipm_client_session_present(&x->c));
    ipm_packet_t p;
    expect_type(x, IPM_CONNECT, &p);
    assert_int_equal(p.u.connect.version, IPM_PROTO_V311);
    assert_int_equal(p.u.connect.keepalive, 30);
    assert_true(p.u.connect.clean_start);
    assert_memory_equal(p.u.connect.client_id.data, "unit", 4);
    assert_true(p.u.connect.will && p.u.connect.will_retain);
    assert_int_equal(p.u.connect.will_qos, 1);
    assert_true(p.u.connect.has_username && !p.u.connect.has_password);
    assert_int_equal(ipm_client_connect(&x->c), IPM_ESTATE);
}

static void test_connect_refused(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    fx_connack(x, false, IPM_RC_BAD_USER_NAME_OR_PASSWORD, NULL, 0);
    assert_int_equal(ipm_client_connect(&x->c), IPM_EREFUSED);
    assert_int_equal(ipm_client_reason(&x->c), IPM_RC_BAD_USER_NAME_OR_PASSWORD);
    assert_false(ipm_client_connected(&x->c));
    assert_false(x->f.is_open);
    /* Transport failures come back as they are. */
    fx_init(x, IPM_PROTO_V311);
    x->f.open_rc = IPM_ERESOLVE;
    assert_int_equal(ipm_client_connect(&x->c), IPM_ERESOLVE);
    /* No CONNACK at all: the connect times out. */
    fx_init(x, IPM_PROTO_V311);
    assert_int_equal(ipm_client_connect(&x->c), IPM_ETIMEOUT);
}

static void test_connect_v5_props(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    x->cfg.session_expiry = 120;
    fx_reinit(x);
    ipm_prop_t ack[] = {{.id = IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER, .bin = ipm_str("given")},
                        {.id = IPM_PROP_SERVER_KEEP_ALIVE, .num = 5}};
    fx_connack(x, false, 0, ack, 2);
    assert_int_equal(ipm_client_connect(&x->c), IPM_OK);
    ipm_packet_t p;
    ipm_prop_t v;
    expect_type(x, IPM_CONNECT, &p);
    assert_true(ipm_props_get(&p.u.connect.props, IPM_PROP_SESSION_EXPIRY_INTERVAL, &v));
    assert_int_equal(v.num, 120);
    assert_true(ipm_props_get(&p.u.connect.props, IPM_PROP_RECEIVE_MAXIMUM, &v));
    assert_int_equal(v.num, 4); /* the QoS 2 table */
    assert_true(ipm_props_get(&p.u.connect.props, IPM_PROP_MAXIMUM_PACKET_SIZE, &v));
    assert_int_equal(v.num, sizeof x->rx);
    assert_true(ipm_props_get(&p.u.connect.props, IPM_PROP_TOPIC_ALIAS_MAXIMUM, &v));
    const ipm_props_t *cp = ipm_client_connack_props(&x->c);
    assert_true(ipm_props_get(cp, IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER, &v));
    assert_memory_equal(v.bin.data, "given", 5);
    assert_int_equal(x->events[IPM_EV_CONNECTED], 1);
}

static void test_publish_qos0_qos1(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    fx_connect(x);
    assert_int_equal(ipm_client_publish(&x->c, "t", "zero", 4, 0, false), 0);
    ipm_packet_t p;
    expect_type(x, IPM_PUBLISH, &p);
    assert_int_equal(p.u.publish.qos, 0);
    assert_memory_equal(p.u.publish.payload.data, "zero", 4);
    int pid = ipm_client_publish(&x->c, "t", "one", 3, 1, true);
    assert_true(pid > 0);
    expect_type(x, IPM_PUBLISH, &p);
    assert_int_equal(p.u.publish.packet_id, pid);
    assert_true(p.u.publish.retain && !p.u.publish.dup);
    assert_int_equal(ipm_client_pending(&x->c), 1);
    fx_ack(x, IPM_PUBACK, (uint16_t)pid);
    assert_int_equal(ipm_client_flush(&x->c, 1000), IPM_OK);
    assert_int_equal(ipm_client_pending(&x->c), 0);
    assert_int_equal(x->events[IPM_EV_PUBLISHED], 1);
    assert_int_equal(x->last_event_pid, pid);
    assert_int_equal(ipm_client_publish(&x->c, "a/+", "x", 1, 0, false), IPM_EBAD_TOPIC);
    assert_int_equal(ipm_client_publish(&x->c, "t", "x", 1, 3, false), IPM_EBAD_QOS);
}

static void test_publish_qos2(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    fx_connect(x);
    int pid = ipm_client_publish(&x->c, "t", "two", 3, 2, false);
    assert_true(pid > 0);
    ipm_packet_t p;
    expect_type(x, IPM_PUBLISH, &p);
    assert_int_equal(p.u.publish.qos, 2);
    fx_ack(x, IPM_PUBREC, (uint16_t)pid);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, IPM_PUBREL, &p);
    assert_int_equal(p.u.ack.packet_id, pid);
    assert_int_equal(ipm_client_pending(&x->c), 1);
    fx_ack(x, IPM_PUBCOMP, (uint16_t)pid);
    assert_int_equal(ipm_client_flush(&x->c, 1000), IPM_OK);
    assert_int_equal(x->events[IPM_EV_PUBLISHED], 1);
}

static void test_packet_ids_skip_in_use(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    fx_connect(x);
    assert_int_equal(ipm_client_publish(&x->c, "t", "a", 1, 1, false), 1);
    assert_int_equal(ipm_client_publish(&x->c, "t", "b", 1, 1, false), 2);
    x->c.next_pid = 65534; /* wrap around: 65535, then 0 is skipped, 1 and 2 are in use */
    assert_int_equal(ipm_client_publish(&x->c, "t", "c", 1, 1, false), 65535);
    assert_int_equal(ipm_client_publish(&x->c, "t", "d", 1, 1, false), 3);
}

static void test_receive_maximum(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    ipm_prop_t lim[] = {{.id = IPM_PROP_RECEIVE_MAXIMUM, .num = 2},
                        {.id = IPM_PROP_MAXIMUM_PACKET_SIZE, .num = 64}};
    fx_connack(x, false, 0, lim, 2);
    assert_int_equal(ipm_client_connect(&x->c), IPM_OK);
    ipm_packet_t p;
    expect_type(x, IPM_CONNECT, NULL);
    assert_int_equal(ipm_client_publish(&x->c, "t", "1", 1, 1, false), 1);
    assert_int_equal(ipm_client_publish(&x->c, "t", "2", 1, 1, false), 2);
    assert_int_equal(ipm_client_publish(&x->c, "t", "3", 1, 1, false), 0); /* held back */
    expect_type(x, IPM_PUBLISH, NULL);
    expect_type(x, IPM_PUBLISH, NULL);
    assert_int_equal(fx_next(x, &p), 0);
    fx_ack(x, IPM_PUBACK, 1);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, IPM_PUBLISH, &p);
    assert_memory_equal(p.u.publish.payload.data, "3", 1);
    char big[100] = {0};
    assert_int_equal(ipm_client_publish(&x->c, "t", big, sizeof big, 0, false), IPM_ETOO_LARGE);
}

static void test_receive_qos(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    fx_connect(x);
    ipm_packet_t in = {.type = IPM_PUBLISH};
    in.u.publish.topic = ipm_str("s/1");
    in.u.publish.payload = ipm_str("hello");
    in.u.publish.qos = 1;
    in.u.publish.packet_id = 9;
    fx_push(x, &in);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 1);
    assert_string_equal(x->last_topic, "s/1");
    assert_string_equal(x->last_payload, "hello");
    ipm_packet_t p;
    expect_type(x, IPM_PUBACK, &p);
    assert_int_equal(p.u.ack.packet_id, 9);
    /* QoS 2: delivered once, even when the server sends it again before PUBREL. */
    in.u.publish.qos = 2;
    in.u.publish.packet_id = 7;
    fx_push(x, &in);
    in.u.publish.dup = true;
    fx_push(x, &in);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 1);
    assert_int_equal(x->msgs, 2);
    expect_type(x, IPM_PUBREC, NULL);
    expect_type(x, IPM_PUBREC, NULL);
    fx_ack(x, IPM_PUBREL, 7);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, IPM_PUBCOMP, &p);
    assert_int_equal(p.u.ack.packet_id, 7);
    in.u.publish.dup = false; /* id 7 is free again: a new message */
    fx_push(x, &in);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 1);
    assert_int_equal(x->msgs, 3);
}

static void test_disconnect_from_callback(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    fx_connect(x);
    ipm_packet_t in = {.type = IPM_PUBLISH};
    in.u.publish.topic = ipm_str("t");
    in.u.publish.payload = ipm_str("bye");
    in.u.publish.qos = 1;
    in.u.publish.packet_id = 3;
    fx_push(x, &in);
    fx_push(x, &in); /* a second packet in the same read is not handled after the close */
    x->disconnect_in_cb = true;
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), IPM_ENOT_CONNECTED);
    assert_int_equal(x->msgs, 1);
    assert_false(x->f.is_open);
    expect_type(x, IPM_DISCONNECT, NULL); /* and no PUBACK on the closed connection */
    assert_int_equal(fx_next(x, &in), 0);
    assert_int_equal(ipm_client_wait_msg(&x->c, 0), IPM_ENOT_CONNECTED);
}

static void test_partial_reads(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    x->f.chunk = 1; /* every packet arrives one byte at a time */
    fx_connect(x);
    ipm_prop_t up = {.id = IPM_PROP_USER_PROPERTY, .bin = ipm_str("k"), .val = ipm_str("v")};
    ipm_packet_t in = {.type = IPM_PUBLISH};
    in.u.publish.topic = ipm_str("slow");
    in.u.publish.payload = ipm_str("bytes");
    in.u.publish.props.list = &up;
    in.u.publish.props.count = 1;
    fx_push(x, &in);
    assert_int_equal(ipm_client_wait_msg(&x->c, 1000), 1);
    assert_string_equal(x->last_payload, "bytes");
}

static void test_keepalive_dead_peer(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    x->cfg.keepalive = 10;
    fx_reinit(x);
    fx_connect(x);
    assert_int_equal(ipm_client_wait_msg(&x->c, 15000), 0);
    expect_type(x, IPM_PINGREQ, NULL);
    fx_push_raw(x, (const uint8_t[]){0xD0, 0x00}, 2); /* PINGRESP */
    assert_int_equal(ipm_client_wait_msg(&x->c, 10000), 0);
    expect_type(x, IPM_PINGREQ, NULL);
    /* No PINGRESP this time: dead peer after one more keepalive interval. */
    assert_int_equal(ipm_client_wait_msg(&x->c, 30000), IPM_ETIMEOUT);
    assert_false(ipm_client_connected(&x->c));
    assert_int_equal(x->events[IPM_EV_DISCONNECTED], 1);
}

static void test_resend_after_reconnect(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    x->cfg.auto_reconnect = true;
    x->cfg.clean_start = false;
    fx_reinit(x);
    fx_connect(x);
    int p1 = ipm_client_publish(&x->c, "t", "q1", 2, 1, false);
    int p2 = ipm_client_publish(&x->c, "t", "q2", 2, 2, false);
    fx_ack(x, IPM_PUBREC, (uint16_t)p2);
    assert_int_equal(ipm_client_check_msg(&x->c), 0); /* the PUBREC */
    x->f.peer_closed = true;
    assert_int_equal(ipm_client_check_msg(&x->c), 0); /* lost; auto reconnect later */
    assert_false(ipm_client_connected(&x->c));
    expect_type(x, IPM_PUBLISH, NULL);
    expect_type(x, IPM_PUBLISH, NULL);
    expect_type(x, IPM_PUBREL, NULL);
    /* While away: into the outbox? No outbox configured, so refused. */
    assert_int_equal(ipm_client_publish(&x->c, "t", "x", 1, 1, false), IPM_ENOT_CONNECTED);
    x->f.peer_closed = false;
    x->f.in_len = x->f.in_off = 0;
    fx_connack(x, true, 0, NULL, 0);
    assert_int_equal(ipm_client_wait_msg(&x->c, 60000), 0);
    assert_true(ipm_client_connected(&x->c));
    assert_int_equal(x->f.opens, 2);
    ipm_packet_t p;
    expect_type(x, IPM_CONNECT, &p);
    assert_false(p.u.connect.clean_start);
    expect_type(x, IPM_PUBLISH, &p);
    assert_int_equal(p.u.publish.packet_id, p1);
    assert_true(p.u.publish.dup);
    expect_type(x, IPM_PUBREL, &p);
    assert_int_equal(p.u.ack.packet_id, p2);
}

static void test_reconnect_without_session(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    x->cfg.auto_reconnect = true;
    x->cfg.outbox_max = 2;
    fx_reinit(x);
    fx_connect(x);
    ipm_packet_t suback = {.type = IPM_SUBACK};
    uint8_t granted = 1;
    suback.u.suback.packet_id = 1;
    suback.u.suback.reasons = &granted;
    suback.u.suback.count = 1;
    fx_push(x, &suback);
    ipm_sub_opts_t so = {.qos = 1, .no_local = true, .subscription_id = 42};
    assert_int_equal(ipm_client_subscribe_ex(&x->c, "cmd/#", &so), 1);
    ipm_packet_t p;
    expect_type(x, IPM_SUBSCRIBE, &p);
    ipm_sub_iter_t it;
    ipm_sub_t s;
    ipm_subs_iter(&p.u.subscribe, false, &it);
    assert_int_equal(ipm_subs_next(&it, &s), 1);
    assert_int_equal(s.options, 1 | IPM_SUBOPT_NO_LOCAL);
    int pid = ipm_client_publish(&x->c, "t", "inflight", 8, 1, false);
    assert_true(pid > 0);
    expect_type(x, IPM_PUBLISH, NULL);
    x->f.peer_closed = true;
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    /* Outbox of 2, drop-oldest: "a" goes, "b" and "c" stay, in order. */
    assert_int_equal(ipm_client_publish(&x->c, "t", "a", 1, 0, false), 0);
    assert_int_equal(ipm_client_publish(&x->c, "t", "b", 1, 1, false), 0);
    assert_int_equal(ipm_client_publish(&x->c, "t", "c", 1, 2, false), 0);
    assert_int_equal(ipm_client_dropped(&x->c), 1);
    x->f.peer_closed = false;
    x->f.in_len = x->f.in_off = 0;
    fx_connack(x, false, 0, NULL, 0);
    assert_int_equal(ipm_client_wait_msg(&x->c, 60000), 0);
    assert_true(ipm_client_connected(&x->c));
    expect_type(x, IPM_CONNECT, NULL);
    expect_type(x, IPM_SUBSCRIBE, &p); /* the session is gone: subscriptions restored */
    ipm_prop_t id;
    assert_true(ipm_props_get(&p.u.subscribe.props, IPM_PROP_SUBSCRIPTION_IDENTIFIER, &id));
    assert_int_equal(id.num, 42);
    const char *want[] = {"inflight", "b", "c"};
    for (int i = 0; i < 3; i++) {
        expect_type(x, IPM_PUBLISH, &p);
        assert_memory_equal(p.u.publish.payload.data, want[i], strlen(want[i]));
        assert_false(p.u.publish.dup);
    }
}

static void test_send_fails_with_auto_reconnect(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    x->cfg.auto_reconnect = true;
    x->cfg.outbox_max = 4;
    fx_reinit(x);
    fx_connect(x);
    x->f.send_rc = IPM_ECLOSED; /* the connection breaks under the next send */
    assert_true(ipm_client_publish(&x->c, "t", "kept", 4, 1, false) > 0);
    assert_false(ipm_client_connected(&x->c));
    assert_int_equal(ipm_client_publish(&x->c, "t", "zero", 4, 0, false), 0);
    assert_int_equal(ipm_client_pending(&x->c), 2);
    x->f.send_rc = IPM_OK;
    fx_connack(x, false, 0, NULL, 0);
    assert_int_equal(ipm_client_wait_msg(&x->c, 60000), 0);
    assert_true(ipm_client_connected(&x->c));
    ipm_packet_t p;
    expect_type(x, IPM_CONNECT, NULL);
    expect_type(x, IPM_PUBLISH, &p);
    assert_memory_equal(p.u.publish.payload.data, "kept", 4);
    expect_type(x, IPM_PUBLISH, &p);
    assert_memory_equal(p.u.publish.payload.data, "zero", 4);
    assert_int_equal(ipm_client_pending(&x->c), 1);
}

static void test_outbox_refuse(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    x->cfg.outbox_max = 1;
    x->cfg.outbox_policy = IPM_OUTBOX_REFUSE;
    fx_reinit(x);
    assert_int_equal(ipm_client_publish(&x->c, "t", "first", 5, 1, false), 0);
    assert_int_equal(ipm_client_publish(&x->c, "t", "second", 6, 1, false), IPM_EFULL);
    assert_int_equal(ipm_client_dropped(&x->c), 1);
    fx_connect(x);
    ipm_packet_t p;
    expect_type(x, IPM_PUBLISH, &p);
    assert_memory_equal(p.u.publish.payload.data, "first", 5);
}

static void test_topic_alias_in(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    fx_connect(x);
    ipm_prop_t alias = {.id = IPM_PROP_TOPIC_ALIAS, .num = 3};
    ipm_packet_t in = {.type = IPM_PUBLISH};
    in.u.publish.topic = ipm_str("long/topic/name");
    in.u.publish.payload = ipm_str("1");
    in.u.publish.props.list = &alias;
    in.u.publish.props.count = 1;
    fx_push(x, &in);
    in.u.publish.topic = ipm_str("");
    in.u.publish.payload = ipm_str("2");
    fx_push(x, &in);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 2);
    assert_string_equal(x->last_topic, "long/topic/name");
    assert_string_equal(x->last_payload, "2");
    alias.num = 4; /* never set: a protocol error, answered with DISCONNECT */
    fx_push(x, &in);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), IPM_EPROTOCOL);
    ipm_packet_t p;
    expect_type(x, IPM_DISCONNECT, &p);
    assert_int_equal(p.u.disconnect.reason, IPM_RC_PROTOCOL_ERROR);
}

static void test_topic_alias_out(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    ipm_prop_t lim = {.id = IPM_PROP_TOPIC_ALIAS_MAXIMUM, .num = 4};
    fx_connack(x, false, 0, &lim, 1);
    assert_int_equal(ipm_client_connect(&x->c), IPM_OK);
    expect_type(x, IPM_CONNECT, NULL);
    ipm_prop_t alias = {.id = IPM_PROP_TOPIC_ALIAS, .num = 1};
    ipm_message_t m = {.topic = "sensors/room/temperature", .payload = "20", .len = 2,
                       .props = &alias, .prop_count = 1};
    assert_int_equal(ipm_client_publish_ex(&x->c, &m), 0);
    m.topic = "";
    assert_int_equal(ipm_client_publish_ex(&x->c, &m), 0);
    ipm_packet_t p;
    expect_type(x, IPM_PUBLISH, &p);
    assert_int_equal(p.u.publish.topic.len, 24);
    expect_type(x, IPM_PUBLISH, &p);
    assert_int_equal(p.u.publish.topic.len, 0);
    m.qos = 1; /* would outlive the connection's aliases */
    assert_int_equal(ipm_client_publish_ex(&x->c, &m), IPM_EINVALID);
    m.qos = 0;
    alias.num = 2; /* never set */
    assert_int_equal(ipm_client_publish_ex(&x->c, &m), IPM_EINVALID);
    alias.num = 5; /* over the server's maximum */
    m.topic = "t";
    assert_int_equal(ipm_client_publish_ex(&x->c, &m), IPM_EINVALID);
    m.prop_count = 0;
    m.topic = "";
    assert_int_equal(ipm_client_publish_ex(&x->c, &m), IPM_EBAD_TOPIC);
}

static void test_malformed_input(void **state)
{
    static const uint8_t bad[][6] = {
        {0x30, 0x03, 0x00, 0x09, 0x78},       /* topic runs past the end */
        {0x36, 0x03, 0x00, 0x01, 0x78},       /* QoS 3 */
        {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, /* five-byte length */
        {0x20, 0x02, 0x00, 0x00},             /* a second CONNACK */
    };
    static const size_t len[] = {5, 5, 6, 4};
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
        fixture_t *x = &X;
        fx_init(x, IPM_PROTO_V5);
        fx_connect(x);
        fx_push_raw(x, bad[i], len[i]);
        int rc = ipm_client_wait_msg(&x->c, 100);
        assert_true(rc < 0);
        assert_false(ipm_client_connected(&x->c));
        ipm_packet_t p;
        expect_type(x, IPM_DISCONNECT, &p);
        assert_true(p.u.disconnect.reason >= 0x80);
    }
}

/*
 * Random bytes after CONNACK, with a fixed seed: whatever they are, the client either
 * handles them or fails with an error and closes; it never reads out of bounds (ASan) or
 * waits past its timeout.
 */
static void test_random_input(void **state)
{
    uint32_t seed = 12345;
    for (int round = 0; round < 3000; round++) {
        fixture_t *x = &X;
        fx_init(x, round % 2 ? IPM_PROTO_V5 : IPM_PROTO_V311);
        fx_connect(x);
        uint8_t junk[96];
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % sizeof junk;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 16);
        }
        /* Mostly plausible headers: a real type and a small remaining length. */
        junk[0] = (uint8_t)((junk[0] & 0xF0) | (round % 3 ? 0 : junk[0] & 0x0F));
        if (n > 1 && round % 4)
            junk[1] = (uint8_t)(n - 2);
        fx_push_raw(x, junk, n);
        uint32_t before = x->f.now;
        int rc = ipm_client_wait_msg(&x->c, 50);
        assert_true(rc >= IPM__ERR_FIRST);
        assert_true(x->f.now - before <= 50);
        if (rc < 0)
            assert_false(x->f.is_open);
    }
}

static void test_server_disconnect_and_refusals(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V5);
    fx_connect(x);
    ipm_packet_t suback = {.type = IPM_SUBACK};
    uint8_t rc = IPM_RC_NOT_AUTHORIZED;
    suback.u.suback.packet_id = 1;
    suback.u.suback.reasons = &rc;
    suback.u.suback.count = 1;
    fx_push(x, &suback);
    assert_int_equal(ipm_client_subscribe(&x->c, "secret/#", 0), IPM_EDENIED);
    assert_int_equal(ipm_client_reason(&x->c), IPM_RC_NOT_AUTHORIZED);
    assert_int_equal(ipm_client_subscribe(&x->c, "a/#/b", 0), IPM_EBAD_FILTER);
    ipm_packet_t d = {.type = IPM_DISCONNECT};
    d.u.disconnect.reason = IPM_RC_SERVER_SHUTTING_DOWN;
    fx_push(x, &d);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), IPM_ECLOSED);
    assert_int_equal(ipm_client_reason(&x->c), IPM_RC_SERVER_SHUTTING_DOWN);
    assert_int_equal(ipm_client_subscribe(&x->c, "a", 0), IPM_ENOT_CONNECTED);
}

static void test_init_rejects(void **state)
{
    fixture_t *x = &X;
    fx_init(x, IPM_PROTO_V311);
    ipm_client_config_t cfg = x->cfg;
    cfg.version = 6;
    assert_int_equal(ipm_client_init(&x->c, &cfg, &x->mem), IPM_EINVALID);
    cfg = x->cfg;
    cfg.transport = NULL;
    assert_int_equal(ipm_client_init(&x->c, &cfg, &x->mem), IPM_EINVALID);
    ipm_client_mem_t mem = x->mem;
    mem.rx_cap = 16;
    assert_int_equal(ipm_client_init(&x->c, &x->cfg, &mem), IPM_EINVALID);
    assert_string_equal(ipm_reason_string(0x87), "Not authorized");
    assert_string_equal(ipm_connack3_string(4), "bad user name or password");
    /* Every code of the table has its name; 0x00 is named by its first row. */
#define NAMED(code, name, spec, v3, in)                                                    \
    if (code != 0)                                                                         \
        assert_string_equal(ipm_reason_string(code), spec);
    IPM_REASON_MAP(NAMED)
#undef NAMED
    assert_string_equal(ipm_reason_string(IPM_RC_SUCCESS), "Success");
    assert_string_equal(ipm_reason_string(IPM_RC_REAUTHENTICATE), "Re-authenticate");
    assert_string_equal(ipm_reason_string(0x03), "unknown reason code");
}

/* A QoS 1/2 PUBLISH from the fake server. */
static void push_publish(fixture_t *x, uint8_t qos, uint16_t pid, bool dup)
{
    ipm_packet_t in = {.type = IPM_PUBLISH};
    in.u.publish.topic = ipm_str("s/1");
    in.u.publish.payload = ipm_str("row");
    in.u.publish.qos = qos;
    in.u.publish.packet_id = pid;
    in.u.publish.dup = dup;
    fx_push(x, &in);
}

static void manual_init(fixture_t *x, uint8_t version)
{
    fx_init(x, version);
    x->cfg.manual_ack = true;
    fx_reinit(x);
}

static void test_manual_ack_qos1(void **state)
{
    fixture_t *x = &X;
    manual_init(x, IPM_PROTO_V311);
    fx_connect(x);
    push_publish(x, 1, 9, false);
    push_publish(x, 1, 10, false);
    push_publish(x, 0, 0, false);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 3);
    assert_true(x->seqs[0] != 0 && x->seqs[1] == x->seqs[0] + 1);
    assert_int_equal(x->seqs[2], 0); /* QoS 0: nothing to acknowledge */
    ipm_packet_t p;
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 0);
    expect_type(x, 0, NULL); /* nothing acknowledged before the application says so */
    ipm_client_ack(&x->c, x->seqs[0]);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, IPM_PUBACK, &p);
    assert_int_equal(p.u.ack.packet_id, 9);
    expect_type(x, 0, NULL);
    ipm_client_ack(&x->c, x->seqs[0] - 1); /* older: ignored */
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, 0, NULL);
    ipm_client_ack(&x->c, x->seqs[1]);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, IPM_PUBACK, &p);
    assert_int_equal(p.u.ack.packet_id, 10);
    /* Acknowledged in the callback: out in the same turn. */
    x->ack_in_cb = true;
    push_publish(x, 1, 11, false);
    assert_int_equal(ipm_client_check_msg(&x->c), 1);
    expect_type(x, IPM_PUBACK, &p);
    assert_int_equal(p.u.ack.packet_id, 11);
}

static void test_manual_ack_qos2(void **state)
{
    fixture_t *x = &X;
    manual_init(x, IPM_PROTO_V311);
    fx_connect(x);
    push_publish(x, 2, 7, false);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 1);
    expect_type(x, 0, NULL); /* the PUBREC waits */
    ipm_client_ack(&x->c, x->seqs[0]);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    ipm_packet_t p;
    expect_type(x, IPM_PUBREC, &p);
    assert_int_equal(p.u.ack.packet_id, 7);
    /* After the PUBREC a resend is the server's retry: acknowledged, not delivered. */
    push_publish(x, 2, 7, true);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    assert_int_equal(x->msgs, 1);
    expect_type(x, IPM_PUBREC, NULL);
    fx_ack(x, IPM_PUBREL, 7);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    assert_int_equal(x->events[IPM_EV_RELEASED], 1);
    assert_int_equal(x->last_event_pid, 7);
    assert_true(x->last_event_seq == x->seqs[0] + 1);
    expect_type(x, 0, NULL); /* the PUBCOMP waits for the release's seq */
    ipm_client_ack(&x->c, x->last_event_seq);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, IPM_PUBCOMP, &p);
    assert_int_equal(p.u.ack.packet_id, 7);
    push_publish(x, 2, 7, false); /* id 7 is free again: a new message */
    assert_int_equal(ipm_client_check_msg(&x->c), 1);
    assert_int_equal(x->msgs, 2);
}

static void test_manual_ack_limits(void **state)
{
    fixture_t *x = &X;
    /* 5.0: Receive Maximum is the waiting room, the smaller of the two tables. */
    manual_init(x, IPM_PROTO_V5);
    fx_connack(x, false, 0, NULL, 0);
    assert_int_equal(ipm_client_connect(&x->c), IPM_OK);
    ipm_packet_t p;
    ipm_prop_t v;
    expect_type(x, IPM_CONNECT, &p);
    assert_true(ipm_props_get(&p.u.connect.props, IPM_PROP_RECEIVE_MAXIMUM, &v));
    assert_int_equal(v.num, 3);
    /* One more message than the room ends the connection. */
    for (uint16_t i = 1; i <= 4; i++)
        push_publish(x, 1, i, false);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), IPM_EQUOTA);
    assert_int_equal(x->msgs, 3);
    expect_type(x, IPM_DISCONNECT, &p);
    assert_int_equal(p.u.disconnect.reason, IPM_RC_RECEIVE_MAXIMUM_EXCEEDED);
    /* No acks table: refused. */
    fx_init(x, IPM_PROTO_V311);
    x->cfg.manual_ack = true;
    x->mem.acks_cap = 0;
    assert_int_equal(ipm_client_init(&x->c, &x->cfg, &x->mem), IPM_EINVALID);
}

static void test_manual_ack_reconnect(void **state)
{
    fixture_t *x = &X;
    manual_init(x, IPM_PROTO_V311);
    x->cfg.clean_start = false;
    x->cfg.auto_reconnect = true;
    fx_reinit(x);
    fx_connect(x);
    push_publish(x, 1, 3, false);
    push_publish(x, 2, 4, false);
    assert_int_equal(ipm_client_wait_msg(&x->c, 100), 2);
    x->f.peer_closed = true;
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    assert_false(ipm_client_connected(&x->c));
    /* The waiting acknowledgements die with the connection: the server sends again. */
    x->f.peer_closed = false;
    x->f.in_len = x->f.in_off = 0;
    fx_connack(x, true, 0, NULL, 0);
    push_publish(x, 2, 4, true);
    assert_int_equal(ipm_client_wait_msg(&x->c, 60000), 1);
    assert_true(ipm_client_connected(&x->c));
    assert_int_equal(x->msgs, 3); /* the QoS 2 message again: its PUBREC never went out */
    expect_type(x, IPM_CONNECT, NULL);
    ipm_client_ack(&x->c, x->seqs[1]); /* the first connection's: nothing to send */
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    expect_type(x, 0, NULL);
    ipm_client_ack(&x->c, x->seqs[2]);
    assert_int_equal(ipm_client_check_msg(&x->c), 0);
    ipm_packet_t p;
    expect_type(x, IPM_PUBREC, &p);
    assert_int_equal(p.u.ack.packet_id, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_v311),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_v5_props),
        cmocka_unit_test(test_publish_qos0_qos1),
        cmocka_unit_test(test_publish_qos2),
        cmocka_unit_test(test_packet_ids_skip_in_use),
        cmocka_unit_test(test_receive_maximum),
        cmocka_unit_test(test_receive_qos),
        cmocka_unit_test(test_disconnect_from_callback),
        cmocka_unit_test(test_partial_reads),
        cmocka_unit_test(test_keepalive_dead_peer),
        cmocka_unit_test(test_resend_after_reconnect),
        cmocka_unit_test(test_reconnect_without_session),
        cmocka_unit_test(test_send_fails_with_auto_reconnect),
        cmocka_unit_test(test_outbox_refuse),
        cmocka_unit_test(test_topic_alias_in),
        cmocka_unit_test(test_topic_alias_out),
        cmocka_unit_test(test_malformed_input),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_server_disconnect_and_refusals),
        cmocka_unit_test(test_init_rejects),
        cmocka_unit_test(test_manual_ack_qos1),
        cmocka_unit_test(test_manual_ack_qos2),
        cmocka_unit_test(test_manual_ack_limits),
        cmocka_unit_test(test_manual_ack_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
