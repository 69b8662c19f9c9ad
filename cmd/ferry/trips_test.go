package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// chain is a layout of umoci-made releases v1…vn, each one layer more.
func chain(t *testing.T, n, layerBytes int) (dir string, tags []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "src")
	return dir, runtimetest.UmociChain(t, dir, n, layerBytes, 1)
}

// inspected is what the tests read of `ferry --json inspect`.
type inspected struct {
	Index struct {
		ID       string
		Sequence uint64
		Blobs    []struct {
			Digest, MediaType, Status, Bundle, Base string
			Size                                    int64
			Sequence                                uint64
		}
	}
}

func inspectBundle(t *testing.T, home, path string) inspected {
	t.Helper()
	var in inspected
	r := must(t, home, "--json", "inspect", path)
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, r.stdout)
	}
	return in
}

// isLayer tells layers by media type: OCI's "…image.layer…" and
// Docker's "…image.rootfs.diff…".
func isLayer(mediaType string) bool {
	return strings.Contains(mediaType, "layer") || strings.Contains(mediaType, "rootfs.diff")
}

// shippedLayerBytes is the bytes of the layers a bundle ships.
func (in inspected) shippedLayerBytes() (n int64) {
	for _, b := range in.Index.Blobs {
		if b.Status == "shipped" && isLayer(b.MediaType) {
			n += b.Size
		}
	}
	return n
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestTrips_Receipts: five trips to one site, a receipt carried back after
// each. Every bundle after the first carries only the new layer: it is
// within 64 KiB of the bytes of the layers the site lacks.
func TestTrips_Receipts(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src, tags := chain(t, 5, 256<<10)
	s := newSites(t)
	for i, tag := range tags {
		b := filepath.Join(s.dir, "trip-"+tag+".ferry")
		must(t, s.hq, "save", "oci:"+src+":"+tag, "--for", "plant-7", "-o", b)
		must(t, s.site, "verify", b)
		must(t, s.site, "load", b)
		must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "plant-7-receipt.ferry"))
		in := inspectBundle(t, s.hq, b)
		if in.Index.Sequence != uint64(i+1) {
			t.Errorf("trip %d has sequence %d", i+1, in.Index.Sequence)
		}
		lacking := int64(256 << 10) // the one new layer's file, before tar and gzip
		if i > 0 {
			if got := fileSize(t, b); got > in.shippedLayerBytes()+64<<10 || in.shippedLayerBytes() > lacking+64<<10 {
				t.Errorf("trip %d: bundle of %d bytes ships %d layer bytes; want one new layer (~%d) within 64 KiB", i+1, got, in.shippedLayerBytes(), lacking)
			}
		}
		if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":"+tag), runtimetest.SkopeoDigest(t, "oci:"+src+":"+tag); got != want {
			t.Errorf("%s at the site = %s, want %s", tag, got, want)
		}
	}
	r := must(t, s.hq, "--json", "site", "show", "plant-7")
	var show struct {
		Confirmed struct{ Blobs int }
		Shipped   struct{ Blobs int }
		Made      []struct{ Sequence uint64 }
	}
	json.Unmarshal([]byte(r.stdout), &show)
	if show.Confirmed.Blobs == 0 || show.Shipped.Blobs != 0 || len(show.Made) != 5 {
		t.Errorf("site show after five trips with receipts = %s, want all confirmed, none merely shipped, 5 trips", r.stdout)
	}
	// A receipt older than the one applied changes nothing.
	old := filepath.Join(s.dir, "old-receipt.ferry")
	must(t, s.site, "receipt", "create", "-o", old)
	must(t, s.site, "receipt", "create", "-o", filepath.Join(s.dir, "new-receipt.ferry"))
	must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "new-receipt.ferry"))
	if r := must(t, s.hq, "receipt", "apply", old); !strings.Contains(r.stdout, "nothing changed") {
		t.Errorf("applying an older receipt = %s, want nothing changed", r)
	}
}

// TestTrips_OneWay: a site that never sends a receipt still gets small
// bundles, from the shipping log alone.
func TestTrips_OneWay(t *testing.T) {
	src, tags := chain(t, 3, 256<<10)
	s := newSites(t)
	for i, tag := range tags {
		b := filepath.Join(s.dir, "trip-"+tag+".ferry")
		must(t, s.hq, "save", "oci:"+src+":"+tag, "--for", "plant-7", "-o", b)
		must(t, s.site, "load", "--no-receipt", b)
		in := inspectBundle(t, s.hq, b)
		if i > 0 && in.shippedLayerBytes() > 256<<10+64<<10 {
			t.Errorf("one-way trip %d ships %d layer bytes, want only the new layer", i+1, in.shippedLayerBytes())
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "plant-7-receipt.ferry")); err == nil {
		t.Errorf("load --no-receipt wrote a receipt")
	}
	// --only-confirmed: nothing is confirmed, so everything is shipped.
	r := must(t, s.hq, "--json", "save", "oci:"+src+":v3", "--for", "plant-7", "--only-confirmed", "--dry-run")
	if !strings.Contains(r.stdout, `"omittedBlobs": 0`) {
		t.Errorf("save --only-confirmed --dry-run with no receipt = %s, want nothing omitted", r.stdout)
	}
}

