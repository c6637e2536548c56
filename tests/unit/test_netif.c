/* netif: a TUN opened and configured through netif/link.h, every change read
 * back through libnl's own caches, and pings answered by the kernel through
 * the TUN fd. Runs in a private network namespace (unshare), so nothing here
 * can touch the host's interfaces and all of it vanishes on exit. */
#include <net/if.h>

#include "check.h"
#include "netif/link.h"
#include "netif/rule.h"
#include "netif/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

static struct wm_netif nif;
static int tun_fd = -1, tun2_fd = -1, ifindex, ifindex2;

static struct wm_cidr cidr(const char *text, int len)
{
	struct wm_cidr c;

	memset(&c, 0, sizeof(c));
	c.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	c.cidr = (uint8_t)len;
	if (inet_pton(c.family, text, c.addr) != 1) {
		fprintf(stderr, "bad test address %s\n", text);
		abort();
	}
	return c;
}

/* ---- reading back through plain libnl --------------------------------- */

static struct nl_sock *probe_sock(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		sk = NULL;
	}
	return sk;
}

static bool nl_addr_is(struct nl_addr *a, const char *text, int len)
{
	struct wm_cidr c = cidr(text, len);
	size_t n = c.family == AF_INET ? 4 : 16;

	return a && nl_addr_get_family(a) == c.family &&
	       (int)nl_addr_get_prefixlen(a) == len &&
	       nl_addr_get_len(a) == n &&
	       memcmp(nl_addr_get_binary_addr(a), c.addr, n) == 0;
}

static bool link_state(int index, unsigned *mtu, unsigned *flags)
{
	struct nl_sock *sk = probe_sock();
	struct nl_cache *cache = NULL;
	struct rtnl_link *link = NULL;

	if (sk && rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) == 0)
		link = rtnl_link_get(cache, index);
	if (link) {
		*mtu = rtnl_link_get_mtu(link);
		*flags = rtnl_link_get_flags(link);
		rtnl_link_put(link);
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return link != NULL;
}

/* The address's flags, or -1 when index does not carry text/len. */
static int address_flags(int index, const char *text, int len)
{
	struct nl_sock *sk = probe_sock();
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int flags = -1;

	if (sk && rtnl_addr_alloc_cache(sk, &cache) == 0) {
		for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_addr *a = (struct rtnl_addr *)o;

			if (rtnl_addr_get_ifindex(a) == index &&
			    nl_addr_is(rtnl_addr_get_local(a), text, len))
				flags = (int)rtnl_addr_get_flags(a);
		}
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return flags;
}

/* The protocol of the main-table route to text/len straight into index (no
 * gateway), or -1; its scope goes to *scope when scope is not NULL. */
static int route_info(int index, const char *text, int len, int *scope)
{
	struct nl_sock *sk = probe_sock();
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int proto = -1;

	if (sk && rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache) == 0) {
		for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_route *r = (struct rtnl_route *)o;
			struct rtnl_nexthop *nh;

			if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
			    !nl_addr_is(rtnl_route_get_dst(r), text, len) ||
			    rtnl_route_get_nnexthops(r) != 1)
				continue;
			nh = rtnl_route_nexthop_n(r, 0);
			if (rtnl_route_nh_get_ifindex(nh) == index &&
			    rtnl_route_nh_get_gateway(nh) == NULL) {
				proto = rtnl_route_get_protocol(r);
				if (scope)
					*scope = rtnl_route_get_scope(r);
			}
		}
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return proto;
}

static int route_proto(int index, const char *text, int len)
{
	return route_info(index, text, len, NULL);
}

