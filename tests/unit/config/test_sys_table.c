/*
 * test_sys_table.c - the $SYS topic table: every row can be computed, topics are unique,
 * and the load rows match the state a broker keeps for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "broker/sys.h"

static void rows_are_well_formed(void **state)
{
    (void)state;
    size_t loads = 0;
    for (size_t i = 0; i < ipb__sys_topics_len; i++) {
        const ipb__sys_topic_t *t = &ipb__sys_topics[i];
        if (!t->topic || !t->doc || !t->doc[0])
            fail_msg("row %zu lacks a topic or doc", i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->topic, ipb__sys_topics[j].topic))
                fail_msg("%s: twice", t->topic);
        switch (t->kind) {
        case IPB__SYS_TEXT:
            assert_non_null(t->text);
            break;
        case IPB__SYS_FN:
            assert_non_null(t->fn);
            break;
        case IPB__SYS_LOAD:
            loads++;
            /* fall through */
        case IPB__SYS_FIELD:
            assert_true(t->field + sizeof(uint64_t) <= sizeof(ipb_stats_t));
            assert_int_equal(t->field % sizeof(uint64_t), 0);
            break;
        }
    }
    assert_int_equal(loads, IPB__SYS_NLOADS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_are_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
