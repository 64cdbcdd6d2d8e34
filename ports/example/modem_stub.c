/*
 * modem_stub.c - do-nothing modem functions, so device.c links for the size check.
 */
#include "modem.h"

static volatile uint32_t ticks;

int modem_tcp_open(const char *host, uint16_t port, uint32_t timeout_ms)
{
    return host && port && timeout_ms ? 0 : -1;
}

int modem_tcp_write(int h, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    return h >= 0 && buf && timeout_ms ? (int)len : -1;
}

int modem_tcp_read(int h, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    return h >= 0 && buf && cap && timeout_ms ? 0 : -1;
}

void modem_tcp_close(int h)
{
    (void)h;
}

uint32_t modem_millis(void)
{
    return ticks++;
}
