/*
 * netif/gso.c: TSO and USO super-packets split into segments, checked
 * byte for byte against the naive segmenter of offload_model.h (and every
 * checksum against its plain RFC 1071 sum) for IPv4 and IPv6, with and
 * without IP and TCP options, every payload size from 1 to MTU + 1 and a
 * 64 KB super-packet; checksums filled in for single packets; malformed
 * headers refused.
 */
#include "check.h"
#include "netif/gso.h"
#include "offload_model.h"

#include <errno.h>

enum { MTU = 1420, SLOTS = 7, STRIDE = 16 + MTU + 32 + 64 };

static uint8_t super[70000], model[70000];
static uint8_t slots[SLOTS * STRIDE];
static size_t lens[SLOTS];

/* Splits b and compares every segment with the model; true when all
 * matched. */
static bool split_matches(const struct virtio_net_hdr *vh, const uint8_t *b,
			  size_t len, size_t mss)
{
	struct wm_gso_segs out = { slots, STRIDE, 16, 32, SLOTS, lens };
	size_t first = 0, total = 0, want_total = 0;
	bool ok = true;

	while (m_segment(model, b, len, mss, want_total))
		want_total++;
	do {
		int n = wm_gso_split(vh, b, len, first, &out, &total);

		if (n <= 0 || total != want_total)
			return false;
		for (int k = 0; k < n; k++) {
			const uint8_t *seg = slots + (size_t)k * STRIDE + 16;
			size_t ml = m_segment(model, b, len, mss, first + (size_t)k);

			ok = ok && lens[k] == ml && memcmp(seg, model, ml) == 0 &&
			     m_csums_ok(seg, lens[k]) && lens[k] <= STRIDE - 48;
		}
		first += (size_t)n;
	} while (first < total);
	return ok;
}

static void tcp_matrix(size_t mss_of_mtu_minus, size_t small_mss)
{
	for (int v4 = 0; v4 <= 1; v4++)
		for (size_t ipopt = 0; ipopt <= (v4 ? 8u : 0u); ipopt += 8)
			for (int opt = 0; opt <= 2; opt++) {
				struct mpkt m = { .v4 = v4, .ipopt = ipopt,
						  .tcpopt = opt, .proto = 6,
						  .flags = M_ACK | M_PSH | M_FIN | M_CWR,
						  .seq = 0xfffff000u, .ack = 99,
						  .id = 0xfffe, .tsval = 5 };
				size_t hdr = (v4 ? 20 + ipopt : 40) + m_l4len(&m);
				size_t mss = MTU - hdr - mss_of_mtu_minus;
				struct virtio_net_hdr vh;
				size_t len;
				bool ok = true;

				if (small_mss)
					mss = small_mss;
				for (m.payload = 1; m.payload <= MTU + 1; m.payload++) {
					len = m_build(super, &m);
					vh = m_make_super(super, len, (uint16_t)mss);
					if (!split_matches(&vh, super, len, mss)) {
						fprintf(stderr, "v4 %d ipopt %zu opt %d mss %zu payload %zu\n",
							v4, ipopt, opt, mss, m.payload);
						ok = false;
						break;
					}
				}
				CHECK(ok);
				m.payload = 65535 - hdr;
				len = m_build(super, &m);
				CHECK(len == 65535);
				vh = m_make_super(super, len, (uint16_t)mss);
				CHECK(split_matches(&vh, super, len, mss));
			}
}

TEST(tcp_split_at_mtu_matches_model)
{
	tcp_matrix(0, 0);
}

TEST(tcp_split_small_mss_matches_model)
{
	tcp_matrix(0, 97);
}

TEST(udp_split_matches_model)
{
	for (int v4 = 0; v4 <= 1; v4++) {
		struct mpkt m = { .v4 = v4, .proto = 17, .id = 7 };
		size_t mss = 1200;
		bool ok = true;

		for (m.payload = 1; m.payload <= 5000; m.payload += 37) {
			size_t len = m_build(super, &m);
			struct virtio_net_hdr vh = m_make_super(super, len, (uint16_t)mss);

			ok = ok && split_matches(&vh, super, len, mss);
		}
		CHECK(ok);
	}
}

