/*
 * acl.c - mosquitto-format access control lists (see acl.h).
 */
#include "acl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotplot/codec.h"
#include "readfile.h"

#define MAX_FILE (16u << 20) /* an ACL file larger than this is a mistake */

typedef struct {
    char *filter;
    int access; /* IPB_ACL_* bits granted; 0 = deny */
    bool pattern;
} rule_t;

typedef struct {
    char *user; /* NULL: the anonymous list */
    rule_t *rules;
    size_t count, cap;
} rule_list_t;

struct ipb_acl {
    rule_list_t *lists; /* [0] anonymous, then one per `user` line */
    size_t nlists, lists_cap;
    rule_list_t patterns;
};

static void free_list(rule_list_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->rules[i].filter);
    free(l->rules);
    free(l->user);
}

void ipb_acl_free(ipb_acl_t *acl)
{
    if (!acl)
        return;
    for (size_t i = 0; i < acl->nlists; i++)
        free_list(&acl->lists[i]);
    free(acl->lists);
    free_list(&acl->patterns);
    free(acl);
}

static int push_rule(rule_list_t *l, rule_t r)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        rule_t *grown = realloc(l->rules, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->rules = grown;
        l->cap = cap;
    }
    l->rules[l->count++] = r;
    return 0;
}

/* The list of `user` (NULL: anonymous), created on first use; later lines add to it. */
static rule_list_t *add_list(ipb_acl_t *acl, const char *user)
{
    for (size_t i = 0; i < acl->nlists; i++) {
        const char *u = acl->lists[i].user;
        if (user ? u && !strcmp(u, user) : !u)
            return &acl->lists[i];
    }
    if (acl->nlists == acl->lists_cap) {
        size_t cap = acl->lists_cap ? acl->lists_cap * 2 : 8;
        rule_list_t *grown = realloc(acl->lists, cap * sizeof *grown);
        if (!grown)
            return NULL;
        acl->lists = grown;
        acl->lists_cap = cap;
    }
    rule_list_t *l = &acl->lists[acl->nlists];
    memset(l, 0, sizeof *l);
    if (user && !(l->user = strdup(user)))
        return NULL;
    acl->nlists++;
    return l;
}

static char *skip_space(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* "[access] filter" of a topic or pattern line; returns NULL or the reason. */
static const char *parse_rule(char *args, bool pattern, rule_t *r)
{
    static const struct {
        const char *word;
        int access;
    } words[] = {{"read", IPB_ACL_READ | IPB_ACL_SUBSCRIBE},
                 {"write", IPB_ACL_WRITE},
                 {"readwrite", IPB_ACL_READ | IPB_ACL_WRITE | IPB_ACL_SUBSCRIBE},
                 {"deny", 0}};
    r->access = IPB_ACL_READ | IPB_ACL_WRITE | IPB_ACL_SUBSCRIBE;
    r->pattern = pattern;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        if (!strcmp(args, words[i].word))
            return "missing topic filter"; /* an access word alone is a mistake, not a topic */
        if (!strncmp(args, words[i].word, n) && (args[n] == ' ' || args[n] == '\t')) {
            r->access = words[i].access;
            args = skip_space(args + n);
            break;
        }
    }
    if (!*args)
        return "missing topic filter";
    if (!ipm_topic_filter_valid((const uint8_t *)args, strlen(args)))
        return "invalid topic filter";
    r->filter = strdup(args);
    return r->filter ? NULL : "out of memory";
}

/* One line (trailing white space removed); returns NULL or the reason. */
static const char *parse_line(ipb_acl_t *acl, char *line, size_t *current)
{
    rule_t r = {0};
    const char *why;
    line = skip_space(line);
    if (!*line || *line == '#')
        return NULL;
    char *args = line + strcspn(line, " \t");
    if (*args)
        *args++ = '\0';
    args = skip_space(args);
    if (!strcmp(line, "user")) {
        if (!*args)
            return "missing user name";
        rule_list_t *l = add_list(acl, args);
        if (!l)
            return "out of memory";
        *current = (size_t)(l - acl->lists); /* an index: the array may move */
        return NULL;
    }
    bool pattern = !strcmp(line, "pattern");
    if (!pattern && strcmp(line, "topic"))
        return "unknown keyword (expected user, topic or pattern)";
    if ((why = parse_rule(args, pattern, &r)))
        return why;
    if (push_rule(pattern ? &acl->patterns : &acl->lists[*current], r)) {
        free(r.filter);
        return "out of memory";
    }
    return NULL;
}

typedef struct {
    ipb_acl_t *acl;
    size_t current; /* index of the list `topic` lines add to: the array may move */
} parse_state_t;

static const char *parse_line_cb(void *ctx, char *line, size_t lineno)
{
    parse_state_t *st = ctx;
    (void)lineno;
    return parse_line(st->acl, line, &st->current);
}

ipb_acl_t *ipb_acl_parse(const char *text, size_t len, const char *name, char *err,
                         size_t errlen)
{
    parse_state_t st = {calloc(1, sizeof(ipb_acl_t)), 0};
    char *copy = malloc(len + 1);
    if (!st.acl || !copy || !add_list(st.acl, NULL)) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (ipb__each_line(copy, len, name, parse_line_cb, &st, err, errlen))
        goto fail;
    free(copy);
    return st.acl;
fail:
    free(copy);
    ipb_acl_free(st.acl);
    return NULL;
}

