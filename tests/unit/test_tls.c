/* The TLS wrapper: credentials from PEM files that openssl makes at test
 * time (EC P-256 and RSA, PKCS#8 and traditional), and a client and a
 * server completing handshakes and exchanging bytes over a non-blocking
 * socketpair. */
#include "agent/relay/tls.h"
#include "tests/unit/check.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static char dir[] = "/tmp/wm-test-tls-XXXXXX";
static char path_buf[8][512];

static const char *path(int slot, const char *name)
{
	snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", dir, name);
	return path_buf[slot];
}

static bool sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "cd '%s' && (%s) >/dev/null 2>&1", dir, cmd);
	return system(full) == 0;
}

static bool make_files(void)
{
	if (!mkdtemp(dir))
		return false;
	return sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		  "-nodes -keyout ec.key -out ec.crt -days 2 -subj /CN=relay") &&
	       sh("openssl ec -in ec.key -out ec_sec1.key") &&
	       sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key "
		  "-out rsa.crt -days 2 -subj /CN=relay") &&
	       sh("openssl rsa -traditional -in rsa.key -out rsa_pkcs1.key") &&
	       sh("printf -- '-----BEGIN CERTIFICATE-----\\nnot base64 !!\\n"
		  "-----END CERTIFICATE-----\\n' > garbage.pem") &&
	       sh("openssl pkcs8 -topk8 -in ec.key -out ec_enc.key -passout pass:x") &&
	       sh("head -c -1 ec.crt > ec_nonl.crt");
}

static void remove_files(void)
{
	sh("rm -f ec.key ec.crt ec_sec1.key rsa.key rsa.crt rsa_pkcs1.key "
	   "garbage.pem ec_enc.key ec_nonl.crt");
	rmdir(dir);
}

static int load(struct wm_tls_creds **c, const char *crt, const char *key)
{
	char err[512] = "";
	int r = wm_tls_creds_load(c, path(0, crt), path(1, key), err, sizeof(err));

	if (r < 0 && !err[0])
		fprintf(stderr, "no error message for %s/%s\n", crt, key);
	return r;
}

TEST(creds_load)
{
	struct wm_tls_creds *c;

	CHECK(load(&c, "ec.crt", "ec.key") == 0);
	CHECK(c && strcmp(wm_tls_creds_key_type(c), "EC") == 0);
	wm_tls_creds_free(c);
	CHECK(load(&c, "ec_nonl.crt", "ec_sec1.key") == 0);
	wm_tls_creds_free(c);
	CHECK(load(&c, "rsa.crt", "rsa.key") == 0);
	CHECK(c && strcmp(wm_tls_creds_key_type(c), "RSA") == 0);
	wm_tls_creds_free(c);
	CHECK(load(&c, "rsa.crt", "rsa_pkcs1.key") == 0);
	wm_tls_creds_free(c);
}

