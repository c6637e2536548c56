/*
 * netif/gro.c: split-then-coalesce is the identity (the super-packet and
 * its virtio header come back byte for byte) for IPv4 and IPv6, every
 * payload size from 1 to MTU + 1 and a 64 KB super-packet; what may not be
 * merged (IPv4 options, TCP options but timestamps, other peers, gaps,
 * another ACK, a bad checksum, FIN, non-TCP) comes out untouched and in
 * order; a full arena says so.
 */
#include "check.h"
#include "netif/gro.h"
#include "offload_model.h"

enum { MTU = 1420, SLOTS = 64, STRIDE = 16 + MTU + 32 };

static uint8_t super[70000], arena[WM_GRO_ARENA];
static uint8_t slots[SLOTS * STRIDE];
static size_t lens[SLOTS];
static struct wm_gro gro;
static const int peer_a = 1, peer_b = 2;

/* All segments of super (at most SLOTS) in slots; returns their count. */
static size_t split_all(const struct virtio_net_hdr *vh, size_t len)
{
	struct wm_gso_segs out = { slots, STRIDE, 16, 32, SLOTS, lens };
	size_t total = 0;
	int n = wm_gso_split(vh, super, len, 0, &out, &total);

	CHECK(n > 0 && (size_t)n == total);
	return n > 0 ? (size_t)n : 0;
}

static const uint8_t *seg(size_t i)
{
	return slots + i * STRIDE + 16;
}

static bool vnet_zero(const uint8_t *e)
{
	static const uint8_t zero[WM_VNET_HDR_LEN];

	return memcmp(e, zero, WM_VNET_HDR_LEN) == 0;
}

/* The next entry is packet p (len bytes) as it came, with a zero header. */
static bool next_is_plain(const uint8_t *p, size_t len)
{
	size_t n;
	const uint8_t *e = wm_gro_next(&gro, &n);

	return e && n == WM_VNET_HDR_LEN + len && vnet_zero(e) &&
	       memcmp(e + WM_VNET_HDR_LEN, p, len) == 0;
}

static bool roundtrip(const struct mpkt *m, size_t mss, bool merges)
{
	size_t len = m_build(super, m), n, elen;
	struct virtio_net_hdr vh = m_make_super(super, len, (uint16_t)mss);
	const uint8_t *e;
	bool ok = true;

	n = split_all(&vh, len);
	wm_gro_reset(&gro);
	for (size_t i = 0; i < n; i++)
		ok = ok && wm_gro_add(&gro, &peer_a, seg(i), lens[i]);
	if (merges && n > 1) {
		e = wm_gro_next(&gro, &elen);
		ok = ok && e && elen == WM_VNET_HDR_LEN + len &&
		     memcmp(e, &vh, WM_VNET_HDR_LEN) == 0 &&
		     memcmp(e + WM_VNET_HDR_LEN, super, len) == 0;
	} else {
		for (size_t i = 0; i < n; i++)
			ok = ok && next_is_plain(seg(i), lens[i]);
	}
	return ok && !wm_gro_next(&gro, &elen);
}

static void matrix(size_t small_mss)
{
	for (int v4 = 0; v4 <= 1; v4++)
		for (size_t ipopt = 0; ipopt <= (v4 ? 8u : 0u); ipopt += 8)
			for (int opt = 0; opt <= 2; opt++) {
				struct mpkt m = { .v4 = v4, .ipopt = ipopt,
						  .tcpopt = opt, .proto = 6,
						  .flags = M_ACK | M_PSH,
						  .seq = 0xfffff000u, .ack = 99,
						  .id = 0xfffe, .tsval = 5 };
				size_t hdr = (v4 ? 20 + ipopt : 40) + m_l4len(&m);
				size_t mss = small_mss ? small_mss : MTU - hdr;
				bool merges = ipopt == 0 && opt != 2, ok = true;

				for (m.payload = 1; m.payload <= MTU + 1; m.payload++)
					if (!roundtrip(&m, mss, merges)) {
						fprintf(stderr, "v4 %d ipopt %zu opt %d mss %zu payload %zu\n",
							v4, ipopt, opt, mss, m.payload);
						ok = false;
						break;
					}
				CHECK(ok);
				m.payload = 65535 - hdr;
				CHECK(roundtrip(&m, mss, merges));
			}
}

TEST(split_then_coalesce_is_identity)
{
	matrix(0);
}

TEST(split_then_coalesce_small_mss)
{
	matrix(1100);
}

