/*
 * test_passwd.c - password files: known-answer hashes of both mosquitto formats, files
 * written by Debian's mosquitto_passwd, and our own hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/passwd.h"

#define PW(s) (const uint8_t *)(s), strlen(s)

/* Computed independently: sha512(b"secret" + salt) and pbkdf2_hmac("sha512", ..., 101). */
static const char sha512_secret[] =
    "$6$c2FsdHNhbHRzYWx0$3aiBbchfIZo+1WYrkPzJjQxZ79F/NmwLQ+wF073kTd+6ANhaic8G/jWF/"
    "X4sqSFUKpLNdm1FZjBck6HQ8knM3A==";
static const char pbkdf2_secret[] =
    "$7$101$c2FsdHNhbHRzYWx0$Hd71hnNoKcARd6Fkl1rUE+opfs3V78ZJB2AgXXC1kaKQiWfi5S5qX7D1mY5b+"
    "bIzvyidWMnS8VA+YAsAygq9EA==";

static void test_known_answers(void **state)
{
    (void)state;
    assert_true(ipb_passwd_verify(sha512_secret, PW("secret")));
    assert_false(ipb_passwd_verify(sha512_secret, PW("secreT")));
    assert_false(ipb_passwd_verify(sha512_secret, PW("")));
    assert_true(ipb_passwd_verify(pbkdf2_secret, PW("secret")));
    assert_false(ipb_passwd_verify(pbkdf2_secret, PW("secret ")));
}

static void test_malformed_hashes(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "secret", "$5$c2FsdA==$aGFzaA==", "$7$$c2FsdHNhbHRzYWx0$AAAA", "$7$0$c2FsdA==$AAAA",
        "$7$abc$c2FsdA==$AAAA", "$6$c2FsdHNhbHRzYWx0", "$6$$", "$6$!!!!$AAAA",
        "$7$101$c2FsdHNhbHRzYWx0$c2hvcnQ=", /* a hash that is not 64 bytes */
        "$7$999999999999$c2FsdA==$AAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ipb_passwd_verify(bad[i], PW("secret")));
}

static void test_hash_round_trip(void **state)
{
    (void)state;
    char a[256], b[256];
    assert_int_equal(ipb_passwd_hash(PW("pa:ss wörd"), 1000, a, sizeof a), 0);
    assert_int_equal(ipb_passwd_hash(PW("pa:ss wörd"), 1000, b, sizeof b), 0);
    assert_string_not_equal(a, b); /* fresh salt each time */
    assert_int_equal(strncmp(a, "$7$1000$", 8), 0);
    assert_true(ipb_passwd_verify(a, PW("pa:ss wörd")));
    assert_false(ipb_passwd_verify(a, PW("pa:ss word")));
    assert_int_equal(ipb_passwd_hash(PW("x"), 1000, a, 20), -1); /* too small: no truncation */
    assert_int_equal(ipb_passwd_hash(PW("x"), 0, a, sizeof a), -1);
}

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/iptest-pw-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load(void **state)
{
    (void)state;
    char err[256], text[1024];
    snprintf(text, sizeof text, "# comment\n\nalice:%s\r\nbob:%s\n", sha512_secret, pbkdf2_secret);
    char *path = write_temp(text);
    ipb_passwd_t *pw = ipb_passwd_load(path, err, sizeof err);
    unlink(path);
    assert_non_null(pw);
    assert_int_equal(ipb_passwd_count(pw), 2);
    assert_true(ipb_passwd_check(pw, "alice", PW("secret")));
    assert_true(ipb_passwd_check(pw, "bob", PW("secret")));
    assert_false(ipb_passwd_check(pw, "bob", PW("wrong")));
    assert_false(ipb_passwd_check(pw, "carol", PW("secret")));
    assert_false(ipb_passwd_check(pw, NULL, PW("secret")));
    ipb_passwd_free(pw);
}

static void test_load_errors(void **state)
{
    (void)state;
    char err[256], text[1024];
    struct {
        const char *text, *want;
    } cases[] = {
        {"alice:plaintext\n", ":1: not a $6$ or $7$ hash"},
        {"# ok\nnocolon\n", ":2: expected user:hash"},
        {":$6$c2FsdA==$AAAA\n", ":1: expected user:hash"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_temp(cases[i].text);
        ipb_passwd_t *pw = ipb_passwd_load(path, err, sizeof err);
        unlink(path);
        assert_null(pw);
        assert_non_null(strstr(err, cases[i].want));
    }
    snprintf(text, sizeof text, "a:%s\na:%s\n", sha512_secret, pbkdf2_secret);
    char *path = write_temp(text);
    assert_null(ipb_passwd_load(path, err, sizeof err));
    unlink(path);
    assert_non_null(strstr(err, ":2: user given twice"));
    assert_null(ipb_passwd_load("/nonexistent/pw", err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
}

/* A file made by the real mosquitto_passwd is read and checked correctly. */
static void test_mosquitto_passwd_file(void **state)
{
    (void)state;
    char path[64], cmd[256], err[256];
    snprintf(path, sizeof path, "/tmp/iptest-mpw-%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "mosquitto_passwd -c -b %s alice 'al ice' && mosquitto_passwd -b %s bob b0b", path,
             path);
    if (system(cmd) != 0)
        fail_msg("mosquitto_passwd failed: is mosquitto installed?");
    ipb_passwd_t *pw = ipb_passwd_load(path, err, sizeof err);
    unlink(path);
    if (!pw)
        fail_msg("%s", err);
    assert_true(ipb_passwd_check(pw, "alice", PW("al ice")));
    assert_true(ipb_passwd_check(pw, "bob", PW("b0b")));
    assert_false(ipb_passwd_check(pw, "alice", PW("b0b")));
    ipb_passwd_free(pw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),  cmocka_unit_test(test_malformed_hashes),
        cmocka_unit_test(test_hash_round_trip), cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_errors),    cmocka_unit_test(test_mosquitto_passwd_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
