/*
 * test_config_table.c - the directive table: every row's default is what ipb_config_init
 * sets, every type's bounds are enforced with a clear message, and unknown, refused and
 * misplaced directives are refused with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/config_table.h"

#define FOR_ROWS(d)                                                                         \
    for (const ipb__cdir_t *d = ipb__config_table; d < ipb__config_table + ipb__config_table_len; d++)

static bool numeric(const ipb__cdir_t *d)
{
    return d->type == IPB__CT_BOOL || d->type == IPB__CT_INT || d->type == IPB__CT_SIZE ||
           d->type == IPB__CT_DURATION || d->type == IPB__CT_ENUM || d->type == IPB__CT_FLAGS ||
           (d->type == IPB__CT_CUSTOM && d->size && d->size <= 8);
}

static int64_t scaled(const ipb__cdir_t *d, int64_t v)
{
    return v * (d->scale ? d->scale : 1);
}

/* Parse text (as "t.conf") into cfg: the return code, and the message in err. */
static int parse(ipb_config_t *cfg, const char *text, char *err, size_t len)
{
    ipb_config_init(cfg);
    err[0] = 0;
    return ipb_config_parse(cfg, text, strlen(text), "t.conf", err, len);
}

static void *field_base(ipb_config_t *cfg, const ipb__cdir_t *d)
{
    if (d->scope == IPB__CS_BRIDGE)
        return &cfg->bridges[cfg->n_bridges - 1];
    return d->scope == IPB__CS_LISTENER ? (void *)&cfg->listeners[cfg->n_listeners - 1]
                                        : (void *)cfg;
}

/* "listener 1883\n" (or a bridge's "connection" and "address") first for listener (bridge)
 * rows, so the directive is on line 2 (3). */
static unsigned line_of(const ipb__cdir_t *d, char *buf, size_t len, const char *value)
{
    const char *head = d->scope == IPB__CS_LISTENER ? "listener 1883\n"
                       : d->scope == IPB__CS_BRIDGE ? "connection b\naddress h\n"
                                                    : "";
    snprintf(buf, len, "%s%s%s%s\n", head, d->name, value ? " " : "", value ? value : "");
    return d->scope == IPB__CS_LISTENER ? 2 : d->scope == IPB__CS_BRIDGE ? 3 : 1;
}

static void want_error(const ipb__cdir_t *d, const char *value, const char *want)
{
    ipb_config_t cfg;
    char text[512], err[512], full[600];
    unsigned line = line_of(d, text, sizeof text, value);
    if (parse(&cfg, text, err, sizeof err) == 0)
        fail_msg("%s %s: accepted", d->name, value ? value : "(none)");
    snprintf(full, sizeof full, "t.conf:%u: %s", line, want);
    if (strcmp(err, full))
        fail_msg("%s %s: got \"%s\", want \"%s\"", d->name, value ? value : "", err, full);
}

static void want_value(const ipb__cdir_t *d, const char *value, int64_t want)
{
    ipb_config_t cfg;
    char text[512], err[512];
    line_of(d, text, sizeof text, value);
    if (parse(&cfg, text, err, sizeof err))
        fail_msg("%s %s: %s", d->name, value, err);
    int64_t got = ipb__config_get(d, field_base(&cfg, d));
    if (got != want)
        fail_msg("%s %s: stored %" PRId64 ", want %" PRId64, d->name, value, got, want);
}

static void rows_are_well_formed(void **state)
{
    (void)state;
    assert_true(ipb__config_table_len < 256); /* config.c's bitmap of FLAGS rows */
    FOR_ROWS(d) {
        if (!d->name || !d->section || !d->doc || !d->doc[0])
            fail_msg("row %zu lacks a name, section or doc", (size_t)(d - ipb__config_table));
        if (ipb__config_find(d->name) != d)
            fail_msg("%s: another row answers to this name first", d->name);
        if (d->type == IPB__CT_CUSTOM && !d->parse)
            fail_msg("%s: custom without a parse function", d->name);
        if ((d->type == IPB__CT_ENUM || d->type == IPB__CT_FLAGS) && !d->names)
            fail_msg("%s: no names", d->name);
        if (numeric(d) && d->type != IPB__CT_FLAGS && (d->dflt < d->min || d->dflt > d->max))
            fail_msg("%s: default %" PRId64 " outside [%" PRId64 ", %" PRId64 "]", d->name,
                     d->dflt, d->min, d->max);
        if ((d->type == IPB__CT_STRING || d->type == IPB__CT_PATH) && d->size < 2)
            fail_msg("%s: no room for a string", d->name);
    }
}

