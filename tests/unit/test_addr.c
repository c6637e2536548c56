/* Prefixes and endpoints: parsing, formatting round trips, masking. */
#include "netif/addr.h"
#include "tests/unit/check.h"

#include <arpa/inet.h>
#include <netdb.h>

static const char *cidr_round_trip(const char *in)
{
	static char buf[WM_CIDR_STRLEN];
	struct wm_cidr c;

	if (!wm_cidr_parse(&c, in))
		return "(parse failed)";
	return wm_cidr_format(buf, sizeof(buf), &c);
}

TEST(cidr_valid)
{
	struct wm_cidr c;

	CHECK(!strcmp(cidr_round_trip("10.0.0.1/24"), "10.0.0.1/24"));
	CHECK(!strcmp(cidr_round_trip("10.0.0.1"), "10.0.0.1/32"));
	CHECK(!strcmp(cidr_round_trip("0.0.0.0/0"), "0.0.0.0/0"));
	CHECK(!strcmp(cidr_round_trip("fd00::1/64"), "fd00::1/64"));
	CHECK(!strcmp(cidr_round_trip("FD00:0::1"), "fd00::1/128"));
	CHECK(!strcmp(cidr_round_trip("::/0"), "::/0"));
	CHECK(!strcmp(cidr_round_trip("::ffff:1.2.3.4/128"),
		      "::ffff:1.2.3.4/128"));

	CHECK(wm_cidr_parse(&c, "192.168.7.9/20"));
	CHECK(c.family == AF_INET && c.cidr == 20);
	CHECK_MEM(c.addr, "\xc0\xa8\x07\x09", 4);
}

TEST(cidr_invalid)
{
	static const char *const bad[] = {
		"", "/", "10.0.0.1/", "/24", "10.0.0.1/33", "fd00::/129",
		"10.0.0.256/8", "10.0.0/8", "010.0.0.1", "10.0.0.1/+8",
		"10.0.0.1/-1", "10.0.0.1/ 8", " 10.0.0.1", "10.0.0.1/8/8",
		"10.0.0.1/0008", "fd00:::1/64", "hello", "fd00::1%eth0/64",
		"1.2.3.4/24x",
		"1111111111111111111111111111111111111111111111111111111111111111/1",
	};
	struct wm_cidr c = { .family = 99 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (wm_cidr_parse(&c, bad[i])) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			CHECK(false);
		}
	}
	CHECK(c.family == 99); /* untouched on failure */
}

TEST(cidr_mask_equal)
{
	struct wm_cidr a, b;
	char buf[WM_CIDR_STRLEN];

	CHECK(wm_cidr_parse(&a, "10.1.2.3/13"));
	wm_cidr_mask(&a);
	CHECK(!strcmp(wm_cidr_format(buf, sizeof(buf), &a), "10.0.0.0/13"));
	CHECK(wm_cidr_parse(&b, "10.0.0.0/13"));
	CHECK(wm_cidr_equal(&a, &b));
	b.cidr = 14;
	CHECK(!wm_cidr_equal(&a, &b));

	CHECK(wm_cidr_parse(&a, "fd12:3456:789a::ffff/33"));
	wm_cidr_mask(&a);
	CHECK(!strcmp(wm_cidr_format(buf, sizeof(buf), &a), "fd12:3456::/33"));
	CHECK(wm_cidr_parse(&a, "fd12:3456:ffff::ffff/0"));
	wm_cidr_mask(&a);
	CHECK(!strcmp(wm_cidr_format(buf, sizeof(buf), &a), "::/0"));
	CHECK(wm_cidr_parse(&a, "1.2.3.4/32"));
	wm_cidr_mask(&a);
	CHECK(!strcmp(wm_cidr_format(buf, sizeof(buf), &a), "1.2.3.4/32"));

	/* Same bytes, other family. */
	CHECK(wm_cidr_parse(&a, "::/0"));
	CHECK(wm_cidr_parse(&b, "0.0.0.0/0"));
	CHECK(!wm_cidr_equal(&a, &b));
}

