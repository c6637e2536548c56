/*
 * unix_listen.h - a listening unix stream socket at a path, made the same
 * way for the WireGuard UAPI (agent/uapi.c) and the REST API
 * (api/server.c).
 *
 * The path. Missing parent directories are created 0755 (less the umask).
 * The parent must be a directory; a symlink in its place is followed only
 * when root owns it (/var/run -> /run), else -ENOTDIR. At the path itself
 * nothing is ever followed or overwritten: a socket nobody answers on
 * (connect refused: an agent that died) is stale and is removed; a socket
 * that answers fails with -EADDRINUSE; anything else (a file, a directory,
 * a symlink, even to a socket) fails with -EEXIST.
 *
 * The mode. The socket file is never open to more than asked, not even
 * for an instant: it is bound at the path itself (so getsockname, ss and
 * /proc show the real path) under a umask of 0177, then given its group
 * and exact mode with chown/chmod, then set listening. The umask is
 * process-wide, but the agent has one thread and it is the only one that
 * creates files; it is restored right after bind(). bind() never
 * replaces an existing file, so a socket another agent bound since our
 * check is left alone (-EADDRINUSE).
 */
#ifndef WM_NETIF_UNIX_LISTEN_H
#define WM_NETIF_UNIX_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

/* Which file we made, so that only ours is removed at the end: another
 * agent may have replaced a socket we thought stale. */
struct wm_unix_sock {
	dev_t dev;
	ino_t ino;
	mode_t mode;   /* the mode the socket got */
	int group_err; /* 0, or the errno that kept the group from being set
			* (the mode then lost its group and other bits) */
};

/* Listens on a unix stream socket at path with the given mode and group
 * ((gid_t)-1: ours), following the rules at the top. backlog goes to
 * listen(). Returns the fd (non-blocking, close-on-exec; the caller owns
 * it) with *out filled, or -errno (-EADDRINUSE, -EEXIST, -ENOTDIR,
 * -ENAMETOOLONG, or what a system call said). */
int wm_unix_listen(const char *path, mode_t mode, gid_t group, int backlog,
		   struct wm_unix_sock *out);

/* Removes path if it is still the socket s describes. True when it did. */
bool wm_unix_unlink(const char *path, const struct wm_unix_sock *s);

#endif
