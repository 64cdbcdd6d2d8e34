/*
 * fuzz_acl.c - the ACL file parser and checker on arbitrary text. The first bytes choose
 * a user, client id and access to check a topic with, so the matcher runs on whatever
 * rules the parser accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const topics[] = {"alice/x", "a/b/c", "$SYS/broker/uptime", "#",
                                         "alice/#", "+/x", "bob", "a//b"};
    static const char *const users[] = {"alice", "bob", "a/b", "+", NULL};
    char err[256];
    if (size < 2)
        return 0;
    uint8_t sel = data[0], acc = data[1];
    ipb_acl_t *acl = ipb_acl_parse((const char *)data + 2, size - 2, "fuzz", err, sizeof err);
    if (!acl)
        return 0;
    const char *topic = topics[sel % 8];
    int access = acc % 3 == 0 ? IPB_ACL_READ : acc % 3 == 1 ? IPB_ACL_WRITE : IPB_ACL_SUBSCRIBE;
    if (access != IPB_ACL_SUBSCRIBE && strpbrk(topic, "+#"))
        topic = "alice/x"; /* READ and WRITE take topic names */
    ipb_acl_check(acl, users[(sel >> 3) % 5], "dev1", topic, strlen(topic), access);
    ipb_acl_free(acl);
    return 0;
}
