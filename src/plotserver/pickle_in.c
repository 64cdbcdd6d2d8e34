/*
 * pickle_in.c - read back the pickles of series: ours and the Python package's.
 *
 * Not a general unpickler: a small stack machine for the opcodes that a dict or an
 * OrderedDict of column name -> list of numbers produces in protocols 0 to 5 (and the
 * Python 2 form, OrderedDict([[name, values], ...])). The only callables honoured are
 * collections.OrderedDict and builtins dict; anything else is refused, so a hostile
 * pickle can make us print an error and nothing more.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "plot_internal.h"

typedef enum { P_NONE, P_NUM, P_STR, P_LIST, P_TUPLE, P_DICT, P_MARK, P_DICTCLS } ptype_t;

typedef struct pobj {
    ptype_t type;
    double num;
    char *s;
    struct pobj **items; /* tuples, dicts (key, value, ...), lists of non-numbers */
    size_t n, cap;
    double *nums; /* lists of numbers */
    size_t nn, ncap;
    bool given; /* nums now belongs to the data read (to_data) */
} pobj_t;

typedef struct {
    const uint8_t *p, *end;
    pobj_t **all; /* every object made, freed at the end */
    size_t nall, capall;
    pobj_t **stack;
    size_t sp, capstack;
    pobj_t **memo;
    size_t nmemo;
    uint64_t memoized; /* MEMOIZE's index is the number of entries so far */
    const char *why;
} unpickler_t;

