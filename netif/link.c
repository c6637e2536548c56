/* See link.h. */
#include "netif/link.h"
#include "netif/link_nl.h"

#include <errno.h>
#include <net/if.h> /* before libnl pulls in <linux/if.h> */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

/* ---- errors ----------------------------------------------------------- */

/* Only for failures inside libnl itself: a kernel refusal is read from the
 * NLMSG_ERROR by on_error(), because libnl folds distinct errnos (ENODEV,
 * ENOENT, ESRCH) into one code. */
static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_AGAIN:
	case NLE_DUMP_INTR:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
	case NLE_AF_MISMATCH:
	case NLE_IMMUTABLE:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
	case NLE_ATTRSIZE:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_SRCRT_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_MSG_OVERFLOW:
		return -ENOBUFS;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_PARSE_ERR:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* The kernel appends NLMSGERR_ATTR_* after the echoed request (or after
 * its header alone when the ack is capped); we want only the text. */
static void read_ext_ack(struct wm_netif *n, const struct nlmsghdr *h,
			 struct nlmsgerr *e)
{
	size_t total = h->nlmsg_len - NLMSG_HDRLEN, off = sizeof(*e);
	struct nlattr *a;
	int rem;

	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	off = NLMSG_ALIGN(off);
	if (off >= total)
		return;
	nla_for_each_attr(a, (struct nlattr *)((char *)e + off),
			  (int)(total - off), rem) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
			snprintf(n->kernel_msg, sizeof(n->kernel_msg), "%.*s",
				 nla_len(a), (const char *)nla_data(a));
			return;
		}
	}
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct wm_netif *n = arg;
	/* libnl hands us nlmsg_data() of the NLMSG_ERROR message. */
	const struct nlmsghdr *h =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);

	(void)who;
	n->kernel_err = e->error < 0 ? -e->error : e->error;
	n->kernel_msg[0] = '\0';
	if (h->nlmsg_flags & NLM_F_ACK_TLVS)
		read_ext_ack(n, h, e);
	return NL_STOP;
}

void wm_netif_begin(struct wm_netif *n)
{
	n->kernel_err = 0;
	n->kernel_msg[0] = '\0';
}

/* Turns a libnl result into 0 or -errno and records why it failed. */
int wm_netif_finish(struct wm_netif *n, const char *what, int nlerr)
{
	char buf[64];
	int err;

	if (nlerr >= 0)
		return 0;
	if (n->kernel_err > 0) {
		err = -n->kernel_err;
		snprintf(n->error, sizeof(n->error), "%s: %s%s%s", what,
			 n->kernel_msg, n->kernel_msg[0] ? ": " : "",
			 strerror_r(-err, buf, sizeof(buf)));
	} else {
		err = nl_to_errno(nlerr);
		snprintf(n->error, sizeof(n->error), "%s: %s", what,
			 nl_geterror(nlerr));
	}
	return err;
}

/* For a refusal the caller treats as success (EEXIST on add, and so on):
 * it is no failure, so it leaves no message. */
int wm_netif_forgive(struct wm_netif *n)
{
	n->error[0] = '\0';
	return 0;
}

int wm_netif_reject(struct wm_netif *n, const char *what, int err)
{
	char buf[64];

	snprintf(n->error, sizeof(n->error), "%s: %s", what,
		 strerror_r(-err, buf, sizeof(buf)));
	return err;
}

const char *wm_netif_last_error(const struct wm_netif *n)
{
	return n->error;
}

/* ---- socket ----------------------------------------------------------- */

