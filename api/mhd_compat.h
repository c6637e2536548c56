/*
 * mhd_compat.h - the one place that knows about libmicrohttpd versions.
 *
 * 0.9.71 changed the return type of callbacks and of MHD_queue_response
 * and friends from int to enum MHD_Result; callbacks declared with the
 * wrong one fail to compile with -Werror on the other side of the change.
 * Everything in api/ includes <microhttpd.h> through this header and writes
 * wm_mhd_result.
 */
#ifndef WM_API_MHD_COMPAT_H
#define WM_API_MHD_COMPAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <microhttpd.h>

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result wm_mhd_result;
#else
typedef int wm_mhd_result;
#endif

#endif
