/*
 * internal.h - every module header of src/broker in one include, for tests and fuzzers
 * that reach inside the broker. The broker's own files include only what they use, so
 * each one's includes say which modules it depends on.
 */
#ifndef IOTPLOT_BROKER_INTERNAL_H
#define IOTPLOT_BROKER_INTERNAL_H

#include "alias.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "handlers.h"
#include "layered.h"
#include "listener.h"
#include "log.h"
#include "msg.h"
#include "outq.h"
#include "peer.h"
#include "retain.h"
#include "route.h"
#include "security.h"
#include "session.h"
#include "sys.h"
#include "tcp.h"
#include "tree.h"

#endif
