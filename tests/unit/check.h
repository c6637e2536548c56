/*
 * check.h - the unit-test harness: named cases, non-fatal checks, and a
 * closing "N passed, M failed" line that build.sh adds up.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_MEM(a, b, n); }
 *   int main(void) { RUN(name); return check_summary(); }
 */
#ifndef WM_TEST_CHECK_H
#define WM_TEST_CHECK_H

#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

static int check_passed, check_failed, check_case_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",         \
				__FILE__, __LINE__, #cond);                  \
			check_case_failed = 1;                               \
		}                                                            \
	} while (0)

#define CHECK_MEM(a, b, n)                                                   \
	do {                                                                 \
		if (memcmp((a), (b), (n)) != 0) {                            \
			fprintf(stderr, "%s:%d: %s != %s\n", __FILE__,       \
				__LINE__, #a, #b);                           \
			check_dump("got", (a), (n));                         \
			check_dump("want", (b), (n));                        \
			check_case_failed = 1;                               \
		}                                                            \
	} while (0)

#define RUN(name)                                                            \
	do {                                                                 \
		check_case_failed = 0;                                       \
		name();                                                      \
		if (check_case_failed) {                                     \
			check_failed++;                                      \
			fprintf(stderr, "FAIL %s\n", #name);                 \
		} else {                                                     \
			check_passed++;                                      \
		}                                                            \
	} while (0)

static inline void check_dump(const char *label, const void *p, size_t n)
{
	const uint8_t *b = p;
	fprintf(stderr, "  %-4s ", label);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%02x", b[i]);
	fputc('\n', stderr);
}

/* Decodes hex into out; returns the byte count. Aborts on bad test data. */
static inline size_t check_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	while (hex[0] && hex[1]) {
		unsigned v;
		if (hex[0] == ' ') { hex++; continue; }
		if (n >= cap || sscanf(hex, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex in test data: %s\n", hex);
			abort();
		}
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