// tripFor returns a function that saves the image tag of the layout src
// for plant-7, as a trip of its own, and returns the bundle's path.
func tripFor(t *testing.T, s sites, src string) func(tag string) string {
	return func(tag string) string {
		t.Helper()
		b := filepath.Join(s.dir, "trip-"+tag+".ferry")
		must(t, s.hq, "save", "oci:"+src+":"+tag, "--for", "plant-7", "-o", b)
		return b
	}
}

// TestTrips_LostBundle: trip 3 never reaches the site; trip 4 fails verify
// naming trip 3 and load refuses it changing nothing; a receipt then makes
// trip 5 carry the missing blobs again.
func TestTrips_LostBundle(t *testing.T) {
	src, tags := chain(t, 5, 64<<10)
	s := newSites(t)
	trip := tripFor(t, s, src)
	must(t, s.site, "load", "--no-receipt", trip(tags[0]))
	must(t, s.site, "load", "--no-receipt", trip(tags[1]))
	lost := inspectBundle(t, s.hq, trip(tags[2]))
	four := trip(tags[3])
	r := run(t, s.site, "verify", four)
	if r.code != 1 || !strings.Contains(r.stdout, lost.Index.ID) || !strings.Contains(r.stdout, "sequence 3") {
		t.Errorf("verify of trip 4 without trip 3 = %s, want exit 1 naming bundle %s, sequence 3", r, lost.Index.ID)
	}
	before, _ := os.ReadDir(filepath.Join(s.site, "store", "blobs", "sha256"))
	r = run(t, s.site, "load", four)
	if r.code != 1 || !strings.Contains(r.stderr, lost.Index.ID) {
		t.Errorf("load of trip 4 without trip 3 = %s, want exit 1 naming bundle %s", r, lost.Index.ID)
	}
	after, _ := os.ReadDir(filepath.Join(s.site, "store", "blobs", "sha256"))
	if len(after) != len(before) {
		t.Errorf("a refused load changed the store: %d blobs, then %d", len(before), len(after))
	}
	receipt := filepath.Join(s.dir, "receipt.ferry")
	must(t, s.site, "receipt", "create", "-o", receipt)
	must(t, s.hq, "receipt", "apply", receipt)
	five := trip(tags[4])
	must(t, s.site, "verify", five)
	must(t, s.site, "load", five)
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":v5"), runtimetest.SkopeoDigest(t, "oci:"+src+":v5"); got != want {
		t.Errorf("v5 at the site = %s, want %s", got, want)
	}
	must(t, s.site, "check", "--read-data")
}

// TestTrips_Replay: a bundle not newer than the last one loaded from its
// sender is refused, in and out of order; --allow-replay takes it.
func TestTrips_Replay(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	one, two := filepath.Join(s.dir, "1.ferry"), filepath.Join(s.dir, "2.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "--for", "plant-7", "-o", one)
	must(t, s.hq, "save", "oci:"+src+":v2", "--for", "plant-7", "-o", two)
	must(t, s.site, "load", two)
	for _, b := range []string{one, two} {
		r := run(t, s.site, "load", b)
		if r.code != 1 || !strings.Contains(r.stderr, "not newer") || !strings.Contains(r.stderr, "--allow-replay") {
			t.Errorf("load %s after trip 2 = %s, want exit 1 saying it is not newer", filepath.Base(b), r)
		}
	}
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v2" {
		t.Errorf("refused replays changed the store: ls = %v", names)
	}
	// verify says so too; the summary names no image, as none is left out
	if r := run(t, s.site, "verify", two); r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "verification failed: bundle "+two+": 1 fault(s)") {
		t.Errorf("verify of a loaded bundle = %s, want exit 1 ending with its one fault counted", r)
	}
	must(t, s.site, "load", "--allow-replay", one)
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v1,v2" {
		t.Errorf("after --allow-replay, ls = %v", names)
	}
	// A bundle addressed to another site is refused too.
	must(t, s.hq, "site", "add", "plant-8", "--key", filepath.Join(s.site, "keys", "id_ed25519.pub"))
	other := filepath.Join(s.dir, "other.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "--for", "plant-8", "-o", other)
	if r := run(t, s.site, "load", other); r.code != 1 || !strings.Contains(r.stderr, "plant-8") {
		t.Errorf("load of a bundle for plant-8 at plant-7 = %s, want exit 1 naming plant-8", r)
	}
}