int wm_netif_open(struct wm_netif *n)
{
	int one = 1, err;

	memset(n, 0, sizeof(*n));
	n->sk = nl_socket_alloc();
	if (!n->sk)
		return -ENOMEM;
	err = nl_connect(n->sk, NETLINK_ROUTE);
	if (err < 0) {
		err = wm_netif_finish(n, "netlink connect", err);
		nl_socket_free(n->sk);
		n->sk = NULL;
		return err;
	}
	/* Kernel error text is worth having; the echoed request is not.
	 * Both are best effort: older kernels simply lack them. */
	setsockopt(nl_socket_get_fd(n->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(n->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl_socket_modify_err_cb(n->sk, NL_CB_CUSTOM, on_error, n);
	return 0;
}

void wm_netif_close(struct wm_netif *n)
{
	if (n->sk)
		nl_socket_free(n->sk); /* closes the fd too */
	n->sk = NULL;
}

/* ---- helpers ---------------------------------------------------------- */

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int check_cidr(const struct wm_cidr *c)
{
	if (c->family == AF_INET)
		return c->cidr <= 32 ? 0 : -EINVAL;
	if (c->family == AF_INET6)
		return c->cidr <= 128 ? 0 : -EINVAL;
	return -EAFNOSUPPORT;
}

static int check_args(struct wm_netif *n, const char *what, int ifindex,
		      const struct wm_cidr *c)
{
	int err;

	if (ifindex <= 0)
		return wm_netif_reject(n, what, -ENODEV);
	err = check_cidr(c);
	return err ? wm_netif_reject(n, what, err) : 0;
}

/* A libnl address for c; network clears the host bits, which the kernel
 * insists on for route destinations. */
static struct nl_addr *to_nl_addr(const struct wm_cidr *c, bool network)
{
	uint8_t buf[16];
	size_t len = addr_len(c->family);
	struct nl_addr *a;

	memcpy(buf, c->addr, len);
	if (network) {
		for (size_t i = 0; i < len; i++) {
			unsigned keep = c->cidr > 8 * i ? c->cidr - 8 * i : 0;

			if (keep < 8)
				buf[i] &= (uint8_t)(0xff00u >> keep);
		}
	}
	a = nl_addr_build(c->family, buf, len);
	if (a)
		nl_addr_set_prefixlen(a, c->cidr);
	return a;
}

static bool same_prefix(struct nl_addr *a, const struct wm_cidr *net)
{
	/* A default route has no RTA_DST: libnl gives an empty address. */
	if (net->cidr == 0)
		return !a || nl_addr_get_prefixlen(a) == 0;
	return a && nl_addr_get_family(a) == net->family &&
	       nl_addr_get_prefixlen(a) == net->cidr &&
	       nl_addr_get_len(a) == addr_len(net->family) &&
	       memcmp(nl_addr_get_binary_addr(a), net->addr,
		      addr_len(net->family)) == 0;
}

/* ---- links ------------------------------------------------------------ */

int wm_netif_ifindex(struct wm_netif *n, const char *name)
{
	struct rtnl_link *link = NULL;
	int err, ifindex;

	if (!name || !name[0] || strlen(name) >= IFNAMSIZ)
		return wm_netif_reject(n, "ifindex", -EINVAL);
	wm_netif_begin(n);
	err = wm_netif_finish(n, name, rtnl_link_get_kernel(n->sk, 0, name, &link));
	/* rtnl_link_get_kernel reads the reply with its own error hook, so
	 * the kernel's ENODEV reaches us only as libnl's "not found". */
	if (err == -ENOENT)
		return wm_netif_reject(n, name, -ENODEV);
	if (err < 0)
		return err;
	ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return ifindex > 0 ? ifindex : wm_netif_reject(n, name, -ENODEV);
}

static int change_link(struct wm_netif *n, const char *what, int ifindex,
		       struct rtnl_link *changes)
{
	struct rtnl_link *orig;
	int err;

	if (ifindex <= 0)
		return wm_netif_reject(n, what, -ENODEV);
	orig = rtnl_link_alloc();
	if (!orig)
		return wm_netif_reject(n, what, -ENOMEM);
	/* Only the index is needed: libnl sends changes->flags under a
	 * change mask, so flags we do not name stay as they are. */
	rtnl_link_set_ifindex(orig, ifindex);
	wm_netif_begin(n);
	err = wm_netif_finish(n, what, rtnl_link_change(n->sk, orig, changes, 0));
	rtnl_link_put(orig);
	return err;
}

int wm_netif_set_mtu(struct wm_netif *n, int ifindex, unsigned mtu)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	int err;

	if (!changes)
		return wm_netif_reject(n, "set mtu", -ENOMEM);
	rtnl_link_set_mtu(changes, mtu);
	err = change_link(n, "set mtu", ifindex, changes);
	rtnl_link_put(changes);
	return err;
}

int wm_netif_set_up(struct wm_netif *n, int ifindex, bool up)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	int err;

	if (!changes)
		return wm_netif_reject(n, "set up", -ENOMEM);
	if (up)
		rtnl_link_set_flags(changes, IFF_UP);
	else
		rtnl_link_unset_flags(changes, IFF_UP);
	err = change_link(n, up ? "set up" : "set down", ifindex, changes);
	rtnl_link_put(changes);
	return err;
}

/* ---- addresses -------------------------------------------------------- */

static int change_address(struct wm_netif *n, const char *what, int ifindex,
			  const struct wm_cidr *c, bool add)
{
	struct rtnl_addr *a;
	struct nl_addr *local;
	int err;

	err = check_args(n, what, ifindex, c);
	if (err)
		return err;
	a = rtnl_addr_alloc();
	local = to_nl_addr(c, false);
	if (!a || !local) {
		err = wm_netif_reject(n, what, -ENOMEM);
		goto out;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, c->family);
	err = rtnl_addr_set_local(a, local); /* also sets the prefix length */
	if (err < 0) {
		err = wm_netif_finish(n, what, err);
		goto out;
	}
	/* DAD would hold the address tentative (unusable, even as a source)
	 * until the link is up and probing ends; on a point-to-point TUN
	 * there is no one to collide with. The kernel skips DAD on NOARP
	 * devices anyway, but this must not depend on the device type. */
	if (add && c->family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);

	wm_netif_begin(n);
	if (add) {
		err = wm_netif_finish(n, what, rtnl_addr_add(n->sk, a, 0));
		if (err == -EEXIST)
			err = wm_netif_forgive(n);
	} else {
		err = wm_netif_finish(n, what, rtnl_addr_delete(n->sk, a, 0));
		if (err == -EADDRNOTAVAIL)
			err = wm_netif_forgive(n);
	}
out:
	nl_addr_put(local);
	rtnl_addr_put(a);
	return err;
}

int wm_netif_add_address(struct wm_netif *n, int ifindex,
			 const struct wm_cidr *c)
{
	return change_address(n, "add address", ifindex, c, true);
}

int wm_netif_del_address(struct wm_netif *n, int ifindex,
			 const struct wm_cidr *c)
{
	return change_address(n, "delete address", ifindex, c, false);
}

/* IPv4 loopback and link-local are caught by scope on a sane host, but an
 * address added by hand keeps whatever scope it was given. */
static bool usable_address(int family, const uint8_t *p)
{
	struct in6_addr a6;

	if (family == AF_INET)
		return p[0] != 127 && p[0] != 0 && p[0] < 224 &&
		       !(p[0] == 169 && p[1] == 254);
	memcpy(&a6, p, sizeof(a6));
	return !IN6_IS_ADDR_LOOPBACK(&a6) && !IN6_IS_ADDR_LINKLOCAL(&a6) &&
	       !IN6_IS_ADDR_UNSPECIFIED(&a6) && !IN6_IS_ADDR_MULTICAST(&a6) &&
	       !IN6_IS_ADDR_V4MAPPED(&a6);
}

static bool candidate(struct rtnl_addr *a, int skip_ifindex,
		      struct wm_cidr *out)
{
	struct nl_addr *local = rtnl_addr_get_local(a);
	int family = rtnl_addr_get_family(a);
	const uint8_t *p;

	if (!local || rtnl_addr_get_ifindex(a) == skip_ifindex)
		return false;
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (nl_addr_get_len(local) != addr_len(family))
		return false;
	if (rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
		return false;
	/* Not yet (or never) usable as a source address. */
	if (rtnl_addr_get_flags(a) & (IFA_F_TENTATIVE | IFA_F_DADFAILED))
		return false;
	p = nl_addr_get_binary_addr(local);
	if (!usable_address(family, p))
		return false;

	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	out->cidr = (uint8_t)rtnl_addr_get_prefixlen(a);
	memcpy(out->addr, p, addr_len(family));
	return true;
}

int wm_netif_list_addresses(struct wm_netif *n, int skip_ifindex,
			    struct wm_cidr *out, size_t cap)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	size_t count = 0;
	int err;

	wm_netif_begin(n);
	err = wm_netif_finish(n, "list addresses", rtnl_addr_alloc_cache(n->sk, &cache));
	if (err < 0)
		return err;
	for (obj = nl_cache_get_first(cache); obj && count < cap;
	     obj = nl_cache_get_next(obj)) {
		if (candidate((struct rtnl_addr *)obj, skip_ifindex,
			      &out[count]))
			count++;
	}
	nl_cache_free(cache);
	return (int)count;
}

/* ---- routes ----------------------------------------------------------- */

enum { FREE_TABLE_TRIES = 1024 };

int wm_netif_free_table(struct wm_netif *n, uint32_t from, uint32_t *out)
{
	bool used[FREE_TABLE_TRIES] = { false }; /* table from + i has a route */
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	wm_netif_begin(n);
	err = wm_netif_finish(n, "list routes",
			      rtnl_route_alloc_cache(n->sk, AF_UNSPEC, 0, &cache));
	if (err < 0)
		return err;
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		uint32_t t = rtnl_route_get_table((struct rtnl_route *)obj);

		if (t >= from && t - from < FREE_TABLE_TRIES)
			used[t - from] = true;
	}
	nl_cache_free(cache);
	for (uint32_t i = 0; i < FREE_TABLE_TRIES; i++)
		if (!used[i]) {
			*out = from + i;
			return 0;
		}
	return -ENOSPC;
}

