/* See privileges.h. Raw capget/capset: no libcap needed. */
#include "agent/privileges.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, 2 * sizeof(*d));
	return syscall(SYS_capget, &h, d) < 0 ? -errno : 0;
}

static int caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static bool has(const struct __user_cap_data_struct d[2], unsigned cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

bool wm_privileges_more_than_net_admin(void)
{
	struct __user_cap_data_struct d[2];

	if (caps_get(d) < 0)
		return false;
	d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	return d[0].effective || d[1].effective;
}

/* Lowers the calling thread to CAP_NET_ADMIN (when keep_net_admin and
 * held) or to nothing. */
static int drop_to(bool keep_net_admin)
{
	struct __user_cap_data_struct d[2];
	bool keep;
	int r;

	r = caps_get(d);
	if (r < 0)
		return r;
	keep = keep_net_admin && has(d, CAP_NET_ADMIN);
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * goes with the capset below (without it, as in a container that
	 * withholds it, the bounding set stays; no_new_privs still holds).
	 * A kernel with fewer capabilities than we count answers EINVAL:
	 * the end of the list. */
	for (unsigned cap = 0; cap < 64 && has(d, CAP_SETPCAP); cap++) {
		if (keep && cap == CAP_NET_ADMIN)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	memset(d, 0, 2 * sizeof(*d));
	if (keep) {
		d[CAP_NET_ADMIN / 32].effective = 1u << (CAP_NET_ADMIN % 32);
		d[CAP_NET_ADMIN / 32].permitted = 1u << (CAP_NET_ADMIN % 32);
	}
	r = caps_set(d);
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int wm_privileges_drop(void)
{
	if (!wm_privileges_more_than_net_admin())
		return 1;
	return drop_to(true);
}

int wm_privileges_drop_thread(void)
{
	return drop_to(false);
}
