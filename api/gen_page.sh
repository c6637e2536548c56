#!/bin/sh
# api/gen_page.sh IN.html OUT.c - the status page as a C string, run by the
# makefiles in build.sh and tests/fuzz/build.sh. Each line is escaped
# (backslash, quote, and '?' so that no trigraph forms) and ends in \n.
set -eu
{
	echo '/* Generated from api/page.html by api/gen_page.sh: do not edit. */'
	echo '#include "api/browser.h"'
	echo 'const char wm_page_html[] ='
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$/\\n"/' "$1"
	echo ';'
	echo 'const size_t wm_page_html_len = sizeof(wm_page_html) - 1;'
} >"$2.tmp"
mv "$2.tmp" "$2"