/* A template for the route to net (already masked) into ifindex. */
static struct rtnl_route *make_route(int ifindex, const struct wm_cidr *net,
				     uint32_t table)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = to_nl_addr(net, false);

	if (!r || !nh || !dst)
		goto fail;
	if (rtnl_route_set_family(r, net->family) < 0 ||
	    rtnl_route_set_dst(r, dst) < 0)
		goto fail;
	nl_addr_put(dst);
	rtnl_route_set_table(r, table);
	rtnl_route_set_protocol(r, RTPROT_STATIC);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(r, nh); /* r owns nh from here */
	return r;
fail:
	nl_addr_put(dst);
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(r);
	return NULL;
}

static bool route_into(struct rtnl_route *r, int ifindex)
{
	int count = rtnl_route_get_nnexthops(r);

	for (int i = 0; i < count; i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, i);

		if (nh && rtnl_route_nh_get_ifindex(nh) == ifindex)
			return true;
	}
	return false;
}

/* After EEXIST: is the route in the way already ours (the same prefix into
 * this interface, e.g. the kernel's subnet route), or another interface's?
 * Returns 1, 0 or -errno. A dump, but only on this rare path. */
static int route_exists(struct wm_netif *n, int ifindex,
			const struct wm_cidr *net, uint32_t table)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err, found = 0;

	wm_netif_begin(n);
	err = wm_netif_finish(n, "list routes",
		     rtnl_route_alloc_cache(n->sk, net->family, 0, &cache));
	if (err < 0)
		return err;
	for (obj = nl_cache_get_first(cache); obj && !found;
	     obj = nl_cache_get_next(obj)) {
		struct rtnl_route *r = (struct rtnl_route *)obj;

		found = rtnl_route_get_table(r) == table &&
			same_prefix(rtnl_route_get_dst(r), net) &&
			route_into(r, ifindex);
	}
	nl_cache_free(cache);
	return found;
}

