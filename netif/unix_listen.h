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
 * The mode. The socket file must never be open to more than asked, not
 * even for an instant, and the process umask stays alone (it is
 * process-wide: another thread creating a file meanwhile would get ours).
 * fchmod() on the socket fd before bind() is no answer either: Linux does
 * carry the socket inode's mode over to the file at bind, but that is
 * undocumented, and the umask still applies on top (0660 under umask 022
 * becomes 0640). So the socket is bound inside a fresh directory made by
 * mkdtemp() next to the path (mode 0700: nobody else can reach what is
 * inside, whatever its mode), given its group and exact mode there, set
 * listening, and only then hard-linked to the path. link() never replaces
 * an existing file, so a socket another agent bound since our check is
 * left alone (-EADDRINUSE). The temporary name and directory are removed.
 * The costs: the parent directory's name may be at most 95 bytes long
 * (its "/.wmXXXXXX/s" must fit sun_path; else -ENAMETOOLONG), and a crash
 * between mkdtemp and the cleanup leaves a ".wmXXXXXX" directory beside
 * the socket.
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