ipb_acl_t *ipb_acl_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = ipb__read_file(path, MAX_FILE, &len, err, errlen);
    ipb_acl_t *acl = text ? ipb_acl_parse(text, len, path, err, errlen) : NULL;
    free(text);
    return acl;
}

/* Replace %u and %c; false when a value is missing or could widen the filter. */
static bool substitute(const char *filter, const char *user, const char *client_id, char *out,
                       size_t cap)
{
    size_t n = 0;
    for (const char *p = filter; *p; p++) {
        const char *value = NULL;
        if (p[0] == '%' && (p[1] == 'u' || p[1] == 'c')) {
            value = p[1] == 'u' ? user : client_id;
            if (!value || !*value || strpbrk(value, "/+#"))
                return false;
            p++;
        }
        size_t add = value ? strlen(value) : 1;
        if (n + add >= cap)
            return false;
        memcpy(out + n, value ? value : p, add);
        n += add;
    }
    out[n] = '\0';
    return true;
}

/* Is every topic that `sub` can match also matched by `rule`? Both are valid filters. */
static bool filter_within(const char *rule, const char *sub, size_t sublen)
{
    const char *r = rule, *s = sub, *send = sub + sublen;
    /* A rule starting with a wildcard does not cover '$' topics (MQTT-4.7.2-1). */
    if ((*r == '+' || *r == '#') && s < send && *s == '$')
        return false;
    for (;;) {
        if (*r == '#')
            return true;
        size_t rl = strcspn(r, "/"), sl = 0;
        while (s + sl < send && s[sl] != '/')
            sl++;
        bool s_hash = sl == 1 && *s == '#', s_plus = sl == 1 && *s == '+';
        if (s_hash)
            return false; /* only a '#' rule covers a '#' subscription */
        if (!(rl == 1 && *r == '+') && (s_plus || rl != sl || memcmp(r, s, rl)))
            return false;
        bool r_more = r[rl] == '/', s_more = s + sl < send;
        if (!r_more && !s_more)
            return true;
        if (!s_more) /* "a/#" covers "a" */
            return r[rl + 1] == '#' && r[rl + 2] == '\0';
        if (!r_more)
            return false;
        r += rl + 1;
        s += sl + 1;
    }
}

/*
 * Can some topic match both filters? Level by level, '+' meets any level and '#' meets the
 * rest, and "a/#" meets "a"; a wildcard first level never meets a '$' topic (MQTT-4.7.2-1).
 */
static bool filters_meet(const char *r, const char *s, size_t sublen)
{
    const char *send = s + sublen;
    bool r_wild = *r == '+' || *r == '#', s_wild = s < send && (*s == '+' || *s == '#');
    if ((r_wild && s < send && *s == '$') || (s_wild && *r == '$'))
        return false;
    for (;;) {
        size_t rl = strcspn(r, "/"), sl = 0;
        while (s + sl < send && s[sl] != '/')
            sl++;
        if ((rl == 1 && *r == '#') || (sl == 1 && *s == '#'))
            return true;
        bool r_plus = rl == 1 && *r == '+', s_plus = sl == 1 && *s == '+';
        if (!r_plus && !s_plus && (rl != sl || memcmp(r, s, rl)))
            return false;
        bool r_more = r[rl] == '/', s_more = s + sl < send;
        if (!r_more && !s_more)
            return true;
        if (!s_more) /* "a/#" meets "a" */
            return r[rl + 1] == '#' && r[rl + 2] == '\0';
        if (!r_more) /* and "a" meets "a/#" */
            return s + sl + 2 == send && s[sl + 1] == '#';
        r += rl + 1;
        s += sl + 1;
    }
}

static bool rule_matches(const rule_t *rule, const char *user, const char *client_id,
                         const char *topic, size_t len, int access)
{
    char buf[1024];
    const char *filter = rule->filter;
    if (rule->pattern) {
        if (!substitute(rule->filter, user, client_id, buf, sizeof buf))
            return rule->access == 0; /* an unusable deny pattern still denies */
        filter = buf;
    }
    if (access == IPB_ACL_SUBSCRIBE) /* a deny must cover it all, a grant meet some of it */
        return rule->access ? filters_meet(filter, topic, len) : filter_within(filter, topic, len);
    return ipm_topic_matches((const uint8_t *)filter, strlen(filter), (const uint8_t *)topic, len);
}

/* Checks one list: -1 denied, 1 allowed, 0 no opinion. */
static int check_list(const rule_list_t *l, const char *user, const char *client_id,
                      const char *topic, size_t len, int access)
{
    int verdict = 0;
    for (size_t i = 0; i < l->count; i++) {
        const rule_t *r = &l->rules[i];
        if (!rule_matches(r, user, client_id, topic, len, access))
            continue;
        if (r->access == 0)
            return -1;
        if (r->access & access)
            verdict = 1;
    }
    return verdict;
}

bool ipb_acl_check(const ipb_acl_t *acl, const char *username, const char *client_id,
                   const char *topic, size_t len, int access)
{
    const rule_list_t *own = NULL;
    for (size_t i = 0; i < acl->nlists && !own; i++) {
        const char *u = acl->lists[i].user;
        if (username ? u && !strcmp(u, username) : !u)
            own = &acl->lists[i];
    }
    int a = own ? check_list(own, username, client_id, topic, len, access) : 0;
    int b = check_list(&acl->patterns, username, client_id, topic, len, access);
    return a >= 0 && b >= 0 && (a > 0 || b > 0);
}
