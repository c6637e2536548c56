/* See ifstate.h. */
#include "netif/ifstate.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int wm_netif_is_up(const char *name)
{
	struct ifreq ifr;
	int fd, r;

	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	r = ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ? -errno
					       : (ifr.ifr_flags & IFF_UP) != 0;
	close(fd);
	return r;
}
