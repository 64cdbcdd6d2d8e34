/*
 * plotclient.c - the iot-plot calls of a device: JSON arrays published to <session>/<cmd>.
 *
 * The payloads match what the Python PlotClient sends (json.dumps of the argument list:
 * ", " between items, ": " in objects), so a capture of either reads the same.
 */
#include <string.h>

#include "iotplot/plotclient.h"

int ipp_plotclient_init(ipp_plotclient_t *pc, const char *session, uint8_t qos, char *buf,
                        size_t cap, ipp_publish_fn publish, void *ctx)
{
    if (!pc || !buf || cap < 2 || !publish || qos > 1)
        return IPM_EINVALID;
    if (!session)
        session = IPP_DEFAULT_SESSION;
    size_t n = strlen(session);
    /* wildcards cannot be published to; the session is the first topic level(s) */
    if (n == 0 || n > IPP_SESSION_MAX || strpbrk(session, "+#"))
        return IPM_EINVALID;
    memset(pc, 0, sizeof *pc);
    pc->publish = publish;
    pc->ctx = ctx;
    pc->qos = qos;
    pc->buf = buf;
    pc->cap = cap;
    memcpy(pc->topic, session, n);
    pc->topic[n] = '/';
    pc->session_len = n + 1;
    return 0;
}

/* Finish the payload in j and publish it to <session>/<cmd>; never sends a partial one. */
static int publish_msg(ipp_plotclient_t *pc, const char *cmd, ipp_json_t *j)
{
    if (j->err)
        return j->err;
    size_t n = strlen(cmd);
    memcpy(pc->topic + pc->session_len, cmd, n + 1);
    return pc->publish(pc->ctx, pc->topic, (const uint8_t *)j->buf, j->len, pc->qos);
}

static void begin(ipp_plotclient_t *pc, ipp_json_t *j, const char *name)
{
    ipp_json_init(j, pc->buf, pc->cap);
    ipp_json_raw(j, "[", 1);
    ipp_json_str(j, name);
}

int ipp_plotclient_new_series(ipp_plotclient_t *pc, const char *name,
                              const char *const *cols, size_t ncols)
{
    if (!pc || !name || !cols || ncols == 0)
        return IPM_EINVALID;
    ipp_json_t j;
    begin(pc, &j, name);
    for (size_t i = 0; i < ncols; i++) {
        if (!cols[i])
            return IPM_EINVALID;
        ipp_json_raw(&j, ", ", 2);
        ipp_json_str(&j, cols[i]);
    }
    ipp_json_raw(&j, "]", 1);
    return publish_msg(pc, "new_series", &j);
}

int ipp_plotclient_data(ipp_plotclient_t *pc, const char *name, const double *values,
                        size_t n)
{
    if (!pc || !name || (!values && n))
        return IPM_EINVALID;
    ipp_json_t j;
    begin(pc, &j, name);
    for (size_t i = 0; i < n; i++) {
        ipp_json_raw(&j, ", ", 2);
        ipp_json_num(&j, values[i]);
    }
    ipp_json_raw(&j, "]", 1);
    return publish_msg(pc, "data", &j);
}

int ipp_plotclient_save_series_opts(ipp_plotclient_t *pc, const char *name,
                                    const char *filename, const ipp_save_opts_t *opts)
{
    if (!pc || !name)
        return IPM_EINVALID;
    ipp_json_t j;
    begin(pc, &j, name);
    ipp_json_raw(&j, ", ", 2);
    if (filename)
        ipp_json_str(&j, filename);
    else
        ipp_json_raw(&j, "null", 4);
    if (opts && opts->excel) /* the only option so far: the object only when it is set */
        ipp_json_raw(&j, ", {\"excel\": true}", 17);
    ipp_json_raw(&j, "]", 1);
    return publish_msg(pc, "save_series", &j);
}

int ipp_plotclient_save_series(ipp_plotclient_t *pc, const char *name, const char *filename)
{
    return ipp_plotclient_save_series_opts(pc, name, filename, NULL);
}

/* One "key": separator, with ", " before all but the first key. */
static void key(ipp_json_t *j, int *count, const char *k)
{
    if ((*count)++)
        ipp_json_raw(j, ", ", 2);
    ipp_json_str(j, k);
    ipp_json_raw(j, ": ", 2);
}

static void opt_str(ipp_json_t *j, int *count, const char *k, const char *v)
{
    if (!v)
        return;
    key(j, count, k);
    ipp_json_str(j, v);
}

static void opt_true(ipp_json_t *j, int *count, const char *k, bool v)
{
    if (!v)
        return;
    key(j, count, k);
    ipp_json_raw(j, "true", 4);
}

int ipp_plotclient_plot_series(ipp_plotclient_t *pc, const char *name,
                               const ipp_plot_opts_t *opts)
{
    static const ipp_plot_opts_t defaults;
    if (!pc || !name)
        return IPM_EINVALID;
    const ipp_plot_opts_t *o = opts ? opts : &defaults;
    ipp_json_t j;
    int count = 0;
    begin(pc, &j, name);
    ipp_json_raw(&j, ", {", 3);
    opt_str(&j, &count, "filename", o->filename);
    opt_str(&j, &count, "title", o->title);
    opt_str(&j, &count, "xlabel", o->xlabel);
    opt_str(&j, &count, "ylabel", o->ylabel);
    if (o->figsize[0] > 0 && o->figsize[1] > 0) {
        key(&j, &count, "figsize");
        ipp_json_raw(&j, "[", 1);
        ipp_json_num(&j, o->figsize[0]);
        ipp_json_raw(&j, ", ", 2);
        ipp_json_num(&j, o->figsize[1]);
        ipp_json_raw(&j, "]", 1);
    }
    if (o->format && o->nformat) {
        key(&j, &count, "format");
        ipp_json_raw(&j, "[", 1);
        for (size_t i = 0; i < o->nformat; i++) {
            if (!o->format[i])
                return IPM_EINVALID;
            if (i)
                ipp_json_raw(&j, ", ", 2);
            ipp_json_str(&j, o->format[i]);
        }
        ipp_json_raw(&j, "]", 1);
    }
    opt_true(&j, &count, "hist", o->hist);
    opt_true(&j, &count, "xlog", o->xlog);
    opt_true(&j, &count, "ylog", o->ylog);
    if (o->no_grid) {
        key(&j, &count, "grid");
        ipp_json_raw(&j, "false", 5);
    }
    if (o->x == IPP_PLOT_X_RECEIVED || o->x == IPP_PLOT_X_FIRST)
        opt_str(&j, &count, "x", o->x == IPP_PLOT_X_RECEIVED ? "received" : "first");
    else if (o->x != IPP_PLOT_X_DEFAULT)
        return IPM_EINVALID;
    opt_true(&j, &count, "utc", o->utc);
    ipp_json_raw(&j, "}]", 2);
    return publish_msg(pc, "plot_series", &j);
}
