/* See birthday.h for the protocol and its numbers. */
#include "agent/nat/birthday.h"

#include <string.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

void wm_birthday_peer_mapping(struct wm_birthday *b, uint8_t mapping,
			      uint64_t now)
{
	b->peer_mapping = mapping;
	if (mapping != WM_BDAY_MAP_EASY)
		b->peer_easy_ns = 0;
	else if (!b->peer_easy_ns)
		b->peer_easy_ns = now ? now : 1;
}

/* Whether the pair may probe at all: a path that can be direct, allowed,
 * not there yet, and the relay up to coordinate through. */
static bool wanted(const struct wm_bday_view *v)
{
	return v->enabled && v->mode != WM_PATH_RELAY && !v->direct_proven &&
	       v->relay_up;
}

static void start(struct wm_birthday *b, enum wm_bday_role role, uint64_t now)
{
	b->role = role;
	b->started_ns = now;
	b->until_ns = now + SEC(WM_BDAY_WINDOW_S);
	b->sent = 0;
	b->won = false;
	b->attempts++;
}

bool wm_birthday_hard_due(struct wm_birthday *b, const struct wm_bday_view *v,
			  uint64_t now)
{
	if (b->role != WM_BDAY_IDLE || !wanted(v) ||
	    v->our_mapping != WM_BDAY_MAP_HARD ||
	    b->peer_mapping != WM_BDAY_MAP_EASY || !b->peer_easy_ns ||
	    now < b->peer_easy_ns + SEC(WM_BDAY_GRACE_S) || now < b->next_ns)
		return false;
	start(b, WM_BDAY_HARD, now);
	return true;
}

bool wm_birthday_public(const union wm_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET) {
		const uint8_t *b = (const uint8_t *)&a->in.sin_addr;
		return b[0] != 0 && b[0] != 10 && b[0] != 127 && b[0] < 224 &&
		       !(b[0] == 169 && b[1] == 254) &&
		       !(b[0] == 172 && (b[1] & 0xf0) == 16) &&
		       !(b[0] == 192 && b[1] == 168) &&
		       !(b[0] == 100 && (b[1] & 0xc0) == 64);
	}
	if (a->sa.sa_family == AF_INET6) {
		const struct in6_addr *x = &a->in6.sin6_addr;
		return (x->s6_addr[0] & 0xfe) != 0xfc && !IN6_IS_ADDR_LOOPBACK(x) &&
		       !IN6_IS_ADDR_UNSPECIFIED(x) && !IN6_IS_ADDR_LINKLOCAL(x) &&
		       !IN6_IS_ADDR_MULTICAST(x) && !IN6_IS_ADDR_V4MAPPED(x);
	}
	return false;
}

static const union wm_sockaddr *public_of(const union wm_sockaddr *a,
					  size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].sa.sa_family == family && wm_birthday_public(&a[i]))
			return &a[i];
	return NULL;
}

size_t wm_birthday_hard_targets(const union wm_sockaddr *cand, size_t n_cand,
				const union wm_sockaddr *ours, size_t n_ours,
				union wm_sockaddr to[WM_BDAY_TARGETS],
				union wm_sockaddr *me)
{
	const union wm_sockaddr *mine = NULL;
	size_t n = 0;

	/* One family for all: the easy side probes me from one socket, and
	 * our sockets' pings open mappings only toward that family. */
	for (size_t i = 0; i < n_cand && !mine; i++)
		if (wm_birthday_public(&cand[i]))
			mine = public_of(ours, n_ours, cand[i].sa.sa_family);
	if (!mine)
		return 0;
	for (size_t i = 0; i < n_cand && n < WM_BDAY_TARGETS; i++)
		if (cand[i].sa.sa_family == mine->sa.sa_family &&
		    wm_birthday_public(&cand[i]))
			to[n++] = cand[i];
	*me = *mine;
	return n;
}

bool wm_birthday_easy_start(struct wm_birthday *b, const struct wm_bday_view *v,
			    const union wm_sockaddr *target,
			    int (*random)(void *buf, size_t len), uint64_t now)
{
	/* Both hard: no birthday meets two moving targets. The hard side
	 * paces the attempts; easy_ok_ns only bounds what a hostile peer
	 * can make us send (one attempt's probes per WM_BDAY_EASY_GAP_S). */
	if (b->role != WM_BDAY_IDLE || !wanted(v) ||
	    v->our_mapping == WM_BDAY_MAP_HARD ||
	    !wm_birthday_public(target) ||
	    now < b->easy_ok_ns || random(b->txid, sizeof(b->txid)) < 0)
		return false;
	b->target = *target;
	start(b, WM_BDAY_EASY, now);
	return true;
}

size_t wm_birthday_easy_probes(struct wm_birthday *b, uint64_t now,
			       int (*random)(void *buf, size_t len),
			       union wm_sockaddr *out, size_t cap)
{
	uint16_t ports[WM_BDAY_PER_TICK];
	size_t n = 0;

	if (b->role != WM_BDAY_EASY || b->won || now >= b->until_ns)
		return 0;
	if (cap > WM_BDAY_PER_TICK)
		cap = WM_BDAY_PER_TICK;
	if (cap > WM_BDAY_PROBES - b->sent)
		cap = WM_BDAY_PROBES - b->sent;
	if (!cap || random(ports, cap * sizeof(ports[0])) < 0)
		return 0;
	for (; n < cap; n++) {
		uint16_t port = (uint16_t)(WM_BDAY_PORT_MIN +
			ports[n] % (65536 - WM_BDAY_PORT_MIN));
		out[n] = b->target;
		if (out[n].sa.sa_family == AF_INET)
			out[n].in.sin_port = htons(port);
		else
			out[n].in6.sin6_port = htons(port);
	}
	b->sent += (unsigned)n;
	return n;
}

bool wm_birthday_is_probe(const struct wm_birthday *b,
			  const uint8_t txid[WM_DISCO_TXID])
{
	return b->role == WM_BDAY_EASY && !b->won &&
	       memcmp(b->txid, txid, WM_DISCO_TXID) == 0;
}

static void schedule(struct wm_birthday *b, uint64_t now)
{
	b->backoff_s = b->backoff_s ? b->backoff_s * 2 : WM_BDAY_BACKOFF_MIN_S;
	if (b->backoff_s > WM_BDAY_BACKOFF_MAX_S)
		b->backoff_s = WM_BDAY_BACKOFF_MAX_S;
	b->next_ns = now + SEC(b->backoff_s);
}

void wm_birthday_won(struct wm_birthday *b, uint64_t now)
{
	if (b->role == WM_BDAY_EASY)
		b->easy_ok_ns = now + SEC(WM_BDAY_EASY_GAP_S);
	b->won = true;
	b->role = WM_BDAY_IDLE;
	b->backoff_s = 0;
	schedule(b, now);
	memset(b->txid, 0, sizeof(b->txid));
}

bool wm_birthday_expire(struct wm_birthday *b, uint64_t now, bool stop)
{
	if (b->role == WM_BDAY_IDLE || (!stop && now < b->until_ns))
		return false;
	if (b->role == WM_BDAY_EASY)
		b->easy_ok_ns = now + SEC(WM_BDAY_EASY_GAP_S);
	b->role = WM_BDAY_IDLE;
	memset(b->txid, 0, sizeof(b->txid));
	schedule(b, now);
	return true;
}
