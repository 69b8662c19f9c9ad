#!/bin/sh
# save --split against one bundle of the same image: wall time, user CPU
# and peak RSS of each save (best of 3), the bytes of each, and the peak
# RSS of loading each volume in a run of its own.
#   testdata/splitbench/run.sh [FERRY] [SPLIT]   (default: ./ferry, 200MB)
# The image: one layer of 600 MiB and four of 100 MiB, random bytes behind
# a gzip magic (framed raw, as real gzip layers), made by layout.py.
set -eu
F=$(realpath "${1:-./ferry}"); SPLIT=${2:-200MB}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
python3 "$(dirname "$0")/layout.py" "$W/L" 600 100 100 100 100
cd "$W"; mkdir out
$F --home hq init --site hq >/dev/null
$F --home site init --site plant-7 >/dev/null
$F --home site site add hq --key hq/keys/id_ed25519.pub >/dev/null
for i in 1 2 3; do
  /usr/bin/time -f "one bundle: wall %e s, user %U s, peak RSS %M KB" $F --home hq save oci:L:big -o out/one.ferry 2>&1 | grep wall
  /usr/bin/time -f "--split $SPLIT: wall %e s, user %U s, peak RSS %M KB" $F --home hq save oci:L:big --split "$SPLIT" -o out/set.ferry 2>&1 | grep wall
done
echo "bytes: one $(stat -c %s out/one.ferry), volumes $(cat out/set.*-of-*.ferry | wc -c) in $(ls out/set.*-of-*.ferry | wc -l) files"
for v in $(ls out/set.*-of-*.ferry | sort -r); do
  /usr/bin/time -f "load $(basename "$v"): wall %e s, peak RSS %M KB" $F --home site load "$v" --no-receipt 2>&1 | grep wall
done
