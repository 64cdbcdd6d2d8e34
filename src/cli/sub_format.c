/*
 * sub_format.c - mosquitto_sub's output, byte for byte: the plain and -v lines and the -F
 * format. Its quirks are kept on purpose (scripts parse this output): a field width cuts
 * %p and %x to that many bytes, and %x then prints only half of those (width 20 and a
 * 7-byte payload print 3 bytes); "%-p" without a width pads with as many spaces as the
 * payload is long; %D, %P, %q and %r ignore widths.
 * %j / %J and --pretty go through cJSON, the library mosquitto_sub 2.0 prints JSON with,
 * so numbers, escapes and indentation come out the same.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sub_format.h"

/* One field's flags: "%-08.3t" is align '-', pad '0', width 8, precision 3. */
typedef struct {
    char align, pad;
    int width, precision;
} field_t;

/* The moment a message is printed, read once per message (local time, as strftime). */
typedef struct {
    bool have;
    struct tm tm;
    long ns;
} now_t;

static const struct tm *now(now_t *t)
{
    if (!t->have) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        time_t s = ts.tv_sec;
        localtime_r(&s, &t->tm);
        t->ns = ts.tv_nsec;
        t->have = true;
    }
    return &t->tm;
}

/* A property's bytes as the C string mosquitto hands out: cut at the first NUL. */
static char *cstr(ipm_bytes_t b)
{
    char *s = malloc(b.len + 1);
    if (s) {
        memcpy(s, b.data, b.len);
        s[b.len] = 0;
    }
    return s;
}

static void print_payload(const uint8_t *p, size_t n, int hex, field_t f)
{
    long len = (long)n, pad;
    if (f.width > 0) {
        if (len > f.width)
            len = f.width;
        if (hex)
            len /= 2;
        pad = f.width - (hex ? len * 2 : len);
    } else {
        pad = f.width - len;
    }
    if (f.align != '-')
        for (long i = 0; i < pad; i++)
            putchar(f.pad);
    if (!hex)
        fwrite(p, 1, (size_t)len, stdout);
    for (long i = 0; hex && i < len; i++)
        printf(hex == 1 ? "%02x" : "%02X", p[i]);
    if (f.align == '-')
        printf("%*s", (int)pad, ""); /* a negative pad left-aligns: spaces all the same */
}

static void print_blank(char pad, int width)
{
    for (int i = 0; i < width; i++)
        putchar(pad);
}

static void print_int(long v, field_t f)
{
    if (f.width == 0)
        printf("%ld", v);
    else if (f.align == '-')
        printf("%-*ld", f.width, v);
    else if (f.pad == '0')
        printf("%0*ld", f.width, v);
    else
        printf("%*ld", f.width, v);
}

static void print_str(const char *s, field_t f)
{
    if (f.precision < 0 && f.width == 0)
        fputs(s, stdout);
    else if (f.precision < 0)
        printf(f.align == '-' ? "%-*s" : "%*s", f.width, s);
    else
        printf(f.align == '-' ? "%-*.*s" : "%*.*s", f.width, f.precision, s);
}

static void print_bytes_str(ipm_bytes_t b, field_t f)
{
    char *s = cstr(b);
    if (s)
        print_str(s, f);
    free(s);
}

/*
 * mosquitto_sub never asks for topic aliases (it sends no Topic Alias Maximum), so no
 * server sends it one and its %A and JSON never show one. Our library asks, and resolves
 * the alias itself; showing it would only make the output differ.
 */
static bool shown(uint8_t id)
{
    return id != IPM_PROP_TOPIC_ALIAS;
}

/* ---- %j and %J ------------------------------------------------------------------- */

static const char *json_prop_name(uint8_t id)
{
    switch (id) {
    case IPM_PROP_PAYLOAD_FORMAT_INDICATOR: return "payload-format-indicator";
    case IPM_PROP_MESSAGE_EXPIRY_INTERVAL: return "message-expiry-interval";
    case IPM_PROP_CONTENT_TYPE: return "content-type";
    case IPM_PROP_RESPONSE_TOPIC: return "response-topic";
    case IPM_PROP_CORRELATION_DATA: return "correlation-data";
    case IPM_PROP_SUBSCRIPTION_IDENTIFIER: return "subscription-identifier";
    case IPM_PROP_TOPIC_ALIAS: return "topic-alias";
    default: return NULL;
    }
}

