/*
 * names.h - the agent's host names, looked up by agent/resolver.c off the
 * loop: the relay's and STUN servers' (through the resolve callback their
 * cores take) and peer endpoints given as names in the config.
 *
 * A peer whose Endpoint = names a host starts without an endpoint (it can
 * still be reached through the relay, or answer the peer's handshakes);
 * the address is applied when the resolver has it, with the rule the
 * config applies (a roamed endpoint that works is kept). A name that does
 * not resolve is logged once with file:line and retried. The resolver
 * refreshes every name it is asked for: when a peer's name moves (a
 * dynamic DNS peer), the new address replaces the endpoint unless the
 * one in use is answering now.
 */
#ifndef WM_NAMES_H
#define WM_NAMES_H

#include "agent/config.h"
#include "agent/device.h"
#include "agent/resolver.h"

#include <stdint.h>

/* The resolve callback for the relay and STUN cores (ctx: the resolver). */
int wm_names_resolve(void *ctx, const char *text, union wm_sockaddr *out);

/* Applies the configured endpoint names the resolver has answered. */
void wm_names_apply_endpoints(struct wm_resolver *r, struct wm_config *cfg,
			      struct wm_device *dev, uint64_t now_ns);

#endif
