#!/bin/sh
# trip.sh: ferry's trip loop from the command line on an 80 MB layer whose
# next version edits 5 of its 200 files (2.5%), adds one and removes one:
# the bundle for a site that holds v1, with a delta and whole
# (--no-deltas), and each save and load timed with /usr/bin/time -v (wall
# time, peak RSS). Run from the repository's root:
#
#	sh testdata/deltabench/trip.sh [DIR]     # DIR defaults to /tmp/deltatrip, removed first
set -eu
D=${1:-/tmp/deltatrip}
rm -rf "$D"
mkdir -p "$D"
go build -o "$D/ferry" ./cmd/ferry
go build -o "$D/deltabench" ./testdata/deltabench
"$D/deltabench" gen -dir "$D" -avg 860000 >/dev/null
"$D/deltabench" layout -dir "$D" >/dev/null
ferry() { "$D/ferry" "$@"; }
HQ=$D/hq SITE=$D/plant-7
ferry --home "$HQ" init --site hq >/dev/null
ferry --home "$SITE" init --site plant-7 >/dev/null
ferry --home "$HQ" site add plant-7 --key "$SITE/keys/id_ed25519.pub" >/dev/null
ferry --home "$SITE" site add hq --key "$HQ/keys/id_ed25519.pub" >/dev/null
# Trip 1: v1 whole, and the receipt back.
ferry --home "$HQ" save "oci:$D/oci:v1" --for plant-7 -o "$D/trip-1.ferry" >/dev/null 2>&1
ferry --home "$SITE" load "$D/trip-1.ferry" >/dev/null
ferry --home "$HQ" receipt apply "$D/plant-7-receipt.ferry" >/dev/null
cp -a "$SITE" "$D/plant-7-whole"   # the same site, for the whole bundle
cp -a "$HQ" "$D/hq-whole"          # the same sender, which has not shipped v2

# timed LABEL COMMAND...: runs it under /usr/bin/time -v, prints wall time and peak RSS.
timed() {
	label=$1
	shift
	/usr/bin/time -v "$@" >"$D/$label.out" 2>"$D/$label.time"
	awk -v l="$label" '/Elapsed \(wall clock\)/ {w=$NF} /Maximum resident set size/ {r=$NF}
		END {printf "%-22s %10s wall  %6.1f MB peak RSS\n", l, w, r/1024}' "$D/$label.time"
}
size() { stat -c %s "$1"; }

echo "layer v2: $(size "$D/next.blob") bytes (v1: $(size "$D/base.blob"))"
timed "save, delta" "$D/ferry" --home "$HQ" save "oci:$D/oci:v2" --for plant-7 -o "$D/trip-2-delta.ferry"
timed "save, whole" "$D/ferry" --home "$D/hq-whole" save "oci:$D/oci:v2" --for plant-7 --no-deltas -o "$D/trip-2-whole.ferry"
timed "load, delta" "$D/ferry" --home "$SITE" load "$D/trip-2-delta.ferry"
timed "load, whole" "$D/ferry" --home "$D/plant-7-whole" load "$D/trip-2-whole.ferry"
grep -h "layers rebuilt" "$D/load, delta.out"
d=$(size "$D/trip-2-delta.ferry") w=$(size "$D/trip-2-whole.ferry") l=$(size "$D/next.blob")
echo "bundle with a delta: $d bytes, $(awk -v d="$d" -v l="$l" 'BEGIN {printf "%.2f", 100*d/l}')% of the layer; whole: $w bytes"
