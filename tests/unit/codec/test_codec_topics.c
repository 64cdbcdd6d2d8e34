/*
 * test_codec_topics.c - UTF-8 validation, topic names, topic filters, matching and shared
 * subscriptions, with the examples of MQTT 3.1.1 section 4.7 and 5.0 sections 1.5.4, 4.7
 * and 4.8.2.
 */
#include "codec_test.h"

static bool utf8(const char *s, size_t len) {
    /* Exact-size copy: a validator that reads one byte too far trips ASan. */
    uint8_t *b = ipmt_dup(s, len);
    bool ok = ipm_utf8_valid(b, len);
    free(b);
    return ok;
}
#define UTF8_OK(lit) assert_true(utf8((lit), sizeof(lit) - 1))
#define UTF8_BAD(lit)                                                                       \
    do {                                                                                    \
        print_message("bad UTF-8: %s\n", #lit);                                             \
        assert_false(utf8((lit), sizeof(lit) - 1));                                         \
    } while (0)

static void test_utf8_valid(void **state) {
    assert_true(ipm_utf8_valid((const uint8_t *)"", 0));
    UTF8_OK("hello/world");
    UTF8_OK("\xC2\x80");              /* U+0080, smallest two-byte */
    UTF8_OK("\xDF\xBF");              /* U+07FF */
    UTF8_OK("\xE0\xA0\x80");          /* U+0800, smallest three-byte */
    UTF8_OK("\xE2\x82\xAC");          /* euro sign */
    UTF8_OK("\xED\x9F\xBF");          /* U+D7FF, just below the surrogates */
    UTF8_OK("\xEE\x80\x80");          /* U+E000, just above them */
    UTF8_OK("\xEF\xBB\xBF");          /* U+FEFF is not skipped or refused (MQTT-1.5.4-3) */
    UTF8_OK("\xEF\xBF\xBF");          /* U+FFFF: a non-character, allowed to receivers */
    UTF8_OK("\xF0\x90\x80\x80");      /* U+10000, smallest four-byte */
    UTF8_OK("\xF0\x9F\x98\x80");
    UTF8_OK("\xF4\x8F\xBF\xBF");      /* U+10FFFF, the last code point */
    UTF8_OK("\x01\x1F\x7F");          /* control characters: SHOULD NOT, but well-formed */
    UTF8_OK("a\xC3\xA9z\xE2\x82\xAC\xF0\x9F\x98\x80!");
}

/* MQTT-1.5.4-1 (ill-formed, surrogates) and MQTT-1.5.4-2 (U+0000). */
static void test_utf8_invalid(void **state) {
    static const char nul[] = {'a', 0x00, 'b'};
    assert_false(utf8(nul, sizeof nul));
    assert_false(utf8(nul + 1, 1));
    UTF8_BAD("\xC0\x80");             /* overlong U+0000 */
    UTF8_BAD("\xC1\xBF");             /* overlong U+007F */
    UTF8_BAD("\xE0\x80\x80");         /* overlong three-byte */
    UTF8_BAD("\xE0\x9F\xBF");         /* overlong U+07FF */
    UTF8_BAD("\xF0\x80\x80\x80");     /* overlong four-byte */
    UTF8_BAD("\xF0\x8F\xBF\xBF");     /* overlong U+FFFF */
    UTF8_BAD("\xED\xA0\x80");         /* U+D800 */
    UTF8_BAD("\xED\xAF\xBF");         /* U+DBFF */
    UTF8_BAD("\xED\xB0\x80");         /* U+DC00 */
    UTF8_BAD("\xED\xBF\xBF");         /* U+DFFF */
    UTF8_BAD("\xED\xA0\xBD\xED\xB8\x80"); /* a surrogate pair written as CESU-8 */
    UTF8_BAD("\xF4\x90\x80\x80");     /* U+110000 */
    UTF8_BAD("\xF5\x80\x80\x80");
    UTF8_BAD("\xF7\xBF\xBF\xBF");
    UTF8_BAD("\xF8\x88\x80\x80\x80"); /* five-byte form */
    UTF8_BAD("\xFC\x84\x80\x80\x80\x80");
    UTF8_BAD("\xFE");
    UTF8_BAD("\xFF");
    UTF8_BAD("\x80");                 /* lone continuation bytes */
    UTF8_BAD("a\xBF");
    UTF8_BAD("\xC3");                 /* truncated sequences at the end */
    UTF8_BAD("\xE2\x82");
    UTF8_BAD("\xF0\x9F\x98");
    UTF8_BAD("\xC3\x28");             /* a lead byte followed by ASCII */
    UTF8_BAD("\xE2\x28\xA1");
    UTF8_BAD("\xE2\x82\x28");
    UTF8_BAD("\xF0\x28\x8C\xBC");
    UTF8_BAD("\xF0\x9F\x98\x28");
    UTF8_BAD("abc\xC3");
}

static bool name_ok(const char *s) {
    size_t len = strlen(s);
    uint8_t *b = ipmt_dup(s, len);
    bool ok = ipm_topic_name_valid(b, len);
    free(b);
    return ok;
}

static bool filter_ok(const char *s) {
    size_t len = strlen(s);
    uint8_t *b = ipmt_dup(s, len);
    bool ok = ipm_topic_filter_valid(b, len);
    free(b);
    return ok;
}

static void test_topic_names(void **state) {
    static const char *const good[] = {
        "a", "/", "//", "a/b", "/finance", "finance/", "sport/tennis/player1", "a//b",
        "$SYS/broker/clients", "$", "with space", "h\xc3\xa9", "\xe2\x82\xac/\xf0\x9f\x98\x80",
        "ACCOUNTS", "a\xef\xbf\xbf",
    };
    static const char *const bad[] = {
        "", "+", "#", "a/+", "a/#", "a+", "a#b", "sport/tennis/#", "+/a", "a/\xc0\x80",
        "\xed\xa0\x80", "\xc3",
    };
    for (size_t i = 0; i < IPMT_ARRAY_LEN(good); i++) {
        print_message("name '%s'\n", good[i]);
        assert_true(name_ok(good[i]));
    }
    for (size_t i = 0; i < IPMT_ARRAY_LEN(bad); i++) {
        print_message("bad name '%s'\n", bad[i]);
        assert_false(name_ok(bad[i]));
    }
    static const char nul[] = {'a', '/', 0x00};
    assert_false(ipm_topic_name_valid((const uint8_t *)nul, sizeof nul));
}

/* 3.1.1 section 4.7.1: '#' alone or after a separator as the last level; '+' a level. */
static void test_topic_filters(void **state) {
    static const char *const good[] = {
        "#", "+", "/", "//", "sport/tennis/player1/#", "sport/#", "sport/tennis/#",
        "+/tennis/#", "sport/+/player1", "+/+", "/+", "+/", "/#", "a//b", "a/+/+/#",
        "$SYS/#", "$SYS/monitor/+", "a/b", "\xc3\xa9/+", "+/+/+/+/+",
    };
    static const char *const bad[] = {
        "", "sport/tennis#", "sport/tennis/#/ranking", "sport+", "#/", "#/a", "a/#/", "##",
        "+#", "#+", "++", "a/+b", "a/b+/c", "+a", "a/b#", "a/\xc0\x80", "\xed\xbf\xbf/#",
    };
    for (size_t i = 0; i < IPMT_ARRAY_LEN(good); i++) {
        print_message("filter '%s'\n", good[i]);
        assert_true(filter_ok(good[i]));
    }
    for (size_t i = 0; i < IPMT_ARRAY_LEN(bad); i++) {
        print_message("bad filter '%s'\n", bad[i]);
        assert_false(filter_ok(bad[i]));
    }
}

static bool matches(const char *filter, const char *topic) {
    size_t fl = strlen(filter), tl = strlen(topic);
    uint8_t *f = ipmt_dup(filter, fl);
    uint8_t *t = ipmt_dup(topic, tl);
    bool m = ipm_topic_matches(f, fl, t, tl);
    free(f);
    free(t);
    return m;
}
#define MATCH(f, t)                                                                         \
    do {                                                                                    \
        print_message("'%s' matches '%s'\n", (f), (t));                                     \
        assert_true(matches((f), (t)));                                                     \
    } while (0)
#define NO_MATCH(f, t)                                                                      \
    do {                                                                                    \
        print_message("'%s' does not match '%s'\n", (f), (t));                              \
        assert_false(matches((f), (t)));                                                    \
    } while (0)

/* The examples of 3.1.1 section 4.7.1.2 and 4.7.1.3, 5.0 section 4.7.1. */
static void test_matching_spec_examples(void **state) {
    MATCH("sport/tennis/player1/#", "sport/tennis/player1");
    MATCH("sport/tennis/player1/#", "sport/tennis/player1/ranking");
    MATCH("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon");
    MATCH("sport/#", "sport"); /* '#' also matches the parent level */
    MATCH("sport/tennis/+", "sport/tennis/player1");
    MATCH("sport/tennis/+", "sport/tennis/player2");
    NO_MATCH("sport/tennis/+", "sport/tennis/player1/ranking");
    NO_MATCH("sport/+", "sport");
    MATCH("sport/+", "sport/");
    MATCH("+/+", "/finance");
    MATCH("/+", "/finance");
    NO_MATCH("+", "/finance");
    MATCH("+/tennis/#", "sport/tennis/player1");
    MATCH("sport/+/player1", "sport/tennis/player1");
    /* Topic names are case sensitive (4.7.3). */
    NO_MATCH("ACCOUNTS", "Accounts");
    MATCH("Accounts payable", "Accounts payable");
    NO_MATCH("/finance", "finance");
}

/* MQTT-4.7.2-1: filters starting with a wildcard do not match '$' topics. */
static void test_matching_dollar(void **state) {
    NO_MATCH("#", "$SYS");
    NO_MATCH("#", "$SYS/monitor/Clients");
    NO_MATCH("+/monitor/Clients", "$SYS/monitor/Clients");
    NO_MATCH("+", "$SYS");
    NO_MATCH("+/#", "$SYS/a");
    MATCH("$SYS/#", "$SYS/monitor/Clients");
    MATCH("$SYS/#", "$SYS");
    MATCH("$SYS/monitor/+", "$SYS/monitor/Clients");
    MATCH("$SYS", "$SYS");
    MATCH("$", "$");
    NO_MATCH("#", "$");
    /* '$' is special only as the first character of the topic. */
    MATCH("#", "a/$SYS");
    MATCH("+/$SYS", "a/$SYS");
}

static void test_matching_more(void **state) {
    MATCH("#", "a");
    MATCH("#", "/");
    MATCH("#", "a/b/c");
    MATCH("+/#", "a");
    MATCH("+/#", "a/b/c");
    MATCH("+/#", "/");
    MATCH("a/#", "a/");
    MATCH("a/#", "a//");
    MATCH("a/+/c", "a//c");
    MATCH("+", "a");
    NO_MATCH("+", "a/b");
    MATCH("+/", "a/");
    NO_MATCH("+/", "a");
    MATCH("//", "//");
    NO_MATCH("//", "/");
    MATCH("+/+/+", "//");
    NO_MATCH("a/b", "a/b/");
    NO_MATCH("a/b/", "a/b");
    NO_MATCH("sport", "sports");
    NO_MATCH("sports", "sport");
    NO_MATCH("sport/tennis/#", "sport/tennisX");
    NO_MATCH("sport/tennis/#", "sport/tenni");
    NO_MATCH("a/b/c", "a/b");
    NO_MATCH("a/+/c", "a/b");
    NO_MATCH("a/+/c/#", "a/b");
    MATCH("a/+/c/#", "a/b/c");
    MATCH("\xc3\xa9/+", "\xc3\xa9/x");
    NO_MATCH("\xc3\xa9/+", "\xc3\xa8/x");
}

static int shared(const char *s, ipm_bytes_t *group, ipm_bytes_t *filter) {
    size_t len = strlen(s);
    uint8_t *b = ipmt_dup(s, len);
    int rc = ipm_shared_split(b, len, group, filter);
    /* Copy out before freeing: the results point into the input. */
    static char g[128], f[128];
    if (rc == 1) {
        assert_true(group->len < sizeof g && filter->len < sizeof f);
        memcpy(g, group->data, group->len);
        memcpy(f, filter->data, filter->len);
        assert_ptr_equal(group->data, b + 7);
        group->data = (const uint8_t *)g;
        filter->data = (const uint8_t *)f;
    }
    free(b);
    return rc;
}

static void expect_share(const char *s, const char *group, const char *filter) {
    ipm_bytes_t g, f;
    print_message("shared '%s'\n", s);
    assert_int_equal(shared(s, &g, &f), 1);
    assert_int_equal(g.len, strlen(group));
    assert_memory_equal(g.data, group, g.len);
    assert_int_equal(f.len, strlen(filter));
    assert_memory_equal(f.data, filter, f.len);
}

/* 5.0 section 4.8.2: $share/{ShareName}/{filter}. */
static void test_shared_split(void **state) {
    expect_share("$share/g/a/b", "g", "a/b");
    expect_share("$share/consumer1/sport/tennis/+", "consumer1", "sport/tennis/+");
    expect_share("$share/g/#", "g", "#");
    expect_share("$share/g/+", "g", "+");
    expect_share("$share/g//", "g", "/");
    expect_share("$share/group1/$SYS/#", "group1", "$SYS/#");

    ipm_bytes_t g, f;
    static const char *const ordinary[] = {"a/b", "#", "$share", "$sharex/g/a", "$SHARE/g/a", "share/g/a", "$SYS/#"};
    for (size_t i = 0; i < IPMT_ARRAY_LEN(ordinary); i++) {
        print_message("ordinary '%s'\n", ordinary[i]);
        assert_int_equal(shared(ordinary[i], &g, &f), 0);
    }
    static const char *const bad[] = {
        "$share/", "$share//a", "$share/g", "$share/g/", "$share/g+/a", "$share/+/a",
        "$share/#/a", "$share/g#/a", "$share/g/a#", "$share/g/#/a",
    };
    for (size_t i = 0; i < IPMT_ARRAY_LEN(bad); i++) {
        print_message("bad shared '%s'\n", bad[i]);
        ipmt_assert_err(shared(bad[i], &g, &f), IPM_EBAD_FILTER);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_topic_filters),
        cmocka_unit_test(test_matching_spec_examples),
        cmocka_unit_test(test_matching_dollar),
        cmocka_unit_test(test_matching_more),
        cmocka_unit_test(test_shared_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
