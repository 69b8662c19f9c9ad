package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// splitSize is the volume size of these tests: the big image's layer (7
// MiB) takes three volumes.
const splitSize = 3_000_000

// splitSources are the images of a set: "big" (one layer of 7 MiB, in
// its own layout) and v1, v2 (small, made by umoci).
type splitSources struct{ big, small string }

func newSplitSources(t *testing.T) splitSources {
	t.Helper()
	big, _, _ := bigLayout(t, 7<<20)
	return splitSources{big: big, small: umociImages(t)}
}

func (s splitSources) refs() []string {
	return []string{"oci:" + s.big + ":big", "oci:" + s.small + ":v1", "oci:" + s.small + ":v2"}
}

// sourceDigest is the manifest digest skopeo reads of image tag.
func (s splitSources) sourceDigest(t *testing.T, tag string) digest.Digest {
	if tag == "big" {
		return runtimetest.SkopeoDigest(t, "oci:"+s.big+":big")
	}
	return runtimetest.SkopeoDigest(t, "oci:"+s.small+":"+tag)
}

// volumesOf lists the volumes of the set NAME.ferry in dir, by number.
func volumesOf(t *testing.T, dir, name string) []string {
	t.Helper()
	vols, _ := filepath.Glob(filepath.Join(dir, name+".*-of-*"+spec.FileExtension))
	sort.Slice(vols, func(i, j int) bool { return volumeNumber(vols[i]) < volumeNumber(vols[j]) })
	for i, v := range vols {
		if want := spec.VolumeName(filepath.Join(dir, name), i+1, len(vols)); v != want {
			t.Fatalf("volumes %v: want %s", vols, want)
		}
	}
	return vols
}

func volumeNumber(path string) int {
	n := 0
	for _, c := range strings.TrimPrefix(filepath.Ext(strings.TrimSuffix(path, spec.FileExtension)), ".") {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestSplit_VolumesLoadInAnyOrder: save --split 3MB, with zstd and with
// no compression, writes volumes of at most 3 MB whose big layer is cut
// into parts; each volume verifies alone and says which volumes its
// images also need; all of them make a complete set; volume 1 unpacked
// is an OCI layout whose manifests skopeo reads; loaded in reverse order
// over three runs, the images come out with the source's manifest
// digests, and each is written to the target once, when complete.
func TestSplit_VolumesLoadInAnyOrder(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := newSplitSources(t)
	for _, comp := range []string{"zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			s := newSites(t)
			out := filepath.Join(s.dir, "dvd")
			os.MkdirAll(out, 0o755)
			args := append([]string{"save"}, src.refs()...)
			args = append(args, "--for", "plant-7", "--compression", comp, "--split", "3MB", "-o", filepath.Join(out, "trip.ferry"))
			dry := must(t, s.hq, append(args, "--dry-run")...)
			if !strings.Contains(dry.stdout, "part 1/3") || !strings.Contains(dry.stdout, "volume 3 of") {
				t.Errorf("save --split --dry-run = %s, want the big layer in 3 parts", dry.stdout)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Fatalf("--dry-run wrote %d files", len(ents))
			}
			must(t, s.hq, args...)
			vols := volumesOf(t, out, "trip")
			if len(vols) < 3 {
				t.Fatalf("%d volumes, want the 7 MiB layer over at least 3", len(vols))
			}
			for i, v := range vols {
				if st, _ := os.Stat(v); st.Size() > splitSize {
					t.Errorf("volume %s is %d bytes, over --split %d", v, st.Size(), splitSize)
				}
				r := must(t, s.site, "verify", v)
				if want := "volume " + itoa(i+1) + " of " + itoa(len(vols)); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "waits for volume(s)") {
					t.Errorf("verify %s = %s, want it to say %q and which volumes its images wait for", v, r.stdout, want)
				}
			}
			if r := must(t, s.site, append([]string{"verify"}, vols...)...); !strings.Contains(r.stdout, "volumes verified: complete") {
				t.Errorf("verify of every volume = %s, want the set complete", r.stdout)
			}
			if r := run(t, s.site, "verify", vols[0], vols[1]); r.code != 1 || !strings.Contains(r.stdout, "incomplete") {
				t.Errorf("verify of 2 volumes = %s, want exit 1 and the set incomplete", r)
			}
			if r := must(t, s.site, "inspect", vols[1]); !strings.Contains(r.stdout, "volume:    2 of "+itoa(len(vols))) || !strings.Contains(r.stdout, "(this one)") {
				t.Errorf("inspect volume 2 = %s, want its place in the set and its part", r.stdout)
			}
			layout := unpackVolume(t, vols[0], comp)
			for _, tag := range []string{"v1", "big"} {
				if got, want := runtimetest.SkopeoDigest(t, "oci:"+layout+":"+tag), src.sourceDigest(t, tag); got != want {
					t.Errorf("skopeo inspect --raw of %s in unpacked volume 1 = %s, want %s", tag, got, want)
				}
			}

			target := "oci:" + filepath.Join(s.dir, "out")
			runs := [][]string{{vols[len(vols)-1]}, slices.Clone(vols[1 : len(vols)-1]), {vols[0]}}
			slices.Reverse(runs[1])
			var loaded string
			for i, vs := range runs {
				r := must(t, s.site, append([]string{"load", "--into", target}, vs...)...)
				loaded += r.stdout
				if i < 2 && (!strings.Contains(r.stdout, "waits for volume(s)") || slices.Contains(lsNames(t, s.site), "big")) {
					t.Errorf("run %d: load %v = %s; ls %v: want big waiting, not recorded", i+1, vs, r.stdout, lsNames(t, s.site))
				}
			}
			for _, tag := range []string{"big", "v1", "v2"} {
				if n := strings.Count(loaded, "wrote "+tag+" to "); n != 1 {
					t.Errorf("over three runs, %s was written %d times, want once, when complete:\n%s", tag, n, loaded)
				}
			}
			for _, tag := range []string{"big", "v1", "v2"} {
				want := src.sourceDigest(t, tag)
				for _, ref := range []string{target + ":" + tag, "oci:" + filepath.Join(s.site, "store") + ":" + tag} {
					if got := runtimetest.SkopeoDigest(t, ref); got != want {
						t.Errorf("skopeo inspect --raw %s = %s, want %s", ref, got, want)
					}
				}
			}
			if ents, _ := os.ReadDir(filepath.Join(s.site, "parts")); len(ents) != 0 {
				t.Errorf("parts left in the home once their blob joined: %d", len(ents))
			}
			must(t, s.site, "check", "--read-data")
		})
	}
}