static void defaults_come_from_the_rows(void **state)
{
    (void)state;
    ipb_config_t cfg;
    memset(&cfg, 0xA5, sizeof cfg); /* init must set every field, not find it zero */
    ipb_config_init(&cfg);
    ipb_config_add_listener(&cfg, 1883, NULL);
    /* A bridge's rows take their defaults when its `connection` line starts it. */
    char err[512];
    assert_int_equal(ipb_config_parse(&cfg, "connection b\naddress h\n", 22, "t.conf", err,
                                      sizeof err), 0);
    cfg.allow_anonymous = true; /* a parsed file turns it off; the default is on */
    FOR_ROWS(d) {
        void *base = field_base(&cfg, d);
        if (numeric(d)) {
            int64_t got = ipb__config_get(d, base);
            if (got != scaled(d, d->dflt))
                fail_msg("%s: ipb_config_init sets %" PRId64 ", the row says %" PRId64,
                         d->name, got, scaled(d, d->dflt));
        } else if (d->type == IPB__CT_STRING || d->type == IPB__CT_PATH) {
            if (((char *)base + d->offset)[0])
                fail_msg("%s: starts as '%s', not empty", d->name, (char *)base + d->offset);
        }
    }
    /* The same defaults, spelled out: what the documentation and mosquitto promise. */
    assert_int_equal(cfg.max_packet_size, 16u << 20);
    assert_int_equal(cfg.max_inflight_messages, 20);
    assert_int_equal(cfg.max_queued_messages, 1000);
    assert_int_equal(cfg.max_connections, -1);
    assert_int_equal(cfg.connect_timeout_ms, 10000);
    assert_int_equal(cfg.max_keepalive, UINT16_MAX);
    assert_int_equal(cfg.max_outgoing_bytes, 4u << 20);
    assert_int_equal(cfg.max_sessions, 1000000);
    assert_int_equal(cfg.log_types, IPB_LOG_ERR | IPB_LOG_WARNING | IPB_LOG_NOTICE | IPB_LOG_INFO);
    assert_int_equal(cfg.log_dest, IPB_LOG_DEST_STDERR);
    assert_true(cfg.allow_anonymous);
    assert_true(cfg.retain_available);
    assert_int_equal(cfg.listeners[0].allow_anonymous, -1);
}

static void numbers_are_bounded(void **state)
{
    (void)state;
    char v[64], want[256];
    FOR_ROWS(d) {
        if (d->type != IPB__CT_INT && d->type != IPB__CT_SIZE)
            continue;
        snprintf(v, sizeof v, "%" PRId64, d->max);
        want_value(d, v, scaled(d, d->max));
        snprintf(v, sizeof v, "%" PRId64, d->min);
        want_value(d, v, d->min == 0 && d->flags & IPB__CF_ZERO_IS_MAX ? scaled(d, d->max)
                                                                       : scaled(d, d->min));
        if (d->max < INT64_MAX) {
            snprintf(v, sizeof v, "%" PRId64, d->max + 1);
            snprintf(want, sizeof want, "%s: '%s' is not a number from %" PRId64 " to %" PRId64,
                     d->name, v, d->min, d->max);
            want_error(d, v, want);
        }
        snprintf(v, sizeof v, "%" PRId64, d->min - 1);
        snprintf(want, sizeof want, "%s: '%s' is not a number from %" PRId64 " to %" PRId64,
                 d->name, v, d->min, d->max);
        want_error(d, v, want);
        snprintf(want, sizeof want, "%s: '12abc' is not a number from %" PRId64 " to %" PRId64,
                 d->name, d->min, d->max);
        want_error(d, "12abc", want);
        snprintf(want, sizeof want, "%s needs a value", d->name);
        want_error(d, NULL, want);
    }
}

