/* See daemon.h. */
#include "agent/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int wm_daemon_begin(void)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[0]);
		setsid(); /* the caller's terminal and its signals are not ours */
		return p[1];
	}
	close(p[1]);
	c = 0;
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	/* EOF without the byte: the child exited before it was up. */
	exit(n == 1 && c == 'R' ? 0 : 1);
}

void wm_daemon_ready(int fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ssize_t n;

	do
		n = write(fd, "R", 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}