// unpackVolume extracts a volume's tar into a directory.
func unpackVolume(t *testing.T, path, comp string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if comp != "none" {
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	dir := filepath.Join(t.TempDir(), "unpacked")
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		data, _ := io.ReadAll(tr)
		if strings.HasPrefix(h.Name, spec.BlobPrefix) && sha(data) != "sha256:"+strings.TrimPrefix(h.Name, spec.BlobPrefix) {
			t.Errorf("volume entry %s is not its blob's bytes", h.Name)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// inspectIndex is a bundle's index as inspect --json gives it.
func inspectIndex(t *testing.T, home, path string) *format.Index {
	t.Helper()
	var info struct{ Index *format.Index }
	if err := json.Unmarshal([]byte(must(t, home, "--json", "inspect", path).stdout), &info); err != nil {
		t.Fatal(err)
	}
	return info.Index
}

// TestSplit_DamagedAndMissingVolume: a volume with a flipped byte costs
// only its entry; without volume 2 the images that need it stay
// unrecorded and wait for it, the others load; after the site's receipt
// the next save for it carries exactly the blob volume 2 carried a part
// of; a good copy of volume 2, loaded later, completes the set (it is no
// replay).
func TestSplit_DamagedAndMissingVolume(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := newSplitSources(t)
	s := newSites(t)
	out := filepath.Join(s.dir, "dvd")
	os.MkdirAll(out, 0o755)
	must(t, s.hq, append(append([]string{"save"}, src.refs()...), "--for", "plant-7", "--compression", "none", "--split", "3MB",
		"-o", filepath.Join(out, "trip.ferry"))...)
	vols := volumesOf(t, out, "trip")
	good, err := os.ReadFile(vols[1])
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(good)
	damaged[len(damaged)/2] ^= 0x01 // inside the part of the big layer volume 2 carries
	os.WriteFile(vols[1], damaged, 0o644)
	r := run(t, s.site, "load", vols[1])
	if r.code != 1 || !strings.Contains(r.stdout, "FAULT chunks/sha256/") {
		t.Errorf("load of a volume with a flipped byte = %s, want exit 1 naming its part", r)
	}
	var loads []string
	for i, v := range vols {
		if i != 1 {
			loads = append(loads, v)
		}
	}
	r = must(t, s.site, append([]string{"load", "--receipt", filepath.Join(s.dir, "receipt.ferry")}, loads...)...)
	if !strings.Contains(r.stdout, "waits for volume(s) 2") {
		t.Errorf("load without volume 2 = %s, want big waiting for volume 2", r.stdout)
	}
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v1,v2" {
		t.Errorf("without volume 2, ls = %v, want v1 and v2 only", names)
	}
	must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "receipt.ferry"))
	ix := inspectIndex(t, s.site, vols[1])
	want := map[string]bool{}
	for _, b := range ix.Blobs {
		for _, p := range b.Parts() {
			if p.Volume == 2 {
				want[string(b.Digest)] = true
			}
		}
	}
	for _, d := range ix.Volumes[1].Blobs {
		if isLayer(blobOf(ix, d).MediaType) {
			want[string(d)] = true
		}
	}
	if got := shippedBlobs(t, s.hq, append(src.refs(), "--for", "plant-7")); !mapsEqual(got, want) {
		t.Errorf("after the receipt, the next save ships layers %v, want volume 2's %v", got, want)
	}
	os.WriteFile(vols[1], good, 0o644)
	if r := must(t, s.site, "load", vols[1]); strings.Contains(r.stdout, "waits") {
		t.Errorf("load of volume 2 last = %s, want every image complete", r.stdout)
	}
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":big"), src.sourceDigest(t, "big"); got != want {
		t.Errorf("big after volume 2 = %s, want %s", got, want)
	}
	if r := run(t, s.site, "load", vols[0]); r.code != 0 {
		t.Errorf("a volume of the set loaded again = %s, want it taken (the newest set, nothing to write)", r)
	}
	must(t, s.site, "check", "--read-data")
}