/* The message's 5.0 properties as mosquitto_sub lists them, in the order they came. */
static bool json_props(cJSON *root, const ipm_props_t *props)
{
    ipm_prop_iter_t it;
    ipm_prop_t p;
    bool any = false;
    ipm_props_iter(props, &it);
    while (!any && ipm_props_next(&it, &p))
        any = shown(p.id);
    if (!any)
        return true; /* none: no "properties" member at all */
    cJSON *obj = cJSON_AddObjectToObject(root, "properties"), *user = NULL;
    if (!obj)
        return false;
    ipm_props_iter(props, &it);
    while (ipm_props_next(&it, &p)) {
        cJSON *v = NULL;
        char *s = NULL;
        if (p.id == IPM_PROP_USER_PROPERTY) {
            if (!user && !(user = cJSON_AddObjectToObject(obj, "user-properties")))
                return false;
            char *k = cstr(p.bin);
            s = cstr(p.val);
            bool ok = k && s && cJSON_AddStringToObject(user, k, s);
            free(k);
            free(s);
            if (!ok)
                return false;
            continue;
        }
        const char *name = json_prop_name(p.id);
        if (!name || !shown(p.id))
            continue;
        if (ipm_prop_type(p.id) == IPM_PT_UTF8 || ipm_prop_type(p.id) == IPM_PT_BINARY) {
            if (!(s = cstr(p.bin)))
                return false;
            v = cJSON_CreateString(s);
            free(s);
        } else {
            v = cJSON_CreateNumber(p.num);
        }
        if (!v)
            return false;
        cJSON_AddItemToObject(obj, name, v);
    }
    return true;
}

/* 1 printed, 0 out of memory, -1 the payload is not JSON (%J). */
static int print_json(const ipm_msg_t *m, const struct tm *tm, long ns, bool escaped,
                      bool pretty)
{
    char tst[64], *topic = cstr(m->topic), *payload = NULL, *text = NULL;
    int rc = 0;
    cJSON *root = cJSON_CreateObject(), *body = NULL;
    /* ISO 8601 with microseconds, and mosquitto's "Z" before the UTC offset. */
    size_t n = strftime(tst, sizeof tst, "%Y-%m-%dT%H:%M:%S", tm);
    char zone[16] = "";
    strftime(zone, sizeof zone, "%z", tm);
    snprintf(tst + n, sizeof tst - n, ".%06ldZ%s", ns / 1000, zone);
    if (!root || !topic || !cJSON_AddStringToObject(root, "tst", tst) ||
        !cJSON_AddStringToObject(root, "topic", topic) ||
        !cJSON_AddNumberToObject(root, "qos", m->qos) ||
        !cJSON_AddNumberToObject(root, "retain", m->retain) ||
        !cJSON_AddNumberToObject(root, "payloadlen", (double)m->payload.len) ||
        (m->qos > 0 && !cJSON_AddNumberToObject(root, "mid", m->packet_id)) ||
        !json_props(root, &m->props))
        goto out;
    if (m->payload.len == 0) {
        body = cJSON_CreateNull();
    } else if (!(payload = cstr(m->payload))) {
        goto out;
    } else if (escaped) {
        body = cJSON_CreateString(payload); /* a C string: it ends at a NUL byte */
    } else {
        const char *end = NULL;
        body = cJSON_ParseWithOpts(payload, &end, true);
        if (!body || end != payload + m->payload.len) {
            rc = -1;
            goto out;
        }
    }
    if (!body)
        goto out;
    cJSON_AddItemToObject(root, "payload", body);
    body = NULL;
    text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    if (text) {
        fputs(text, stdout);
        rc = 1;
    }
out:
    cJSON_free(text);
    cJSON_Delete(body);
    cJSON_Delete(root);
    free(payload);
    free(topic);
    return rc;
}

