/*
 * cmd_demo.c - `iotplot demo`: the whole system end to end on a free port.
 *
 * Starts the broker with the plot server attached (as `iotplot serve` does), runs the
 * classic iot-plot example as a C device over MQTT against it, waits until the files
 * exist and prints them. `--device` runs only the device, against any broker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/serve.h"
#include "commands.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot demo [-d DIR]\n"
            "       iotplot demo --device [-b HOST] [-p PORT] [-s SESSION] [-q QOS]\n\n"
            "Runs broker, plot server and a demo device on a free port; the device sends\n"
            "the classic damped sinusoid; prints the PDF, PNG and pickle it produced.\n"
            "  -d DIR     output folder (default: a new folder under /tmp)\n"
            "  --device   only the device, against the broker at HOST:PORT (default\n"
            "             localhost:1883, session iot49, QoS 1)\n");
}

static int device_only(int argc, char **argv)
{
    const char *host = "localhost", *session = "iot49";
    long port = 1883, qos = 1;
    char err[512];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-b") || !strcmp(argv[i], "-h"))
            host = argv[i + 1];
        else if (!strcmp(argv[i], "-p"))
            port = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "-s"))
            session = argv[i + 1];
        else if (!strcmp(argv[i], "-q"))
            qos = strtol(argv[i + 1], NULL, 10);
        else {
            usage(stderr);
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || qos < 0 || qos > 1) {
        usage(stderr);
        return 2;
    }
    if (ipp_demo_device(host, (uint16_t)port, session, (uint8_t)qos, "example", err,
                        sizeof err)) {
        fprintf(stderr, "iotplot demo: %s\n", err);
        return 1;
    }
    return 0;
}

static void quiet_log(void *arg, const char *line)
{
    (void)arg;
    /* only problems: the demo prints its files itself */
    if (strstr(line, "dropped") || strstr(line, "cannot"))
        fprintf(stderr, "%s\n", line);
}

int cmd_demo(int argc, char **argv)
{
    static const char *const files[] = {"example.pdf", "example.png", "sinusoid.pkl"};
    char tmp[] = "/tmp/iotplot-demo-XXXXXX", err[512];
    const char *dir = NULL;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--device"))
        return device_only(argc, argv);
    if (argc == 3 && !strcmp(argv[1], "-d"))
        dir = argv[2];
    else if (argc != 1) {
        usage(stderr);
        return 2;
    }
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("iotplot demo: mkdtemp");
        return 1;
    }
    /* A broker for this run alone: nothing to announce to the network. */
    ipp_serve_config_t cfg = {.dir = dir, .address = "127.0.0.1", .port = 0,
                              .quiet_broker = true, .no_announce = true, .log = quiet_log};
    ipp_serve_t *s;
    if (ipp_serve_start(&cfg, &s, err, sizeof err)) {
        fprintf(stderr, "iotplot demo: %s\n", err);
        return 1;
    }
    printf("iotplot demo: broker and plot server on 127.0.0.1:%u, output in %s\n",
           ipp_serve_port(s), dir);
    int rc = ipp_demo_device("127.0.0.1", ipp_serve_port(s), "iot49", 1, "example", err,
                             sizeof err);
    if (rc)
        fprintf(stderr, "iotplot demo: device: %s\n", err);
    /* the device has its acknowledgements; now every row must be stored and drawn */
    if (rc == 0 && ipp_server_sync(ipp_serve_plot(s), 60000)) {
        fprintf(stderr, "iotplot demo: the plot server did not finish in 60 s\n");
        rc = -1;
    }
    ipp_serve_stop(s, NULL);
    for (size_t i = 0; rc == 0 && i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (stat(path, &sb) || sb.st_size == 0) {
            fprintf(stderr, "iotplot demo: %s was not written\n", path);
            rc = -1;
        } else {
            printf("%s\n", path);
        }
    }
    return rc ? 1 : 0;
}