static void bools_enums_durations_strings(void **state)
{
    (void)state;
    char want[512], big[600];
    FOR_ROWS(d) {
        switch (d->type) {
        case IPB__CT_BOOL:
            if (!(d->flags & IPB__CF_NOSTORE)) {
                want_value(d, "true", 1);
                want_value(d, "false", 0);
            }
            snprintf(want, sizeof want, "%s must be true or false", d->name);
            want_error(d, "maybe", want);
            want_error(d, NULL, want);
            break;
        case IPB__CT_ENUM:
            for (const ipb__cname_t *n = d->names; n->name; n++)
                want_value(d, n->name, n->value);
            snprintf(want, sizeof want, "%s must be ", d->name);
            for (const ipb__cname_t *n = d->names; n->name; n++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
                         n == d->names ? "" : n[1].name ? ", " : " or ", n->name);
            want_error(d, "smoke", want);
            break;
        case IPB__CT_FLAGS:
            snprintf(want, sizeof want, "unknown %s 'smoke'", d->name);
            want_error(d, "smoke", want);
            break;
        case IPB__CT_DURATION:
            want_value(d, "1h", 3600);
            want_value(d, "2d", 2 * 86400);
            want_value(d, "3w", 3 * 7 * 86400);
            want_value(d, "4m", 4 * 30 * 86400);
            want_value(d, "5y", 5 * 365 * 86400);
            snprintf(want, sizeof want, "%s: '%s' is not a duration like 1h, 2d, 3w, 4m or 5y",
                     d->name, "3x");
            want_error(d, "3x", want);
            snprintf(want, sizeof want, "%s: '%s' is not a duration like 1h, 2d, 3w, 4m or 5y",
                     d->name, "200y");
            want_error(d, "200y", want);
            break;
        case IPB__CT_STRING:
        case IPB__CT_PATH: {
            ipb_config_t cfg;
            char text[1400], err[512];
            /* Files read later (certificates) must be readable when the line is read. */
            const char *path = d->flags & IPB__CF_READABLE ? "/dev/null" : "/some/where";
            line_of(d, text, sizeof text, path);
            assert_int_equal(parse(&cfg, text, err, sizeof err), 0);
            assert_string_equal((char *)field_base(&cfg, d) + d->offset, path);
            if (d->flags & IPB__CF_READABLE) {
                snprintf(want, sizeof want, "%s /some/where: No such file or directory", d->name);
                want_error(d, "/some/where", want);
            }
            assert_true(d->size < sizeof big);
            memset(big, 'x', d->size);
            big[d->size] = 0;
            snprintf(want, sizeof want, "%s: value longer than %zu bytes", d->name, d->size - 1);
            want_error(d, big, want);
            snprintf(want, sizeof want, "%s needs a value", d->name);
            want_error(d, NULL, want);
            break;
        }
        default:
            break;
        }
    }
}

static void listener_rows_need_a_listener(void **state)
{
    (void)state;
    ipb_config_t cfg;
    char text[256], err[512], want[300];
    int rows = 0;
    FOR_ROWS(d) {
        if (d->scope != IPB__CS_LISTENER)
            continue;
        rows++;
        snprintf(text, sizeof text, "\n%s x\n", d->name);
        assert_int_not_equal(parse(&cfg, text, err, sizeof err), 0);
        snprintf(want, sizeof want, "t.conf:2: '%s' must follow the 'listener' line it applies to",
                 d->name);
        assert_string_equal(err, want);
    }
    assert_true(rows > 5);
}

