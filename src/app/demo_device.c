/*
 * demo_device.c - the classic iot-plot example as a C device: our plot client over our
 * MQTT client, exactly the calls the Python example makes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iotplot/net.h"
#include "iotplot/plotclient.h"
#include "app/serve.h"

static const double two_pi = 6.283185307179586;

static int fail(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "%s: %s", what, ipm_strerror(rc));
    return -1;
}

/* The four series calls of the example; every one is checked. */
static int send_example(ipp_plotclient_t *pc, const char *base, char *err, size_t errlen)
{
    int rc = ipp_plot_new_series(pc, "sinusoid", "time", "cos", "sin", "sin*cos");
    if (rc)
        return fail(err, errlen, "new_series", rc);
    for (int i = 0; i < 200; i++) {
        double t = i * 0.025, d = exp(-t);
        rc = ipp_plot_data(pc, "sinusoid", t, cos(two_pi * t) * d, sin(two_pi * t) * d,
                           sin(two_pi * t) * cos(two_pi * t) * d);
        if (rc)
            return fail(err, errlen, "data", rc);
    }
    rc = ipp_plotclient_save_series(pc, "sinusoid", NULL);
    if (rc)
        return fail(err, errlen, "save_series", rc);
    char name[512];
    ipp_plot_opts_t o = {.filename = name,
                         .xlabel = "Time [s]",
                         .ylabel = "Voltage [mV]",
                         .title = "Damped exponential decay $e^{-t} \\cos(2\\pi t)$"};
    static const char *const ext[] = {"pdf", "png"};
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "%s.%s", base, ext[i]);
        rc = ipp_plotclient_plot_series(pc, "sinusoid", &o);
        if (rc)
            return fail(err, errlen, "plot_series", rc);
    }
    return 0;
}

int ipp_demo_device(const char *host, uint16_t port, const char *session, uint8_t qos,
                    const char *base, char *err, size_t errlen)
{
    char client_id[64], buf[1024];
    ipp_plotclient_t pc;
    snprintf(client_id, sizeof client_id, "iotplot-demo-device-%ld", (long)getpid());
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = host;
    cfg.port = port;
    cfg.client_id = client_id;
    const char *why = NULL;
    ipm_client_t *c = ipm_client_new(&cfg, NULL, &why);
    if (!c) {
        snprintf(err, errlen, "MQTT client: %s", why ? why : "cannot create");
        return -1;
    }
    int rc = ipm_client_connect(c);
    if (rc) {
        snprintf(err, errlen, "cannot connect to %s:%u: %s", host, port, ipm_strerror(rc));
        ipm_client_free(c);
        return -1;
    }
    rc = ipp_plotclient_init(&pc, session, qos, buf, sizeof buf, ipp_plotclient_ipm_publish, c);
    if (rc == 0)
        rc = send_example(&pc, base, err, errlen);
    else
        fail(err, errlen, "plot client", rc);
    /* QoS 1: wait until the broker has every message before hanging up */
    if (rc == 0 && (rc = ipm_client_flush(c, 10000)) != 0)
        fail(err, errlen, "flush", rc);
    ipm_client_disconnect(c, 0);
    ipm_client_free(c);
    return rc ? -1 : 0;
}
