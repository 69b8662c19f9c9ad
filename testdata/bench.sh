#!/bin/sh
# Whole commands timed on the same data, caches warm, one run each:
#   save and verify of a 1 GiB image set (4 images x 4 layers) against
#   `cp -r` of the same bytes and `skopeo copy oci:... oci-archive:...`;
#   load against `skopeo copy oci-archive:... oci:...`;
#   peak RSS of ferry save and load of a 2 GiB single-layer image.
# Run from the repository root after `make build` (`make bench` does both).
# BENCH_DIR keeps the generated data between runs; SET_MIB and BIG_MIB resize it.
set -eu
FERRY="$(pwd)/bin/ferry"
B="${BENCH_DIR:-$(mktemp -d)}"
SET_MIB="${SET_MIB:-1024}"
BIG_MIB="${BIG_MIB:-2048}"
mkdir -p "$B"
cleanup() { rm -rf "$B/out" "$B"/*.ferry "$B"/*.tar "$B/cp" "$B/hq" "$B/site" "$B/sk"; }
trap cleanup EXIT
cleanup

secs() { # wall seconds of one run of CMD...
	s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }; e=$(date +%s%N)
	echo "scale=3; ($e - $s) / 1000000000" | bc
}
mibs() { echo "scale=0; $1 / $2 / 1048576" | bc; }
rss() { # peak RSS in MiB of CMD...
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%d", $1/1024}'
}
row() { printf "%-44s %8.2f s %7s MiB/s\n" "$1" "$2" "$(mibs "$3" "$2")"; }

per=$((SET_MIB / 16))
if [ ! -f "$B/set/index.json" ]; then
	for i in 1 2 3 4; do
		go run ./testdata/mkimage -o "$B/set" -name "set:i$i" -seed "$i" -base-layers 0 -layers 4 -size "${per}MiB"
	done
fi
if [ ! -f "$B/big/index.json" ]; then
	go run ./testdata/mkimage -o "$B/big" -name big:1.0 -base-layers 0 -layers 1 -size "${BIG_MIB}MiB"
fi
bytes=$(du -sb "$B/set/blobs" | cut -f1)
refs=""
for i in 1 2 3 4; do refs="$refs oci:$B/set:i$i"; done
FERRY_HOME="$B/hq" "$FERRY" init --site hq >/dev/null
FERRY_HOME="$B/site" "$FERRY" init --site site >/dev/null
FERRY_HOME="$B/site" "$FERRY" site add hq --key "$B/hq/keys/id_ed25519.pub" >/dev/null
cat "$B"/set/blobs/sha256/* "$B"/big/blobs/sha256/* >/dev/null

echo "ferry $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u +%F)"
echo "image set: $((bytes / 1048576)) MiB in 4 images; big image: ${BIG_MIB} MiB"
echo
t_cp=$(secs cp -r "$B/set" "$B/cp")
row "cp -r of the layout" "$t_cp" "$bytes"
t_save=$(secs env FERRY_HOME="$B/hq" "$FERRY" save $refs -o "$B/set.ferry")
row "ferry save (zstd)" "$t_save" "$bytes"
t_none=$(secs env FERRY_HOME="$B/hq" "$FERRY" save $refs --compression none -o "$B/none.ferry")
row "ferry save --compression none" "$t_none" "$bytes"
t_verify=$(secs env FERRY_HOME="$B/site" "$FERRY" verify "$B/set.ferry")
row "ferry verify (cached zstd bundle)" "$t_verify" "$bytes"
t_verify_none=$(secs env FERRY_HOME="$B/site" "$FERRY" verify "$B/none.ferry")
row "ferry verify (cached uncompressed bundle)" "$t_verify_none" "$bytes"
t_load=$(secs env FERRY_HOME="$B/site" "$FERRY" load "$B/set.ferry" --into "oci:$B/out")
row "ferry load --into oci: (store + layout)" "$t_load" "$bytes"
if command -v skopeo >/dev/null; then
	t_sk=$(secs sh -c "for i in 1 2 3 4; do skopeo copy -q oci:$B/set:i\$i oci-archive:$B/sk\$i.tar:i\$i || exit 1; done")
	row "skopeo copy oci: -> oci-archive: (x4)" "$t_sk" "$bytes"
	t_skl=$(secs sh -c "for i in 1 2 3 4; do skopeo copy -q oci-archive:$B/sk\$i.tar:i\$i oci:$B/sk:i\$i || exit 1; done")
	row "skopeo copy oci-archive: -> oci: (x4)" "$t_skl" "$bytes"
	echo
	echo "save: ferry/skopeo throughput = $(echo "scale=2; $t_sk / $t_save" | bc)x (zstd), $(echo "scale=2; $t_sk / $t_none" | bc)x (none)"
	echo "load: ferry/skopeo throughput = $(echo "scale=2; $t_skl / $t_load" | bc)x"
fi
echo
rm -rf "$B/site" && FERRY_HOME="$B/site" "$FERRY" init --site site >/dev/null
FERRY_HOME="$B/site" "$FERRY" site add hq --key "$B/hq/keys/id_ed25519.pub" >/dev/null
echo "peak RSS, ${BIG_MIB} MiB single-layer image:"
echo "  ferry save  $(rss env FERRY_HOME="$B/hq" "$FERRY" save "oci:$B/big:1.0" -o "$B/big.ferry") MiB"
echo "  ferry load  $(rss env FERRY_HOME="$B/site" "$FERRY" load "$B/big.ferry") MiB"
if command -v skopeo >/dev/null; then
	echo "  skopeo copy oci: -> oci-archive:  $(rss skopeo copy -q "oci:$B/big:1.0" "oci-archive:$B/skbig.tar:1.0") MiB"
fi
