/*
 * stun_server.h - what a STUN server (the relay) answers to one Binding
 * request, and from which of its two ports.
 *
 * The relay listens for STUN on its ListenPort and, unless turned off, on
 * a second port (STUNAltPort). Answers name the other port in
 * OTHER-ADDRESS (CHANGED-ADDRESS for RFC 3489 clients), so one relay is
 * enough for a client to compare the mappings two destinations get: the
 * same reflexive address from both ports means an endpoint-independent
 * mapping, two different ones an endpoint-dependent (symmetric) NAT.
 *
 * CHANGE-REQUEST: no flags, answered as usual; "change port", answered
 * from the other port; "change IP" needs a second address this server
 * does not have, so it gets no answer (a classic client then takes the
 * filter for what it is when the server cannot help, not for open).
 * Pure: bytes in, bytes out, the caller owns the sockets.
 */
#ifndef WM_STUN_SERVER_H
#define WM_STUN_SERVER_H

#include "agent/nat/stun.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_stun_server_ports {
	uint16_t port;     /* the primary (relay) port */
	uint16_t alt_port; /* 0: no second port */
};

enum wm_stun_reply {
	WM_STUN_REPLY_NONE = 0, /* not a request we answer */
	WM_STUN_REPLY_SAME,     /* answer from the port it came to */
	WM_STUN_REPLY_OTHER,    /* answer from the other port */
};

/* The answer to buf, which came from src to local (the address it was
 * sent to, port ignored; AF_UNSPEC when unknown) on the alt port when
 * on_alt. out must hold WM_STUN_ANSWER_MAX and WM_STUN_ERROR_MAX bytes.
 * *malformed is set when buf did not parse. */
enum wm_stun_reply wm_stun_server_answer(const struct wm_stun_server_ports *ports,
					 bool on_alt, const uint8_t *buf,
					 size_t len, const union wm_sockaddr *src,
					 const union wm_sockaddr *local,
					 uint8_t *out, size_t *out_len,
					 bool *malformed);

#endif