static bool listed(const struct wm_cidr *list, int n, const char *text,
		   int len)
{
	struct wm_cidr c = cidr(text, len);

	for (int i = 0; i < n; i++)
		if (list[i].family == c.family && list[i].cidr == len &&
		    memcmp(list[i].addr, c.addr, c.family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

/* ---- packets ------------------------------------------------------------ */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint8_t payload[] = "wiremesh netif test";

/* An ICMP echo request from 10.99.0.2 to 10.99.0.1; returns its length. */
static size_t build_echo4(uint8_t *pkt, uint16_t id)
{
	size_t icmp_len = 8 + sizeof(payload), len = 20 + icmp_len;
	struct wm_cidr src = cidr("10.99.0.2", 32), dst = cidr("10.99.0.1", 32);

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)len);
	pkt[8] = 64;
	pkt[9] = IPPROTO_ICMP;
	memcpy(pkt + 12, src.addr, 4);
	memcpy(pkt + 16, dst.addr, 4);
	put16(pkt + 10, fold(sum16(pkt, 20, 0)));
	pkt[20] = 8; /* echo request */
	put16(pkt + 24, id);
	put16(pkt + 26, 1);
	memcpy(pkt + 28, payload, sizeof(payload));
	put16(pkt + 22, fold(sum16(pkt + 20, icmp_len, 0)));
	return len;
}

/* An ICMPv6 echo request from fd99::2 to fd99::1; returns its length. */
static size_t build_echo6(uint8_t *pkt, uint16_t id)
{
	size_t icmp_len = 8 + sizeof(payload), len = 40 + icmp_len;
	struct wm_cidr src = cidr("fd99::2", 128), dst = cidr("fd99::1", 128);
	uint32_t sum;

	memset(pkt, 0, len);
	pkt[0] = 0x60;
	put16(pkt + 4, (uint16_t)icmp_len);
	pkt[6] = IPPROTO_ICMPV6;
	pkt[7] = 64;
	memcpy(pkt + 8, src.addr, 16);
	memcpy(pkt + 24, dst.addr, 16);
	pkt[40] = 128; /* echo request */
	put16(pkt + 44, id);
	put16(pkt + 46, 1);
	memcpy(pkt + 48, payload, sizeof(payload));
	/* pseudo-header: addresses, upper-layer length, next header */
	sum = sum16(pkt + 8, 32, 0) + (uint32_t)icmp_len + IPPROTO_ICMPV6;
	put16(pkt + 42, fold(sum16(pkt + 40, icmp_len, sum)));
	return len;
}

static bool is_reply(const uint8_t *p, size_t len, int family, uint16_t id)
{
	if (family == AF_INET)
		return len >= 28 && p[0] >> 4 == 4 && p[9] == IPPROTO_ICMP &&
		       p[20] == 0 && (p[24] << 8 | p[25]) == id &&
		       len == 28 + sizeof(payload) &&
		       memcmp(p + 28, payload, sizeof(payload)) == 0;
	return len >= 48 && p[0] >> 4 == 6 && p[6] == IPPROTO_ICMPV6 &&
	       p[40] == 129 && (p[44] << 8 | p[45]) == id &&
	       len == 48 + sizeof(payload) &&
	       memcmp(p + 48, payload, sizeof(payload)) == 0;
}

/* Writes an echo request into the TUN and waits for the kernel's reply to
 * come out of it, skipping other traffic (IPv6 router solicitations, MLD).
 * Up to 5 tries of 400 ms: the kernel installs the local route of a NODAD
 * IPv6 address from a work item a moment after the address is added (or the
 * link comes up), and a packet that lands in that gap is dropped. */
static bool ping_through_tun(int family, uint16_t id)
{
	uint8_t pkt[128], buf[2048];
	struct pollfd pfd = { .fd = tun_fd, .events = POLLIN };

	for (int try = 0; try < 5; try++, id++) {
		size_t len = family == AF_INET ? build_echo4(pkt, id)
					       : build_echo6(pkt, id);

		if (write(tun_fd, pkt, len) != (ssize_t)len)
			return false;
		for (int i = 0; i < 64 && poll(&pfd, 1, 400) == 1; i++) {
			ssize_t n = read(tun_fd, buf, sizeof(buf));

			if (n > 0 && is_reply(buf, (size_t)n, family, id))
				return true;
		}
	}
	return false;
}

/* ---- cases ------------------------------------------------------------- */

TEST(private_netns)
{
	CHECK(unshare(CLONE_NEWNET) == 0);
}

TEST(tun_open)
{
	char name[IFNAMSIZ], other[IFNAMSIZ];
	int fd;

	tun_fd = wm_tun_open("wmtest0", name);
	CHECK(tun_fd >= 0);
	CHECK(strcmp(name, "wmtest0") == 0);
	CHECK(fcntl(tun_fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(tun_fd, F_GETFD) & FD_CLOEXEC);

	CHECK(wm_tun_open("wmtest0", other) == -EBUSY);
	CHECK(wm_tun_open("wmtest-name-too-long", other) == -EINVAL);

	fd = wm_tun_open(NULL, other); /* the kernel picks the name */
	CHECK(fd >= 0);
	CHECK(strncmp(other, "tun", 3) == 0);
	if (fd >= 0)
		close(fd);

	tun2_fd = wm_tun_open("wmtest1", other);
	CHECK(tun2_fd >= 0);
}

TEST(open_and_ifindex)
{
	CHECK(wm_netif_open(&nif) == 0);
	ifindex = wm_netif_ifindex(&nif, "wmtest0");
	ifindex2 = wm_netif_ifindex(&nif, "wmtest1");
	CHECK(ifindex > 0 && ifindex == (int)if_nametoindex("wmtest0"));
	CHECK(ifindex2 > 0 && ifindex2 != ifindex);
	CHECK(wm_netif_ifindex(&nif, "lo") == 1);
	CHECK(wm_netif_ifindex(&nif, "nosuch0") == -ENODEV);
	CHECK(wm_netif_ifindex(&nif, "") == -EINVAL);
	CHECK(wm_netif_ifindex(&nif, "0123456789abcdef") == -EINVAL);
}

TEST(configure)
{
	struct wm_cidr a4 = cidr("10.99.0.1", 24), a6 = cidr("fd99::1", 64);
	struct wm_cidr r4 = cidr("10.98.0.0", 16), r6 = cidr("fd98::", 48);

	CHECK(wm_netif_set_mtu(&nif, ifindex, 1380) == 0);
	CHECK(wm_netif_add_address(&nif, ifindex, &a4) == 0);
	CHECK(wm_netif_add_address(&nif, ifindex, &a6) == 0);
	CHECK(wm_netif_set_up(&nif, ifindex, true) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &r4) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &r6) == 0);
	if (check_case_failed)
		fprintf(stderr, "  last error: %s\n", wm_netif_last_error(&nif));

	/* Repeating setup is harmless. */
	CHECK(wm_netif_add_address(&nif, ifindex, &a4) == 0);
	CHECK(wm_netif_add_address(&nif, ifindex, &a6) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &r4) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &r6) == 0);
	CHECK(wm_netif_set_up(&nif, ifindex, true) == 0);
}

