/*
 * ipm_port_config.h - the compile-time settings of a microcontroller build of the codec and
 * the client core. Pass it with `-include ports/ipm_port_config.h` (or copy the lines into
 * the project's own flags). Every setting has a default in the headers; these are the
 * choices for a small device.
 */
#ifndef IPM_PORT_CONFIG_H
#define IPM_PORT_CONFIG_H

/* No heap: use ipm_client_init() with static buffers. The host header iotplot/net.h
 * (ipm_client_new(), the POSIX and OpenSSL transports) refuses to compile with it. */
#define IPM_NO_MALLOC 1

/* Drop the error message tables of the codec (ipm_strerror() returns one fixed string). */
#define IPM_NO_ERROR_STRINGS 1

/* CONNACK property bytes kept for ipm_client_connack_props(). */
#define IPM_CLIENT_CONNACK_PROPS_MAX 64

/* Properties of one will / connect / subscribe list (stack use: 24 bytes each). */
#define IPM_CLIENT_MAX_PROPS 4

/* Topic aliases accepted from the server when the aliases buffer is given. */
#define IPM_CLIENT_TOPIC_ALIAS_MAX 8

/* No acknowledgement by the application (cfg.manual_ack, ipm_client_ack()): it would take
 * about 600 bytes of text the budget does not have; messages are acknowledged on delivery. */
#define IPM_CLIENT_MANUAL_ACK 0

#endif /* IPM_PORT_CONFIG_H */
