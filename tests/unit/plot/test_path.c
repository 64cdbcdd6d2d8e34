/*
 * test_path.c - file names from the network stay inside the output folder.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plotserver/plot_internal.h"

static void test_check(void **state)
{
    (void)state;
    const char *why;
    static const char *good[] = {"a.pdf", "sub/dir/a.png", "..a", "a..b/c", "x y.csv",
                                 "\xc3\xa9.pkl", ".hidden"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(ipp_path_check(good[i], &why), 0);
    static const char *bad[] = {"", "/etc/passwd", "../x", "a/../../x", "a/..", "./a",
                                "a//b", "a/", "a\nb", "a\x1b[2J", "a\x7f",
                                IPP_DB_NAME, IPP_DB_NAME "-wal", IPP_TMP_DIR "/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(ipp_path_check(bad[i], &why), -1);
        assert_non_null(why);
    }
    char longname[1100];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ipp_path_check(longname, &why), -1);
}

static void test_open_parent(void **state)
{
    (void)state;
    char root[] = "/tmp/ipp-path-XXXXXX", outside[] = "/tmp/ipp-out-XXXXXX", p[256];
    const char *why, *leaf;
    assert_non_null(mkdtemp(root));
    assert_non_null(mkdtemp(outside));
    int rfd = open(root, O_RDONLY | O_DIRECTORY);
    assert_true(rfd >= 0);
    /* missing folders are made */
    int fd = ipp__path_open_parent(rfd, "a/b/c.pdf", &leaf, &why);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "c.pdf");
    close(fd);
    snprintf(p, sizeof p, "%s/a/b", root);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    /* a link inside the folder that leads outside is not followed */
    snprintf(p, sizeof p, "%s/escape", root);
    assert_int_equal(symlink(outside, p), 0);
    assert_int_equal(ipp__path_open_parent(rfd, "escape/x.pdf", &leaf, &why), -1);
    assert_int_equal(ipp__path_open_parent(rfd, "escape/new/x.pdf", &leaf, &why), -1);
    snprintf(p, sizeof p, "%s/new", outside);
    assert_int_not_equal(stat(p, &sb), 0);
    /* a file in the way of a folder */
    snprintf(p, sizeof p, "%s/file", root);
    fclose(fopen(p, "w"));
    assert_int_equal(ipp__path_open_parent(rfd, "file/x.pdf", &leaf, &why), -1);
    assert_int_equal(ipp__path_open_parent(rfd, "../x.pdf", &leaf, &why), -1);
    close(rfd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, outside);
    assert_int_equal(system(cmd), 0);
}

static void test_ext(void **state)
{
    (void)state;
    char e[16];
    ipp_path_ext("a/b.PDF", e, sizeof e);
    assert_string_equal(e, "pdf");
    ipp_path_ext("a.b/c", e, sizeof e);
    assert_string_equal(e, "");
    ipp_path_ext(".hidden", e, sizeof e);
    assert_string_equal(e, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_open_parent),
        cmocka_unit_test(test_ext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
