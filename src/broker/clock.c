/*
 * clock.c - the broker's clock: the loop's milliseconds and the 32-bit seconds that
 * deadlines are stored in (4 bytes per session instead of 8).
 */
#include "clock.h"
#include "core.h"

uint64_t ipb__now(ipb_broker_t *b)
{
    return uv_now(b->loop);
}

uint32_t ipb__secs(ipb_broker_t *b, uint64_t now)
{
    return (uint32_t)((now - b->start_ms) / 1000) + 1;
}

uint32_t ipb__deadline(ipb_broker_t *b, uint64_t now, uint32_t interval)
{
    /* +1: the current second has partly gone, and a deadline must not come early. */
    uint64_t d = (uint64_t)ipb__secs(b, now) + interval + 1;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}