static void unknown_and_refused(void **state)
{
    (void)state;
    ipb_config_t cfg;
    char text[256], err[512], want[300];
    assert_int_not_equal(parse(&cfg, "# c\n\nbogus 1\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:3: unknown directive 'bogus'");
    int rows = 0;
    FOR_ROWS(d) {
        if (d->type != IPB__CT_REFUSED)
            continue;
        rows++;
        char prefixed[64];
        snprintf(prefixed, sizeof prefixed, "%sbind_address", d->name);
        const char *name = d->flags & IPB__CF_PREFIX ? prefixed : d->name;
        snprintf(text, sizeof text, "max_keepalive 10\n%s true\n", name);
        assert_int_not_equal(parse(&cfg, text, err, sizeof err), 0);
        snprintf(want, sizeof want, "t.conf:2: '%s' needs %s, which this broker does not support yet",
                 name, d->doc);
        assert_string_equal(err, want);
    }
    assert_true(rows >= 9);
}

static void custom_rows(void **state)
{
    (void)state;
    ipb_config_t cfg;
    char err[512];
    assert_int_equal(parse(&cfg, "max_connections -1\n", err, sizeof err), 0);
    assert_int_equal(cfg.max_connections, -1);
    assert_int_not_equal(parse(&cfg, "connect_timeout 0\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:1: connect_timeout: '0' is not a number from 1 to 3600");
    assert_int_equal(parse(&cfg, "connect_timeout 3\n", err, sizeof err), 0);
    assert_int_equal(cfg.connect_timeout_ms, 3000);
    assert_int_equal(parse(&cfg, "max_topic_length 0\n", err, sizeof err), 0);
    assert_int_equal(cfg.max_topic_length, IPM_MAX_STRING_LEN);

    assert_int_equal(parse(&cfg, "listener 1884 127.0.0.1\nport 1885\n", err, sizeof err), 0);
    assert_int_equal(cfg.n_listeners, 2);
    assert_int_equal(cfg.listeners[0].port, 1884);
    assert_string_equal(cfg.listeners[0].address, "127.0.0.1");
    assert_int_equal(cfg.listeners[1].port, 1885);
    assert_int_not_equal(parse(&cfg, "listener 65536\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:1: listener: '65536' is not a number from 0 to 65535");

    /* Global until per_listener_settings, then the listener's own. */
    assert_int_equal(parse(&cfg, "allow_anonymous true\nper_listener_settings true\n"
                                 "listener 1\nallow_anonymous false\n",
                           err, sizeof err),
                     0);
    assert_true(cfg.allow_anonymous);
    assert_int_equal(cfg.listeners[0].allow_anonymous, 0);
    /* The other per-listener security options go the same way; without the flag, to the
     * broker-wide fields, whatever listener they are under. */
    assert_int_equal(parse(&cfg, "per_listener_settings true\nlistener 1\npassword_file /p\n"
                                 "acl_file /a\nauto_id_prefix P-\n"
                                 "allow_zero_length_clientid false\n",
                           err, sizeof err),
                     0);
    assert_string_equal(cfg.listeners[0].password_file, "/p");
    assert_string_equal(cfg.listeners[0].acl_file, "/a");
    assert_string_equal(cfg.listeners[0].auto_id_prefix, "P-");
    assert_int_equal(cfg.listeners[0].allow_zero_length_clientid, 0);
    assert_string_equal(cfg.password_file, "");
    assert_true(cfg.allow_zero_length_clientid);
    assert_int_equal(parse(&cfg, "listener 1\npassword_file /p\nauto_id_prefix P-\n", err,
                           sizeof err),
                     0);
    assert_string_equal(cfg.password_file, "/p");
    assert_string_equal(cfg.listeners[0].password_file, "");
    assert_int_equal(cfg.listeners[0].allow_zero_length_clientid, -1);
    assert_int_equal(cfg.listeners[0].max_qos, 2);
    assert_int_not_equal(parse(&cfg, "allow_anonymous maybe\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:1: allow_anonymous must be true or false");

    assert_int_equal(parse(&cfg, "listener 1\ntls_version tlsv1.3\n", err, sizeof err), 0);
    assert_string_equal(cfg.listeners[0].tls_version, "tlsv1.3");
    assert_int_not_equal(parse(&cfg, "listener 1\ntls_version tlsv1\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:2: tls_version must be tlsv1.2 or tlsv1.3 (older versions are broken)");

    assert_int_equal(parse(&cfg, "log_dest file /tmp/x.log\n", err, sizeof err), 0);
    assert_int_equal(cfg.log_dest, IPB_LOG_DEST_FILE);
    assert_string_equal(cfg.log_file, "/tmp/x.log");
    /* Repeatable: the first line replaces the default (stderr), `none` empties the set. */
    assert_int_equal(parse(&cfg, "log_dest syslog\nlog_dest topic\n", err, sizeof err), 0);
    assert_int_equal(cfg.log_dest, IPB_LOG_DEST_SYSLOG | IPB_LOG_DEST_TOPIC);
    assert_int_equal(parse(&cfg, "log_dest stdout\nlog_dest none\n", err, sizeof err), 0);
    assert_int_equal(cfg.log_dest, IPB_LOG_DEST_NONE);
    assert_int_not_equal(parse(&cfg, "log_dest dlt\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:1: log_dest must be stderr, stdout, file PATH, syslog, topic "
                             "or none (dlt is not offered)");
    assert_int_not_equal(parse(&cfg, "log_dest file\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:1: log_dest file needs a path");

    /* A strftime format keeps its spaces. */
    assert_int_equal(parse(&cfg, "log_timestamp_format %Y-%m-%d %H:%M\n", err, sizeof err), 0);
    assert_string_equal(cfg.log_timestamp_format, "%Y-%m-%d %H:%M");

    /* bind_address names the address of the listener `port` made. */
    assert_int_equal(parse(&cfg, "port 1884\nbind_address 127.0.0.1\n", err, sizeof err), 0);
    assert_int_equal(cfg.n_listeners, 1);
    assert_string_equal(cfg.listeners[0].address, "127.0.0.1");

    /* Only mosquitto's default of these is offered; the rest are refused with why. */
    assert_int_equal(parse(&cfg, "listener 1\ntls_keyform pem\n", err, sizeof err), 0);
    assert_int_not_equal(parse(&cfg, "listener 1\ntls_keyform engine\n", err, sizeof err), 0);
    assert_string_equal(err, "t.conf:2: tls_keyform must be pem (OpenSSL engines are not offered)");
    assert_int_equal(parse(&cfg, "websockets_headers_size 4096\n", err, sizeof err), 0);
    assert_int_not_equal(parse(&cfg, "websockets_headers_size 9000\n", err, sizeof err), 0);

    /* The first log_type replaces the default set, the next ones add to it. */
    assert_int_equal(parse(&cfg, "log_type debug\nlog_type error\n", err, sizeof err), 0);
    assert_int_equal(cfg.log_types, IPB_LOG_DEBUG | IPB_LOG_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_are_well_formed),
        cmocka_unit_test(defaults_come_from_the_rows),
        cmocka_unit_test(numbers_are_bounded),
        cmocka_unit_test(bools_enums_durations_strings),
        cmocka_unit_test(listener_rows_need_a_listener),
        cmocka_unit_test(unknown_and_refused),
        cmocka_unit_test(custom_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
