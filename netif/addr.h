/*
 * addr.h - the address types every part of wiremesh shares: an IP prefix
 * (Address =, AllowedIPs =, routes) and a UDP endpoint (v4 or v6).
 */
#ifndef WM_NETIF_ADDR_H
#define WM_NETIF_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 prefix. addr holds 4 or 16 bytes in network order. */
struct wm_cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t cidr;   /* 0..32 or 0..128 */
	uint8_t addr[16];
};

/* A UDP endpoint; sa.sa_family is AF_UNSPEC when unset. */
union wm_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

enum { WM_CIDR_STRLEN = 64, WM_SOCKADDR_STRLEN = 64 };

/* Parses "10.0.0.1/24", "fd00::1/64" or a bare address (a host prefix).
 * Host bits are kept as written (Address = needs them). False on error. */
bool wm_cidr_parse(struct wm_cidr *out, const char *text);
/* "10.0.0.1/24"; buf of WM_CIDR_STRLEN. Returns buf. */
char *wm_cidr_format(char *buf, size_t len, const struct wm_cidr *c);
/* Clears host bits (AllowedIPs and routes want the network). */
void wm_cidr_mask(struct wm_cidr *c);
bool wm_cidr_equal(const struct wm_cidr *a, const struct wm_cidr *b);

/* Parses a numeric "1.2.3.4:51820" or "[fd00::1]:51820". No DNS. */
bool wm_sockaddr_parse(union wm_sockaddr *out, const char *text);
/* Resolves "host:port" / "[v6]:port" (names allowed, numeric port).
 * Returns 0 or a negative EAI_* code (use gai_strerror). */
int wm_sockaddr_resolve(union wm_sockaddr *out, const char *text);
/* "1.2.3.4:51820" or "[fd00::1]:51820"; v4-mapped v6 shown as v4. */
char *wm_sockaddr_format(char *buf, size_t len, const union wm_sockaddr *a);
bool wm_sockaddr_equal(const union wm_sockaddr *a, const union wm_sockaddr *b);
socklen_t wm_sockaddr_len(const union wm_sockaddr *a);

#endif