TEST(link_read_back)
{
	unsigned mtu = 0, flags = 0;

	CHECK(link_state(ifindex, &mtu, &flags));
	CHECK(mtu == 1380);
	CHECK(flags & IFF_UP);
	/* Other flags survive: a TUN is point-to-point and does no ARP. */
	CHECK(flags & IFF_NOARP);

	CHECK(wm_netif_set_mtu(&nif, ifindex, 1420) == 0);
	CHECK(link_state(ifindex, &mtu, &flags) && mtu == 1420);
	CHECK(wm_netif_set_mtu(&nif, ifindex, 1380) == 0);
}

TEST(addresses_read_back)
{
	int f4 = address_flags(ifindex, "10.99.0.1", 24);
	int f6 = address_flags(ifindex, "fd99::1", 64);

	CHECK(f4 >= 0);
	CHECK(f6 >= 0);
	CHECK(f6 >= 0 && (f6 & IFA_F_NODAD));
	CHECK(f6 >= 0 && !(f6 & IFA_F_TENTATIVE));
	CHECK(address_flags(ifindex2, "10.99.0.1", 24) == -1);
}

TEST(routes_read_back)
{
	int scope = -1;

	CHECK(route_info(ifindex, "10.98.0.0", 16, &scope) == RTPROT_STATIC);
	CHECK(scope == RT_SCOPE_LINK);
	CHECK(route_proto(ifindex, "fd98::", 48) == RTPROT_STATIC);
	/* The kernel's subnet routes, made usable by the link being up. */
	CHECK(route_proto(ifindex, "10.99.0.0", 24) == RTPROT_KERNEL);
	CHECK(route_proto(ifindex, "fd99::", 64) == RTPROT_KERNEL);
	CHECK(route_proto(ifindex2, "10.98.0.0", 16) == -1);
}