func blobOf(ix *format.Index, d digest.Digest) format.Blob {
	for _, b := range ix.Blobs {
		if b.Digest == d {
			return b
		}
	}
	return format.Blob{}
}

// shippedBlobs are the layers save --dry-run plans to ship (manifests
// and configs are always shipped).
func shippedBlobs(t *testing.T, home string, args []string) map[string]bool {
	t.Helper()
	var plan struct {
		Images []struct {
			Blobs []struct{ Digest, Status, Role string }
		}
	}
	r := must(t, home, append([]string{"--json", "save", "--dry-run"}, args...)...)
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, im := range plan.Images {
		for _, b := range im.Blobs {
			if b.Status == "shipped" && b.Role == "layer" {
				out[b.Digest] = true
			}
		}
	}
	return out
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestSplit_PartsOfAnotherSet: a part of another set of the same blob,
// cut elsewhere, does not mix with this set's: loaded first, it is kept
// aside; this set's volumes, loaded out of order, still join the blob
// to its digest; the other set's volumes then load as held.
func TestSplit_PartsOfAnotherSet(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	big, _, _ := bigLayout(t, 7<<20)
	s := newSites(t)
	must(t, s.hq, "save", "oci:"+big+":big", "--split", "3MB", "-o", filepath.Join(s.dir, "a.ferry"))
	must(t, s.hq, "save", "oci:"+big+":big", "--split", "2.5MB", "-o", filepath.Join(s.dir, "b.ferry"))
	a, b := volumesOf(t, s.dir, "a"), volumesOf(t, s.dir, "b")
	must(t, s.site, "load", b[0])
	for _, i := range []int{1, 2, 0} {
		must(t, s.site, "load", a[i])
	}
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":big"), runtimetest.SkopeoDigest(t, "oci:"+big+":big"); got != want {
		t.Errorf("big = %s, want %s", got, want)
	}
	for _, v := range b[1:] {
		if r := must(t, s.site, "load", v); strings.Contains(r.stdout, "waits") {
			t.Errorf("load %s = %s, want big complete", v, r.stdout)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(s.site, "parts")); len(ents) != 0 {
		t.Errorf("parts left once the blob is in the store: %d", len(ents))
	}
	must(t, s.site, "check", "--read-data")
}

// TestSplit_KilledMidSet: a save --split killed while writing leaves no
// volume under its final name, and what it left verifies as nothing.
func TestSplit_KilledMidSet(t *testing.T) {
	src, layer, file := bigLayout(t, 8<<20)
	feed := stallLayer(t, file, layer)
	s := newSites(t)
	out := filepath.Join(s.dir, "out")
	os.MkdirAll(out, 0o755)
	cmd := exec.Command(os.Args[0], "--home", s.hq, "save", "oci:"+src+":big", "--split", "3MB", "-o", filepath.Join(out, "trip.ferry"))
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	w := feed(len(layer)/2, exited) // volume 1 full, volume 2 begun
	defer w.Close()
	var tmps []string
	for len(tmps) < 2 {
		tmps, _ = filepath.Glob(filepath.Join(out, ".trip.*-of-*.ferry.tmp-*"))
		select {
		case <-exited:
			t.Fatalf("save exited while waiting for the rest of its layer")
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(100 * time.Millisecond) // not a timing assertion: lets volume 2 get bytes
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	if final, _ := filepath.Glob(filepath.Join(out, "trip.*")); len(final) > 0 {
		t.Errorf("a killed save left volumes under their final names: %v", final)
	}
	tmps, _ = filepath.Glob(filepath.Join(out, ".trip.*"))
	for _, tmp := range tmps {
		if r := run(t, s.site, "verify", tmp); r.code == 0 {
			t.Errorf("verify of %s, left by a killed save = %s, want it refused", tmp, r)
		}
	}
	if r := run(t, s.site, append([]string{"verify"}, tmps...)...); strings.Contains(r.stdout, "complete") && !strings.Contains(r.stdout, "incomplete") {
		t.Errorf("verify of what a killed save left = %s, want no complete set", r)
	}
}

// TestSplit_Usage: --split takes a size with a unit or a medium, and
// writes files, never standard output.
func TestSplit_Usage(t *testing.T) {
	s := newSites(t)
	if r := run(t, s.hq, "save", "oci:x:y", "--split", "3XB", "-o", "t.ferry"); r.code != 1 || !strings.Contains(r.stderr, "fat32") {
		t.Errorf("save --split 3XB = %s, want exit 1 naming the units and media", r)
	}
	if r := run(t, s.hq, "save", "oci:x:y", "--split", "dvd", "-o", "-"); r.code != 2 {
		t.Errorf("save --split dvd -o - = %s, want a usage error", r)
	}
}
