/*
 * gen_broker_doc.c - build tool: docs/broker.md with its tables of directives, $SYS
 * topics and Prometheus metrics written from the broker's own tables (config_table.c,
 * sys.c, metrics.c).
 *
 *     gen_broker_doc DOC    DOC, with every generated part rewritten, on stdout
 *
 * A generated part is the lines between `<!-- BEGIN KEY: ... -->` and `<!-- END -->`;
 * KEY is `directives SECTION` (the rows of that section), `sys` or `metrics`. The prose around them
 * is kept as it is. Fails when a marker names no section, or a section of the table has
 * no marker, so no row can be left out of the document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_table.h"
#include "metrics.h"
#include "sys.h"

#define MAX_SECTIONS 16

/* A table cell: `|` would end the cell, so it is escaped. */
static void cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            putchar('\\');
        putchar(*s);
    }
}

static void names_of(const ipb__cname_t *n, const char *sep, int64_t only, char *buf,
                     size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (; n->name && at < len; n++) {
        if (only >= 0 && (!n->value || (n->value & (uint64_t)only) != n->value))
            continue;
        at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? sep : "", n->name);
    }
}

static void arg_of(const ipb__cdir_t *d, char *buf, size_t len)
{
    static const char *const by_type[] = {
        [IPB__CT_BOOL] = "true|false", [IPB__CT_INT] = "N",       [IPB__CT_SIZE] = "BYTES",
        [IPB__CT_DURATION] = "DURATION", [IPB__CT_STRING] = "VALUE", [IPB__CT_PATH] = "PATH",
    };
    if (d->arg)
        snprintf(buf, len, "%s", d->arg);
    else if (d->type == IPB__CT_ENUM || d->type == IPB__CT_FLAGS)
        names_of(d->names, "|", -1, buf, len);
    else if ((size_t)d->type < sizeof by_type / sizeof by_type[0] && by_type[d->type])
        snprintf(buf, len, "%s", by_type[d->type]);
    else
        buf[0] = 0;
}

static void default_of(const ipb__cdir_t *d, char *buf, size_t len)
{
    if (d->doc_default) {
        snprintf(buf, len, "%s", d->doc_default);
        return;
    }
    char names[256];
    switch (d->type) {
    case IPB__CT_BOOL:
        snprintf(buf, len, "`%s`", d->dflt ? "true" : "false");
        break;
    case IPB__CT_SIZE:
        if (d->dflt && d->dflt % (1 << 20) == 0) {
            snprintf(buf, len, "%lld MiB", (long long)(d->dflt >> 20));
            break;
        }
        /* fall through */
    case IPB__CT_INT:
        snprintf(buf, len, "`%lld`", (long long)d->dflt);
        break;
    case IPB__CT_ENUM:
        buf[0] = 0;
        for (const ipb__cname_t *n = d->names; n->name; n++)
            if (n->value == d->dflt) {
                snprintf(buf, len, "`%s`", n->name);
                break;
            }
        break;
    case IPB__CT_FLAGS:
        names_of(d->names, " ", d->dflt, names, sizeof names);
        snprintf(buf, len, "`%s`", names);
        break;
    default:
        buf[0] = 0;
    }
}

static int directives(const char *section)
{
    int rows = 0;
    bool refused = false;
    for (size_t i = 0; i < ipb__config_table_len; i++) {
        const ipb__cdir_t *d = &ipb__config_table[i];
        if (strcmp(d->section, section))
            continue;
        if (!rows++) {
            refused = d->type == IPB__CT_REFUSED;
            puts(refused ? "| directive | needs |\n|---|---|"
                         : "| directive | default | meaning |\n|---|---|---|");
        }
        char arg[256], dflt[256];
        printf("| `%s%s", d->name, d->flags & IPB__CF_PREFIX ? "*" : "");
        if (refused) {
            fputs("` | ", stdout);
            cell(d->doc);
            puts(" |");
            continue;
        }
        arg_of(d, arg, sizeof arg);
        if (arg[0]) {
            putchar(' ');
            cell(arg);
        }
        default_of(d, dflt, sizeof dflt);
        fputs("` |", stdout);
        if (dflt[0]) {
            putchar(' ');
            cell(dflt);
        }
        fputs(" | ", stdout);
        cell(d->doc);
        puts(" |");
    }
    return rows;
}

