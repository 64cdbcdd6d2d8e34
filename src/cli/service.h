/*
 * service.h - telling systemd how a Type=notify service is doing (sd_notify): ready once
 * the listeners are bound, alive every half watchdog interval, reloading around SIGHUP,
 * stopping on shutdown. Every call does nothing when NOTIFY_SOCKET is unset, that is
 * whenever the command is not run by systemd, or when built without libsystemd.
 */
#ifndef IOTPLOT_CLI_SERVICE_H
#define IOTPLOT_CLI_SERVICE_H

#include <uv.h>

/* READY=1, then WATCHDOG=1 every half WATCHDOG_USEC if the unit sets WatchdogSec=. With
 * a loop the watchdog is a timer on it (so a stuck loop stops the pings) and SIGINT or
 * SIGTERM on it send STOPPING=1; with NULL (a command whose work runs in its own
 * threads) the pings come from a thread and the caller sends service_stopping(). */
void service_ready(uv_loop_t *loop);

/* SIGHUP, before reloading: RELOADING=1 now, READY=1 on the next turn of the loop given
 * to service_ready(), that is once the caller's reload has returned. */
void service_reloading(void);

/* STOPPING=1; the watchdog stops. */
void service_stopping(void);

#endif
