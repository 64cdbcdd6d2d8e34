/*
 * bridge_start.c - when a bridge's remote link opens and when it opens again, by
 * mosquitto's start_type: `automatic` (at start, and after each loss once restart_timeout
 * has passed), `once` (at start, never again) and `lazy` (when `threshold` messages wait
 * for the remote; closed after `idle_timeout` with nothing to send). bridge.c makes the
 * attempts and closes the link; the policy is here.
 */
#include <stdlib.h>

#include "bridge_int.h"
#include "core.h"
#include "log.h"
#include "session.h"

static void on_retry(uv_timer_t *t) { ipb__bridge_attempt(t->data); }

/* Messages waiting for the remote in the bridge's session here: queued, or given to the
 * local side and not acknowledged by the remote yet (mosquitto counts both too). */
static uint32_t waiting(ipb_bridge_t *br)
{
    ipb_session_t *s = ipb__session_find(br->b, br->local_id);
    return s ? ipb__session_nqueued(s) + ipb__session_ninflight(s) : 0;
}

/* Once a second while a lazy bridge is down: mosquitto looks as often (its bridge check
 * runs once a second), and a count read costs one hash lookup. */
static void on_lazy_check(uv_timer_t *t)
{
    ipb_bridge_t *br = t->data;
    uint32_t n = waiting(br);
    if (n < br->cfg->threshold)
        return;
    uv_timer_stop(&br->timer);
    ipb__log(br->b, IPB_LOG_NOTICE, "Bridge %s: %u messages wait for the remote (threshold %u): "
             "connecting.", br->cfg->name, n, br->cfg->threshold);
    ipb__bridge_attempt(br);
}

void ipb__bridge_start(ipb_bridge_t *br)
{
    if (br->cfg->start_type == IPB_BRIDGE_LAZY)
        uv_timer_start(&br->timer, on_lazy_check, 1000, 1000);
    else
        ipb__bridge_attempt(br);
}

void ipb__bridge_next(ipb_bridge_t *br)
{
    const ipb_bridge_config_t *c = br->cfg;
    /* An attempt of a round failed with addresses still untried: the next one at once. */
    bool in_round = br->tries > 0 && br->tries < c->n_addresses;
    uint32_t delay_ms = 0;
    if (br->tries >= c->n_addresses) {
        br->tries = 0;
        if (!c->restart_cap) {
            br->sleep_s = c->restart_base;
        } else {
            /* Decorrelated jitter: random between base and three times the last sleep. */
            uint32_t hi = br->sleep_s ? br->sleep_s * 3 : c->restart_base * 3;
            uint32_t s = c->restart_base + (uint32_t)(rand() % (int)(hi - c->restart_base + 1));
            br->sleep_s = s < c->restart_cap ? s : c->restart_cap;
        }
        delay_ms = br->sleep_s * 1000;
    }
    if (c->start_type == IPB_BRIDGE_ONCE && !in_round) {
        ipb__log(br->b, IPB_LOG_NOTICE,
                 "Bridge %s: start_type once: %s, and is not tried again.", c->name,
                 br->ever_up ? "the connection ended" : "no address answered");
        return;
    }
    if (c->start_type == IPB_BRIDGE_LAZY && !in_round) {
        /* Down again (idle, lost, or a round that failed): wait for the threshold again,
         * after restart_timeout when the round failed. */
        uv_timer_start(&br->timer, on_lazy_check, delay_ms ? delay_ms : 1000, 1000);
        return;
    }
    uv_timer_start(&br->timer, on_retry, delay_ms, 0);
}

bool ipb__bridge_idle(ipb_bridge_t *br, uint64_t now)
{
    return br->cfg->start_type == IPB_BRIDGE_LAZY &&
           now - br->last_out >= (uint64_t)br->cfg->idle_timeout * 1000 && !waiting(br);
}
