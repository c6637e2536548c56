/* netif/unix_listen.h in a mkdtemp directory: exact modes whatever the
 * umask, the group, parents made, stale sockets replaced, live sockets,
 * files, directories and symlinks refused, nothing left behind, and
 * wm_unix_unlink removing only our own socket. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "netif/unix_listen.h"

static char dir[] = "/tmp/wmunixtest.XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* A socket bound at path; listening when live, else stale once closed. */
static int bind_at(const char *path, bool live)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (live && listen(fd, 1) < 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static bool connects(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* No ".wm" temporary directory is left in d. */
static bool no_leftovers(const char *d)
{
	DIR *h = opendir(d);
	struct dirent *e;
	bool ok = h != NULL;

	while (h && (e = readdir(h)))
		if (strncmp(e->d_name, ".wm", 3) == 0)
			ok = false;
	if (h)
		closedir(h);
	return ok;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return (mode_t)-1;
	return st.st_mode & 07777;
}

TEST(modes_whatever_the_umask)
{
	static const mode_t umasks[] = { 0, 022, 077 };
	static const mode_t modes[] = { 0600, 0660, 0666 };
	struct wm_unix_sock s;
	char path[100];
	struct stat st;
	mode_t old;

	path_of(path, sizeof(path), "m.sock");
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < 3; j++) {
			int fd;

			old = umask(umasks[i]);
			fd = wm_unix_listen(path, modes[j], (gid_t)-1, 4, &s);
			umask(old);
			CHECK(fd >= 0);
			if (fd < 0)
				continue;
			CHECK(mode_of(path) == modes[j]);
			CHECK(s.mode == modes[j] && s.group_err == 0);
			CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
			CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
			CHECK(lstat(path, &st) == 0 && st.st_ino == s.ino &&
			      st.st_dev == s.dev && st.st_nlink == 1);
			CHECK(connects(path));
			CHECK(wm_unix_unlink(path, &s));
			CHECK(lstat(path, &st) < 0 && errno == ENOENT);
			close(fd);
		}
	}
	CHECK(no_leftovers(dir));
}

/* Another thread watches the path while sockets come and go under umask
 * 0: it must never see the file more open than the final mode. */
static atomic_bool watching;
static atomic_uint seen, wrong;

static void *watch(void *arg)
{
	const char *path = arg;
	struct stat st;

	while (atomic_load(&watching)) {
		if (lstat(path, &st) < 0)
			continue;
		atomic_fetch_add(&seen, 1);
		if ((st.st_mode & 07777 & ~(mode_t)0640) != 0)
			atomic_fetch_add(&wrong, 1);
	}
	return NULL;
}

TEST(no_window)
{
	struct wm_unix_sock s;
	char path[100];
	pthread_t t;
	mode_t old;

	path_of(path, sizeof(path), "w.sock");
	atomic_store(&watching, true);
	if (pthread_create(&t, NULL, watch, path) != 0) {
		CHECK(0);
		return;
	}
	old = umask(0);
	for (int i = 0; i < 300; i++) {
		int fd = wm_unix_listen(path, 0640, (gid_t)-1, 4, &s);

		CHECK(fd >= 0);
		if (fd < 0)
			break;
		close(fd); /* stale now: the next round replaces it */
	}
	umask(old);
	atomic_store(&watching, false);
	pthread_join(t, NULL);
	CHECK(atomic_load(&seen) > 0 && atomic_load(&wrong) == 0);
	unlink(path);
	CHECK(no_leftovers(dir));
}

