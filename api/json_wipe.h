/*
 * json_wipe.h - jansson's memory wiped before it is freed.
 *
 * API request bodies carry preshared keys; jansson copies them into its
 * lexer buffers and string values and frees those copies with free().
 * Installed once, this allocator zeroes every jansson block on free (a
 * size header in front of each block says how much), so no key outlives
 * the request in the heap. jansson never reallocs, so malloc and free
 * are all it needs.
 */
#ifndef WM_API_JSON_WIPE_H
#define WM_API_JSON_WIPE_H

/* Installs the wiping allocator for all of jansson (process-wide; call
 * before any JSON value exists, and once). */
void wm_json_wipe_on_free(void);

#endif