#define MAX_MEMO 1000000

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *q = realloc(*p, ncap * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

static pobj_t *mk(unpickler_t *u, ptype_t t)
{
    pobj_t *o = calloc(1, sizeof *o);
    if (!o || grow((void **)&u->all, &u->capall, u->nall + 1, sizeof *u->all)) {
        free(o);
        u->why = "out of memory";
        return NULL;
    }
    o->type = t;
    u->all[u->nall++] = o;
    return o;
}

static int push(unpickler_t *u, pobj_t *o)
{
    if (!o || grow((void **)&u->stack, &u->capstack, u->sp + 1, sizeof *u->stack))
        return -1;
    u->stack[u->sp++] = o;
    return 0;
}

static pobj_t *pop(unpickler_t *u)
{
    if (u->sp == 0 || u->stack[u->sp - 1]->type == P_MARK) {
        u->why = "stack underflow";
        return NULL;
    }
    return u->stack[--u->sp];
}

/* Index just above the topmost MARK, or -1. */
static long marker(unpickler_t *u)
{
    for (size_t i = u->sp; i > 0; i--)
        if (u->stack[i - 1]->type == P_MARK)
            return (long)i;
    u->why = "no MARK";
    return -1;
}

static int add_item(unpickler_t *u, pobj_t *to, pobj_t *v)
{
    if (to->type == P_LIST && (v->type == P_NUM || v->type == P_NONE) && !to->n) {
        if (grow((void **)&to->nums, &to->ncap, to->nn + 1, sizeof *to->nums))
            goto nomem;
        to->nums[to->nn++] = v->type == P_NUM ? v->num : NAN;
        return 0;
    }
    if (to->type == P_LIST && to->nn) {
        u->why = "list mixes numbers and other objects";
        return -1;
    }
    if (grow((void **)&to->items, &to->cap, to->n + 1, sizeof *to->items))
        goto nomem;
    to->items[to->n++] = v;
    return 0;
nomem:
    u->why = "out of memory";
    return -1;
}

static const uint8_t *take(unpickler_t *u, size_t n)
{
    if ((size_t)(u->end - u->p) < n) {
        u->why = "truncated";
        return NULL;
    }
    const uint8_t *r = u->p;
    u->p += n;
    return r;
}

/* A text line (protocol 0 arguments), NUL-terminated into buf. */
static int line(unpickler_t *u, char *buf, size_t cap)
{
    const uint8_t *nl = memchr(u->p, '\n', (size_t)(u->end - u->p));
    if (!nl || (size_t)(nl - u->p) >= cap) {
        u->why = "bad text argument";
        return -1;
    }
    size_t n = (size_t)(nl - u->p);
    memcpy(buf, u->p, n);
    buf[n] = '\0';
    u->p = nl + 1;
    return 0;
}

static uint64_t le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static pobj_t *num(unpickler_t *u, double v)
{
    pobj_t *o = mk(u, P_NUM);
    if (o)
        o->num = v;
    return o;
}

static pobj_t *str(unpickler_t *u, const uint8_t *s, size_t n)
{
    pobj_t *o = mk(u, P_STR);
    if (o && !(o->s = malloc(n + 1))) {
        u->why = "out of memory";
        return NULL;
    }
    if (o) {
        memcpy(o->s, s, n);
        o->s[n] = '\0';
    }
    return o;
}

static int sized_str(unpickler_t *u, int lenbytes)
{
    const uint8_t *b = take(u, (size_t)lenbytes);
    if (!b)
        return -1;
    uint64_t n = le(b, lenbytes);
    const uint8_t *s = take(u, n);
    return s ? push(u, str(u, s, n)) : -1;
}

static int global(unpickler_t *u, const char *mod, const char *name)
{
    if ((!strcmp(mod, "collections") && !strcmp(name, "OrderedDict")) ||
        (!strcmp(mod, "builtins") && !strcmp(name, "dict")) ||
        (!strcmp(mod, "__builtin__") && !strcmp(name, "dict")))
        return push(u, mk(u, P_DICTCLS));
    u->why = "it refers to something else than a dict of lists";
    return -1;
}

static int memo_put(unpickler_t *u, uint64_t idx)
{
    if (u->sp == 0 || idx >= MAX_MEMO) {
        u->why = "bad memo";
        return -1;
    }
    if (idx >= u->nmemo) {
        size_t cap = u->nmemo;
        if (grow((void **)&u->memo, &cap, idx + 1, sizeof *u->memo))
            return -1;
        memset(u->memo + u->nmemo, 0, (cap - u->nmemo) * sizeof *u->memo);
        u->nmemo = cap;
    }
    u->memo[idx] = u->stack[u->sp - 1];
    return 0;
}

static int memo_get(unpickler_t *u, uint64_t idx)
{
    if (idx >= u->nmemo || !u->memo[idx]) {
        u->why = "bad memo";
        return -1;
    }
    return push(u, u->memo[idx]);
}

/* The items above the topmost MARK into `to` (pairs for a dict), MARK removed. */
static int collect(unpickler_t *u, pobj_t *to)
{
    long m = marker(u);
    if (m < 0 || !to)
        return -1;
    for (size_t i = (size_t)m; i < u->sp; i++)
        if (add_item(u, to, u->stack[i]))
            return -1;
    u->sp = (size_t)m - 1;
    return 0;
}

/* REDUCE of dict or OrderedDict: an empty dict, or one built from a list of pairs. */
static int reduce(unpickler_t *u)
{
    pobj_t *args = pop(u), *cls = pop(u);
    if (!args || !cls || cls->type != P_DICTCLS || args->type != P_TUPLE) {
        u->why = "unsupported REDUCE";
        return -1;
    }
    pobj_t *d = mk(u, P_DICT);
    if (!d)
        return -1;
    if (args->n == 1 && args->items[0]->type == P_LIST) {
        pobj_t *pairs = args->items[0];
        for (size_t i = 0; i < pairs->n; i++) {
            pobj_t *pr = pairs->items[i];
            if ((pr->type != P_LIST && pr->type != P_TUPLE) || pr->n != 2 ||
                add_item(u, d, pr->items[0]) || add_item(u, d, pr->items[1])) {
                u->why = "unsupported OrderedDict arguments";
                return -1;
            }
        }
    } else if (args->n) {
        u->why = "unsupported dict arguments";
        return -1;
    }
    return push(u, d);
}

/* Protocol 0 STRING: a quoted repr; plain column names need no unescaping. */
static int text_string(unpickler_t *u, char *buf, size_t cap)
{
    if (line(u, buf, cap))
        return -1;
    size_t n = strlen(buf);
    if (n < 2 || (buf[0] != '\'' && buf[0] != '"') || buf[n - 1] != buf[0]) {
        u->why = "bad STRING";
        return -1;
    }
    return push(u, str(u, (const uint8_t *)buf + 1, n - 2));
}

static int text_num(unpickler_t *u, char op, char *buf, size_t cap)
{
    if (line(u, buf, cap))
        return -1;
    size_t n = strlen(buf);
    if (op == 'L' && n && buf[n - 1] == 'L')
        buf[n - 1] = '\0';
    double v;
    const char *e = buf + strlen(buf);
    if (ipp__parse_double(buf, e, &v) != e || e == buf) { /* not strtod: the locale */
        u->why = "bad number";
        return -1;
    }
    return push(u, num(u, v));
}

static int tuple_n(unpickler_t *u, size_t n)
{
    pobj_t *t = mk(u, P_TUPLE);
    if (!t || u->sp < n) {
        u->why = "stack underflow";
        return -1;
    }
    for (size_t i = u->sp - n; i < u->sp; i++)
        if (add_item(u, t, u->stack[i]))
            return -1;
    u->sp -= n;
    return push(u, t);
}

static int setitems(unpickler_t *u, bool one)
{
    long m = one ? (long)u->sp - 2 : marker(u);
    long at = m - (one ? 1 : 2); /* the dict: below the pair, or below the MARK */
    if (at < 0 || (u->sp - (size_t)m) % 2) {
        u->why = "bad SETITEMS";
        return -1;
    }
    pobj_t *d = u->stack[at];
    if (d->type != P_DICT) {
        u->why = "SETITEM on something else than a dict";
        return -1;
    }
    for (size_t i = (size_t)m; i < u->sp; i++)
        if (add_item(u, d, u->stack[i]))
            return -1;
    u->sp = (size_t)m - (one ? 0 : 1);
    return 0;
}

static int appends(unpickler_t *u, bool one)
{
    long m = one ? (long)u->sp - 1 : marker(u);
    long at = m - (one ? 1 : 2); /* the list: below the item, or below the MARK */
    if (at < 0) {
        u->why = "bad APPENDS";
        return -1;
    }
    pobj_t *l = u->stack[at];
    if (l->type != P_LIST) {
        u->why = "APPEND to something else than a list";
        return -1;
    }
    for (size_t i = (size_t)m; i < u->sp; i++)
        if (add_item(u, l, u->stack[i]))
            return -1;
    u->sp = (size_t)m - (one ? 0 : 1);
    return 0;
}

/* The binary number opcodes: BINFLOAT, BININT1, BININT2, BININT and LONG1. */
static int binary_num(unpickler_t *u, uint8_t op)
{
    const uint8_t *b;
    uint64_t v = 0;
    switch (op) {
    case 'G':
        if (!(b = take(u, 8)))
            return -1;
        for (int i = 0; i < 8; i++)
            v = v << 8 | b[i];
        double d;
        memcpy(&d, &v, 8);
        return push(u, num(u, d));
    case 'K': return (b = take(u, 1)) ? push(u, num(u, b[0])) : -1;
    case 'M': return (b = take(u, 2)) ? push(u, num(u, (double)le(b, 2))) : -1;
    case 'J': return (b = take(u, 4)) ? push(u, num(u, (int32_t)(uint32_t)le(b, 4))) : -1;
    default: /* LONG1: little-endian two's complement; up to 8 bytes here */
        if (!(b = take(u, 1)))
            return -1;
        int n = b[0];
        if (n > 8 || !(b = take(u, (size_t)n))) {
            u->why = "LONG1 too long";
            return -1;
        }
        v = n ? le(b, n) : 0;
        if (n && n < 8 && (b[n - 1] & 0x80))
            v |= ~(uint64_t)0 << (8 * n);
        return push(u, num(u, (double)(int64_t)v));
    }
}

/*
 * A list of floats is pickled as MARK, up to 1,000 BINFLOATs, APPENDS, again and again.
 * After a MARK on top of a list of numbers, such a batch goes straight into the list, with
 * no object per number: 0 if it did (through its APPENDS), -1 if the batch holds
 * anything else, in which case nothing was consumed and the opcodes run one by one.
 */
static int number_batch(unpickler_t *u, pobj_t *l)
{
    const uint8_t *p = u->p, *end = u->end;
    size_t n = l->nn;
    for (;;) {
        /* the run of BINFLOATs first, room made for all of them at once */
        size_t run = (size_t)(end - p) / 9 < 1024 ? (size_t)(end - p) / 9 : 1024;
        if (run && *p == 'G') {
            if (n + run > l->ncap && grow((void **)&l->nums, &l->ncap, n + run, sizeof *l->nums))
                return -1; /* out of memory: the slow path says so */
            for (; run && *p == 'G'; run--, p += 9) {
                uint64_t b;
                memcpy(&b, p + 1, 8);
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                b = __builtin_bswap64(b); /* one instruction; the byte loop was eight */
#endif
                memcpy(&l->nums[n++], &b, 8);
            }
        }
        if (p >= end)
            return -1;
        uint8_t op = *p++;
        double v;
        uint64_t b = 0;
        switch (op) {
        case 'G': /* BINFLOAT: big-endian */
            if (end - p < 8)
                return -1;
            for (int i = 0; i < 8; i++)
                b = b << 8 | p[i];
            memcpy(&v, &b, 8);
            p += 8;
            break;
        case 'K':
            if (end - p < 1)
                return -1;
            v = *p++;
            break;
        case 'M':
            if (end - p < 2)
                return -1;
            v = (double)le(p, 2);
            p += 2;
            break;
        case 'J':
            if (end - p < 4)
                return -1;
            v = (int32_t)(uint32_t)le(p, 4);
            p += 4;
            break;
        case 'N': v = NAN; break;
        case 0x88: v = 1; break;
        case 0x89: v = 0; break;
        case 0x95: /* FRAME: a new frame may start between any two opcodes */
            if (end - p < 8)
                return -1;
            p += 8;
            continue;
        case 'e':
            l->nn = n;
            u->p = p;
            return 0;
        default: return -1;
        }
        if (n == l->ncap && grow((void **)&l->nums, &l->ncap, n + 1, sizeof *l->nums))
            return -1; /* out of memory: the slow path says so */
        l->nums[n++] = v;
    }
}

static int mark(unpickler_t *u)
{
    pobj_t *l = u->sp ? u->stack[u->sp - 1] : NULL;
    if (l && l->type == P_LIST && !l->n && number_batch(u, l) == 0)
        return 0;
    return push(u, mk(u, P_MARK));
}

/* One opcode; 1 at STOP, 0 to go on, -1 on error. */
static int step(unpickler_t *u)
{
    char buf[512], buf2[512];
    const uint8_t *b;
    if (u->p >= u->end) {
        u->why = "no STOP";
        return -1;
    }
    uint8_t op = *u->p++;
    switch (op) {
    case 0x80: return take(u, 1) ? 0 : -1; /* PROTO */
    case 0x95: return take(u, 8) ? 0 : -1; /* FRAME */
    case '.': return 1;
    case '(': return mark(u);
    case 'N': return push(u, mk(u, P_NONE));
    case 0x88: return push(u, num(u, 1));
    case 0x89: return push(u, num(u, 0));
    case ')': return push(u, mk(u, P_TUPLE));
    case ']': return push(u, mk(u, P_LIST));
    case '}': return push(u, mk(u, P_DICT));
    case 'G': case 'K': case 'M': case 'J': case 0x8a: return binary_num(u, op);
    case 'F': case 'I': case 'L': return text_num(u, (char)op, buf, sizeof buf);
    case 'X': return sized_str(u, 4);
    case 0x8c: case 'U': return sized_str(u, 1);
    case 0x8d: return sized_str(u, 8);
    case 'T': return sized_str(u, 4);
    case 'V': return line(u, buf, sizeof buf) ? -1 : push(u, str(u, (uint8_t *)buf, strlen(buf)));
    case 'S': return text_string(u, buf, sizeof buf);
    case 'c':
        return line(u, buf, sizeof buf) || line(u, buf2, sizeof buf2) ? -1 : global(u, buf, buf2);
    case 0x93: {
        pobj_t *name = pop(u), *mod = pop(u);
        if (!name || !mod || name->type != P_STR || mod->type != P_STR)
            return u->why = "bad STACK_GLOBAL", -1;
        return global(u, mod->s, name->s);
    }
    case 'R': return reduce(u);
    case 't': return collect(u, mk(u, P_TUPLE)) ? -1 : push(u, u->all[u->nall - 1]);
    case 'l': return collect(u, mk(u, P_LIST)) ? -1 : push(u, u->all[u->nall - 1]);
    case 'd': return collect(u, mk(u, P_DICT)) ? -1 : push(u, u->all[u->nall - 1]);
    case 0x85: return tuple_n(u, 1);
    case 0x86: return tuple_n(u, 2);
    case 0x87: return tuple_n(u, 3);
    case 'a': return appends(u, true);
    case 'e': return appends(u, false);
    case 's': return setitems(u, true);
    case 'u': return setitems(u, false);
    case 'q': return (b = take(u, 1)) ? memo_put(u, b[0]) : -1;
    case 'r': return (b = take(u, 4)) ? memo_put(u, le(b, 4)) : -1;
    case 0x94: return memo_put(u, u->memoized++);
    case 'h': return (b = take(u, 1)) ? memo_get(u, b[0]) : -1;
    case 'j': return (b = take(u, 4)) ? memo_get(u, le(b, 4)) : -1;
    case 'p': return line(u, buf, sizeof buf) ? -1 : memo_put(u, strtoull(buf, NULL, 10));
    case 'g': return line(u, buf, sizeof buf) ? -1 : memo_get(u, strtoull(buf, NULL, 10));
    default:
        u->why = "unsupported pickle opcode";
        return -1;
    }
}

/* The dict on the stack at STOP into d: every value must be a list of numbers. */
static int to_data(unpickler_t *u, pobj_t *dict, ipp_data_t *d)
{
    const char *names[IPP_MAX_COLS] = {0};
    if (!dict || dict->type != P_DICT || dict->n / 2 > IPP_MAX_COLS) {
        u->why = "the pickle is not a dict of at most 1024 columns";
        return -1;
    }
    size_t ncols = dict->n / 2, nrows = 0;
    for (size_t c = 0; c < ncols; c++) {
        pobj_t *k = dict->items[2 * c], *v = dict->items[2 * c + 1];
        if (k->type != P_STR || v->type != P_LIST || v->n) {
            u->why = "a column is not name -> list of numbers";
            return -1;
        }
        names[c] = k->s;
        if (v->nn > nrows)
            nrows = v->nn;
    }
    if (ipp__data_init(d, names, ncols))
        return u->why = "out of memory", -1;
    for (size_t c = 0; c < ncols; c++) {
        pobj_t *v = dict->items[2 * c + 1];
        /* a full column is handed over, not copied (unless two columns are the same
         * list); columns of unequal length are padded with NaN rather than refused */
        if (v->nn == nrows && nrows && !v->given) {
            d->cols[c] = v->nums;
            v->given = true;
            continue;
        }
        d->cols[c] = malloc((nrows ? nrows : 1) * sizeof(double));
        if (!d->cols[c])
            return u->why = "out of memory", -1;
        for (size_t r = 0; r < nrows; r++)
            d->cols[c][r] = r < v->nn ? v->nums[r] : NAN;
    }
    d->nrows = nrows;
    return 0;
}

int ipp_read_pickle(const uint8_t *buf, size_t len, ipp_data_t *d, char *err, size_t errlen)
{
    unpickler_t u = {.p = buf, .end = buf + len};
    int rc;
    memset(d, 0, sizeof *d);
    while ((rc = step(&u)) == 0)
        ;
    if (rc == 1)
        rc = u.sp == 1 ? to_data(&u, u.stack[0], d) : (u.why = "bad stack at STOP", -1);
    const char *why = u.why ? u.why : "out of memory";
    if (rc && !strcmp(why, "out of memory"))
        snprintf(err, errlen, "%s", why);
    else if (rc)
        snprintf(err, errlen, "not a pickle (%s)", why);
    for (size_t i = 0; i < u.nall; i++) {
        free(u.all[i]->s);
        free(u.all[i]->items);
        if (!u.all[i]->given) /* else d has it, and frees it if rc */
            free(u.all[i]->nums);
        free(u.all[i]);
    }
    free(u.all);
    free(u.stack);
    free(u.memo);
    if (rc)
        ipp_data_free(d);
    return rc;
}
