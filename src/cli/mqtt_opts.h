/*
 * mqtt_opts.h - the options `iotplot pub` and `iotplot sub` share, spelled as
 * mosquitto_pub / mosquitto_sub spell them, and the connect step both run.
 */
#ifndef IOTPLOT_CLI_MQTT_OPTS_H
#define IOTPLOT_CLI_MQTT_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "iotplot/net.h"

#define CLI_MAX_TOPICS 64

/* Where a -D property goes. */
enum { CLI_PROPS_CONNECT, CLI_PROPS_PUBLISH, CLI_PROPS_SUBSCRIBE, CLI_PROPS_WILL, CLI_PROPS_N };

typedef struct {
    const char *prog; /* "iotplot pub" */
    void (*usage)(FILE *out); /* the command's usage, printed after a bad argument */
    const char *host;
    int port;
    const char *id;
    const char *user;
    const char *pass;
    int keepalive;
    int version; /* IPM_PROTO_* */
    int qos;
    bool retain;
    bool debug;
    bool no_clean; /* -c: keep the session */
    long session_expiry; /* -x, 5.0; -1 = not given */
    const char *cafile, *capath, *cert, *key;
    bool insecure;
    bool os_certs; /* --tls-use-os-certs (or an mqtts:// URL): TLS with the system's CAs */
    bool quiet;    /* --quiet: no error messages */
    bool use_srv;  /* -S: find host and port in DNS SRV records */
    const char *id_prefix;  /* -I: the client id is this and the process id */
    const char *unix_path;  /* --unix: connect to this unix-domain socket */
    const char *bind_address; /* -A: connect from this local address */
    const char *proxy_host; /* --proxy socks5h://[user[:pass]@]host[:port] */
    const char *proxy_user, *proxy_pass;
    int proxy_port;
    int max_inflight; /* -M; 0 = the library's default (20, as mosquitto's) */
    const char *topics[CLI_MAX_TOPICS];
    int ntopics;
    const char *will_topic, *will_payload;
    int will_qos;
    bool will_retain;
    ipm_prop_t props[CLI_PROPS_N][IPM_CLIENT_MAX_PROPS];
    uint16_t nprops[CLI_PROPS_N];
    char idbuf[300];
    char urlbuf[1024], proxybuf[1024]; /* -L and --proxy, cut into their parts */
    char srvhost[1025];                /* -S: the target of the SRV record */
    int fatal; /* set when the connection ended in a way reconnecting cannot cure */
    int refused; /* 5.0 reason code of the first publish the server refused, or 0 */
    bool manual_ack;     /* set by the command: it acknowledges with ipm_client_ack() */
    ipm_event_cb ev_cb;  /* set by the command: its events, from the first connect on */
    void *ev_user;
} cli_mqtt_opts_t;

/* Defaults: localhost:1883, 3.1.1, keepalive 60, QoS 0. */
void cli_mqtt_defaults(cli_mqtt_opts_t *o, const char *prog);

/*
 * Try argv[*i] as a shared option, consuming its arguments. Returns 1 if it was one, 0 if
 * not (the command handles it), -1 after printing why it is invalid.
 */
int cli_mqtt_option(cli_mqtt_opts_t *o, int argc, char **argv, int *i);

/* Check the shared options after parsing; -1 after printing why. */
int cli_mqtt_check(cli_mqtt_opts_t *o);

/* The shared part of --help, without the options in omit (NULL-terminated, e.g. "-d"):
 * those a command gives a meaning of its own. */
void cli_mqtt_usage(FILE *out, const char *const *omit);

/*
 * Create the client and connect. On failure prints one line naming the reason (the
 * CONNACK reason code when refused) and returns NULL. `auto_reconnect` and `outbox`
 * configure reconnecting after the first successful connect.
 */
ipm_client_t *cli_mqtt_connect(cli_mqtt_opts_t *o, bool auto_reconnect, uint16_t outbox);
/* The same with the message callback installed before connecting: a kept session may
 * deliver messages right after CONNACK, before a later set_callback() could catch them. */
ipm_client_t *cli_mqtt_connect_cb(cli_mqtt_opts_t *o, bool auto_reconnect, uint16_t outbox,
                                  ipm_msg_cb on_msg, void *user);

/* Free a client from cli_mqtt_connect*(). NULL is ignored. */
void cli_mqtt_free(const cli_mqtt_opts_t *o, ipm_client_t *c);

/* Print "prog: what: reason" for a client error (the server's reason code if any). */
void cli_mqtt_error(const cli_mqtt_opts_t *o, ipm_client_t *c, const char *what, int err);

#endif /* IOTPLOT_CLI_MQTT_OPTS_H */
