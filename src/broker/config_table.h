/*
 * config_table.h - one row per mosquitto.conf directive: its type, where its value lives,
 * bounds, default, scope and one line of documentation. The parser (config.c), the
 * defaults (ipb_config_init) and the directive tables of docs/broker.md all read it, so
 * adding a directive is one row here plus its field in broker.h.
 */
#ifndef IOTPLOT_BROKER_CONFIG_TABLE_H
#define IOTPLOT_BROKER_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"

typedef enum {
    IPB__CT_BOOL,     /* true or false */
    IPB__CT_INT,      /* a decimal number in [min, max] */
    IPB__CT_SIZE,     /* the same, in bytes */
    IPB__CT_DURATION, /* mosquitto's 1h, 2d, 3w, 4m (months), 5y; stored in seconds */
    IPB__CT_STRING,   /* copied into a char array */
    IPB__CT_PATH,     /* the same, a file or folder */
    IPB__CT_ENUM,     /* one of `names`; its value is stored */
    IPB__CT_FLAGS,    /* repeatable: the first line replaces the default, later ones add */
    IPB__CT_CUSTOM,   /* `parse` does it */
    IPB__CT_REFUSED,  /* recognised, refused: needs `refused`, a feature not offered */
} ipb__ctype_t;

typedef enum {
    IPB__CS_GLOBAL,   /* a field of ipb_config_t */
    IPB__CS_LISTENER, /* a field of the last ipb_listener_config_t so far */
    IPB__CS_BRIDGE,   /* a field of the last ipb_bridge_config_t (`connection`) so far */
} ipb__cscope_t;

/* Flags of a row. */
#define IPB__CF_ZERO_IS_MAX 0x01u /* 0 stores `max` (a "no limit" that stays a number) */
#define IPB__CF_PREFIX 0x02u      /* the name is a prefix: every directive starting with it */
#define IPB__CF_NOSTORE 0x04u     /* checked and accepted, nothing to store */
#define IPB__CF_READABLE 0x08u    /* a file read later: unreadable is an error at its line */
/* With per_listener_settings true and a listener above it, the value goes to that
 * listener's field at `loffset` instead (mosquitto's per-listener security options). */
#define IPB__CF_PER_LISTENER 0x10u

typedef struct {
    const char *name;
    unsigned value;
} ipb__cname_t;

typedef struct ipb__cparse ipb__cparse_t;
typedef struct ipb__cdir ipb__cdir_t;

/*
 * A custom directive: tok[0] is the directive, tok[1..n) its words. Returns 0 or the
 * negative IPM_E* of ipb__cfail().
 */
typedef int (*ipb__cparse_fn)(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n);

struct ipb__cdir {
    const char *name;
    const char *section; /* the heading of docs/broker.md it is listed under */
    ipb__ctype_t type;
    ipb__cscope_t scope;
    size_t offset, size;     /* of the field, in the scope's struct */
    size_t loffset, lsize;   /* IPB__CF_PER_LISTENER: the field in ipb_listener_config_t */
    int64_t min, max, dflt;  /* numbers, bools and enums; strings start empty */
    unsigned scale;          /* stored value = parsed value * scale (0 = 1) */
    unsigned flags;          /* IPB__CF_* */
    const ipb__cname_t *names; /* ENUM, FLAGS: terminated by a NULL name */
    ipb__cparse_fn parse;    /* CUSTOM */
    const char *arg;         /* the value's syntax in the doc; NULL = from the type */
    const char *doc_default; /* the doc's default column; NULL = from dflt */
    const char *doc;         /* the doc's one line; for REFUSED, the feature it needs */
};

extern const ipb__cdir_t ipb__config_table[];
extern const size_t ipb__config_table_len;

/* The row for directive `name`, or NULL. */
const ipb__cdir_t *ipb__config_find(const char *name);

/* Every row's default into cfg (ipb_config_init). */
void ipb__config_defaults(ipb_config_t *cfg);
/* Every listener row's default into a new listener (ipb_config_add_listener). */
void ipb__config_listener_defaults(ipb_listener_config_t *l);
/* Every bridge row's default into a new `connection` block. */
void ipb__config_bridge_defaults(ipb_bridge_config_t *bc);

/* Number fields: read and write the row's field of `base` whatever its width. */
int64_t ipb__config_get(const ipb__cdir_t *d, const void *base);
void ipb__config_put(const ipb__cdir_t *d, void *base, int64_t v);

/* ---- what custom parse functions may use (config.c) ---------------------------------- */

int ipb__cfail(ipb__cparse_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ipb_config_t *ipb__cparse_cfg(ipb__cparse_t *p);
/* True the first time row d is seen in this load (repeatable rows replace their default). */
bool ipb__cparse_first(ipb__cparse_t *p, const ipb__cdir_t *d);
int ipb__cparse_include_dir(ipb__cparse_t *p, const char *dir);
int ipb__cparse_bool(ipb__cparse_t *p, const char *what, const char *v, bool *out);
/* A number of `what` (for messages) in [min, max]. */
int ipb__cparse_int(ipb__cparse_t *p, const char *what, const char *v, int64_t min,
                    int64_t max, int64_t *out);
/* The `connection` block the bridge rows apply to (the last one so far), or NULL. */
ipb_bridge_config_t *ipb__cparse_bridge(ipb__cparse_t *p);

#endif /* IOTPLOT_BROKER_CONFIG_TABLE_H */
