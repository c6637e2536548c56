/* See hooks.h. */
#include "agent/hooks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ERR_KEEP = 2048 };

static const char *const names[WM_HOOK_COUNT] = {
	"PreUp", "PostUp", "PreDown", "PostDown",
};

const char *wm_hook_name(enum wm_hook h)
{
	return h < WM_HOOK_COUNT ? names[h] : "hook";
}

/* cmd with every %i replaced by ifname (wg-quick: ${hook//%i/$INTERFACE}). */
static char *expand(const char *cmd, const char *ifname)
{
	size_t n = 0, il = strlen(ifname);
	char *out, *o;

	for (const char *p = cmd; *p; p++)
		n += (p[0] == '%' && p[1] == 'i') ? (p++, il) : 1;
	out = o = malloc(n + 1);
	if (!out)
		return NULL;
	for (const char *p = cmd; *p; p++) {
		if (p[0] == '%' && p[1] == 'i') {
			memcpy(o, ifname, il);
			o += il;
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void child(const char *cmd, int in_fd, int err_fd)
{
	sigset_t none;

	/* The loop blocks its signals for signalfd; a shell must not inherit
	 * that. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	dup2(in_fd, STDIN_FILENO);
	dup2(err_fd, STDERR_FILENO);
	dup2(err_fd, STDOUT_FILENO); /* the journal gets both */
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	dprintf(err_fd, "/bin/sh: %s\n", strerror(errno));
	_exit(127);
}

/* Reads the child's output until it exits (a command that leaves a
 * daemon holding the pipe must not hang us), keeping the first ERR_KEEP
 * bytes; returns the wait status, or -errno. */
static int collect(pid_t pid, int fd, char *keep, size_t *kept)
{
	char buf[512];
	int status;
	ssize_t n;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int done = waitpid(pid, &status, WNOHANG);

		if (done < 0 && errno != EINTR)
			return -errno;
		if (poll(&p, 1, done == pid ? 0 : 100) > 0 &&
		    (n = read(fd, buf, sizeof(buf))) > 0) {
			size_t take = (size_t)n;
			if (take > ERR_KEEP - *kept)
				take = ERR_KEEP - *kept;
			memcpy(keep + *kept, buf, take);
			*kept += take;
			continue;
		}
		if (done == pid)
			return status;
	}
}

static void log_output(const char *ifname, const char *what, char *out,
		       size_t len)
{
	char *line, *rest = out;

	out[len] = '\0';
	while ((line = strsep(&rest, "\n")))
		if (line[0])
			fprintf(stderr, "%s: %s: | %s\n", ifname, what, line);
}

static bool looks_unprivileged(const char *out)
{
	return strstr(out, "ermission denied") ||
	       strstr(out, "peration not permitted") ||
	       strstr(out, "ead-only file system");
}

static void report(const char *ifname, const char *what, const char *cmd,
		   int status, const char *out)
{
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s: %s failed: killed by signal %d (%s): %s\n",
			ifname, what, WTERMSIG(status),
			strsignal(WTERMSIG(status)), cmd);
	else
		fprintf(stderr, "%s: %s failed: exit status %d: %s\n", ifname,
			what, WEXITSTATUS(status), cmd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		fprintf(stderr, "%s: %s: a command was not found (PATH=%s)\n",
			ifname, what, getenv("PATH") ? getenv("PATH") : "");
	if (looks_unprivileged(out))
		fprintf(stderr, "%s: %s: the command lacked a privilege: it runs "
			"with the agent's own, which are CAP_NET_ADMIN, a "
			"read-only /etc and /proc/sys under wiremesh@.service, "
			"and CAP_NET_ADMIN only at PreDown/PostDown even outside "
			"it; see \"wg-quick compatibility\" in wiremesh(8) for "
			"the drop-in that grants more\n", ifname, what);
}

/* Runs one command, input (may be NULL) on its stdin. 0 or -1. */
static int run(const char *ifname, const char *what, const char *cmd,
	       const char *input)
{
	char out[ERR_KEEP + 1];
	size_t kept = 0;
	int in[2], err[2], status;
	pid_t pid;

	fprintf(stderr, "%s: %s: %s\n", ifname, what, cmd);
	if (pipe2(in, O_CLOEXEC) < 0)
		goto fail;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		child(cmd, in[0], err[1]);
	close(in[0]);
	close(err[1]);
	if (pid < 0) {
		close(in[1]);
		close(err[0]);
		goto fail;
	}
	/* Small (a few resolv.conf lines): fits the pipe, never blocks. */
	if (input && write(in[1], input, strlen(input)) < 0)
		fprintf(stderr, "%s: %s: stdin: %s\n", ifname, what,
			strerror(errno));
	close(in[1]);
	status = collect(pid, err[0], out, &kept);
	close(err[0]);
	log_output(ifname, what, out, kept);
	if (status < 0) {
		errno = -status;
		goto fail;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	report(ifname, what, cmd, status, out);
	return -1;
fail:
	fprintf(stderr, "%s: %s failed: cannot run /bin/sh: %s: %s\n", ifname,
		what, strerror(errno), cmd);
	return -1;
}

int wm_hooks_run(enum wm_hook h, const struct wm_strings *cmds,
		 const char *ifname)
{
	for (size_t i = 0; i < cmds->len; i++) {
		char *cmd = expand(cmds->items[i], ifname);
		int r;

		if (!cmd)
			return -1;
		r = run(ifname, wm_hook_name(h), cmd, NULL);
		free(cmd);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool have_resolvconf(void)
{
	const char *path = getenv("PATH");
	char buf[4096], dir[4096], *d, *rest = buf;

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	while ((d = strsep(&rest, ":"))) {
		snprintf(dir, sizeof(dir), "%s/resolvconf", d[0] ? d : ".");
		if (access(dir, X_OK) == 0)
			return true;
	}
	return false;
}

static bool is_address(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int wm_dns_set(const struct wm_strings *dns, const char *ifname)
{
	char input[4096], cmd[64];
	size_t off = 0;
	bool search = false;

	if (!dns->len)
		return 0;
	if (!have_resolvconf()) {
		fprintf(stderr, "%s: warning: DNS is set but no resolvconf is "
			"on PATH: name servers left as they are (install "
			"resolvconf or openresolv)\n", ifname);
		return 0;
	}
	/* wg-quick's input: servers first, then one search line. */
	for (size_t i = 0; i < dns->len && off < sizeof(input); i++)
		if (is_address(dns->items[i]))
			off += (size_t)snprintf(input + off, sizeof(input) - off,
						"nameserver %s\n", dns->items[i]);
	for (size_t i = 0; i < dns->len && off < sizeof(input); i++) {
		if (is_address(dns->items[i]))
			continue;
		off += (size_t)snprintf(input + off, sizeof(input) - off,
					"%s %s", search ? "" : "search",
					dns->items[i]);
		search = true;
	}
	if (search && off < sizeof(input))
		snprintf(input + off, sizeof(input) - off, "\n");
	snprintf(cmd, sizeof(cmd), "resolvconf -a %s -m 0 -x", ifname);
	return run(ifname, "DNS", cmd, input) < 0 ? -1 : 1;
}

void wm_dns_unset(const char *ifname)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "resolvconf -d %s -f", ifname);
	run(ifname, "DNS", cmd, NULL);
}