TEST(route_inside_own_subnet)
{
	struct wm_cidr same = cidr("10.99.0.77", 24); /* host bits cleared */
	struct wm_cidr inner = cidr("10.99.0.128", 25);
	struct wm_cidr same6 = cidr("fd99::", 64);

	/* Same prefix and metric as the kernel's subnet route: success. */
	CHECK(wm_netif_add_route(&nif, ifindex, &same) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &inner) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &same6) == 0);
	CHECK(route_proto(ifindex, "10.99.0.128", 25) == RTPROT_STATIC);

	/* Deleting ours never takes the kernel's subnet route with it. */
	CHECK(wm_netif_del_route(&nif, ifindex, &same) == 0);
	CHECK(wm_netif_del_route(&nif, ifindex, &inner) == 0);
	CHECK(wm_netif_del_route(&nif, ifindex, &same6) == 0);
	CHECK(route_proto(ifindex, "10.99.0.0", 24) == RTPROT_KERNEL);
	CHECK(route_proto(ifindex, "fd99::", 64) == RTPROT_KERNEL);
	CHECK(route_proto(ifindex, "10.99.0.128", 25) == -1);
}

TEST(ping4_through_tun)
{
	CHECK(ping_through_tun(AF_INET, 0x4d57));
}

TEST(ping6_through_tun)
{
	/* No waiting for DAD: usable as soon as it is configured. */
	CHECK(ping_through_tun(AF_INET6, 0x4d36));
}

TEST(list_addresses)
{
	struct wm_cidr s[] = {
		cidr("10.97.0.1", 24), cidr("169.254.7.1", 16),
		cidr("fe80::7", 64), cidr("2001:db8:97::1", 64),
	};
	struct wm_cidr out[32];
	int n;

	CHECK(wm_netif_set_up(&nif, 1, true) == 0); /* lo: 127.0.0.1, ::1 */
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		CHECK(wm_netif_add_address(&nif, ifindex2, &s[i]) == 0);
	CHECK(wm_netif_set_up(&nif, ifindex2, true) == 0);

	n = wm_netif_list_addresses(&nif, ifindex2, out, 32);
	CHECK(n >= 2);
	CHECK(listed(out, n, "10.99.0.1", 24));
	CHECK(listed(out, n, "fd99::1", 64));
	CHECK(!listed(out, n, "10.97.0.1", 24));
	CHECK(!listed(out, n, "2001:db8:97::1", 64));
	CHECK(!listed(out, n, "127.0.0.1", 8));
	CHECK(!listed(out, n, "::1", 128));

	n = wm_netif_list_addresses(&nif, ifindex, out, 32);
	CHECK(n >= 2);
	CHECK(listed(out, n, "10.97.0.1", 24));
	CHECK(listed(out, n, "2001:db8:97::1", 64));
	CHECK(!listed(out, n, "169.254.7.1", 16));
	CHECK(!listed(out, n, "fe80::7", 64));
	CHECK(!listed(out, n, "10.99.0.1", 24));
	CHECK(!listed(out, n, "fd99::1", 64));
	for (int i = 0; i < n; i++)
		CHECK(out[i].addr[0] != 127 && out[i].addr[0] != 0xfe);

	n = wm_netif_list_addresses(&nif, 0, out, 32);
	CHECK(listed(out, n, "10.97.0.1", 24) && listed(out, n, "10.99.0.1", 24));
	CHECK(wm_netif_list_addresses(&nif, 0, out, 1) == 1);
	CHECK(wm_netif_list_addresses(&nif, 0, out, 0) == 0);
}