/* ---- -F -------------------------------------------------------------------------- */

static bool prop(const ipm_msg_t *m, uint8_t id, ipm_prop_t *p)
{
    return shown(id) && ipm_props_get(&m->props, id, p) != 0;
}

static void print_user_props(const ipm_msg_t *m)
{
    ipm_prop_iter_t it;
    ipm_prop_t p;
    bool first = true;
    ipm_props_iter(&m->props, &it);
    while (ipm_props_next(&it, &p)) {
        if (p.id != IPM_PROP_USER_PROPERTY)
            continue;
        printf("%s%.*s:%.*s", first ? "" : " ", (int)strnlen((const char *)p.bin.data, p.bin.len),
               (const char *)p.bin.data, (int)strnlen((const char *)p.val.data, p.val.len),
               (const char *)p.val.data);
        first = false;
    }
}

static void print_percent(const cli_sub_format_t *f, const ipm_msg_t *m, char c, field_t fl,
                          now_t *t)
{
    ipm_prop_t p;
    char buf[100];
    switch (c) {
    case '%':
        putchar('%');
        break;
    case 'A': case 'E': case 'F': case 'S': {
        static const char ids[] = "A\x23" "E\x02" "F\x01" "S\x0b";
        uint8_t id = (uint8_t)strchr(ids, c)[1];
        if (prop(m, id, &p))
            print_int(c == 'E' ? (long)(int32_t)p.num : (long)p.num, fl);
        else
            print_blank(fl.pad, fl.width);
        break;
    }
    case 'C':
        if (prop(m, IPM_PROP_CONTENT_TYPE, &p))
            print_bytes_str(p.bin, fl);
        else
            print_blank(' ', fl.width);
        break;
    case 'D':
        if (prop(m, IPM_PROP_CORRELATION_DATA, &p))
            fwrite(p.bin.data, 1, p.bin.len, stdout);
        break;
    case 'R':
        if (prop(m, IPM_PROP_RESPONSE_TOPIC, &p))
            print_bytes_str(p.bin, fl);
        break;
    case 'I':
        if (strftime(buf, sizeof buf, "%FT%T%z", now(t)))
            print_str(buf, fl);
        else
            print_blank(' ', fl.width);
        break;
    case 'U':
        if (strftime(buf, sizeof buf, "%s", now(t)))
            printf("%s.%09ld", buf, t->ns);
        break;
    case 'j':
    case 'J': {
        const struct tm *tm = now(t); /* before reading t->ns: it sets it */
        int rc = print_json(m, tm, t->ns, c == 'j', f->pretty);
        if (rc < 0 && !f->quiet)
            fprintf(stderr, "Error: Message payload is not valid JSON on topic %.*s.\n",
                    (int)m->topic.len, (const char *)m->topic.data);
        else if (rc == 0 && !f->quiet)
            fputs("Error: Out of memory.\n", stderr);
        break;
    }
    case 'l':
        print_int((long)m->payload.len, fl);
        break;
    case 'm':
        print_int(m->packet_id, fl);
        break;
    case 'P':
        print_user_props(m);
        break;
    case 'p':
    case 'x':
    case 'X':
        print_payload(m->payload.data, m->payload.len, c == 'p' ? 0 : c == 'x' ? 1 : 2, fl);
        break;
    case 'q':
        putchar('0' + m->qos);
        break;
    case 'r':
        putchar(m->retain ? '1' : '0');
        break;
    case 't':
        print_bytes_str(m->topic, fl);
        break;
    default:
        break; /* unknown specifiers print nothing */
    }
}

/* The user picks the strftime letter (-F "@Y"): the format cannot be a literal. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static size_t strftime_any(char *buf, size_t cap, const char *spec, const struct tm *tm)
{
    return strftime(buf, cap, spec, tm);
}
#pragma GCC diagnostic pop

/* "@X": strftime's %X of the message's time; "@N" nanoseconds; "@@" an "@". */
static void print_at(char c, now_t *t)
{
    char spec[3] = {'%', c, 0}, buf[100];
    if (c == '@')
        putchar('@');
    else if (c == 'N' && now(t))
        printf("%09ld", t->ns);
    else if (strftime_any(buf, sizeof buf, spec, now(t)))
        fputs(buf, stdout);
}

