/*
 * common.h - what the fuzz targets share: the libFuzzer entry points, a
 * NUL-terminated copy of an input, fixed test keys, and the getaddrinfo
 * guard (see build.sh: names never reach DNS while fuzzing).
 */
#ifndef WM_FUZZ_COMMON_H
#define WM_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data with a NUL after it (inner NULs stay). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* A key from 64 hex digits; aborts on a typo in the harness. */
void fuzz_key(uint8_t out[32], const char *hex);

/* A stream that discards (like /dev/null, but no write(2) per message),
 * opened once: error messages are formatted (that code runs), not shown. */
FILE *fuzz_devnull(void);

/*
 * Linked with -Wl,--wrap=sendto: no datagram the agent code sends leaves
 * the process. Each is recorded here instead (the first FUZZ_SENT_MAX of
 * them since the last reset, each cut to FUZZ_SENT_LEN bytes), and the
 * call returns len, or -1/EBADF for a negative fd as the kernel would.
 */
enum { FUZZ_SENT_MAX = 32, FUZZ_SENT_LEN = 9600 };
struct fuzz_sent {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to;
	size_t len; /* as sent; buf holds min(len, FUZZ_SENT_LEN) */
	uint8_t buf[FUZZ_SENT_LEN];
};
void fuzz_sent_reset(void);
size_t fuzz_sent_count(void);
const struct fuzz_sent *fuzz_sent_get(size_t i);

/*
 * Linked with -Wl,--wrap=fopen: a path registered here opens as a read-only
 * memory stream of the bytes given (kept by the caller until the next
 * registration of that path; NULL data unregisters), so config readers
 * that take a path run per input without touching the file system. Other
 * paths go to the real fopen. At most FUZZ_MEMFILES paths.
 */
enum { FUZZ_MEMFILES = 8 };
void fuzz_memfile(const char *path, const void *data, size_t len);

/*
 * Linked with -Wl,--wrap=wm_x25519 (wm_x25519_public calls it): X25519 is
 * a pure function, and the harnesses use fixed keys and seeded
 * ephemerals, so the same scalar and point come back input after input.
 * The results are kept in a small cache (the inputs compared in full, so
 * an answer is always the one the real function gives) instead of being
 * computed again: a handshake costs the harness a few hashes, not eight
 * scalar multiplications. libsodium is not instrumented: no coverage is
 * lost.
 */

/* True when FUZZ_VERBOSE is set: targets then say what each input did
 * (for looking at a seed or a reproducer by hand). */
bool fuzz_verbose(void);

/* Aborts with a message: a property the harness checks did not hold. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
