/*
 * plot_sinusoid.c - the classic iot-plot example: a device sends a damped sinusoid to
 * the plot server, which stores it, saves it as a pickle and draws it as a PDF.
 *
 *   plot_sinusoid [HOST [PORT [SESSION]]]     defaults: localhost 1883 iot49
 *
 * Start `iotplot serve` (or `iotplot plotserver` against any broker) first; the files
 * appear in its output folder.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "iotplot/net.h"
#include "iotplot/plotclient.h"

int main(int argc, char **argv)
{
    static char buf[512]; /* one JSON message; the plot client allocates nothing */
    const double two_pi = 6.283185307179586;
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = argc > 1 ? argv[1] : "localhost";
    cfg.port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 1883);
    cfg.client_id = "plot-sinusoid";
    const char *session = argc > 3 ? argv[3] : IPP_DEFAULT_SESSION;

    ipm_client_t *c = ipm_client_new(&cfg, NULL, NULL);
    if (!c || ipm_client_connect(c) != IPM_OK) {
        fprintf(stderr, "plot_sinusoid: cannot connect to %s:%u\n", cfg.host, cfg.port);
        return 1;
    }
    ipp_plotclient_t mp;
    /* QoS 1: the broker acknowledges every row, so none is lost */
    ipp_plotclient_init(&mp, session, 1, buf, sizeof buf, ipp_plotclient_ipm_publish, c);

    /* give the series a unique name (in case you create multiple plots) */
    const char *series = "sinusoid";
    int rc = ipp_plot_new_series(&mp, series, "time", "cos", "sin", "sin*cos");
    for (int i = 0; rc == 0 && i < 200; i++) {
        double t = i * 0.025;
        rc = ipp_plot_data(&mp, series, t, cos(two_pi * t) * exp(-t),
                           sin(two_pi * t) * exp(-t),
                           sin(two_pi * t) * cos(two_pi * t) * exp(-t));
    }
    if (rc == 0) /* save the data as sinusoid.pkl for Python's pickle.load */
        rc = ipp_plotclient_save_series(&mp, series, NULL);
    if (rc == 0) {
        ipp_plot_opts_t o = {.filename = "example.pdf",
                             .xlabel = "Time [s]",
                             .ylabel = "Voltage [mV]",
                             .title = "Damped exponential decay $e^{-t} \\cos(2\\pi t)$"};
        rc = ipp_plotclient_plot_series(&mp, series, &o);
    }
    /* wait until every message is acknowledged, or no plot will be generated */
    if (rc == 0)
        rc = ipm_client_flush(c, 10000);
    if (rc)
        fprintf(stderr, "plot_sinusoid: %s\n", ipm_strerror(rc));
    ipm_client_disconnect(c, 0);
    ipm_client_free(c);
    return rc ? 1 : 0;
}
