#!/bin/sh
# Runs the standard library's tests: each test program in this folder is
# compiled on its own together with every standard-library file (a package
# declared by an input file takes the place of the embedded copy), checked,
# and tested with full rule coverage.
#
#   WARD=path/to/ward stdlib/tests/run.sh
#
# Exits non-zero when any program fails to check or any test fails.

set -u

WARD="${WARD:-ward}"
here="$(cd "$(dirname "$0")" && pwd)"
stdlib="$(dirname "$here")"

status=0
count=0
for t in "$here"/*.ward; do
  count=$((count + 1))
  name="$(basename "$t")"
  if ! "$WARD" check "$stdlib"/*.ward "$t" >/dev/null 2>&1; then
    echo "FAIL $name: ward check" >&2
    "$WARD" check "$stdlib"/*.ward "$t" >&2
    status=1
    continue
  fi
  if "$WARD" test "$stdlib"/*.ward "$t" --min-coverage 100 >/dev/null 2>&1; then
    echo "ok   $name"
  else
    echo "FAIL $name: ward test" >&2
    "$WARD" test "$stdlib"/*.ward "$t" --min-coverage 100 >&2
    status=1
  fi
done

if [ "$count" -eq 0 ]; then
  echo "no test programs in $here" >&2
  exit 1
fi
exit "$status"