TEST(group_and_parents)
{
	struct wm_unix_sock s;
	char path[100], sub[100];
	gid_t g = getegid() == 0 ? 4242 : getegid();
	struct stat st;
	int fd;

	path_of(path, sizeof(path), "a/b/g.sock");
	fd = wm_unix_listen(path, 0660, g, 4, &s);
	CHECK(fd >= 0);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	      st.st_gid == g && (st.st_mode & 07777) == 0660);
	path_of(sub, sizeof(sub), "a/b");
	CHECK(lstat(sub, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(no_leftovers(sub));
	CHECK(wm_unix_unlink(path, &s));
	close(fd);
	rmdir(sub);
	path_of(sub, sizeof(sub), "a");
	rmdir(sub);
}

TEST(stale_replaced_live_refused)
{
	struct wm_unix_sock s, s2;
	char path[100];
	struct stat st;
	int fd, other;

	path_of(path, sizeof(path), "s.sock");
	other = bind_at(path, false);
	CHECK(other >= 0);
	close(other); /* bound, never listened: connect is refused */
	fd = wm_unix_listen(path, 0600, (gid_t)-1, 4, &s);
	CHECK(fd >= 0);
	CHECK(connects(path));

	/* We answer now: a second one is refused, our file stays. */
	CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s2) == -EADDRINUSE);
	CHECK(lstat(path, &st) == 0 && st.st_ino == s.ino);
	CHECK(connects(path));
	CHECK(no_leftovers(dir));

	/* Replaced behind our back: not ours to remove. */
	CHECK(unlink(path) == 0);
	other = bind_at(path, true);
	CHECK(other >= 0);
	CHECK(!wm_unix_unlink(path, &s));
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	close(other);
	close(fd);
	unlink(path);
}

TEST(non_sockets_refused)
{
	struct wm_unix_sock s;
	char path[100], target[100], sub[100];
	struct stat st;
	int fd;

	path_of(path, sizeof(path), "f.sock");
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s) == -EEXIST);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	unlink(path);

	CHECK(mkdir(path, 0700) == 0);
	CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s) == -EEXIST);
	rmdir(path);

	/* A symlink, even to a live socket, is never followed. */
	path_of(target, sizeof(target), "target.sock");
	fd = bind_at(target, true);
	CHECK(fd >= 0);
	CHECK(symlink(target, path) == 0);
	CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s) == -EEXIST);
	CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	close(fd);
	unlink(path);
	unlink(target);

	/* A parent that is a file, or a symlink someone else made. */
	path_of(sub, sizeof(sub), "file");
	fd = open(sub, O_CREAT | O_WRONLY | O_EXCL, 0600);
	CHECK(fd >= 0);
	close(fd);
	path_of(path, sizeof(path), "file/x.sock");
	CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s) == -ENOTDIR);
	unlink(sub);
	if (geteuid() == 0) {
		path_of(sub, sizeof(sub), "link");
		CHECK(symlink(dir, sub) == 0 && lchown(sub, 1, 1) == 0);
		path_of(path, sizeof(path), "link/x.sock");
		CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s) == -ENOTDIR);
		CHECK(lchown(sub, 0, 0) == 0);
		fd = wm_unix_listen(path, 0600, (gid_t)-1, 4, &s);
		CHECK(fd >= 0 && mode_of(path) == 0600);
		CHECK(wm_unix_unlink(path, &s));
		if (fd >= 0)
			close(fd);
		unlink(sub);
	}
	CHECK(no_leftovers(dir));
}

TEST(names)
{
	struct wm_unix_sock s;
	char path[200];

	CHECK(wm_unix_listen("", 0600, (gid_t)-1, 4, &s) == -EINVAL);
	memset(path, 'x', sizeof(path));
	path[0] = '/';
	path[150] = '\0';
	CHECK(wm_unix_listen(path, 0600, (gid_t)-1, 4, &s) == -ENAMETOOLONG);
	/* The longest path sun_path holds (107 bytes) works, and the socket's
	 * own address is that path (what ss and /proc show). */
	snprintf(path, sizeof(path), "%s/", dir);
	memset(path + strlen(path), 'y', 107 - strlen(path));
	path[107] = '\0';
	{
		struct sockaddr_un sa;
		socklen_t sl = sizeof(sa);
		int fd = wm_unix_listen(path, 0600, (gid_t)-1, 4, &s);

		CHECK(fd >= 0);
		if (fd >= 0) {
			CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
			      strcmp(sa.sun_path, path) == 0);
			CHECK(wm_unix_unlink(path, &s));
			close(fd);
		}
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(modes_whatever_the_umask);
	RUN(no_window);
	RUN(group_and_parents);
	RUN(stale_replaced_live_refused);
	RUN(non_sockets_refused);
	RUN(names);
	rmdir(dir);
	return check_summary();
}
