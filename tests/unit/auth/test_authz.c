/*
 * test_authz.c - the broker's policy: logins with and without a password file, anonymous
 * access, the failed-login limits per (address, user) and per address, the login in
 * steps (the hash off the caller's thread), ACL checks, '$' topics, and reloads that
 * keep the old policy when the new files are bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/authz.h"

static char pwfile[64], aclfile[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_pw(const char *user, const char *password)
{
    char hash[256], line[400];
    assert_int_equal(ipb_passwd_hash((const uint8_t *)password, strlen(password), 1000, hash,
                                     sizeof hash), 0);
    snprintf(line, sizeof line, "%s:%s\n", user, hash);
    write_file(pwfile, line);
}

static int setup(void **state)
{
    (void)state;
    snprintf(pwfile, sizeof pwfile, "/tmp/iptest-authz-pw-%d", (int)getpid());
    snprintf(aclfile, sizeof aclfile, "/tmp/iptest-authz-acl-%d", (int)getpid());
    write_pw("alice", "secret");
    write_file(aclfile, "pattern readwrite %u/#\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(pwfile);
    unlink(aclfile);
    return 0;
}

static ipb_authz_t *make(bool passwords, bool acl, unsigned max_failures)
{
    char err[256];
    ipb_authz_config_t cfg;
    ipb_authz_config_init(&cfg);
    cfg.password_file = passwords ? pwfile : NULL;
    cfg.acl_file = acl ? aclfile : NULL;
    cfg.max_login_failures = max_failures;
    ipb_authz_t *a = ipb_authz_new(&cfg, err, sizeof err);
    if (!a)
        fail_msg("%s", err);
    return a;
}

static int login(ipb_authz_t *a, bool anon, const char *addr, uint64_t now, const char *user,
                 const char *pw)
{
    return ipb_authz_login(a, anon, addr, now, user, (const uint8_t *)(pw ? pw : ""),
                           pw ? strlen(pw) : 0, pw != NULL);
}

static void test_logins(void **state)
{
    (void)state;
    ipb_authz_t *a = make(true, false, 0);
    assert_int_equal(login(a, false, "1.2.3.4", 0, "alice", "secret"), IPB_AUTHZ_OK);
    assert_int_equal(login(a, false, "1.2.3.4", 0, "alice", "secret"), IPB_AUTHZ_OK); /* cached */
    assert_int_equal(login(a, false, "1.2.3.4", 0, "alice", "Secret"), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(login(a, false, "1.2.3.4", 0, "alice", NULL), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(login(a, false, "1.2.3.4", 0, "bob", "secret"), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(login(a, false, "1.2.3.4", 0, NULL, NULL), IPB_AUTHZ_NOT_ALLOWED);
    assert_int_equal(login(a, true, "1.2.3.4", 0, NULL, NULL), IPB_AUTHZ_OK);
    assert_true(ipb_authz_has_passwords(a));
    ipb_authz_free(a);

    a = make(false, false, 0); /* no password file: user names are identities only */
    assert_int_equal(login(a, true, "1.2.3.4", 0, "anyone", "x"), IPB_AUTHZ_OK);
    assert_int_equal(login(a, false, "1.2.3.4", 0, "anyone", "x"), IPB_AUTHZ_NOT_ALLOWED);
    assert_false(ipb_authz_has_passwords(a));
    ipb_authz_free(a);
}

static void test_failure_limit(void **state)
{
    (void)state;
    ipb_authz_t *a = make(true, false, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(login(a, false, "10.0.0.1", 100, "alice", "guess"), IPB_AUTHZ_BAD_LOGIN);
    /* Banned now, even with the right password; other addresses are not affected. */
    assert_int_equal(login(a, false, "10.0.0.1", 101, "alice", "secret"), IPB_AUTHZ_BANNED);
    assert_int_equal(login(a, false, "10.0.0.2", 101, "alice", "secret"), IPB_AUTHZ_OK);
    /* After the window the address may try again. */
    assert_int_equal(login(a, false, "10.0.0.1", 161, "alice", "secret"), IPB_AUTHZ_OK);
    ipb_authz_free(a);
}

/* One NAT address, many users: one user's failures lock out that user only; many user
 * names together hit the per-address cap. */
static void test_failures_per_user_and_address(void **state)
{
    (void)state;
    char err[256];
    ipb_authz_config_t cfg;
    ipb_authz_config_init(&cfg);
    assert_int_equal(cfg.max_address_failures, 100);
    cfg.password_file = pwfile;
    cfg.max_login_failures = 3;
    cfg.max_address_failures = 5;
    ipb_authz_t *a = ipb_authz_new(&cfg, err, sizeof err);
    assert_non_null(a);
    for (int i = 0; i < 3; i++)
        assert_int_equal(login(a, false, "nat", 10, "bob", "guess"), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(login(a, false, "nat", 10, "bob", "guess"), IPB_AUTHZ_BANNED);
    assert_int_equal(login(a, false, "nat", 10, "alice", "secret"), IPB_AUTHZ_OK);
    assert_int_equal(login(a, false, "nat", 10, "carol", "x"), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(login(a, false, "nat", 10, "dave", "x"), IPB_AUTHZ_BAD_LOGIN);
    /* Five failures from "nat" now: every user there is refused unchecked. */
    assert_int_equal(login(a, false, "nat", 11, "alice", "secret"), IPB_AUTHZ_BANNED);
    assert_int_equal(login(a, false, "other", 11, "alice", "secret"), IPB_AUTHZ_OK);
    assert_int_equal(login(a, false, "nat", 71, "alice", "secret"), IPB_AUTHZ_OK);
    ipb_authz_free(a);
}

/* The steps: the hash can run elsewhere; a pending check counts until it succeeds; the
 * failure that reaches a limit says so once. */
static void test_login_in_steps(void **state)
{
    (void)state;
    ipb_authz_t *a = make(true, false, 2);
    ipb_authz_check_t *c1, *c2, *c3;
    int locked;
    const uint8_t *bad = (const uint8_t *)"bad", *good = (const uint8_t *)"secret";
    assert_int_equal(ipb_authz_login_start(a, false, "h", 0, "alice", good, 6, true, &c1, &locked),
                     IPB_AUTHZ_PENDING);
    assert_int_equal(ipb_authz_login_start(a, false, "h", 0, "alice", bad, 3, true, &c2, &locked),
                     IPB_AUTHZ_PENDING);
    /* Two pending: as many as the limit allows, so a third is refused unhashed. */
    assert_int_equal(ipb_authz_login_start(a, false, "h", 0, "alice", bad, 3, true, &c3, &locked),
                     IPB_AUTHZ_BANNED);
    assert_null(c3);
    ipb_authz_check_run(c1);
    ipb_authz_check_run(c2);
    assert_int_equal(ipb_authz_login_finish(a, c1, 0, &locked), IPB_AUTHZ_OK);
    assert_int_equal(locked, IPB_AUTHZ_LOCKED_NONE);
    assert_int_equal(ipb_authz_login_finish(a, c2, 0, &locked), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(locked, IPB_AUTHZ_LOCKED_NONE); /* one failure of two */
    /* The good pair is remembered: no hash. */
    assert_int_equal(ipb_authz_login_start(a, false, "h", 0, "alice", good, 6, true, &c1, &locked),
                     IPB_AUTHZ_OK);
    assert_int_equal(ipb_authz_login_start(a, false, "h", 0, "alice", NULL, 0, false, &c1, &locked),
                     IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(locked, IPB_AUTHZ_LOCKED_USER);
    assert_int_equal(ipb_authz_login_start(a, false, "h", 0, "alice", good, 6, true, &c1, &locked),
                     IPB_AUTHZ_BANNED);
    ipb_authz_free(a);
}

static void test_acl_and_dollar(void **state)
{
    (void)state;
    ipb_authz_t *a = make(true, true, 0);
    assert_true(ipb_authz_allows(a, "alice", "c", "alice/t", 7, IPB_ACL_WRITE));
    assert_false(ipb_authz_allows(a, "alice", "c", "bob/t", 5, IPB_ACL_READ));
    assert_false(ipb_authz_allows(a, "alice", "c", "$SYS/x", 6, IPB_ACL_WRITE));
    ipb_authz_free(a);
    a = make(false, false, 0);
    assert_true(ipb_authz_allows(a, NULL, "c", "any/t", 5, IPB_ACL_WRITE));
    assert_false(ipb_authz_allows(a, NULL, "c", "$SYS/x", 6, IPB_ACL_WRITE));
    assert_true(ipb_authz_allows(a, NULL, "c", "$SYS/x", 6, IPB_ACL_READ));
    ipb_authz_free(a);
}

static void test_reload(void **state)
{
    (void)state;
    char err[256];
    ipb_authz_t *a = make(true, true, 0);
    assert_int_equal(login(a, false, "h", 0, "alice", "secret"), IPB_AUTHZ_OK);
    /* A broken ACL: the reload fails and both old files stay in force. */
    write_file(aclfile, "topic read a/#/b\n");
    write_pw("alice", "changed");
    assert_int_equal(ipb_authz_reload(a, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1: invalid topic filter"));
    assert_int_equal(login(a, false, "h", 0, "alice", "secret"), IPB_AUTHZ_OK);
    assert_true(ipb_authz_allows(a, "alice", "c", "alice/t", 7, IPB_ACL_WRITE));
    /* Fixed: the new password works, the old one (cached before) does not. */
    write_file(aclfile, "pattern read %u/#\n");
    assert_int_equal(ipb_authz_reload(a, err, sizeof err), 0);
    assert_int_equal(login(a, false, "h", 0, "alice", "secret"), IPB_AUTHZ_BAD_LOGIN);
    assert_int_equal(login(a, false, "h", 0, "alice", "changed"), IPB_AUTHZ_OK);
    assert_false(ipb_authz_allows(a, "alice", "c", "alice/t", 7, IPB_ACL_WRITE));
    ipb_authz_free(a);
    write_pw("alice", "secret");
    write_file(aclfile, "pattern readwrite %u/#\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logins), cmocka_unit_test(test_failure_limit),
        cmocka_unit_test(test_failures_per_user_and_address), cmocka_unit_test(test_login_in_steps),
        cmocka_unit_test(test_acl_and_dollar), cmocka_unit_test(test_reload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
