/* See peer.h. */
#include "agent/peer.h"
#include "crypto/ct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct wm_peer *wm_peer_new(const struct wm_noise_local *local,
			    struct wm_index *index,
			    const uint8_t public_key[WM_KEY_SIZE], uint64_t seed)
{
	struct wm_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->index = index;
	memcpy(p->public_key, public_key, WM_KEY_SIZE);
	wm_timers_init(&p->timers, seed);
	wm_noise_peer_init(&p->noise, local, public_key, NULL);
	wm_cookie_maker_init(&p->cookie, public_key);
	p->endpoint.sa.sa_family = AF_UNSPEC;
	p->direct_fd = -1;
	p->relay = -1;
	return p;
}

static void drop_session(struct wm_peer *p, struct wm_session *s)
{
	if (!s || !s->valid)
		return;
	wm_index_remove(p->index, s->kp.local_index);
	wm_session_wipe(s);
}

static void drop_handshake(struct wm_peer *p)
{
	if (p->hs.state != WM_HS_ZEROED)
		wm_index_remove(p->index, p->hs.local_index);
	wm_memzero(&p->hs, sizeof(p->hs));
}

void wm_peer_zero_sessions(struct wm_peer *p)
{
	if (p->sessions) {
		for (int i = 0; i < 3; i++)
			drop_session(p, &p->sessions[i]);
		wm_memzero(p->sessions, 3 * sizeof(*p->sessions));
		free(p->sessions);
		p->sessions = NULL;
	}
	p->current = p->previous = p->next_session = NULL;
	drop_handshake(p);
}

void wm_peer_free(struct wm_peer *p)
{
	if (!p)
		return;
	wm_peer_zero_sessions(p);
	wm_peer_clear_staged(p);
	wm_discovery_free(&p->disco);
	wm_memzero(p, sizeof(*p));
	free(p);
}

bool wm_peer_set_endpoint(struct wm_peer *p, const union wm_sockaddr *ep,
			  enum wm_endpoint_source src)
{
	bool changed = !wm_sockaddr_equal(&p->endpoint, ep);

	if (src == WM_EP_CONFIG) {
		/* A new address proves nothing yet. */
		if (changed)
			p->path.direct_rx_ns = 0;
		p->config_endpoint = *ep;
	}
	p->endpoint = *ep;
	return changed;
}

void wm_peer_set_keepalive(struct wm_peer *p, uint16_t secs, uint64_t now)
{
	p->persistent_keepalive = secs;
	wm_timers_set_persistent_keepalive(&p->timers, secs, now);
}

bool wm_peer_has_endpoint(const struct wm_peer *p)
{
	return p->endpoint.sa.sa_family != AF_UNSPEC;
}

void wm_peer_set_psk(struct wm_peer *p, const uint8_t *psk)
{
	if (psk)
		memcpy(p->noise.preshared_key, psk, WM_KEY_SIZE);
	else
		wm_memzero(p->noise.preshared_key, WM_KEY_SIZE);
}

bool wm_peer_stage(struct wm_peer *p, const uint8_t *pkt, size_t len)
{
	bool kept_all = true;
	struct wm_staged *n = malloc(sizeof(*n) + len);

	if (!n)
		return false;
	if (p->staged_len == WM_STAGED_MAX) {
		free(wm_peer_unstage(p));
		kept_all = false;
	}
	n->next = NULL;
	n->len = len;
	memcpy(n->data, pkt, len);
	if (p->staged_last)
		p->staged_last->next = n;
	else
		p->staged_first = n;
	p->staged_last = n;
	p->staged_len++;
	return kept_all;
}

struct wm_staged *wm_peer_unstage(struct wm_peer *p)
{
	struct wm_staged *n = p->staged_first;

	if (!n)
		return NULL;
	p->staged_first = n->next;
	if (!p->staged_first)
		p->staged_last = NULL;
	p->staged_len--;
	n->next = NULL;
	return n;
}

void wm_peer_clear_staged(struct wm_peer *p)
{
	struct wm_staged *n;

	while ((n = wm_peer_unstage(p)))
		free(n);
}

static struct wm_session *free_slot(struct wm_peer *p)
{
	for (int i = 0; i < 3; i++) {
		struct wm_session *s = &p->sessions[i];
		if (s != p->current && s != p->previous && s != p->next_session)
			return s;
	}
	return NULL; /* unreachable: three slots, three roles */
}

struct wm_session *wm_peer_install_session(struct wm_peer *p,
					   const struct wm_keypair *kp)
{
	struct wm_session *s;

	if (!p->sessions && !(p->sessions = calloc(3, sizeof(*p->sessions))))
		return NULL;
	if (kp->is_initiator) {
		/* Our own handshake finished: use it at once. A pending next
		 * is superseded, and the old current stays for stragglers. */
		if (p->next_session) {
			drop_session(p, p->next_session);
			p->next_session = NULL;
		}
		drop_session(p, p->previous);
		p->previous = p->current;
		s = free_slot(p);
		p->current = s;
	} else {
		/* Responder: wait for the initiator's first packet. */
		drop_session(p, p->next_session);
		p->next_session = NULL;
		s = free_slot(p);
		p->next_session = s;
	}
	wm_session_start(s, kp);
	wm_index_update(p->index, kp->local_index, s);
	return s;
}

void wm_peer_confirm_next(struct wm_peer *p)
{
	if (!p->next_session)
		return;
	drop_session(p, p->previous);
	p->previous = p->current;
	p->current = p->next_session;
	p->next_session = NULL;
}
