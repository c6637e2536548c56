/*
 * json.h - how the REST API answers and reads bodies. Every response the
 * API sends is built by the wm_json_respond* family below, so headers
 * (Content-Type, Cache-Control) and the error document
 *
 *   {"error":{"code":"not_found","message":"no peer with key ..."}}
 *
 * are the same everywhere. The error code is named from the status:
 * 400 bad_request, 401 unauthorized, 403 forbidden, 404 not_found, 405
 * method_not_allowed, 409 conflict, 413 payload_too_large, 415
 * unsupported_media_type, 422 unprocessable, 500 internal, 503
 * unavailable. Bad requests never get a 5xx.
 */
#ifndef WM_API_JSON_H
#define WM_API_JSON_H

#include "api/mhd_compat.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WM_JSON_BODY_MAX = 64 * 1024 }; /* request bodies, bytes */

/* Queues body as application/json; takes the reference (NULL, as from a
 * failed json_pack, answers 500). Returns MHD's result. */
wm_mhd_result wm_json_respond(struct MHD_Connection *c, unsigned status,
			      json_t *body);
/* Queues the error document for status with a printf-style message. */
wm_mhd_result wm_json_respond_error(struct MHD_Connection *c, unsigned status,
				    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with one extra header (Allow for 405, WWW-Authenticate for
 * 401); header may be NULL. */
wm_mhd_result wm_json_respond_error_hdr(struct MHD_Connection *c,
					unsigned status, const char *header,
					const char *value, const char *fmt,
					...)
	__attribute__((format(printf, 5, 6)));
/* Queues a body-less answer (204). */
wm_mhd_result wm_json_respond_empty(struct MHD_Connection *c, unsigned status);
/* The same with one extra header (Set-Cookie); header may be NULL. */
wm_mhd_result wm_json_respond_empty_hdr(struct MHD_Connection *c,
					unsigned status, const char *header,
					const char *value);
/* Queues the status page (static, not copied) as text/html, with a
 * Content-Security-Policy that allows nothing but its own inline code
 * and requests to its own origin, and no framing. */
wm_mhd_result wm_json_respond_page(struct MHD_Connection *c, const char *html,
				   size_t len);
/* Queues text (malloc'd, taken over and freed) with content_type. */
wm_mhd_result wm_json_respond_text(struct MHD_Connection *c, unsigned status,
				   const char *content_type, char *text,
				   size_t len);

/* The error code for an HTTP status ("not_found"); "error" if unknown. */
const char *wm_json_error_code(unsigned status);
/* The error document; NULL when out of memory. */
json_t *wm_json_error_body(unsigned status, const char *message);

/* True for "application/json", any case, with optional parameters
 * ("; charset=utf-8"). NULL is false. */
bool wm_json_media_type_ok(const char *content_type);
/* Checks and parses a request body: 0 and *out (an object) on success,
 * else the status to answer (415 wrong media type, 400 not JSON, 413 too
 * long, 422 not an object) with the reason in msg. */
unsigned wm_json_parse_body(const char *content_type, const char *body,
			    size_t len, json_t **out, char *msg, size_t cap);

/* Seconds since the epoch as RFC 3339 UTC ("2024-05-01T12:00:00Z").
 * Returns out, or NULL when the time cannot be shown. */
char *wm_json_rfc3339(char out[32], int64_t secs);

#endif
