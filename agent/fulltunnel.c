/* See fulltunnel.h. */
#include "agent/fulltunnel.h"
#include "netif/rule.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void src_valid_mark(const char *ifname)
{
	static const char path[] = "/proc/sys/net/ipv4/conf/all/src_valid_mark";
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0 && write(fd, "1", 1) == 1) {
		close(fd);
		return;
	}
	fprintf(stderr, "%s: warning: cannot set %s (%s): with strict "
		"reverse-path filtering, replies may be dropped\n", ifname,
		path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int family_rules(struct wm_netif *n, const char *ifname, int family,
			uint32_t mark, uint32_t table, bool add)
{
	int failed = 0;

	/* Up: the fwmark rule first, as wg-quick; down: the same order. */
	if (wm_netif_fwmark_rule(n, family, mark, table, add) < 0) {
		fprintf(stderr, "%s: %s\n", ifname, wm_netif_last_error(n));
		failed++;
	}
	if (wm_netif_suppress_rule(n, family, add) < 0) {
		fprintf(stderr, "%s: %s\n", ifname, wm_netif_last_error(n));
		failed++;
	}
	if (add && !failed)
		fprintf(stderr, "%s: full tunnel (IPv%c): not fwmark 0x%x "
			"table %u; table main suppress_prefixlength 0\n",
			ifname, family == AF_INET ? '4' : '6', mark, table);
	return failed;
}

int wm_fulltunnel_sync(struct wm_fulltunnel *ft, struct wm_netif *n,
		       const char *ifname, bool want4, bool want6,
		       uint32_t mark, uint32_t table)
{
	int failed = 0;

	/* A new mark or table: the old rules go first. */
	if ((ft->on4 || ft->on6) && (ft->mark != mark || ft->table != table))
		wm_fulltunnel_stop(ft, n, ifname);
	if (want4 != ft->on4) {
		if (want4)
			src_valid_mark(ifname);
		failed += family_rules(n, ifname, AF_INET, mark, table, want4);
		ft->on4 = want4;
	}
	if (want6 != ft->on6) {
		failed += family_rules(n, ifname, AF_INET6, mark, table, want6);
		ft->on6 = want6;
	}
	ft->mark = mark;
	ft->table = table;
	return failed;
}

void wm_fulltunnel_stop(struct wm_fulltunnel *ft, struct wm_netif *n,
			const char *ifname)
{
	if (ft->on4)
		family_rules(n, ifname, AF_INET, ft->mark, ft->table, false);
	if (ft->on6)
		family_rules(n, ifname, AF_INET6, ft->mark, ft->table, false);
	ft->on4 = ft->on6 = false;
}