TEST(sockaddr_parse_format)
{
	union wm_sockaddr a;
	char buf[WM_SOCKADDR_STRLEN];

	CHECK(wm_sockaddr_parse(&a, "1.2.3.4:51820"));
	CHECK(a.sa.sa_family == AF_INET && ntohs(a.in.sin_port) == 51820);
	CHECK(wm_sockaddr_len(&a) == sizeof(struct sockaddr_in));
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &a),
		      "1.2.3.4:51820"));

	CHECK(wm_sockaddr_parse(&a, "[fd00::1]:65535"));
	CHECK(a.sa.sa_family == AF_INET6 && ntohs(a.in6.sin6_port) == 65535);
	CHECK(wm_sockaddr_len(&a) == sizeof(struct sockaddr_in6));
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &a),
		      "[fd00::1]:65535"));

	CHECK(wm_sockaddr_parse(&a, "[fe80::1%7]:1"));
	CHECK(a.in6.sin6_scope_id == 7);
	CHECK(wm_sockaddr_parse(&a, "[fe80::1%lo]:1"));
	CHECK(a.in6.sin6_scope_id != 0);
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &a),
		      "[fe80::1%lo]:1"));

	/* v4-mapped shows as v4 and equals the v4 spelling. */
	union wm_sockaddr m;
	CHECK(wm_sockaddr_parse(&m, "[::ffff:1.2.3.4]:51820"));
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &m),
		      "1.2.3.4:51820"));
	CHECK(wm_sockaddr_parse(&a, "1.2.3.4:51820"));
	CHECK(wm_sockaddr_equal(&a, &m));
	CHECK(wm_sockaddr_parse(&m, "1.2.3.4:51821"));
	CHECK(!wm_sockaddr_equal(&a, &m));
	CHECK(wm_sockaddr_parse(&m, "[fd00::1]:51820"));
	CHECK(wm_sockaddr_parse(&a, "[fd00::1]:51820"));
	a.in6.sin6_flowinfo = htonl(7);
	CHECK(wm_sockaddr_equal(&a, &m));
	CHECK(wm_sockaddr_parse(&a, "[fd00::2]:51820"));
	CHECK(!wm_sockaddr_equal(&a, &m));
	CHECK(wm_sockaddr_parse(&a, "[fd00::1%1]:51820"));
	CHECK(!wm_sockaddr_equal(&a, &m));

	memset(&a, 0, sizeof(a));
	CHECK(wm_sockaddr_len(&a) == 0);
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &a), "(none)"));
}

TEST(sockaddr_parse_invalid)
{
	static const char *const bad[] = {
		"", "1.2.3.4", "1.2.3.4:", ":51820", "1.2.3.4:65536",
		"1.2.3.4:-1", "1.2.3.4:+80", "1.2.3.4:80x", "1.2.3.4: 80",
		"fd00::1:51820", "[fd00::1]", "[fd00::1]51820", "[fd00::1:51820",
		"[]:80", "[1.2.3.4]:80", "example.com:80", "1.2.3:80",
		"[fe80::1%nosuchif0]:80", "1.2.3.4:123456",
	};
	union wm_sockaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (wm_sockaddr_parse(&a, bad[i])) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			CHECK(false);
		}
	}
}

/* Only names /etc/hosts knows, so the test sends no DNS query. */
TEST(sockaddr_resolve)
{
	union wm_sockaddr a, b;
	char buf[WM_SOCKADDR_STRLEN];

	CHECK(wm_sockaddr_resolve(&a, "192.0.2.7:3478") == 0);
	CHECK(wm_sockaddr_parse(&b, "192.0.2.7:3478"));
	CHECK(wm_sockaddr_equal(&a, &b));

	CHECK(wm_sockaddr_resolve(&a, "[2001:db8::7]:3478") == 0);
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &a),
		      "[2001:db8::7]:3478"));

	CHECK(wm_sockaddr_resolve(&a, "localhost:51820") == 0);
	CHECK(a.sa.sa_family == AF_INET);
	CHECK(!strcmp(wm_sockaddr_format(buf, sizeof(buf), &a),
		      "127.0.0.1:51820"));

	CHECK(wm_sockaddr_resolve(&a, "localhost:http") == EAI_SERVICE);
	CHECK(wm_sockaddr_resolve(&a, "localhost:70000") == EAI_SERVICE);
	CHECK(wm_sockaddr_resolve(&a, "localhost") != 0);
	CHECK(wm_sockaddr_resolve(&a, "fd00::1:80") != 0);
	/* Brackets mean a literal, never a name to look up. */
	CHECK(wm_sockaddr_resolve(&a, "[localhost]:80") != 0);
	/* Rejected by the resolver itself, before any query. */
	CHECK(wm_sockaddr_resolve(&a, "bad..name:80") != 0);
}

int main(void)
{
	RUN(cidr_valid);
	RUN(cidr_invalid);
	RUN(cidr_mask_equal);
	RUN(sockaddr_parse_format);
	RUN(sockaddr_parse_invalid);
	RUN(sockaddr_resolve);
	return check_summary();
}