/* Three full segments of one flow, in slots 0..2. */
static void three(bool v4)
{
	struct mpkt m = { .v4 = v4, .proto = 6, .flags = M_ACK | M_PSH,
			  .tcpopt = 1, .payload = 3000, .seq = 1000 };
	size_t len = m_build(super, &m);
	struct virtio_net_hdr vh = m_make_super(super, len, 1000);

	CHECK(split_all(&vh, len) == 3);
	wm_gro_reset(&gro);
}

static size_t entries(void)
{
	size_t n = 0, l;

	while (wm_gro_next(&gro, &l))
		n++;
	return n;
}

TEST(never_across_peers)
{
	three(true);
	CHECK(wm_gro_add(&gro, &peer_a, seg(0), lens[0]));
	CHECK(wm_gro_add(&gro, &peer_b, seg(1), lens[1]));
	CHECK(wm_gro_add(&gro, &peer_a, seg(2), lens[2]));
	CHECK(next_is_plain(seg(0), lens[0]));
	CHECK(next_is_plain(seg(1), lens[1]));
	CHECK(next_is_plain(seg(2), lens[2]));
	CHECK(!wm_gro_next(&gro, &lens[3]));
}

TEST(gaps_and_reordering_kept_in_order)
{
	for (int v4 = 0; v4 <= 1; v4++) {
		three(v4);
		CHECK(wm_gro_add(&gro, &peer_a, seg(0), lens[0]));
		CHECK(wm_gro_add(&gro, &peer_a, seg(2), lens[2]));
		CHECK(wm_gro_add(&gro, &peer_a, seg(1), lens[1]));
		CHECK(next_is_plain(seg(0), lens[0]));
		CHECK(next_is_plain(seg(2), lens[2]));
		CHECK(next_is_plain(seg(1), lens[1]));
	}
}

/* Changes byte off of segment 1 (fixing the checksums), then expects
 * the three segments to come out unmerged. */
static void changed_field_stops(size_t off, uint8_t value)
{
	uint8_t s1[STRIDE];
	size_t l3 = m_l3(seg(1));

	three(true);
	memcpy(s1, seg(1), lens[1]);
	s1[off] = value;
	m_put16(s1 + 10, 0);
	m_put16(s1 + 10, (uint16_t)~m_fold(m_sum(0, s1, l3)));
	m_put16(s1 + l3 + 16, 0);
	m_put16(s1 + l3 + 16, (uint16_t)~m_fold(m_sum(m_pseudo(s1, 6, lens[1] - l3),
						       s1 + l3, lens[1] - l3)));
	CHECK(m_csums_ok(s1, lens[1]));
	CHECK(wm_gro_add(&gro, &peer_a, seg(0), lens[0]));
	CHECK(wm_gro_add(&gro, &peer_a, s1, lens[1]));
	CHECK(wm_gro_add(&gro, &peer_a, seg(2), lens[2]));
	CHECK(next_is_plain(seg(0), lens[0]));
	CHECK(next_is_plain(s1, lens[1]));
	CHECK(next_is_plain(seg(2), lens[2]));
}

TEST(differences_stop_merging)
{
	changed_field_stops(20 + 11, 1);        /* ACK number */
	changed_field_stops(20 + 13, M_ACK | M_FIN);
	changed_field_stops(20 + 13, M_ACK | M_CWR);
	changed_field_stops(20 + 31, 9);        /* timestamp value */
	changed_field_stops(8, 63);             /* TTL */
	changed_field_stops(1, 0);              /* TOS */
	changed_field_stops(20 + 3, 1);         /* another flow: port */
}

TEST(bad_checksum_not_merged)
{
	uint8_t s1[STRIDE];

	three(false);
	memcpy(s1, seg(1), lens[1]);
	s1[lens[1] - 1] ^= 0x55;
	CHECK(wm_gro_add(&gro, &peer_a, seg(0), lens[0]));
	CHECK(wm_gro_add(&gro, &peer_a, s1, lens[1]));
	CHECK(wm_gro_add(&gro, &peer_a, seg(2), lens[2]));
	CHECK(entries() == 3);
}