static void sys_topics(void)
{
    puts("| topic | value | meaning |\n|---|---|---|");
    for (size_t i = 0; i < ipb__sys_topics_len; i++) {
        const ipb__sys_topic_t *t = &ipb__sys_topics[i];
        printf("| `$SYS/broker/%s", t->topic);
        if (t->kind == IPB__SYS_LOAD)
            printf("/{%s,%s,%s}", ipb__sys_load_spans[0], ipb__sys_load_spans[1],
                   ipb__sys_load_spans[2]);
        fputs("` | ", stdout);
        if (t->kind == IPB__SYS_TEXT)
            fputs("text", stdout);
        else if (t->kind == IPB__SYS_LOAD)
            fputs("`N.NN`", stdout);
        else
            printf("`N%s%s`", t->unit ? " " : "", t->unit ? t->unit : "");
        fputs(" | ", stdout);
        cell(t->doc);
        puts(" |");
    }
}

static void metrics(void)
{
    puts("| metric | type | `$SYS` topic | meaning |\n|---|---|---|---|");
    for (size_t i = 0; i < ipb__metrics_len; i++) {
        const ipb__metric_t *m = &ipb__metrics[i];
        printf("| `iotplot_broker_%s` | %s | ", m->name, m->type);
        if (m->sys)
            printf("`$SYS/broker/%s` | ", m->sys);
        else
            fputs("none | ", stdout);
        cell(m->help);
        if (m->labels) {
            fputs(" Labels: ", stdout);
            cell(m->labels);
        }
        puts(" |");
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DOC\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    const char *done[MAX_SECTIONS];
    size_t ndone = 0;
    bool sys_done = false, metrics_done = false, inside = false;
    char line[4096];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (inside) {
            if (!strncmp(line, "<!-- END -->", 12)) {
                inside = false;
                fputs(line, stdout);
            }
            continue;
        }
        fputs(line, stdout);
        if (strncmp(line, "<!-- BEGIN ", 11))
            continue;
        char *key = line + 11, *colon = strchr(key, ':');
        if (!colon) {
            fprintf(stderr, "%s:%u: a BEGIN marker needs `KEY:`\n", argv[1], lineno);
            return 1;
        }
        *colon = 0;
        inside = true;
        if (!strcmp(key, "sys")) {
            sys_topics();
            sys_done = true;
        } else if (!strcmp(key, "metrics")) {
            metrics();
            metrics_done = true;
        } else if (!strncmp(key, "directives ", 11) && ndone < MAX_SECTIONS) {
            const char *section = key + 11;
            if (!directives(section)) {
                fprintf(stderr, "%s:%u: no directive is in section '%s'\n", argv[1], lineno,
                        section);
                return 1;
            }
            for (size_t i = 0; i < ipb__config_table_len; i++)
                if (!strcmp(ipb__config_table[i].section, section)) {
                    done[ndone++] = ipb__config_table[i].section;
                    break;
                }
        } else {
            fprintf(stderr, "%s:%u: unknown generated part '%s'\n", argv[1], lineno, key);
            return 1;
        }
    }
    fclose(f);
    if (inside) {
        fprintf(stderr, "%s: a generated part has no `<!-- END -->`\n", argv[1]);
        return 1;
    }
    if (!sys_done) {
        fprintf(stderr, "%s: no `<!-- BEGIN sys: -->` part for the $SYS topics\n", argv[1]);
        return 1;
    }
    if (!metrics_done) {
        fprintf(stderr, "%s: no `<!-- BEGIN metrics: -->` part for GET /metrics\n", argv[1]);
        return 1;
    }
    for (size_t i = 0; i < ipb__config_table_len; i++) {
        size_t j = 0;
        while (j < ndone && strcmp(done[j], ipb__config_table[i].section))
            j++;
        if (j == ndone) {
            fprintf(stderr, "%s: section '%s' (directive %s) has no `<!-- BEGIN directives "
                            "%s: -->` part\n",
                    argv[1], ipb__config_table[i].section, ipb__config_table[i].name,
                    ipb__config_table[i].section);
            return 1;
        }
    }
    return 0;
}