TEST(delete_route_and_address)
{
	struct wm_cidr r4 = cidr("10.98.0.0", 16), r6 = cidr("fd98::", 48);
	struct wm_cidr a6 = cidr("fd99::1", 64);

	CHECK(wm_netif_del_route(&nif, ifindex, &r4) == 0);
	CHECK(route_proto(ifindex, "10.98.0.0", 16) == -1);
	CHECK(route_proto(ifindex, "fd98::", 48) == RTPROT_STATIC);
	CHECK(wm_netif_del_route(&nif, ifindex, &r4) == 0); /* already gone */

	CHECK(wm_netif_del_route(&nif, ifindex, &r6) == 0);
	CHECK(route_proto(ifindex, "fd98::", 48) == -1);
	CHECK(wm_netif_del_route(&nif, ifindex, &r6) == 0);

	CHECK(wm_netif_del_address(&nif, ifindex, &a6) == 0);
	CHECK(address_flags(ifindex, "fd99::1", 64) == -1);
	CHECK(address_flags(ifindex, "10.99.0.1", 24) >= 0);
	CHECK(wm_netif_del_address(&nif, ifindex, &a6) == 0);
}

TEST(route_conflict_and_down_link)
{
	struct wm_cidr r = cidr("10.96.0.0", 16);

	/* Someone else's route to the same prefix is reported, not taken. */
	CHECK(wm_netif_add_route(&nif, ifindex2, &r) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex, &r) == -EEXIST);
	CHECK(strstr(wm_netif_last_error(&nif), "another interface") != NULL);
	CHECK(route_proto(ifindex2, "10.96.0.0", 16) == RTPROT_STATIC);
	CHECK(route_proto(ifindex, "10.96.0.0", 16) == -1);
	/* ...and their route is not ours to delete. */
	CHECK(wm_netif_del_route(&nif, ifindex, &r) == 0);
	CHECK(route_proto(ifindex2, "10.96.0.0", 16) == RTPROT_STATIC);
	CHECK(wm_netif_del_route(&nif, ifindex2, &r) == 0);

	CHECK(wm_netif_set_up(&nif, ifindex2, false) == 0);
	CHECK(wm_netif_add_route(&nif, ifindex2, &r) == -ENETDOWN);
	{
		unsigned mtu, flags = IFF_UP;

		CHECK(link_state(ifindex2, &mtu, &flags) && !(flags & IFF_UP));
	}
}

TEST(bad_inputs)
{
	struct wm_cidr good = cidr("10.95.0.1", 24), bad = good;

	CHECK(wm_netif_set_mtu(&nif, ifindex, 100000) == -EINVAL);
	CHECK(wm_netif_last_error(&nif)[0] != '\0');
	fprintf(stderr, "  (mtu 100000: %s)\n", wm_netif_last_error(&nif));
	{
		unsigned mtu = 0, flags;

		CHECK(link_state(ifindex, &mtu, &flags) && mtu == 1380);
	}
	CHECK(wm_netif_set_mtu(&nif, 9999, 1400) == -ENODEV);
	CHECK(wm_netif_set_up(&nif, 9999, true) == -ENODEV);
	CHECK(wm_netif_set_mtu(&nif, 0, 1400) == -ENODEV);
	CHECK(wm_netif_add_address(&nif, 9999, &good) == -ENODEV);
	CHECK(wm_netif_add_route(&nif, 9999, &good) == -ENODEV);
	CHECK(wm_netif_del_address(&nif, -1, &good) == -ENODEV);

	bad.cidr = 33;
	CHECK(wm_netif_add_address(&nif, ifindex, &bad) == -EINVAL);
	CHECK(wm_netif_add_route(&nif, ifindex, &bad) == -EINVAL);
	bad = good;
	bad.family = AF_UNIX;
	CHECK(wm_netif_add_address(&nif, ifindex, &bad) == -EAFNOSUPPORT);
	CHECK(wm_netif_del_route(&nif, ifindex, &bad) == -EAFNOSUPPORT);
	bad = cidr("fd95::1", 129);
	CHECK(wm_netif_add_route(&nif, ifindex, &bad) == -EINVAL);
}

/* `ip` as the operator would read it (runs in our netns): does the output
 * of cmd contain want? */
