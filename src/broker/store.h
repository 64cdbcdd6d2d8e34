/*
 * store.h - the broker's own store behind the seam (store.c): `persistence true` opens the
 * persistence file, replays it and installs itself as the broker's ipb_store_t.
 */
#ifndef IOTPLOT_BROKER_STORE_H
#define IOTPLOT_BROKER_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ipb_broker ipb_broker_t;

/* At start, before listening: nothing without `persistence true`. 0, or -1 with err set. */
int ipb__store_open(ipb_broker_t *b, char *err, size_t errlen);
/* At the end, after the last commit in flight: write what is left and close. */
void ipb__store_close(ipb_broker_t *b);
/* Bytes on disk of the persistence file with its write-ahead log; -1 without one. */
int64_t ipb__store_file_bytes(const ipb_broker_t *b);

#endif
