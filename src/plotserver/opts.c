/*
 * opts.c - the options object of plot_series.
 *
 * Unknown keys do not stop the figure (a newer client may send more) but are named, so
 * a typo like `titel` is told rather than silently dropped, as matplotlib raises on an
 * unknown keyword; a known key with the wrong type rejects the whole message, because
 * plotting with half the options would give a figure the user did not ask for without
 * telling them.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "plot_internal.h"

/* Most format strings kept (one per plotted line). */
#define MAX_FORMATS 64
/* Longest list of unknown keys kept for the warning: the keys come from the network. */
#define MAX_UNKNOWN 200

/* The keys ipp_plotopts_parse() understands. */
static const char *const known[] = {"filename", "title", "xlabel", "ylabel", "figsize",
                                    "format",   "hist",  "xlog",   "ylog",   "grid",
                                    "x",        "utc"};

/* "'a', 'b'" for every key of obj not in known[]: printable, bounded. */
static int list_unknown(const cJSON *obj, ipp_plotopts_t *o)
{
    char buf[MAX_UNKNOWN + 8];
    size_t n = 0;
    bool cut = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcmp(known[k], it->string))
            k++;
        if (k < sizeof known / sizeof known[0])
            continue;
        size_t need = strlen(it->string) + 4;
        if (cut || n + need > MAX_UNKNOWN) {
            cut = true;
            continue;
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'%s'", n ? ", " : "", it->string);
    }
    if (!n && !cut)
        return 0;
    if (cut)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s...", n ? ", " : "");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7F)
            buf[i] = '?';
    return (o->unknown = strdup(buf)) ? 0 : -1;
}

static int get_str(const cJSON *obj, const char *key, char **out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v)) {
        snprintf(err, errlen, "option '%s' is not a string", key);
        return -1;
    }
    *out = strdup(v->valuestring);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int get_bool(const cJSON *obj, const char *key, bool *out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    /* Python callers write xlog=1 as often as xlog=True; take what Python finds truthy */
    if (cJSON_IsBool(v))
        *out = cJSON_IsTrue(v);
    else if (cJSON_IsNumber(v))
        *out = v->valuedouble != 0;
    else {
        snprintf(err, errlen, "option '%s' is not a boolean", key);
        return -1;
    }
    return 0;
}

static int get_figsize(const cJSON *obj, ipp_plotopts_t *o, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "figsize");
    if (!v || cJSON_IsNull(v))
        return 0;
    const cJSON *w = cJSON_GetArrayItem(v, 0), *h = cJSON_GetArrayItem(v, 1);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(w) ||
        !cJSON_IsNumber(h) || !(w->valuedouble > 0 && w->valuedouble <= 100) ||
        !(h->valuedouble > 0 && h->valuedouble <= 100)) {
        snprintf(err, errlen, "option 'figsize' is not [width, height] in (0, 100] inches");
        return -1;
    }
    o->width_in = w->valuedouble;
    o->height_in = h->valuedouble;
    return 0;
}

static int get_formats(const cJSON *obj, ipp_plotopts_t *o, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "format");
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v)) { /* one string for the one line: accept it as a list of one */
        o->formats = calloc(1, sizeof *o->formats);
        if (!o->formats || !(o->formats[0] = strdup(v->valuestring)))
            goto nomem;
        o->nformats = 1;
        return 0;
    }
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n > MAX_FORMATS) {
        snprintf(err, errlen, "option 'format' is not a list of at most %d strings",
                 MAX_FORMATS);
        return -1;
    }
    o->formats = calloc((size_t)n + 1, sizeof *o->formats);
    if (!o->formats)
        goto nomem;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "option 'format' holds something else than strings");
            return -1;
        }
        if (!(o->formats[o->nformats] = strdup(it->valuestring)))
            goto nomem;
        o->nformats++;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* x: "received" (arrival times) or "first" (the first column, as before arrival times
 * were plotted); anything else is refused rather than guessed. */
static int get_x(const cJSON *obj, ipp_plotopts_t *o, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "x");
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "received"))
        o->x = IPP_X_RECEIVED;
    else if (cJSON_IsString(v) && !strcmp(v->valuestring, "first"))
        o->x = IPP_X_FIRST;
    else {
        snprintf(err, errlen, "option 'x' is not \"received\" or \"first\"");
        return -1;
    }
    return 0;
}

int ipp_plotopts_parse(const char *json, size_t len, ipp_plotopts_t *o, char *err,
                       size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->grid = true;
    cJSON *obj = json ? cJSON_ParseWithLength(json, len) : NULL;
    int rc = -1;
    if (json && !cJSON_IsObject(obj)) {
        snprintf(err, errlen, "options are not a JSON object");
        goto done;
    }
    if (!obj) /* no options at all: every default */
        return 0;
    if (get_str(obj, "filename", &o->filename, err, errlen) ||
        get_str(obj, "title", &o->title, err, errlen) ||
        get_str(obj, "xlabel", &o->xlabel, err, errlen) ||
        get_str(obj, "ylabel", &o->ylabel, err, errlen) ||
        get_figsize(obj, o, err, errlen) || get_formats(obj, o, err, errlen) ||
        get_bool(obj, "xlog", &o->xlog, err, errlen) ||
        get_bool(obj, "ylog", &o->ylog, err, errlen) ||
        get_bool(obj, "grid", &o->grid, err, errlen) ||
        get_bool(obj, "utc", &o->utc, err, errlen) || get_x(obj, o, err, errlen) ||
        get_bool(obj, "excel", &o->excel, err, errlen))
        goto done;
    /* as in the original: the key's presence asks for a histogram, whatever its value */
    o->hist = cJSON_GetObjectItemCaseSensitive(obj, "hist") != NULL;
    if (list_unknown(obj, o)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(obj);
    if (rc)
        ipp_plotopts_free(o);
    return rc;
}

void ipp_plotopts_free(ipp_plotopts_t *o)
{
    free(o->filename);
    free(o->title);
    free(o->xlabel);
    free(o->ylabel);
    for (size_t i = 0; i < o->nformats; i++)
        free(o->formats[i]);
    free(o->formats);
    free(o->unknown);
    memset(o, 0, sizeof *o);
}
