/*
 * test_acl.c - mosquitto-format ACLs: parsing, anonymous and per-user rules, patterns,
 * deny precedence, subscription filters and the '$' rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth/acl.h"

static ipb_acl_t *parse(const char *text)
{
    char err[256] = "";
    ipb_acl_t *acl = ipb_acl_parse(text, strlen(text), "acl", err, sizeof err);
    if (!acl)
        fail_msg("parse failed: %s", err);
    return acl;
}

static bool can(const ipb_acl_t *acl, const char *user, const char *id, const char *topic,
                int access)
{
    return ipb_acl_check(acl, user, id, topic, strlen(topic), access);
}

enum { R = IPB_ACL_READ, W = IPB_ACL_WRITE, S = IPB_ACL_SUBSCRIBE };

static void test_classroom_pattern(void **state)
{
    (void)state;
    ipb_acl_t *acl = parse("pattern readwrite %u/#\n");
    assert_true(can(acl, "alice", "c1", "alice/t", W));
    assert_true(can(acl, "alice", "c1", "alice", R)); /* "alice/#" covers "alice" */
    assert_true(can(acl, "alice", "c1", "alice/+/x", S));
    assert_true(can(acl, "alice", "c1", "alice/#", S));
    assert_false(can(acl, "alice", "c1", "bob/t", W));
    assert_false(can(acl, "alice", "c1", "bob/t", R));
    /* Wider filters are granted (each delivery is checked); ones that meet nothing of
     * hers are not. */
    assert_true(can(acl, "alice", "c1", "#", S));
    assert_true(can(acl, "alice", "c1", "+/t", S));
    assert_true(can(acl, "alice", "c1", "+/+/+/x", S));
    assert_true(can(acl, "alice", "c1", "+", S)); /* "alice/#" covers "alice" */
    assert_false(can(acl, "alice", "c1", "bob/#", S));
    assert_false(can(acl, "alice", "c1", "bob/+", S));
    assert_false(can(acl, "alice", "c1", "$SYS/#", S));
    assert_false(can(acl, "alice", "c1", "$share/g/bob/#", S));
    /* Names that would widen the pattern never match it. */
    assert_false(can(acl, "+", "c1", "x/t", W));
    assert_false(can(acl, "#", "c1", "x/t", W));
    assert_false(can(acl, "a/b", "c1", "a/b/t", W));
    assert_false(can(acl, NULL, "c1", "x/t", W)); /* anonymous: %u has no value */
    ipb_acl_free(acl);
}

static void test_users_and_anonymous(void **state)
{
    (void)state;
    ipb_acl_t *acl = parse("topic read public/#\n"
                           "user alice\n"
                           "topic readwrite alice/#\n"
                           "topic write logs/alice\n"
                           "user bob\n"
                           "topic bob/#\n" /* no access word: readwrite */
                           "user alice\n"
                           "topic read news\n");
    assert_true(can(acl, NULL, "x", "public/a", R));
    assert_false(can(acl, NULL, "x", "public/a", W));
    assert_false(can(acl, "alice", "x", "public/a", R)); /* anonymous rules are not hers */
    assert_true(can(acl, "alice", "x", "alice/1", W));
    assert_true(can(acl, "alice", "x", "logs/alice", W));
    assert_false(can(acl, "alice", "x", "logs/alice", R));
    assert_false(can(acl, "alice", "x", "logs/alice", S));
    assert_true(can(acl, "alice", "x", "news", R)); /* a second `user alice` block adds */
    assert_true(can(acl, "bob", "x", "bob/z", W));
    assert_false(can(acl, "carol", "x", "bob/z", R));
    ipb_acl_free(acl);
}

static void test_deny_wins(void **state)
{
    (void)state;
    ipb_acl_t *acl = parse("user alice\n"
                           "topic readwrite alice/#\n"
                           "topic deny alice/secret\n"
                           "pattern deny %c/blocked\n");
    assert_true(can(acl, "alice", "dev1", "alice/open", R));
    assert_false(can(acl, "alice", "dev1", "alice/secret", R));
    assert_false(can(acl, "alice", "dev1", "alice/secret", W));
    assert_true(can(acl, "alice", "dev1", "alice/#", S)); /* delivery checks each message */
    assert_false(can(acl, "alice", "dev1", "alice/secret", S));
    assert_true(can(acl, "alice", "dev1", "alice/+", S)); /* the deny covers only part of it */
    ipb_acl_free(acl);
}

static void test_dollar_topics(void **state)
{
    (void)state;
    ipb_acl_t *acl = parse("topic read #\ntopic read $SYS/broker/#\n");
    assert_true(can(acl, NULL, "x", "a/b", R));
    assert_false(can(acl, NULL, "x", "$SYS/other", R)); /* '#' does not match '$' topics */
    assert_true(can(acl, NULL, "x", "$SYS/broker/uptime", R));
    assert_true(can(acl, NULL, "x", "$SYS/broker/#", S));
    assert_true(can(acl, NULL, "x", "$SYS/#", S)); /* granted: $SYS/broker/ is readable */
    assert_false(can(acl, NULL, "x", "$SYS/other/#", S));
    assert_true(can(acl, NULL, "x", "#", S));
    ipb_acl_free(acl);
}

static void test_client_id_pattern(void **state)
{
    (void)state;
    ipb_acl_t *acl = parse("pattern write devices/%c/data\npattern read devices/%c/cmd/+\n");
    assert_true(can(acl, NULL, "esp32", "devices/esp32/data", W));
    assert_false(can(acl, NULL, "esp32", "devices/esp33/data", W));
    assert_true(can(acl, "u", "esp32", "devices/esp32/cmd/+", S));
    assert_true(can(acl, "u", "esp32", "devices/esp32/cmd/#", S)); /* meets cmd/+ */
    assert_false(can(acl, "u", "esp32", "devices/esp33/cmd/#", S));
    assert_false(can(acl, "u", "esp32", "devices/esp32/cmd/a/b", S)); /* deeper than cmd/+ */
    ipb_acl_free(acl);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"topic\n", "acl:1: missing topic filter"},
        {"user alice\nfoo bar\n", "acl:2: unknown keyword"},
        {"topic read a/#/b\n", "acl:1: invalid topic filter"},
        {"user\n", "acl:1: missing user name"},
        {"topic read\n", "acl:1: missing topic filter"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        assert_null(ipb_acl_parse(cases[i].text, strlen(cases[i].text), "acl", err, sizeof err));
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
    }
    static const char with_nul[] = "topic a\n\0topic b\n";
    assert_null(ipb_acl_parse(with_nul, sizeof with_nul - 1, "acl", err, sizeof err));
    assert_non_null(strstr(err, "acl:2: NUL byte"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classroom_pattern), cmocka_unit_test(test_users_and_anonymous),
        cmocka_unit_test(test_deny_wins),         cmocka_unit_test(test_dollar_topics),
        cmocka_unit_test(test_client_id_pattern), cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