TEST(tcp_flags_only_where_they_belong)
{
	struct mpkt m = { .v4 = 1, .proto = 6, .payload = 3000,
			  .flags = M_ACK | M_PSH | M_FIN | M_CWR };
	struct wm_gso_segs out = { slots, STRIDE, 16, 32, SLOTS, lens };
	size_t len = m_build(super, &m), total;
	struct virtio_net_hdr vh = m_make_super(super, len, 1000);

	CHECK(wm_gso_split(&vh, super, len, 0, &out, &total) == 3 && total == 3);
	CHECK(slots[16 + 20 + 13] == (M_ACK | M_CWR));
	CHECK(slots[STRIDE + 16 + 20 + 13] == M_ACK);
	CHECK(slots[2 * STRIDE + 16 + 20 + 13] == (M_ACK | M_PSH | M_FIN));
}

TEST(fill_csum_for_single_packets)
{
	for (int proto = 6; proto <= 17; proto += 11)
		for (int v4 = 0; v4 <= 1; v4++) {
			struct mpkt m = { .v4 = v4, .proto = (uint8_t)proto,
					  .flags = M_ACK, .payload = 333 };
			size_t len = m_build(super, &m);
			struct virtio_net_hdr vh;

			memcpy(model, super, len);
			vh = m_make_super(super, len, 0);
			vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
			CHECK(!m_csums_ok(super, len));
			CHECK(wm_gso_fill_csum(&vh, super, len) == 0);
			CHECK(m_csums_ok(super, len));
			CHECK_MEM(super, model, len);
			/* Nothing asked, nothing done. */
			vh.flags = 0;
			super[len - 1] ^= 1;
			CHECK(wm_gso_fill_csum(&vh, super, len) == 0);
			CHECK(!m_csums_ok(super, len));
			/* Offsets past the end. */
			vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh.csum_offset = (uint16_t)(len - vh.csum_start - 1);
			CHECK(wm_gso_fill_csum(&vh, super, len) == -EINVAL);
		}
}

TEST(malformed_refused)
{
	struct mpkt m = { .v4 = 1, .proto = 6, .flags = M_ACK, .payload = 3000 };
	struct wm_gso_segs out = { slots, STRIDE, 16, 32, SLOTS, lens };
	size_t len = m_build(super, &m), total;
	struct virtio_net_hdr vh = m_make_super(super, len, 1000), bad;

	bad = vh;
	bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	CHECK(wm_gso_split(&bad, super, len, 0, &out, &total) == -EINVAL);
	bad = vh;
	bad.gso_size = 0;
	CHECK(wm_gso_split(&bad, super, len, 0, &out, &total) == -EINVAL);
	bad = vh;
	bad.csum_start = 24;
	CHECK(wm_gso_split(&bad, super, len, 0, &out, &total) == -EINVAL);
	bad = vh;
	bad.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	CHECK(wm_gso_split(&bad, super, len, 0, &out, &total) == -EINVAL);
	CHECK(wm_gso_split(&vh, super, 30, 0, &out, &total) == -EINVAL);
	super[9] = 17;
	CHECK(wm_gso_split(&vh, super, len, 0, &out, &total) == -EINVAL);
	super[9] = 6;
	super[0] = 0x45 + 10; /* IHL past the TCP header */
	CHECK(wm_gso_split(&vh, super, 60, 0, &out, &total) == -EINVAL);
	super[0] = 0x45;
	/* A segment bigger than a slot. */
	bad = vh;
	bad.gso_size = STRIDE;
	CHECK(wm_gso_split(&bad, super, len, 0, &out, &total) == -EMSGSIZE);
	/* Past the last segment: nothing. */
	CHECK(wm_gso_split(&vh, super, len, 3, &out, &total) == 0 && total == 3);
}

int main(void)
{
	RUN(tcp_split_at_mtu_matches_model);
	RUN(tcp_split_small_mss_matches_model);
	RUN(udp_split_matches_model);
	RUN(tcp_flags_only_where_they_belong);
	RUN(fill_csum_for_single_packets);
	RUN(malformed_refused);
	return check_summary();
}
