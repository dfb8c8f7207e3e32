#!/usr/bin/env bash
# Prints the compiler's own errors from a build log (each `error` line with the lines that explain it, up to the
# first 60 lines), then the log's last lines. Trunk ends a failed build with a backtrace of its own, which says
# nothing about the cause:  bash tools/build-errors.sh build.log
log="$1"
awk '
  /^(error|\x1b\[[0-9;]*merror)/ { keep = 1 }
  keep && /^$/ { print ""; keep = 0 }
  keep { print; if (++n >= 60) exit }
' "$log"
echo "--- last lines of $log:"
grep -v '^ *[0-9]*: \|^ *at \|^stack backtrace:\|^note: Some details are omitted' "$log" | tail -n 5
