/* See cmd_args.h. */
#include "agent/cmd_args.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

int wm_cmd_args(int argc, char **argv, const char *name, const char **config,
		bool *check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*config = NULL;
	*check = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *config = optarg; break;
		case 'n': *check = true; break;
		default: goto usage;
		}
	}
	if (*config && optind == argc)
		return 0;
usage:
	fprintf(stderr, "usage: wiremesh %s --config FILE [--check-config]\n",
		name);
	return 2;
}
