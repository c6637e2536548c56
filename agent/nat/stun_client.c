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
	s->derived_from = -1;
	snprintf(s->text, sizeof(s->text), "%s", hostport);
	return true;
}

void wm_stun_client_set_resolver(struct wm_stun_client *sc,
				 int (*resolve)(void *ctx, const char *text,
						union wm_sockaddr *out),
				 void *ctx)
{
	sc->resolve = resolve;
	sc->resolve_ctx = ctx;
}

static bool server_address(struct wm_stun_client *sc, struct wm_stun_server *s)
{
	if (s->derived_from >= 0)
		return true; /* fixed when it was learned */
	if (sc->resolve)
		return sc->resolve(sc->resolve_ctx, s->text, &s->addr) == 0;
	return wm_sockaddr_parse(&s->addr, s->text);
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
		/* Look the name up each round: it may move. */
		if (!server_address(sc, s) ||
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

void wm_stun_client_probe_now(struct wm_stun_client *sc, uint64_t now)
{
	for (size_t i = 0; i < sc->n; i++)
		sc->servers[i].next_ns = now;
}

bool wm_stun_client_answered_since(const struct wm_stun_client *sc,
				   uint64_t since)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->servers[i].answered_ns < since)
			return false;
	return true;
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

static uint16_t port_of(const union wm_sockaddr *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port
						: a->in6.sin6_port);
}

/* The server's address with its other port. */
static union wm_sockaddr other_of(const struct wm_stun_server *s,
				  uint16_t port)
{
	union wm_sockaddr a = s->addr;

	if (a.sa.sa_family == AF_INET)
		a.in.sin_port = htons(port);
	else
		a.in6.sin6_port = htons(port);
	return a;
}

static void set_derived(struct wm_stun_server *d, const union wm_sockaddr *a)
{
	char text[WM_STUN_SERVER_TEXT / 2];

	d->addr = *a;
	wm_sockaddr_format(text, sizeof(text), a);
	snprintf(d->text, sizeof(d->text), "%s", text);
}

/* Server i named port as its other one: probe it too (same IP), once. */
static void learn_other_port(struct wm_stun_client *sc, size_t i,
			     uint16_t port)
{
	const struct wm_stun_server *s = &sc->servers[i];
	struct wm_stun_server *d;
	union wm_sockaddr want;

	if (s->derived_from >= 0 || !port || port == port_of(&s->addr))
		return;
	want = other_of(s, port);
	for (size_t j = 0; j < sc->n; j++)
		if (sc->servers[j].derived_from == (int)i) {
			d = &sc->servers[j];
			if (!wm_sockaddr_equal(&d->addr, &want)) {
				/* The server moved its second port, or its
				 * name now resolves elsewhere: the old
				 * address answers for it no more. */
				set_derived(d, &want);
				d->answered_ns = 0;
				d->backoff_s = 0;
				d->next_ns = 0;
			}
			return;
		}
	if (sc->n == WM_STUN_MAX_SERVERS)
		return;
	d = &sc->servers[sc->n++];
	memset(d, 0, sizeof(*d));
	d->derived_from = (int)i;
	set_derived(d, &want);
}

void wm_stun_client_receive(struct wm_stun_client *sc, const uint8_t *buf,
			    size_t len, const union wm_sockaddr *src,
			    uint64_t now)
{
	struct wm_stun_msg m;

	for (size_t i = 0; i < sc->n; i++) {
		struct wm_stun_server *s = &sc->servers[i];
		if (!outstanding(s) || !wm_sockaddr_equal(&s->addr, src))
			continue;
		if (!wm_stun_parse(&m, buf, len) ||
		    m.type != WM_STUN_BINDING_SUCCESS || m.classic ||
		    memcmp(m.txid, s->txid, WM_STUN_TXID_LEN) != 0 ||
		    m.n_unknown || !m.has_mapped)
			continue;
		sc->rx++;
		if (!fresh(s, now) || !wm_sockaddr_equal(&m.mapped, &s->mapped))
			sc->generation++;
		s->mapped = m.mapped;
		if (m.has_other && m.other.sa.sa_family == s->addr.sa.sa_family)
			learn_other_port(sc, i, port_of(&m.other));
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

enum wm_nat_mapping wm_stun_client_mapping(const struct wm_stun_client *sc,
					   uint64_t now)
{
	enum wm_nat_mapping verdict = WM_NAT_UNKNOWN;

	/* Needs two answers of one family from two destinations (another
	 * IP, or the same IP's other port). One pair that differs settles
	 * it: a NAT that maps two destinations apart is endpoint-dependent,
	 * whatever the other pairs show. A NAT whose mapping depends on the
	 * IP alone looks independent to two ports of one IP. */
	for (size_t i = 0; i < sc->n; i++) {
		const struct wm_stun_server *a = &sc->servers[i];
		if (!fresh(a, now))
			continue;
		for (size_t j = i + 1; j < sc->n; j++) {
			const struct wm_stun_server *b = &sc->servers[j];
			if (!fresh(b, now) || wm_sockaddr_equal(&a->addr, &b->addr) ||
			    a->mapped.sa.sa_family != b->mapped.sa.sa_family)
				continue;
			if (!wm_sockaddr_equal(&a->mapped, &b->mapped))
				return WM_NAT_ENDPOINT_DEPENDENT;
			verdict = WM_NAT_ENDPOINT_INDEPENDENT;
		}
	}
	return verdict;
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
