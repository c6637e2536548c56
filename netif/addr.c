/* See addr.h. */
#include "netif/addr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

/* Longer text is garbage anyway; bounding it lets us copy to the stack. */
enum { TEXT_MAX = 300 };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal only, no sign, no spaces: "+80" or " 80" would surprise. */
static bool parse_uint(unsigned long *out, const char *s, size_t maxdigits,
		       unsigned long max)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; is_digit(s[n]); n++) {
		if (n == maxdigits)
			return false;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || s[n] || v > max)
		return false;
	*out = v;
	return true;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool wm_cidr_parse(struct wm_cidr *out, const char *text)
{
	char buf[WM_CIDR_STRLEN];
	struct wm_cidr c = { 0 };
	unsigned long prefix;
	char *slash;
	size_t len = strlen(text);

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	/* A colon decides the family, so "1.2.3.4" never parses as v6. */
	c.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, buf, c.addr) != 1)
		return false;
	prefix = addr_len(c.family) * 8;
	if (slash && !parse_uint(&prefix, slash + 1, 3, prefix))
		return false;
	c.cidr = (uint8_t)prefix;
	*out = c;
	return true;
}

char *wm_cidr_format(char *buf, size_t len, const struct wm_cidr *c)
{
	char ip[INET6_ADDRSTRLEN];

	if ((c->family != AF_INET && c->family != AF_INET6) ||
	    !inet_ntop(c->family, c->addr, ip, sizeof(ip)))
		snprintf(buf, len, "(invalid)");
	else
		snprintf(buf, len, "%s/%u", ip, c->cidr);
	return buf;
}

void wm_cidr_mask(struct wm_cidr *c)
{
	size_t n = addr_len(c->family);

	for (size_t i = 0; i < n; i++) {
		int keep = (int)c->cidr - (int)i * 8;

		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

bool wm_cidr_equal(const struct wm_cidr *a, const struct wm_cidr *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

/*
 * Splits "host:port" or "[host]:port" in place. host points into buf,
 * without brackets; *bracketed says which form it was. A bare host with a
 * colon is refused: "fd00::1:51820" has no single reading.
 */
static bool split_host_port(char *buf, char **host, char **port,
			    bool *bracketed)
{
	char *colon;

	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':' || close == buf + 1)
			return false;
		*close = '\0';
		*host = buf + 1;
		*port = close + 2;
		*bracketed = true;
		return true;
	}
	colon = strchr(buf, ':');
	if (!colon || colon == buf || strchr(colon + 1, ':'))
		return false;
	*colon = '\0';
	*host = buf;
	*port = colon + 1;
	*bracketed = false;
	return true;
}

/* Parses a v6 literal with an optional "%scope" (name or index). */
static bool parse_in6(struct sockaddr_in6 *in6, char *host)
{
	char *pct = strchr(host, '%');
	unsigned long scope = 0;

	if (pct) {
		*pct++ = '\0';
		if (!parse_uint(&scope, pct, 10, UINT32_MAX)) {
			scope = if_nametoindex(pct);
			if (!scope)
				return false;
		}
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
		return false;
	in6->sin6_scope_id = (uint32_t)scope;
	return true;
}

bool wm_sockaddr_parse(union wm_sockaddr *out, const char *text)
{
	char buf[TEXT_MAX], *host, *port;
	union wm_sockaddr a;
	unsigned long p;
	bool bracketed;
	size_t len = strlen(text);

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, text, len + 1);
	if (!split_host_port(buf, &host, &port, &bracketed) ||
	    !parse_uint(&p, port, 5, 65535))
		return false;
	memset(&a, 0, sizeof(a));
	if (bracketed) {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons((uint16_t)p);
		if (!parse_in6(&a.in6, host))
			return false;
	} else {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a.in.sin_addr) != 1)
			return false;
	}
	*out = a;
	return true;
}

