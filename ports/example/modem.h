/*
 * modem.h - the kind of socket API a cellular or Wi-Fi module's SDK offers. The example
 * transport in device.c adapts it to ipm_transport_t; a real port replaces these with its
 * vendor's calls (lwIP sockets, an AT-command modem driver, a TLS offload engine...).
 */
#ifndef IPM_EXAMPLE_MODEM_H
#define IPM_EXAMPLE_MODEM_H

#include <stddef.h>
#include <stdint.h>

/* Open a TCP connection; a handle >= 0 or -1. */
int modem_tcp_open(const char *host, uint16_t port, uint32_t timeout_ms);
/* Bytes written (possibly fewer than len), or -1 when the connection is gone. */
int modem_tcp_write(int h, const uint8_t *buf, size_t len, uint32_t timeout_ms);
/* Bytes read, 0 if none within timeout_ms, -1 when the connection is gone. */
int modem_tcp_read(int h, uint8_t *buf, size_t cap, uint32_t timeout_ms);
void modem_tcp_close(int h);
/* Milliseconds since boot (the SysTick counter). */
uint32_t modem_millis(void);

#endif /* IPM_EXAMPLE_MODEM_H */