// TestSave_SinceAndExclude: --since with a full reference and a bare tag,
// --exclude with several images, and both with --for.
func TestSave_SinceAndExclude(t *testing.T) {
	src, _ := chain(t, 3, 64<<10)
	s := newSites(t)
	omitted := func(in inspected) (n int, bases []string) {
		for _, b := range in.Index.Blobs {
			if b.Status == "prerequisite" {
				n++
				bases = append(bases, b.Base+b.Bundle)
			}
		}
		return n, bases
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"since full", []string{"--since", "oci:" + src + ":v2"}, 2},
		{"since bare tag", []string{"--since", "v2"}, 2},
		{"since v1", []string{"--since", "v1"}, 1},
		{"exclude several", []string{"--exclude", "oci:" + src + ":v1", "-e", "oci:" + src + ":v2"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := filepath.Join(s.dir, strings.ReplaceAll(tc.name, " ", "-")+".ferry")
			must(t, s.hq, append([]string{"save", "oci:" + src + ":v3", "-o", b}, tc.args...)...)
			if n, bases := omitted(inspectBundle(t, s.hq, b)); n != tc.want {
				t.Errorf("save %v omits %d layers (%v), want %d", tc.args, n, bases, tc.want)
			}
		})
	}
	// With --for: the site holds v1 from a trip; --since v2 omits the
	// rest; the bundle then loads at a site that also has v2.
	must(t, s.hq, "save", "oci:"+src+":v1", "--for", "plant-7", "-o", filepath.Join(s.dir, "t1.ferry"))
	must(t, s.site, "load", filepath.Join(s.dir, "t1.ferry"))
	r := must(t, s.hq, "--json", "save", "oci:"+src+":v3", "--for", "plant-7", "--since", "v2", "--dry-run")
	// hq numbers all its bundles with one counter: t1 is its fifth.
	if !strings.Contains(r.stdout, "held since trip 5") || !strings.Contains(r.stdout, "in base oci:"+src+":v2") {
		t.Errorf("dry run with --for and --since = %s, want a layer held since trip 5 and one in base v2", r.stdout)
	}
	must(t, s.hq, "save", "oci:"+src+":v2", "-o", filepath.Join(s.dir, "v2.ferry"))
	b := filepath.Join(s.dir, "t3.ferry")
	must(t, s.hq, "save", "oci:"+src+":v3", "--for", "plant-7", "--since", "v2", "-o", b)
	must(t, s.site, "load", filepath.Join(s.dir, "v2.ferry"))
	must(t, s.site, "load", b)
}

// TestLoad_Downgrade: a tag is not moved to an older image unless
// --allow-downgrade.
func TestLoad_Downgrade(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src, _ := chain(t, 3, 16<<10)
	s := newSites(t)
	newer, older := filepath.Join(s.dir, "newer"), filepath.Join(s.dir, "older")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v3", "oci:"+newer+":app")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v2", "oci:"+older+":app")
	must(t, s.hq, "save", "oci:"+newer+":app", "-o", filepath.Join(s.dir, "new.ferry"))
	must(t, s.hq, "save", "oci:"+older+":app", "-o", filepath.Join(s.dir, "old.ferry"))
	must(t, s.site, "load", filepath.Join(s.dir, "new.ferry"))
	r := run(t, s.site, "load", filepath.Join(s.dir, "old.ferry"))
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "--allow-downgrade") {
		t.Errorf("load of an older app = %s, want exit 1 mentioning --allow-downgrade", r)
	}
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":app"), runtimetest.SkopeoDigest(t, "oci:"+src+":v3"); got != want {
		t.Errorf("after a refused downgrade app = %s, want %s (v3)", got, want)
	}
	must(t, s.site, "load", "--allow-downgrade", "--allow-replay", filepath.Join(s.dir, "old.ferry"))
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":app"), runtimetest.SkopeoDigest(t, "oci:"+src+":v2"); got != want {
		t.Errorf("after --allow-downgrade app = %s, want %s (v2)", got, want)
	}
}

// TestTrips_LateReceipt: trip 1's receipt comes back after trip 2 left.
// It covers trip 1 only, so trip 2's blobs stay shipped and trip 3 does
// not carry them again; trip 2 and 3 then load in order. Before, the late
// receipt sent every blob of trip 2 back to missing.
func TestTrips_LateReceipt(t *testing.T) {
	src, tags := chain(t, 3, 64<<10)
	s := newSites(t)
	trip := tripFor(t, s, src)
	must(t, s.site, "load", trip(tags[0]))
	two := trip(tags[1]) // on its way
	r := must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "plant-7-receipt.ferry"))
	if !strings.Contains(r.stdout, "stay shipped") {
		t.Errorf("receipt apply = %s, want it to say trip 2's blobs stay shipped", r)
	}
	three := trip(tags[2])
	if in := inspectBundle(t, s.hq, three); in.shippedLayerBytes() > 64<<10+16<<10 {
		t.Errorf("trip 3 ships %d layer bytes, want only its own new layer", in.shippedLayerBytes())
	}
	must(t, s.site, "load", two)
	must(t, s.site, "load", three)
	must(t, s.site, "check", "--read-data")
}
