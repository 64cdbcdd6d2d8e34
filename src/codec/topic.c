/*
 * topic.c - topic names, topic filters, matching and shared subscriptions
 * (MQTT 3.1.1 section 4.7, MQTT 5.0 sections 4.7 and 4.8.2).
 */
#include <string.h>

#include "iotplot/codec.h"

bool ipm_topic_name_valid(const uint8_t *s, size_t len)
{
    if (len == 0 || len > IPM_MAX_STRING_LEN)
        return false;
    if (memchr(s, '+', len) || memchr(s, '#', len))
        return false;
    return ipm_utf8_valid(s, len);
}

bool ipm_topic_filter_valid(const uint8_t *s, size_t len)
{
    if (len == 0 || len > IPM_MAX_STRING_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        bool level_end = i + 1 == len || s[i + 1] == '/';
        if (s[i] == '+' && !(level_start && level_end))
            return false;
        /* '#' must be a whole level and the last one. */
        if (s[i] == '#' && !(level_start && i + 1 == len))
            return false;
    }
    return ipm_utf8_valid(s, len);
}

bool ipm_topic_matches(const uint8_t *f, size_t flen, const uint8_t *t, size_t tlen)
{
    size_t fi = 0, ti = 0;

    /* MQTT-4.7.2-1: wildcards at the first level never match '$' topics. */
    if (tlen && t[0] == '$' && flen && (f[0] == '+' || f[0] == '#'))
        return false;

    for (;;) {
        /* Here fi and ti are at the start of a level (or at the end). */
        if (fi < flen && f[fi] == '#')
            return true; /* matches this level, all below, and the parent ("a/#" ~ "a") */
        size_t fe = fi, te = ti;
        while (fe < flen && f[fe] != '/')
            fe++;
        while (te < tlen && t[te] != '/')
            te++;
        bool plus = fe - fi == 1 && f[fi] == '+';
        if (!plus && (fe - fi != te - ti || memcmp(f + fi, t + ti, fe - fi) != 0))
            return false;
        bool f_more = fe < flen, t_more = te < tlen;
        if (!f_more && !t_more)
            return true;
        if (!t_more) {
            /* Topic ended: only a trailing "/#" still matches. */
            return fe + 2 == flen && f[fe + 1] == '#';
        }
        if (!f_more)
            return false;
        fi = fe + 1;
        ti = te + 1;
    }
}

int ipm_shared_split(const uint8_t *s, size_t len, ipm_bytes_t *group, ipm_bytes_t *filter)
{
    static const char prefix[] = "$share/";
    const size_t plen = sizeof prefix - 1;

    if (len < plen || memcmp(s, prefix, plen) != 0)
        return 0;
    const uint8_t *g = s + plen;
    const uint8_t *slash = memchr(g, '/', len - plen);
    if (!slash || slash == g)
        return IPM_EBAD_FILTER;
    size_t glen = (size_t)(slash - g);
    if (memchr(g, '+', glen) || memchr(g, '#', glen))
        return IPM_EBAD_FILTER;
    const uint8_t *f = slash + 1;
    size_t flen = len - plen - glen - 1;
    if (!ipm_topic_filter_valid(f, flen))
        return IPM_EBAD_FILTER;
    if (group) {
        group->data = g;
        group->len = (uint32_t)glen;
    }
    if (filter) {
        filter->data = f;
        filter->len = (uint32_t)flen;
    }
    return 1;
}
