#!/bin/sh
# The trip loop end to end on generated sample images, with no daemon and
# no network: two homes (hq, the connected source; plant-7, the site), a
# signed bundle, verify, load, inspect. Run from the repository root
# (make demo). Everything lands under ./demo.
set -eu
FERRY="$(pwd)/bin/ferry"
D="$(pwd)/demo"
rm -rf "$D"
mkdir -p "$D"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

echo "== sample images: app:1.0 and db:1.3 sharing a base layer, in an OCI layout"
go run ./testdata/mkimage -o "$D/src" -name app:1.0 -seed 1 -layers 2 -size 256KiB
go run ./testdata/mkimage -o "$D/src" -name db:1.3 -seed 2 -layers 1 -size 256KiB

echo "== two homes: hq (connected) and plant-7 (air-gapped); each registers the other's key"
run env FERRY_HOME="$D/hq" "$FERRY" init --site hq
run env FERRY_HOME="$D/plant-7" "$FERRY" init --site plant-7
run env FERRY_HOME="$D/hq" "$FERRY" site add plant-7 --key "$D/plant-7/keys/id_ed25519.pub"
run env FERRY_HOME="$D/plant-7" "$FERRY" site add hq --key "$D/hq/keys/id_ed25519.pub"

echo "== at hq: one signed bundle for plant-7"
run env FERRY_HOME="$D/hq" "$FERRY" save oci:"$D/src":1.0 oci:"$D/src":1.3 --for plant-7 -o "$D/trip-1.ferry"
run env FERRY_HOME="$D/hq" "$FERRY" inspect "$D/trip-1.ferry"

echo "== the signature checks without ferry too (ssh-keygen -Y verify)"
if command -v ssh-keygen >/dev/null && command -v zstd >/dev/null; then
	tar --zstd -xOf "$D/trip-1.ferry" ferry-index.json >"$D/index.json"
	tar --zstd -xOf "$D/trip-1.ferry" ferry-index.json.sig >"$D/index.json.sig"
	printf 'hq %s\n' "$(cut -d' ' -f1,2 "$D/hq/keys/id_ed25519.pub")" >"$D/allowed_signers"
	run ssh-keygen -Y verify -f "$D/allowed_signers" -I hq -n ferry-bundle -s "$D/index.json.sig" <"$D/index.json"
else
	echo "(ssh-keygen or zstd not installed: skipped)"
fi

echo "== at plant-7: verify, then load into the store and into an OCI layout"
run env FERRY_HOME="$D/plant-7" "$FERRY" verify "$D/trip-1.ferry"
run env FERRY_HOME="$D/plant-7" "$FERRY" load "$D/trip-1.ferry" --into oci:"$D/out"
run env FERRY_HOME="$D/plant-7" "$FERRY" ls
run env FERRY_HOME="$D/plant-7" "$FERRY" du
run env FERRY_HOME="$D/plant-7" "$FERRY" check --read-data

echo "== back at hq: apply plant-7's receipt; app:1.1 adds one layer to app:1.0"
go run ./testdata/mkimage -o "$D/src" -name app:1.1 -seed 1 -layers 3 -size 256KiB
run env FERRY_HOME="$D/hq" "$FERRY" receipt apply "$D/plant-7-receipt.ferry"
run env FERRY_HOME="$D/hq" "$FERRY" save oci:"$D/src":1.1 --for plant-7 --dry-run
run env FERRY_HOME="$D/hq" "$FERRY" save oci:"$D/src":1.1 --for plant-7 -o "$D/trip-2.ferry"
say "ls -l trip-1.ferry trip-2.ferry"
ls -l "$D/trip-1.ferry" "$D/trip-2.ferry"
run env FERRY_HOME="$D/plant-7" "$FERRY" load "$D/trip-2.ferry" --into oci:"$D/out"
run env FERRY_HOME="$D/hq" "$FERRY" site show plant-7

echo "== digests are kept: source and loaded manifests"
if command -v skopeo >/dev/null; then
	for name in app:1.0 db:1.3 app:1.1; do
		tag=${name#*:}
		run skopeo inspect --format "{{.Digest}}  $name in the source" oci:"$D/src":$tag
		# ferry's layouts name each image by its whole name.
		run skopeo inspect --format "{{.Digest}}  $name as loaded at plant-7" oci:"$D/out":$name
	done
else
	echo "(skopeo not installed: compare with ferry ls above)"
fi
echo
echo "demo done: bundle $D/trip-1.ferry, site home $D/plant-7, loaded layout $D/out"