static int change_route(struct wm_netif *n, const char *what, int ifindex,
			const struct wm_cidr *c, uint32_t table, bool add)
{
	struct wm_cidr net;
	struct rtnl_route *r;
	struct nl_addr *dst;
	int err;

	err = check_args(n, what, ifindex, c);
	if (err)
		return err;
	/* Mask once here, so the route template and route_exists() agree. */
	dst = to_nl_addr(c, true);
	if (!dst)
		return wm_netif_reject(n, what, -ENOMEM);
	net = *c;
	memcpy(net.addr, nl_addr_get_binary_addr(dst), addr_len(c->family));
	nl_addr_put(dst);

	r = make_route(ifindex, &net, table);
	if (!r)
		return wm_netif_reject(n, what, -ENOMEM);
	wm_netif_begin(n);
	if (add) {
		rtnl_route_set_scope(r, RT_SCOPE_LINK);
		/* EXCL makes any same-prefix, same-metric route a conflict;
		 * route_exists() then tells ours from someone else's. Without
		 * it IPv4 would silently stack our route on top of theirs. */
		err = wm_netif_finish(n, what, rtnl_route_add(n->sk, r, NLM_F_EXCL));
		if (err == -EEXIST) {
			int mine = route_exists(n, ifindex, &net, table);

			if (mine < 0)
				err = mine;
			else if (mine)
				err = wm_netif_forgive(n);
			else
				wm_netif_reject(n, "add route: the prefix is routed "
					  "into another interface", err);
		}
	} else {
		/* Any scope; static only (see link.h). */
		rtnl_route_set_scope(r, RT_SCOPE_NOWHERE);
		err = wm_netif_finish(n, what, rtnl_route_delete(n->sk, r, 0));
		if (err == -ESRCH || err == -ENOENT)
			err = wm_netif_forgive(n);
	}
	rtnl_route_put(r);
	return err;
}

int wm_netif_add_route(struct wm_netif *n, int ifindex,
		       const struct wm_cidr *c)
{
	return change_route(n, "add route", ifindex, c, RT_TABLE_MAIN, true);
}

int wm_netif_del_route(struct wm_netif *n, int ifindex,
		       const struct wm_cidr *c)
{
	return change_route(n, "delete route", ifindex, c, RT_TABLE_MAIN, false);
}

int wm_netif_add_route_table(struct wm_netif *n, int ifindex,
			     const struct wm_cidr *c, uint32_t table)
{
	return change_route(n, "add route", ifindex, c, table, true);
}

int wm_netif_del_route_table(struct wm_netif *n, int ifindex,
			     const struct wm_cidr *c, uint32_t table)
{
	return change_route(n, "delete route", ifindex, c, table, false);
}