static void print_escape(char c)
{
    static const char from[] = "\\0aenrtv", to[] = "\\\0\a\033\n\r\t\v";
    const char *k = c ? strchr(from, c) : NULL;
    if (k)
        putchar(to[k - from]); /* unknown escapes print nothing */
}

/*
 * Walk the format as mosquitto_sub does: a lone '%' at the very end prints itself, and a
 * width that runs into the end of the format leaves its last digit as the specifier.
 */
static void print_format(const cli_sub_format_t *f, const ipm_msg_t *m)
{
    const char *s = f->format;
    size_t len = strlen(s);
    now_t t = {0};
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            field_t fl = {0, ' ', 0, -1};
            if (i < len - 1) {
                i++;
                if (s[i] == '-') {
                    fl.align = '-';
                    if (i < len - 1)
                        i++;
                }
                if (s[i] == '0') {
                    fl.pad = '0';
                    if (i < len - 1)
                        i++;
                }
                for (; i < len - 1 && s[i] >= '0' && s[i] <= '9'; i++)
                    fl.width = fl.width * 10 + (s[i] - '0');
                if (s[i] == '.' && i < len - 1) {
                    fl.precision = 0;
                    for (i++; i < len - 1 && s[i] >= '0' && s[i] <= '9'; i++)
                        fl.precision = fl.precision * 10 + (s[i] - '0');
                }
            }
            print_percent(f, m, s[i], fl, &t);
        } else if (s[i] == '@') {
            if (i < len - 1)
                print_at(s[++i], &t);
        } else if (s[i] == '\\') {
            if (i < len - 1)
                print_escape(s[++i]);
        } else {
            putchar(s[i]);
        }
    }
    if (f->eol)
        putchar('\n');
}

void cli_sub_print(const cli_sub_format_t *f, const ipm_msg_t *m)
{
    if (f->format) {
        print_format(f, m);
    } else if (m->payload.len) {
        if (f->verbose)
            printf("%.*s ", (int)m->topic.len, (const char *)m->topic.data);
        fwrite(m->payload.data, 1, m->payload.len, stdout);
        if (f->eol)
            putchar('\n');
    } else if (f->verbose && f->eol) {
        printf("%.*s (null)\n", (int)m->topic.len, (const char *)m->topic.data);
    }
    fflush(stdout);
}

int cli_sub_format_check(const char *s, char *why, size_t cap)
{
    static const char specs[] = "%ACDEFIlmPpqRSrtjJUxX", escapes[] = "\\0aenrtv";
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            /* One flag, a width, a precision, then the specifier: all before the end. */
            bool short_ = i == len - 1;
            if (!short_ && (s[i + 1] == '0' || s[i + 1] == '-'))
                short_ = ++i == len - 1;
            while (!short_ && s[i + 1] >= '0' && s[i + 1] <= '9')
                short_ = ++i == len - 1;
            if (!short_ && s[i + 1] == '.') {
                short_ = ++i == len - 1;
                while (!short_ && s[i + 1] >= '0' && s[i + 1] <= '9')
                    short_ = ++i == len - 1;
            }
            if (short_) {
                snprintf(why, cap, "Incomplete format specifier.");
                return -1;
            }
            if (!strchr(specs, s[i + 1])) {
                snprintf(why, cap, "Invalid format specifier '%c'.", s[i + 1]);
                return -1;
            }
            i++;
        } else if (s[i] == '@' || s[i] == '\\') {
            if (i == len - 1) {
                snprintf(why, cap, "Incomplete %s specifier.", s[i] == '@' ? "format" : "escape");
                return -1;
            }
            if (s[i] == '\\' && !strchr(escapes, s[i + 1])) {
                snprintf(why, cap, "Invalid escape specifier '%c'.", s[i + 1]);
                return -1;
            }
            i++;
        }
    }
    return 0;
}
