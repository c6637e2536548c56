/* The allowed-IPs trie: fixed cases for both families, then random inserts,
 * removals and lookups checked against a naive model (a flat array scanned
 * for the longest match). */
#include <arpa/inet.h>
#include <errno.h>

#include "check.h"
#include "agent/wg/allowedips.h"

static char peers[16]; /* distinct addresses to stand for peers */
#define A (&peers[0])
#define B (&peers[1])
#define C (&peers[2])
#define D (&peers[3])
#define E (&peers[4])
#define F (&peers[5])

static struct wm_cidr cidr(const char *text)
{
	struct wm_cidr c;
	char buf[64], *slash;

	memset(&c, 0, sizeof(c));
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	*slash = 0;
	c.cidr = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
	} else {
		fprintf(stderr, "bad test prefix %s\n", text);
		abort();
	}
	return c;
}

static int ins(struct wm_allowedips *t, const char *text, void *peer)
{
	struct wm_cidr c = cidr(text);

	return wm_allowedips_insert(t, &c, peer);
}

static int rm(struct wm_allowedips *t, const char *text, void *peer)
{
	struct wm_cidr c = cidr(text);

	return wm_allowedips_remove(t, &c, peer);
}

static void *look(const struct wm_allowedips *t, const char *ip)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return wm_allowedips_lookup(t, AF_INET, a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return wm_allowedips_lookup(t, AF_INET6, a);
	fprintf(stderr, "bad test address %s\n", ip);
	abort();
}

TEST(ipv4_longest_match)
{
	struct wm_allowedips t;

	wm_allowedips_init(&t);
	CHECK(look(&t, "192.168.4.20") == NULL);
	CHECK(ins(&t, "192.168.4.0/24", A) == 0);
	CHECK(ins(&t, "192.168.4.4/32", B) == 0);
	CHECK(ins(&t, "192.168.0.0/16", C) == 0);
	CHECK(ins(&t, "192.95.5.64/27", D) == 0);
	CHECK(ins(&t, "192.95.5.65/32", C) == 0);
	CHECK(ins(&t, "10.0.0.0/8", E) == 0);
	CHECK(ins(&t, "10.1.0.0/16", F) == 0);
	CHECK(ins(&t, "10.1.2.0/24", E) == 0);
	CHECK(t.count == 8);

	CHECK(look(&t, "192.168.4.20") == A);
	CHECK(look(&t, "192.168.4.0") == A);
	CHECK(look(&t, "192.168.4.255") == A);
	CHECK(look(&t, "192.168.4.4") == B);
	CHECK(look(&t, "192.168.4.5") == A);
	CHECK(look(&t, "192.168.200.182") == C);
	CHECK(look(&t, "192.168.5.0") == C);
	CHECK(look(&t, "192.95.5.68") == D);
	CHECK(look(&t, "192.95.5.65") == C);
	CHECK(look(&t, "192.95.5.64") == D);
	CHECK(look(&t, "192.95.5.95") == D);
	CHECK(look(&t, "192.95.5.96") == NULL);
	CHECK(look(&t, "192.95.5.63") == NULL);
	CHECK(look(&t, "10.2.3.4") == E);
	CHECK(look(&t, "10.1.3.4") == F);
	CHECK(look(&t, "10.1.2.3") == E);
	CHECK(look(&t, "11.0.0.1") == NULL);
	CHECK(look(&t, "0.0.0.0") == NULL);
	CHECK(look(&t, "255.255.255.255") == NULL);

	/* /0 catches everything else, and nothing of the other family. */
	CHECK(ins(&t, "0.0.0.0/0", F) == 0);
	CHECK(look(&t, "192.95.5.96") == F);
	CHECK(look(&t, "255.255.255.255") == F);
	CHECK(look(&t, "0.0.0.0") == F);
	CHECK(look(&t, "192.168.4.4") == B);
	CHECK(look(&t, "::1") == NULL);
	CHECK(t.count == 9);
	wm_allowedips_free(&t);
	CHECK(t.count == 0 && t.root4 == NULL && t.root6 == NULL);
}