static bool ip_shows(const char *cmd, const char *want)
{
	char buf[4096];
	size_t n;
	FILE *f = popen(cmd, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	return strstr(buf, want) != NULL;
}

TEST(policy_rules_and_tables)
{
	struct wm_cidr d4 = cidr("0.0.0.0", 0), d6 = cidr("::", 0);

	for (int round = 0; round < 2; round++) { /* adding twice is fine */
		CHECK(wm_netif_fwmark_rule(&nif, AF_INET, 51820, 51820, true) == 0);
		CHECK(wm_netif_suppress_rule(&nif, AF_INET, true) == 0);
		CHECK(wm_netif_fwmark_rule(&nif, AF_INET6, 51820, 51820, true) == 0);
		CHECK(wm_netif_suppress_rule(&nif, AF_INET6, true) == 0);
		CHECK(wm_netif_add_route_table(&nif, ifindex, &d4, 51820) == 0);
		CHECK(wm_netif_add_route_table(&nif, ifindex, &d6, 51820) == 0);
	}
	CHECK(ip_shows("ip -4 rule show", "not from all fwmark 0xca6c lookup 51820"));
	CHECK(ip_shows("ip -4 rule show", "from all lookup main suppress_prefixlength 0"));
	CHECK(ip_shows("ip -6 rule show", "not from all fwmark 0xca6c lookup 51820"));
	CHECK(ip_shows("ip -6 rule show", "from all lookup main suppress_prefixlength 0"));
	CHECK(ip_shows("ip -4 route show table 51820", "default dev wmtest0"));
	CHECK(ip_shows("ip -6 route show table 51820", "default dev wmtest0"));
	CHECK(!ip_shows("ip -4 route show table main", "default"));
	for (int round = 0; round < 2; round++) { /* deleting twice is fine */
		CHECK(wm_netif_fwmark_rule(&nif, AF_INET, 51820, 51820, false) == 0);
		CHECK(wm_netif_suppress_rule(&nif, AF_INET, false) == 0);
		CHECK(wm_netif_fwmark_rule(&nif, AF_INET6, 51820, 51820, false) == 0);
		CHECK(wm_netif_suppress_rule(&nif, AF_INET6, false) == 0);
		CHECK(wm_netif_del_route_table(&nif, ifindex, &d4, 51820) == 0);
		CHECK(wm_netif_del_route_table(&nif, ifindex, &d6, 51820) == 0);
	}
	CHECK(!ip_shows("ip -4 rule show", "51820"));
	CHECK(!ip_shows("ip -4 rule show", "suppress"));
	CHECK(!ip_shows("ip -6 rule show", "51820"));
	CHECK(!ip_shows("ip -4 route show table 51820", "default"));
	CHECK(wm_netif_fwmark_rule(&nif, AF_UNSPEC, 1, 1, true) == -EAFNOSUPPORT);
}

TEST(teardown)
{
	wm_netif_close(&nif);
	wm_netif_close(&nif); /* twice is fine */
	close(tun_fd);
	close(tun2_fd);
	/* Non-persistent TUNs vanish with their last fd. */
	CHECK(if_nametoindex("wmtest0") == 0);
}

/* Not a pass: a suite run without root would otherwise test nothing here
 * and still count green. build.sh runs as root. */
TEST(needs_root)
{
	fprintf(stderr, "needs root for unshare(CLONE_NEWNET) and /dev/net/tun\n");
	CHECK(geteuid() == 0);
}

int main(void)
{
	if (geteuid() != 0) {
		RUN(needs_root);
		return check_summary();
	}
	/* Everything below changes interfaces: only ever in our own netns. */
	RUN(private_netns);
	if (check_failed)
		return check_summary();
	RUN(tun_open);
	RUN(open_and_ifindex);
	if (check_failed)
		return check_summary();
	RUN(configure);
	RUN(link_read_back);
	RUN(addresses_read_back);
	RUN(routes_read_back);
	RUN(route_inside_own_subnet);
	RUN(ping4_through_tun);
	RUN(ping6_through_tun);
	RUN(list_addresses);
	RUN(delete_route_and_address);
	RUN(route_conflict_and_down_link);
	RUN(bad_inputs);
	RUN(policy_rules_and_tables);
	RUN(teardown);
	return check_summary();
}
