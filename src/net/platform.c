/*
 * platform.c - the host's clock, random numbers and sleep for the client core.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "net_int.h"

static uint32_t host_now(void *ctx)
{
    (void)ctx;
    return ipm__mono_ms();
}

/* xorshift32 seeded once from /dev/urandom: jitter needs spread, not secrecy. */
static uint32_t host_random(void *ctx)
{
    static uint32_t state;
    (void)ctx;
    if (!state) {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd < 0 || read(fd, &state, sizeof state) != (ssize_t)sizeof state)
            state = ipm__mono_ms() ^ (uint32_t)getpid();
        if (fd >= 0)
            close(fd);
        state |= 1u;
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static void host_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

void ipm_net_platform(ipm_platform_t *out)
{
    *out = (ipm_platform_t){.now_ms = host_now, .random = host_random, .sleep_ms = host_sleep};
}