TEST(ipv6_longest_match)
{
	struct wm_allowedips t;

	wm_allowedips_init(&t);
	CHECK(ins(&t, "2607:5300:60:6b0::c05f:543/128", A) == 0);
	CHECK(ins(&t, "2607:5300::/32", B) == 0);
	CHECK(ins(&t, "2607:5300:60:6b0::/64", C) == 0);
	CHECK(ins(&t, "2001:db8::/32", D) == 0);
	CHECK(ins(&t, "2001:db8:1::/48", E) == 0);
	CHECK(ins(&t, "fe80::/10", F) == 0);

	CHECK(look(&t, "2607:5300:60:6b0::c05f:543") == A);
	CHECK(look(&t, "2607:5300:60:6b0::c05f:544") == C);
	CHECK(look(&t, "2607:5300:60:6b1::1") == B);
	CHECK(look(&t, "2607:5300:ffff::1") == B);
	CHECK(look(&t, "2607:5301::1") == NULL);
	CHECK(look(&t, "2001:db8:1:2::3") == E);
	CHECK(look(&t, "2001:db8:2::3") == D);
	CHECK(look(&t, "fe80::1") == F);
	CHECK(look(&t, "febf:ffff::1") == F);
	CHECK(look(&t, "fec0::1") == NULL);
	CHECK(look(&t, "::") == NULL);
	CHECK(look(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == NULL);
	CHECK(look(&t, "10.0.0.1") == NULL);

	CHECK(ins(&t, "::/0", D) == 0);
	CHECK(look(&t, "::") == D);
	CHECK(look(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == D);
	CHECK(look(&t, "2607:5300:60:6b0::c05f:543") == A);
	CHECK(look(&t, "10.0.0.1") == NULL);

	CHECK(ins(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", E) == 0);
	CHECK(look(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == E);
	CHECK(look(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe") == D);
	CHECK(t.count == 8);
	wm_allowedips_free(&t);
}

/* Owners for every_length, one per prefix length. */
static char many[129];

/* Every length from /0 to the full one on a single address: an address that
 * first differs from it at bit i must land on /i. */
static void every_length(int family, unsigned bits)
{
	struct wm_allowedips t;
	struct wm_cidr c;
	uint8_t addr[16];
	void *owner[129];
	int bad = 0;

	wm_allowedips_init(&t);
	memset(&c, 0, sizeof(c));
	c.family = (uint8_t)family;
	for (unsigned i = 0; i < bits / 8; i++)
		c.addr[i] = (uint8_t)(0xa5 ^ i * 37);
	/* Insert from the middle outward so that nodes go above and below. */
	for (unsigned k = 0; k <= bits; k++) {
		unsigned len = (k * 37 + bits / 2) % (bits + 1);

		c.cidr = (uint8_t)len;
		owner[len] = &many[len];
		bad += wm_allowedips_insert(&t, &c, owner[len]) != 0;
	}
	CHECK(bad == 0);
	CHECK(t.count == bits + 1);
	for (unsigned i = 0; i < bits; i++) {
		memcpy(addr, c.addr, 16);
		addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
		bad += wm_allowedips_lookup(&t, family, addr) != owner[i];
	}
	bad += wm_allowedips_lookup(&t, family, c.addr) != owner[bits];
	CHECK(bad == 0);

	/* Remove the odd lengths: each odd bit now falls back one length. */
	for (unsigned len = 1; len <= bits; len += 2) {
		c.cidr = (uint8_t)len;
		bad += wm_allowedips_remove(&t, &c, owner[len]) != 0;
	}
	CHECK(bad == 0);
	for (unsigned i = 0; i < bits; i++) {
		memcpy(addr, c.addr, 16);
		addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
		bad += wm_allowedips_lookup(&t, family, addr) !=
		       owner[i & ~1u];
	}
	CHECK(bad == 0);
	for (unsigned len = 0; len <= bits; len += 2) {
		c.cidr = (uint8_t)len;
		bad += wm_allowedips_remove(&t, &c, owner[len]) != 0;
	}
	CHECK(bad == 0);
	CHECK(t.count == 0 && t.root4 == NULL && t.root6 == NULL);
	wm_allowedips_free(&t);
}

TEST(every_prefix_length)
{
	every_length(AF_INET, 32);
	every_length(AF_INET6, 128);
}

TEST(host_bits_masked)
{
	struct wm_allowedips t;
	struct wm_cidr out[2];

	wm_allowedips_init(&t);
	CHECK(ins(&t, "10.1.2.3/8", A) == 0);
	CHECK(look(&t, "10.200.0.1") == A);
	CHECK(wm_allowedips_list(&t, A, out, 2) == 1);
	CHECK(out[0].family == AF_INET && out[0].cidr == 8);
	CHECK_MEM(out[0].addr, "\x0a\x00\x00\x00", 4);
	/* The same prefix written differently is the same entry. */
	CHECK(ins(&t, "10.9.9.9/8", B) == 0);
	CHECK(t.count == 1);
	CHECK(look(&t, "10.0.0.1") == B);
	CHECK(rm(&t, "10.255.0.0/8", B) == 0);
	CHECK(t.count == 0 && t.root4 == NULL);

	CHECK(ins(&t, "2001:db8::1:2:3/33", A) == 0);
	CHECK(wm_allowedips_list(&t, A, out, 2) == 1);
	CHECK(out[0].family == AF_INET6 && out[0].cidr == 33);
	CHECK_MEM(out[0].addr,
		  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		  "\x00\x00", 16);
	CHECK(look(&t, "2001:db8:7fff::") == A);
	CHECK(look(&t, "2001:db8:8000::") == NULL);
	CHECK(ins(&t, "::1/0", B) == 0);
	CHECK(wm_allowedips_list(&t, B, out, 2) == 1);
	CHECK(out[0].cidr == 0);
	CHECK_MEM(out[0].addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	wm_allowedips_free(&t);
}

TEST(replacement_moves_prefix)
{
	struct wm_allowedips t;

	wm_allowedips_init(&t);
	CHECK(ins(&t, "10.0.0.0/8", A) == 0);
	CHECK(ins(&t, "10.0.0.0/16", A) == 0);
	CHECK(ins(&t, "10.0.0.0/8", B) == 0);
	CHECK(t.count == 2);
	CHECK(look(&t, "10.1.0.1") == B);
	CHECK(look(&t, "10.0.0.1") == A);
	CHECK(wm_allowedips_list(&t, A, NULL, 0) == 1);
	CHECK(wm_allowedips_list(&t, B, NULL, 0) == 1);
	/* The old owner no longer holds it. */
	CHECK(rm(&t, "10.0.0.0/8", A) == -ENOENT);
	CHECK(look(&t, "10.1.0.1") == B);
	/* Moving it back and forth leaves one entry. */
	CHECK(ins(&t, "10.0.0.0/8", A) == 0);
	CHECK(ins(&t, "10.0.0.0/8", A) == 0);
	CHECK(t.count == 2);
	CHECK(look(&t, "10.1.0.1") == A);
	wm_allowedips_free(&t);
}

TEST(removal)
{
	struct wm_allowedips t;

	wm_allowedips_init(&t);
	CHECK(rm(&t, "10.0.0.0/8", A) == -ENOENT);
	CHECK(ins(&t, "10.0.0.0/24", A) == 0);
	CHECK(ins(&t, "10.0.1.0/24", B) == 0);
	CHECK(ins(&t, "10.0.0.0/16", C) == 0);
	CHECK(ins(&t, "fd00::/8", A) == 0);

	/* 10.0.0.0/23 is only the join of the two /24s, not an entry. */
	CHECK(rm(&t, "10.0.0.0/23", A) == -ENOENT);
	CHECK(rm(&t, "10.0.0.0/23", NULL) == -ENOENT);
	CHECK(rm(&t, "10.0.0.0/25", A) == -ENOENT);
	CHECK(rm(&t, "10.0.0.0/24", B) == -ENOENT);
	CHECK(rm(&t, "fd00::/8", B) == -ENOENT);
	CHECK(rm(&t, "fd00::/9", A) == -ENOENT);
	CHECK(t.count == 4);

	/* The join becomes a real entry when inserted, and goes again. */
	CHECK(ins(&t, "10.0.0.0/23", D) == 0);
	CHECK(t.count == 5);
	CHECK(look(&t, "10.0.0.1") == A);
	CHECK(look(&t, "10.0.2.1") == C);
	CHECK(rm(&t, "10.0.0.0/23", D) == 0);
	CHECK(t.count == 4);
	CHECK(look(&t, "10.0.1.1") == B);

	CHECK(rm(&t, "10.0.0.0/24", A) == 0);
	CHECK(rm(&t, "10.0.0.0/24", A) == -ENOENT);
	CHECK(look(&t, "10.0.0.1") == C);
	CHECK(look(&t, "10.0.1.1") == B);
	CHECK(rm(&t, "10.0.0.0/16", C) == 0);
	CHECK(look(&t, "10.0.0.1") == NULL);
	CHECK(look(&t, "10.0.1.1") == B);
	CHECK(rm(&t, "10.0.1.0/24", B) == 0);
	CHECK(t.root4 == NULL);
	CHECK(look(&t, "fd12::1") == A);
	CHECK(rm(&t, "fd00::/8", A) == 0);
	CHECK(t.count == 0 && t.root6 == NULL);
	CHECK(look(&t, "fd12::1") == NULL);
	wm_allowedips_free(&t);
}

TEST(remove_peer)
{
	struct wm_allowedips t;

	wm_allowedips_init(&t);
	CHECK(ins(&t, "0.0.0.0/0", C) == 0);
	CHECK(ins(&t, "10.0.0.0/8", A) == 0);
	CHECK(ins(&t, "10.1.0.0/16", B) == 0);
	CHECK(ins(&t, "10.1.1.0/24", A) == 0);
	CHECK(ins(&t, "10.1.1.7/32", B) == 0);
	CHECK(ins(&t, "10.2.0.0/16", A) == 0);
	CHECK(ins(&t, "10.2.0.0/17", A) == 0);
	CHECK(ins(&t, "fd00::/8", A) == 0);
	CHECK(ins(&t, "fd00:1::/32", B) == 0);
	CHECK(t.count == 9);

	wm_allowedips_remove_peer(&t, A);
	CHECK(t.count == 4);
	CHECK(wm_allowedips_list(&t, A, NULL, 0) == 0);
	CHECK(look(&t, "10.9.9.9") == C);
	CHECK(look(&t, "10.1.9.9") == B);
	CHECK(look(&t, "10.1.1.9") == B);
	CHECK(look(&t, "10.1.1.7") == B);
	CHECK(look(&t, "10.2.0.1") == C);
	CHECK(look(&t, "fd00::1") == NULL);
	CHECK(look(&t, "fd00:1::1") == B);

	wm_allowedips_remove_peer(&t, D); /* owns nothing */
	wm_allowedips_remove_peer(&t, NULL);
	CHECK(t.count == 4);
	wm_allowedips_remove_peer(&t, B);
	CHECK(t.count == 1 && t.root6 == NULL);
	CHECK(look(&t, "10.1.1.7") == C);
	wm_allowedips_remove_peer(&t, C);
	CHECK(t.count == 0 && t.root4 == NULL);
	wm_allowedips_free(&t);
}

TEST(invalid_input)
{
	struct wm_allowedips t;
	struct wm_cidr c;
	uint8_t a[16] = { 10 };

	wm_allowedips_init(&t);
	c = cidr("10.0.0.0/8");
	CHECK(wm_allowedips_insert(&t, &c, NULL) == -EINVAL);
	c.cidr = 33;
	CHECK(wm_allowedips_insert(&t, &c, A) == -EINVAL);
	CHECK(wm_allowedips_remove(&t, &c, A) == -EINVAL);
	c = cidr("::/0");
	c.cidr = 129;
	CHECK(wm_allowedips_insert(&t, &c, A) == -EINVAL);
	c.cidr = 0;
	c.family = AF_UNSPEC;
	CHECK(wm_allowedips_insert(&t, &c, A) == -EINVAL);
	c.family = AF_UNIX;
	CHECK(wm_allowedips_insert(&t, &c, A) == -EINVAL);
	CHECK(t.count == 0 && t.root4 == NULL && t.root6 == NULL);
	CHECK(ins(&t, "0.0.0.0/0", A) == 0);
	CHECK(ins(&t, "::/0", A) == 0);
	CHECK(wm_allowedips_lookup(&t, AF_UNSPEC, a) == NULL);
	CHECK(wm_allowedips_lookup(&t, AF_INET, a) == A);
	wm_allowedips_free(&t);
}

TEST(list_order_and_cap)
{
	static const char *const shuffled[] = {
		"fd00::2/128", "10.0.0.0/8", "192.168.1.0/24", "10.0.0.0/24",
		"fd00::/64", "0.0.0.0/0", "10.128.0.0/9", "192.168.0.0/24",
		"fd00::1/128", "10.0.0.1/32", "::/0", "2001:db8::/32",
	};
	static const char *const sorted[] = {
		"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/32",
		"10.128.0.0/9", "192.168.0.0/24", "192.168.1.0/24", "::/0",
		"2001:db8::/32", "fd00::/64", "fd00::1/128", "fd00::2/128",
	};
	enum { N = sizeof(sorted) / sizeof(sorted[0]) };
	struct wm_allowedips t;
	struct wm_cidr out[N + 1], want, sentinel;

	wm_allowedips_init(&t);
	for (size_t i = 0; i < N; i++)
		CHECK(ins(&t, shuffled[i], A) == 0);
	CHECK(ins(&t, "10.0.0.0/16", B) == 0);
	CHECK(ins(&t, "fd00::3/128", B) == 0);

	memset(out, 0xee, sizeof(out));
	CHECK(wm_allowedips_list(&t, A, out, N + 1) == N);
	for (size_t i = 0; i < N; i++) {
		want = cidr(sorted[i]);
		CHECK(out[i].family == want.family);
		CHECK(out[i].cidr == want.cidr);
		CHECK_MEM(out[i].addr, want.addr, sizeof(want.addr));
	}
	memset(&sentinel, 0xee, sizeof(sentinel));
	CHECK_MEM(&out[N], &sentinel, sizeof(sentinel));

	/* A short buffer gets the first entries and the full count. */
	memset(out, 0xee, sizeof(out));
	CHECK(wm_allowedips_list(&t, A, out, 3) == N);
	want = cidr(sorted[2]);
	CHECK(out[2].cidr == want.cidr);
	CHECK_MEM(&out[3], &sentinel, sizeof(sentinel));
	CHECK(wm_allowedips_list(&t, B, out, 1) == 2);
	want = cidr("10.0.0.0/16");
	CHECK(out[0].family == AF_INET && out[0].cidr == 16);
	CHECK_MEM(out[0].addr, want.addr, 16);
	CHECK(wm_allowedips_list(&t, C, out, N) == 0);
	CHECK(wm_allowedips_list(&t, NULL, out, N) == 0);
	wm_allowedips_free(&t);
}

static size_t ipv4_packet(uint8_t *p, const char *src, const char *dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[3] = 20; /* total length */
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	return 20;
}

static size_t ipv6_packet(uint8_t *p, const char *src, const char *dst)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = 17;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	return 40;
}

TEST(packet_lookups)
{
	struct wm_allowedips t;
	uint8_t *p = malloc(40); /* exact size, so ASan sees any overread */
	uint8_t *p4 = malloc(20);
	size_t n;

	wm_allowedips_init(&t);
	CHECK(ins(&t, "10.77.0.2/32", A) == 0);
	CHECK(ins(&t, "10.77.0.0/24", B) == 0);
	CHECK(ins(&t, "fd77::2/128", C) == 0);
	CHECK(ins(&t, "fd77::/64", D) == 0);

	n = ipv4_packet(p4, "10.77.0.9", "10.77.0.2");
	CHECK(wm_allowedips_lookup_dst(&t, p4, n) == A);
	CHECK(wm_allowedips_lookup_src(&t, p4, n) == B);
	n = ipv4_packet(p4, "10.77.0.2", "192.0.2.1");
	CHECK(wm_allowedips_lookup_dst(&t, p4, n) == NULL);
	CHECK(wm_allowedips_lookup_src(&t, p4, n) == A);
	CHECK(wm_allowedips_lookup_src(&t, p4, 19) == NULL);
	CHECK(wm_allowedips_lookup_dst(&t, p4, 19) == NULL);
	CHECK(wm_allowedips_lookup_dst(&t, p4, 0) == NULL);

	n = ipv6_packet(p, "fd77::9", "fd77::2");
	CHECK(wm_allowedips_lookup_dst(&t, p, n) == C);
	CHECK(wm_allowedips_lookup_src(&t, p, n) == D);
	n = ipv6_packet(p, "fd77::2", "2001:db8::1");
	CHECK(wm_allowedips_lookup_dst(&t, p, n) == NULL);
	CHECK(wm_allowedips_lookup_src(&t, p, n) == C);
	CHECK(wm_allowedips_lookup_src(&t, p, 39) == NULL);
	CHECK(wm_allowedips_lookup_dst(&t, p, 39) == NULL);
	/* A 20-byte v6 header would pass the IPv4 length test: must not. */
	CHECK(wm_allowedips_lookup_dst(&t, p, 20) == NULL);

	/* Neither version 4 nor 6. */
	p[0] = 0x50;
	CHECK(wm_allowedips_lookup_dst(&t, p, 40) == NULL);
	p[0] = 0x00;
	CHECK(wm_allowedips_lookup_src(&t, p, 40) == NULL);
	/* An IPv4 version nibble on a v6-looking buffer reads v4 fields. */
	p[0] = 0x45;
	memcpy(p + 16, "\x0a\x4d\x00\x02", 4);
	CHECK(wm_allowedips_lookup_dst(&t, p, 40) == A);

	free(p);
	free(p4);
	wm_allowedips_free(&t);
}

/* ---- random comparison with the naive model ---- */

struct entry {
	struct wm_cidr c;
	void *peer;
};

struct model {
	struct entry *e;
	size_t n;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static int bit(const uint8_t *a, unsigned i)
{
	return a[i / 8] >> (7 - i % 8) & 1;
}

static void naive_mask(struct wm_cidr *c)
{
	for (unsigned i = c->cidr; i < 128; i++)
		c->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static int naive_same(const struct wm_cidr *a, const struct wm_cidr *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       memcmp(a->addr, b->addr, 16) == 0;
}

static void naive_insert(struct model *m, struct wm_cidr c, void *peer)
{
	naive_mask(&c);
	for (size_t i = 0; i < m->n; i++) {
		if (naive_same(&m->e[i].c, &c)) {
			m->e[i].peer = peer;
			return;
		}
	}
	m->e[m->n].c = c;
	m->e[m->n].peer = peer;
	m->n++;
}

static int naive_remove(struct model *m, struct wm_cidr c, const void *peer)
{
	naive_mask(&c);
	for (size_t i = 0; i < m->n; i++) {
		if (naive_same(&m->e[i].c, &c) && m->e[i].peer == peer) {
			m->e[i] = m->e[--m->n];
			return 0;
		}
	}
	return -ENOENT;
}

static void naive_remove_peer(struct model *m, const void *peer)
{
	size_t j = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].peer != peer)
			m->e[j++] = m->e[i];
	m->n = j;
}

static void *naive_lookup(const struct model *m, int family,
			  const uint8_t *addr)
{
	const struct entry *best = NULL;

	for (size_t i = 0; i < m->n; i++) {
		const struct entry *e = &m->e[i];
		unsigned b = 0;

		if (e->c.family != family)
			continue;
		while (b < e->c.cidr && bit(e->c.addr, b) == bit(addr, b))
			b++;
		if (b == e->c.cidr && (!best || e->c.cidr > best->c.cidr))
			best = e;
	}
	return best ? best->peer : NULL;
}

static int cmp_cidr(const void *pa, const void *pb)
{
	const struct wm_cidr *a = pa, *b = pb;
	int d;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	d = memcmp(a->addr, b->addr, 16);
	if (d)
		return d;
	return (int)a->cidr - (int)b->cidr;
}

/* An address near existing prefixes, so that lookups and inserts overlap:
 * a random entry of the family with bits flipped around its length. */
static void near_addr(const struct model *m, int family, uint8_t *addr)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	size_t tries = m->n ? 8 : 0;

	memset(addr, 0, 16);
	for (unsigned i = 0; i < bits / 8; i++)
		addr[i] = (uint8_t)rnd();
	while (tries--) {
		size_t k = below((unsigned)m->n);

		if (m->e[k].c.family != family)
			continue;
		memcpy(addr, m->e[k].c.addr, 16);
		for (unsigned f = below(4); f > 0; f--) {
			unsigned at = m->e[k].c.cidr + below(9);

			at = at < 4 ? at : at - 4; /* some before the length */
			if (at < bits)
				addr[at / 8] ^= (uint8_t)(0x80 >> (at % 8));
		}
		/* random host bits well past the prefix */
		for (unsigned i = m->e[k].c.cidr + 8; i < bits; i++)
			if (rnd() & 1)
				addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
		break;
	}
}

static unsigned random_len(unsigned bits)
{
	unsigned r = below(10);

	if (r == 0)
		return below(3) == 0 ? 0 : bits; /* the extremes often */
	if (r < 4)
		return below(bits + 1);
	/* cluster lengths so that prefixes nest */
	return bits == 32 ? 8 + below(25) : 16 + below(113);
}

static int compare_lists(const struct wm_allowedips *t, const struct model *m,
			 void *peer)
{
	struct wm_cidr *want = calloc(m->n + 1, sizeof(*want));
	struct wm_cidr *got = calloc(m->n + 1, sizeof(*got));
	size_t nw = 0, ng;
	int ok;

	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].peer == peer)
			want[nw++] = m->e[i].c;
	qsort(want, nw, sizeof(*want), cmp_cidr);
	ng = wm_allowedips_list(t, peer, got, m->n + 1);
	ok = ng == nw && memcmp(got, want, nw * sizeof(*want)) == 0;
	free(want);
	free(got);
	return ok;
}

TEST(random_vs_naive)
{
	enum { ROUNDS = 6000, LOOKUPS = 8, NPEERS = 8 };
	struct wm_allowedips t;
	struct model m = { calloc(ROUNDS, sizeof(struct entry)), 0 };
	int bad_lookup = 0, bad_ret = 0, bad_list = 0, removed_ok = 0;
	uint8_t addr[16];

	rng_state = 0xa11017ed;
	wm_allowedips_init(&t);
	for (int round = 0; round < ROUNDS; round++) {
		int family = below(3) ? AF_INET6 : AF_INET;
		unsigned bits = family == AF_INET ? 32 : 128, what = below(100);
		void *peer = &peers[below(NPEERS)];
		struct wm_cidr c;

		memset(&c, 0, sizeof(c));
		c.family = (uint8_t)family;
		if (what < 70) {
			near_addr(&m, family, c.addr);
			c.cidr = (uint8_t)random_len(bits);
			naive_insert(&m, c, peer);
			bad_ret += wm_allowedips_insert(&t, &c, peer) != 0;
		} else if (what < 99) {
			if (m.n && below(4)) {
				size_t k = below((unsigned)m.n);

				c = m.e[k].c;
				if (below(4))
					peer = m.e[k].peer;
				/* same network, other host bits */
				if (c.cidr < (c.family == AF_INET ? 32 : 128))
					c.addr[15] ^= (uint8_t)(below(2));
			} else {
				near_addr(&m, family, c.addr);
				c.cidr = (uint8_t)random_len(bits);
			}
			int want = naive_remove(&m, c, peer);

			removed_ok += want == 0;
			bad_ret += wm_allowedips_remove(&t, &c, peer) != want;
		} else {
			naive_remove_peer(&m, peer);
			wm_allowedips_remove_peer(&t, peer);
		}
		bad_ret += t.count != m.n;

		for (int l = 0; l < LOOKUPS; l++) {
			int f = below(2) ? AF_INET6 : AF_INET;

			near_addr(&m, f, addr);
			bad_lookup += wm_allowedips_lookup(&t, f, addr) !=
				      naive_lookup(&m, f, addr);
		}
		if (round % 500 == 0)
			for (int p = 0; p < NPEERS; p++)
				bad_list += !compare_lists(&t, &m, &peers[p]);
	}
	CHECK(bad_ret == 0);
	CHECK(bad_lookup == 0);
	CHECK(bad_list == 0);
	CHECK(removed_ok > ROUNDS / 20); /* removal of real entries was tried */
	CHECK(m.n > 300); /* the table grew large enough to matter */

	/* Empty it prefix by prefix: nothing may be left behind. */
	while (m.n) {
		struct entry e = m.e[m.n - 1];

		bad_ret += wm_allowedips_remove(&t, &e.c, e.peer) != 0;
		m.n--;
	}
	CHECK(bad_ret == 0);
	CHECK(t.count == 0 && t.root4 == NULL && t.root6 == NULL);
	wm_allowedips_free(&t);
	free(m.e);
}

int main(void)
{
	RUN(ipv4_longest_match);
	RUN(ipv6_longest_match);
	RUN(every_prefix_length);
	RUN(host_bits_masked);
	RUN(replacement_moves_prefix);
	RUN(removal);
	RUN(remove_peer);
	RUN(invalid_input);
	RUN(list_order_and_cap);
	RUN(packet_lookups);
	RUN(random_vs_naive);
	return check_summary();
}