TEST(short_segment_ends_and_psh_ends)
{
	struct mpkt m = { .v4 = 1, .proto = 6, .flags = M_ACK, .payload = 2500,
			  .seq = 7 };
	size_t len = m_build(super, &m), n, l;
	struct virtio_net_hdr vh = m_make_super(super, len, 1000);
	const uint8_t *e;

	n = split_all(&vh, len); /* 1000, 1000, 500 */
	CHECK(n == 3);
	wm_gro_reset(&gro);
	for (size_t i = 0; i < n; i++)
		CHECK(wm_gro_add(&gro, &peer_a, seg(i), lens[i]));
	/* A full segment after the short one starts anew. */
	m.seq = 2507;
	m.payload = 1000;
	len = m_build(super, &m);
	CHECK(wm_gro_add(&gro, &peer_a, super, len));
	e = wm_gro_next(&gro, &l);
	CHECK(e && l == WM_VNET_HDR_LEN + 40 + 2500);
	CHECK(next_is_plain(super, len));
	CHECK(!wm_gro_next(&gro, &l));

	m.flags = M_ACK | M_PSH;
	m.seq = 1;
	m.payload = 100;
	wm_gro_reset(&gro);
	len = m_build(super, &m);
	CHECK(wm_gro_add(&gro, &peer_a, super, len));
	m.seq = 101;
	len = m_build(super, &m);
	CHECK(wm_gro_add(&gro, &peer_a, super, len));
	CHECK(entries() == 2);
}

TEST(other_packets_untouched_in_order)
{
	struct mpkt u = { .v4 = 1, .proto = 17, .payload = 50 };
	struct mpkt u6 = { .v4 = 0, .proto = 17, .payload = 51 };
	struct mpkt syn = { .v4 = 0, .proto = 6, .flags = M_SYN, .tcpopt = 2 };
	struct mpkt ack = { .v4 = 0, .proto = 6, .flags = M_ACK, .tcpopt = 1 };
	uint8_t p[4][200], icmp[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1 };
	size_t l[4], n;
	const struct mpkt *ms[4] = { &u, &u6, &syn, &ack };

	for (int i = 0; i < 4; i++)
		l[i] = m_build(p[i], ms[i]);
	three(true);
	CHECK(wm_gro_add(&gro, &peer_a, seg(0), lens[0]));
	for (int i = 0; i < 4; i++)
		CHECK(wm_gro_add(&gro, &peer_a, p[i], l[i]));
	CHECK(wm_gro_add(&gro, &peer_a, icmp, sizeof(icmp)));
	CHECK(wm_gro_add(&gro, &peer_a, seg(1), lens[1]));
	CHECK(wm_gro_add(&gro, &peer_a, seg(2), lens[2]));
	/* The flow's segments merge across the others, which keep their
	 * place. */
	CHECK(wm_gro_next(&gro, &n) && n == WM_VNET_HDR_LEN + 20 + 32 + 3000);
	for (int i = 0; i < 4; i++)
		CHECK(next_is_plain(p[i], l[i]));
	CHECK(next_is_plain(icmp, sizeof(icmp)));
	CHECK(!wm_gro_next(&gro, &n));
}

TEST(full_says_so)
{
	struct mpkt m = { .v4 = 1, .proto = 6, .flags = M_ACK, .payload = 1000 };
	struct mpkt u = { .v4 = 1, .proto = 17, .payload = 10 };
	uint8_t p[100];
	size_t len, i, n;

	/* Each new flow reserves 64 KB: the arena holds so many. */
	wm_gro_reset(&gro);
	for (i = 0; i < 40; i++) {
		m.ack = (uint32_t)i;
		len = m_build(super, &m);
		if (!wm_gro_add(&gro, &peer_a, super, len))
			break;
	}
	CHECK(i == WM_GRO_ARENA / (WM_VNET_HDR_LEN + WM_GRO_MAX_PACKET + 1));
	CHECK(entries() == i);
	/* Small packets: WM_GRO_MAX_ENTRIES. */
	wm_gro_reset(&gro);
	len = m_build(p, &u);
	for (i = 0; i < 1000 && wm_gro_add(&gro, &peer_a, p, len); i++)
		;
	CHECK(i == WM_GRO_MAX_ENTRIES);
	CHECK(!wm_gro_add(&gro, &peer_a, super, 65536));
	wm_gro_reset(&gro);
	CHECK(wm_gro_add(&gro, &peer_a, p, len) && entries() == 1);
	(void)n;
}

int main(void)
{
	wm_gro_init(&gro, arena);
	RUN(split_then_coalesce_is_identity);
	RUN(split_then_coalesce_small_mss);
	RUN(never_across_peers);
	RUN(gaps_and_reordering_kept_in_order);
	RUN(differences_stop_merging);
	RUN(bad_checksum_not_merged);
	RUN(short_segment_ends_and_psh_ends);
	RUN(other_packets_untouched_in_order);
	RUN(full_says_so);
	return check_summary();
}
