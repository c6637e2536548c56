/* See rule.h. */
#include "netif/rule.h"
#include "netif/link_nl.h"

#include <errno.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/rule.h>

/* libnl's rule object has neither the invert flag nor
 * FRA_SUPPRESS_PREFIXLEN, so the request it builds is finished here. */
static int send_rule(struct wm_netif *n, const char *what,
		     struct rtnl_rule *r, bool add, bool invert,
		     bool suppress)
{
	struct nl_msg *msg = NULL;
	struct fib_rule_hdr *frh;
	int err;

	err = add ? rtnl_rule_build_add_request(r, NLM_F_EXCL, &msg)
		  : rtnl_rule_build_delete_request(r, 0, &msg);
	if (err < 0)
		return wm_netif_finish(n, what, err);
	frh = nlmsg_data(nlmsg_hdr(msg));
	if (invert)
		frh->flags |= FIB_RULE_INVERT;
	if (suppress && nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, 0) < 0) {
		nlmsg_free(msg);
		return wm_netif_reject(n, what, -EMSGSIZE);
	}
	wm_netif_begin(n);
	err = wm_netif_finish(n, what, nl_send_sync(n->sk, msg)); /* frees msg */
	if (add && err == -EEXIST)
		return wm_netif_forgive(n);
	if (!add && (err == -ENOENT || err == -ESRCH))
		return wm_netif_forgive(n);
	return err;
}

static struct rtnl_rule *make_rule(int family, uint32_t table)
{
	struct rtnl_rule *r = rtnl_rule_alloc();

	if (!r)
		return NULL;
	rtnl_rule_set_family(r, family);
	rtnl_rule_set_table(r, table);
	rtnl_rule_set_action(r, FR_ACT_TO_TBL);
	return r;
}

int wm_netif_fwmark_rule(struct wm_netif *n, int family, uint32_t mark,
			 uint32_t table, bool add)
{
	const char *what = add ? "add fwmark rule" : "delete fwmark rule";
	struct rtnl_rule *r;
	int err;

	if (family != AF_INET && family != AF_INET6)
		return wm_netif_reject(n, what, -EAFNOSUPPORT);
	r = make_rule(family, table);
	if (!r)
		return wm_netif_reject(n, what, -ENOMEM);
	rtnl_rule_set_mark(r, mark);
	err = send_rule(n, what, r, add, true, false);
	rtnl_rule_put(r);
	return err;
}

int wm_netif_suppress_rule(struct wm_netif *n, int family, bool add)
{
	const char *what = add ? "add suppress rule" : "delete suppress rule";
	struct rtnl_rule *r;
	int err;

	if (family != AF_INET && family != AF_INET6)
		return wm_netif_reject(n, what, -EAFNOSUPPORT);
	r = make_rule(family, RT_TABLE_MAIN);
	if (!r)
		return wm_netif_reject(n, what, -ENOMEM);
	err = send_rule(n, what, r, add, false, true);
	rtnl_rule_put(r);
	return err;
}