int wm_sockaddr_resolve(union wm_sockaddr *out, const char *text)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai, *v4 = NULL, *v6 = NULL;
	char buf[TEXT_MAX], *host, *port;
	unsigned long p;
	bool bracketed;
	size_t len = strlen(text);
	int r;

	if (len >= sizeof(buf))
		return EAI_NONAME;
	memcpy(buf, text, len + 1);
	if (!split_host_port(buf, &host, &port, &bracketed))
		return EAI_NONAME;
	if (!parse_uint(&p, port, 5, 65535))
		return EAI_SERVICE;
	/* Brackets promise a v6 literal; never send one to DNS. */
	if (bracketed) {
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r)
		return r;
	for (ai = res; ai; ai = ai->ai_next) {
		if (!v4 && ai->ai_family == AF_INET &&
		    ai->ai_addrlen == sizeof(struct sockaddr_in))
			v4 = ai;
		if (!v6 && ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen == sizeof(struct sockaddr_in6))
			v6 = ai;
	}
	/* v4 first: a dual-stack name usually has a v4 path that works. */
	ai = v4 ? v4 : v6;
	if (ai) {
		memset(out, 0, sizeof(*out));
		memcpy(out, ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	return ai ? 0 : EAI_ADDRFAMILY;
}

static bool is_v4_mapped(const struct sockaddr_in6 *in6)
{
	return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
}

char *wm_sockaddr_format(char *buf, size_t len, const union wm_sockaddr *a)
{
	char ip[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 12] = "";

	switch (a->sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a->in.sin_port));
		break;
	case AF_INET6:
		if (is_v4_mapped(&a->in6)) {
			inet_ntop(AF_INET, &a->in6.sin6_addr.s6_addr[12], ip,
				  sizeof(ip));
			snprintf(buf, len, "%s:%u", ip, ntohs(a->in6.sin6_port));
			break;
		}
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		if (a->in6.sin6_scope_id) {
			char name[IF_NAMESIZE];

			if (if_indextoname(a->in6.sin6_scope_id, name))
				snprintf(scope, sizeof(scope), "%%%s", name);
			else
				snprintf(scope, sizeof(scope), "%%%u",
					 a->in6.sin6_scope_id);
		}
		snprintf(buf, len, "[%s%s]:%u", ip, scope,
			 ntohs(a->in6.sin6_port));
		break;
	default:
		snprintf(buf, len, "(none)");
	}
	return buf;
}

/* Reduces a v4-mapped v6 address to v4 so the two spellings compare equal. */
static void normalize(union wm_sockaddr *out, const union wm_sockaddr *a)
{
	*out = *a;
	if (a->sa.sa_family == AF_INET6 && is_v4_mapped(&a->in6)) {
		memset(out, 0, sizeof(*out));
		out->in.sin_family = AF_INET;
		out->in.sin_port = a->in6.sin6_port;
		memcpy(&out->in.sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
	}
}

bool wm_sockaddr_equal(const union wm_sockaddr *a, const union wm_sockaddr *b)
{
	union wm_sockaddr x, y;

	normalize(&x, a);
	normalize(&y, b);
	if (x.sa.sa_family != y.sa.sa_family)
		return false;
	switch (x.sa.sa_family) {
	case AF_INET:
		return x.in.sin_port == y.in.sin_port &&
		       x.in.sin_addr.s_addr == y.in.sin_addr.s_addr;
	case AF_INET6:
		/* flowinfo is per packet, not part of the endpoint. */
		return x.in6.sin6_port == y.in6.sin6_port &&
		       x.in6.sin6_scope_id == y.in6.sin6_scope_id &&
		       IN6_ARE_ADDR_EQUAL(&x.in6.sin6_addr, &y.in6.sin6_addr);
	default:
		return true; /* both unset */
	}
}

socklen_t wm_sockaddr_len(const union wm_sockaddr *a)
{
	switch (a->sa.sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}
