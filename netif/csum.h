/*
 * csum.h - the Internet checksum (RFC 1071) for IPv4 headers and TCP/UDP
 * over IPv4 and IPv6, as the offload code (gso.c, gro.c) needs it.
 *
 * A running sum is a uint64_t of 32-bit words added in the host's byte
 * order; the one's-complement sum does not care which order, so a folded
 * value is stored into a packet as it is (memcpy), exactly as Linux stores
 * a __sum16. Chunks may be summed in any number of calls as long as every
 * chunk but the last has an even length.
 */
#ifndef WM_NETIF_CSUM_H
#define WM_NETIF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p to sum and returns the new running sum. */
uint64_t wm_csum_add(uint64_t sum, const uint8_t *p, size_t len);

/* Folds a running sum to 16 bits, not complemented, in memory order. */
uint16_t wm_csum_fold(uint64_t sum);

/* The running sum of the TCP/UDP pseudo-header: source and destination
 * addresses of alen bytes each (4 or 16, back to back at addrs as in the
 * IPv4 and IPv6 headers), the protocol and the L4 length. */
uint64_t wm_csum_pseudo(const uint8_t *addrs, size_t alen, uint8_t proto,
			uint32_t l4_len);

/* Writes the checksum field at field (2 bytes, inside [p, p+len)) so the
 * region p..p+len plus the running sum start sums to all ones: the field
 * is zeroed first. */
void wm_csum_fill(uint8_t *field, uint64_t start, const uint8_t *p,
		  size_t len);

/* Recomputes an IPv4 header's checksum in place (hlen bytes). */
void wm_csum_ipv4_header(uint8_t *iph, size_t hlen);

#endif