TEST(creds_errors)
{
	struct wm_tls_creds *c = (void *)1;
	char err[512];

	CHECK(load(&c, "ec.crt", "rsa.key") == -EINVAL && c == NULL);
	CHECK(load(&c, "rsa.crt", "ec.key") == -EINVAL);
	CHECK(load(&c, "missing.crt", "ec.key") == -ENOENT);
	CHECK(load(&c, "ec.crt", "missing.key") == -ENOENT);
	CHECK(load(&c, "garbage.pem", "ec.key") == -EINVAL);
	CHECK(load(&c, "ec.key", "ec.key") == -EINVAL);  /* no certificate */
	CHECK(load(&c, "ec.crt", "ec.crt") == -EINVAL);  /* no key */
	CHECK(wm_tls_creds_load(&c, path(0, "ec.crt"), path(1, "ec_enc.key"),
				err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "encrypted") != NULL);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Pumps both ends until both are established (bounded). */
static bool handshake(struct wm_tls *cl, int cfd, struct wm_tls *sv, int sfd)
{
	for (int i = 0; i < 1000; i++) {
		if (wm_tls_pump(cl, cfd) < 0 || wm_tls_pump(sv, sfd) < 0)
			return false;
		if (wm_tls_established(cl) && wm_tls_established(sv))
			return true;
	}
	return false;
}

/* Sends len bytes from one end while the other reads them all. */
static bool transfer(struct wm_tls *a, int afd, struct wm_tls *b, int bfd,
		     const uint8_t *data, uint8_t *got, size_t len)
{
	size_t sent = 0, recvd = 0;

	for (int i = 0; i < 100000 && recvd < len; i++) {
		if (sent < len) {
			ssize_t n = wm_tls_write(a, afd, data + sent, len - sent);
			if (n < 0)
				return false;
			sent += (size_t)n;
		} else if (wm_tls_pump(a, afd) < 0) {
			return false;
		}
		for (;;) {
			ssize_t n = wm_tls_read(b, bfd, got + recvd, len - recvd);
			if (n < 0)
				return false;
			if (n == 0)
				break;
			recvd += (size_t)n;
		}
	}
	return recvd == len && memcmp(data, got, len) == 0;
}

/* drop_creds: the loader's reference goes right after the server side
 * is made, as a reload (SIGHUP) does; the connection keeps its own. */
static void session(const char *crt, const char *key, bool drop_creds)
{
	static uint8_t data[100000], got[100000];
	struct wm_tls_creds *creds;
	struct wm_tls *cl = NULL, *sv = NULL;
	int fds[2];
	ssize_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	CHECK(load(&creds, crt, key) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	nonblock(fds[0]);
	nonblock(fds[1]);
	CHECK(wm_tls_new_client(&cl, "relay.example.net") == 0);
	CHECK(wm_tls_new_server(&sv, creds) == 0);
	if (drop_creds) {
		wm_tls_creds_free(creds);
		creds = NULL;
	}
	/* nothing can be written before the handshake */
	CHECK(!wm_tls_established(cl));
	CHECK(wm_tls_write(cl, fds[0], "x", 1) == 0);
	CHECK(wm_tls_events(cl) != 0);
	CHECK(handshake(cl, fds[0], sv, fds[1]));
	CHECK(transfer(cl, fds[0], sv, fds[1], (const uint8_t *)"hello relay",
		       got, 11));
	CHECK(transfer(sv, fds[1], cl, fds[0], data, got, sizeof(data)));
	CHECK(transfer(cl, fds[0], sv, fds[1], data, got, sizeof(data)));
	/* nothing more to read: 0, not an error */
	CHECK(wm_tls_read(sv, fds[1], got, 10) == 0);
	/* a clean close reaches the other side as -EPIPE */
	wm_tls_close(cl, fds[0]);
	n = 0;
	for (int i = 0; i < 100 && n == 0; i++) {
		n = wm_tls_read(sv, fds[1], got, 10);
		wm_tls_pump(cl, fds[0]);
	}
	CHECK(n == -EPIPE);
	CHECK(wm_tls_last_error(sv) == 0);
	wm_tls_free(cl);
	wm_tls_free(sv);
	wm_tls_creds_free(creds);
	close(fds[0]);
	close(fds[1]);
}

TEST(session_ec)
{
	session("ec.crt", "ec.key", false);
}

TEST(session_outlives_its_creds)
{
	session("ec.crt", "ec.key", true);
}

TEST(session_rsa)
{
	session("rsa.crt", "rsa_pkcs1.key", false);
}

TEST(client_against_garbage_fails)
{
	struct wm_tls *cl = NULL;
	uint8_t junk[512];
	int fds[2], r = 0;

	memset(junk, 'A', sizeof(junk));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	nonblock(fds[0]);
	CHECK(wm_tls_new_client(&cl, NULL) == 0);
	CHECK(write(fds[1], junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	for (int i = 0; i < 10 && r == 0; i++)
		r = wm_tls_pump(cl, fds[0]);
	CHECK(r == -EPROTO);
	CHECK(wm_tls_last_error(cl) != 0);
	wm_tls_free(cl);
	close(fds[0]);
	close(fds[1]);
}

TEST(peer_eof_is_epipe)
{
	struct wm_tls_creds *creds;
	struct wm_tls *sv = NULL;
	uint8_t b[16];
	int fds[2];

	CHECK(load(&creds, "ec.crt", "ec.key") == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	nonblock(fds[1]);
	CHECK(wm_tls_new_server(&sv, creds) == 0);
	CHECK(wm_tls_read(sv, fds[1], b, sizeof(b)) == 0);
	close(fds[0]);
	CHECK(wm_tls_read(sv, fds[1], b, sizeof(b)) == -EPIPE);
	wm_tls_free(sv);
	wm_tls_creds_free(creds);
	close(fds[1]);
}

int main(void)
{
	if (!make_files()) {
		fprintf(stderr, "openssl could not make the test certificates\n");
		remove_files();
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(creds_load);
	RUN(creds_errors);
	RUN(session_ec);
	RUN(session_rsa);
	RUN(session_outlives_its_creds);
	RUN(client_against_garbage_fails);
	RUN(peer_eof_is_epipe);
	remove_files();
	return check_summary();
}
