/*
 * cmd_args.h - the command line both daemons take:
 * `wiremesh agent|relay --config FILE [--check-config]`.
 */
#ifndef WM_CMD_ARGS_H
#define WM_CMD_ARGS_H

#include <stdbool.h>

/* Parses argv; on success *config and *check are set and 0 is returned.
 * On a usage error prints "usage: wiremesh NAME ..." and returns 2. */
int wm_cmd_args(int argc, char **argv, const char *name, const char **config,
		bool *check);

#endif
