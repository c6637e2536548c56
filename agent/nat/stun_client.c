/* See stun_client.h. */
#include "agent/wg/clock.h"
#include "agent/nat/stun_client.h"

#include <stdio.h>
#include <string.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

/* Answers older than this no longer describe the NAT. */
enum { FRESH_S = 3 * WM_STUN_REFRESH_S };

void wm_stun_client_init(struct wm_stun_client *sc)
{
	memset(sc, 0, sizeof(*sc));
}

bool wm_stun_client_add(struct wm_stun_client *sc, const char *hostport)
{
	struct wm_stun_server *s;

	if (sc->n == WM_STUN_MAX_SERVERS || strlen(hostport) >= WM_STUN_SERVER_TEXT)
		return false;
	s = &sc->servers[sc->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->text, sizeof(s->text), "%s", hostport);
	return true;
}

static void schedule_retry(struct wm_stun_server *s, uint64_t now)
{
	s->backoff_s = s->backoff_s ? s->backoff_s * 2 : 1;
	if (s->backoff_s > WM_STUN_BACKOFF_MAX_S)
		s->backoff_s = WM_STUN_BACKOFF_MAX_S;
	s->next_ns = now + SEC(s->backoff_s);
}

size_t wm_stun_client_tick(struct wm_stun_client *sc, uint64_t now,
			   int (*random)(void *buf, size_t len),
			   struct wm_stun_request *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->n && n < cap; i++) {
		struct wm_stun_server *s = &sc->servers[i];
		if (now < s->next_ns)
			continue;
		/* Re-resolve each round: a name may move. */
		if (wm_sockaddr_resolve(&s->addr, s->text) != 0 ||
		    random(s->txid, sizeof(s->txid)) < 0) {
			schedule_retry(s, now);
			continue;
		}
		out[n].to = s->addr;
		wm_stun_build_request(out[n++].msg, s->txid);
		s->sent_ns = now;
		schedule_retry(s, now);
	}
	return n;
}

/* A request awaits its answer: sent, not yet answered, and with a txid
 * no spoofer can guess (an all-zero one is what an answer leaves). */
static bool outstanding(const struct wm_stun_server *s)
{
	static const uint8_t zero[WM_STUN_TXID_LEN];

	return s->sent_ns && memcmp(s->txid, zero, sizeof(zero)) != 0;
}

static bool fresh(const struct wm_stun_server *s, uint64_t now)
{
	return s->answered_ns && wm_since(now, s->answered_ns) < SEC(FRESH_S);
}

void wm_stun_client_receive(struct wm_stun_client *sc, const uint8_t *buf,
			    size_t len, const union wm_sockaddr *src,
			    uint64_t now)
{
	union wm_sockaddr mapped;

	for (size_t i = 0; i < sc->n; i++) {
		struct wm_stun_server *s = &sc->servers[i];
		if (!outstanding(s) || !wm_sockaddr_equal(&s->addr, src))
			continue;
		if (!wm_stun_parse_response(buf, len, s->txid, &mapped))
			continue;
		sc->rx++;
		if (!fresh(s, now) || !wm_sockaddr_equal(&mapped, &s->mapped))
			sc->generation++;
		s->mapped = mapped;
		s->answered_ns = now;
		s->rtt_ns = wm_since(now, s->sent_ns);
		s->backoff_s = 0;
		s->next_ns = now + SEC(WM_STUN_REFRESH_S);
		s->sent_ns = 0;
		memset(s->txid, 0, sizeof(s->txid));
		return;
	}
	sc->rx_bad++;
}

size_t wm_stun_client_reflexive(const struct wm_stun_client *sc,
				union wm_sockaddr *out, size_t cap,
				uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->n; i++) {
		const struct wm_stun_server *s = &sc->servers[i];
		bool dup = false;
		if (!fresh(s, now))
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = wm_sockaddr_equal(&out[j], &s->mapped);
		if (!dup && n < cap)
			out[n++] = s->mapped;
	}
	return n;
}

static bool same_ip(const union wm_sockaddr *a, const union wm_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

enum wm_nat_mapping wm_stun_client_mapping(const struct wm_stun_client *sc,
					   uint64_t now)
{
	/* Needs two answers of one family from servers on different IPs. */
	for (size_t i = 0; i < sc->n; i++) {
		const struct wm_stun_server *a = &sc->servers[i];
		if (!fresh(a, now))
			continue;
		for (size_t j = i + 1; j < sc->n; j++) {
			const struct wm_stun_server *b = &sc->servers[j];
			if (!fresh(b, now) || same_ip(&a->addr, &b->addr) ||
			    a->mapped.sa.sa_family != b->mapped.sa.sa_family)
				continue;
			return wm_sockaddr_equal(&a->mapped, &b->mapped)
				       ? WM_NAT_ENDPOINT_INDEPENDENT
				       : WM_NAT_ENDPOINT_DEPENDENT;
		}
	}
	return WM_NAT_UNKNOWN;
}

const char *wm_nat_mapping_name(enum wm_nat_mapping m)
{
	switch (m) {
	case WM_NAT_ENDPOINT_INDEPENDENT: return "endpoint-independent";
	case WM_NAT_ENDPOINT_DEPENDENT: return "endpoint-dependent";
	case WM_NAT_UNKNOWN: break;
	}
	return "unknown";
}
