/* See unix_listen.h. */
#include "netif/unix_listen.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Where the socket is bound first: <parent>/.wmXXXXXX/s. */

/* dir of path: "." for "x", "/" for "/x". */
static void parent_of(char *dir, size_t cap, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

static int mkdir_p(const char *dir)
{
	char up[PATH_MAX];
	int r;

	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	parent_of(up, sizeof(up), dir);
	if (strcmp(up, dir) == 0)
		return -ENOENT;
	r = mkdir_p(up);
	if (r < 0)
		return r;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

static int make_parent(const char *dir)
{
	struct stat st;
	int r = mkdir_p(dir);

	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return -errno;
	/* A symlink only root could have made (/var/run) is the system's. */
	if (S_ISLNK(st.st_mode) && st.st_uid == 0 && stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* 1 when something accepts connections on addr, 0 when nobody does. */
static int probe(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r, e;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	return -e;
}

/* Makes the path free: absent, or a stale socket removed. lstat, so a
 * symlink is "not a socket" and never followed. */
static int clear_path(const struct sockaddr_un *addr)
{
	struct stat st;
	int r;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	r = probe(addr);
	if (r != 0)
		return r > 0 ? -EADDRINUSE : r;
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Binds fd at path, never more open than 0600 while it gets its group
 * and final mode, and listens. */
static int bind_at(int fd, const struct sockaddr_un *addr, mode_t mode,
		   gid_t group, int backlog, struct wm_unix_sock *out)
{
	struct stat st;
	mode_t old;
	int r;

	/* The agent's one thread is the only one that creates files, so
	 * the process umask is ours for the length of a bind. */
	old = umask(0177);
	r = bind(fd, (const struct sockaddr *)addr, sizeof(*addr));
	umask(old);
	if (r < 0)
		return errno == EADDRINUSE ? -EADDRINUSE : -errno;
	out->group_err = 0;
	if (group != (gid_t)-1 && lchown(addr->sun_path, (uid_t)-1, group) < 0) {
		out->group_err = errno;
		mode &= 0700;
	}
	if (chmod(addr->sun_path, mode) < 0 || lstat(addr->sun_path, &st) < 0 ||
	    listen(fd, backlog) < 0) {
		r = -errno;
		unlink(addr->sun_path);
		return r;
	}
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->mode = mode;
	return 0;
}

int wm_unix_listen(const char *path, mode_t mode, gid_t group, int backlog,
		   struct wm_unix_sock *out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[sizeof(addr.sun_path)];
	int fd, r;

	if (path[0] == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	parent_of(dir, sizeof(dir), path);
	r = make_parent(dir);
	if (r == 0)
		r = clear_path(&addr);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* bind() never replaces a file: one made since clear_path (another
	 * agent was quicker) fails it with EADDRINUSE. */
	r = bind_at(fd, &addr, mode, group, backlog, out);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

bool wm_unix_unlink(const char *path, const struct wm_unix_sock *s)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_dev != s->dev || st.st_ino != s->ino)
		return false;
	return unlink(path) == 0;
}
