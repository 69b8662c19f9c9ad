package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad_TargetFailsAfterRecording: when a --into target fails after
// the images are recorded, load says they are in the store and to write
// them with ferry copy; the retry, refused as a replay, says the same.
// Before, the retry was refused without a word of why or what to do.
func TestLoad_TargetFailsAfterRecording(t *testing.T) {
	s, good := goodBundle(t)
	target := "oci-archive:" + filepath.Join(s.dir, "no-such-dir", "out.tar")
	r := run(t, s.site, "load", good, "--into", target)
	if r.code == 0 || !strings.Contains(r.stderr, "ferry copy IMAGE "+target) {
		t.Errorf("load into a failing target = %s, want a failure saying to use ferry copy IMAGE %s", r, target)
	}
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v1,v2" {
		t.Errorf("ls = %v, want the images recorded", names)
	}
	r = run(t, s.site, "load", good, "--into", target)
	if r.code != 1 || !strings.Contains(r.stderr, "already loaded") || !strings.Contains(r.stderr, "ferry copy IMAGE TARGET") {
		t.Errorf("the retry = %s, want exit 1 saying it is loaded and to use ferry copy", r)
	}
	must(t, s.site, "copy", "v1", "oci:"+filepath.Join(s.dir, "out"))
	must(t, s.site, "check", "--read-data")
}

// TestCheck_UnreferencedIsHarmless: blobs on disk outside the catalog, as
// a SIGKILL or a full disk during a load leaves them, are reported for
// what they are, summarised in one line, and alone exit 0; gc removes
// them. Before, check called each one corrupt and exited 1.
func TestCheck_UnreferencedIsHarmless(t *testing.T) {
	s, good := goodBundle(t)
	must(t, s.site, "load", good)
	dir := filepath.Join(s.site, "store", "blobs", "sha256")
	for _, data := range []string{"left by a killed load", "and another"} {
		if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(sha([]byte(data)), "sha256:")), []byte(data), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	r := must(t, s.site, "check", "--read-data")
	if !strings.Contains(r.stdout, "2 blob(s) on disk outside the catalog: unreferenced and harmless") || !strings.Contains(r.stdout, "ferry gc") {
		t.Errorf("check with unreferenced blobs = %s, want one line calling them unreferenced and harmless", r)
	}
	if r := must(t, s.site, "gc"); !strings.Contains(r.stdout, "removed 2 blob(s)") {
		t.Errorf("gc = %s, want the 2 unreferenced blobs removed", r)
	}
	must(t, s.site, "check", "--read-data")
}

// TestLoad_ManyFaultsSummarised: a bundle with 20,000 entries its index
// does not list gives a report of a few lines: ten faults of the kind,
// then one line counting the rest. Before, every entry printed its line
// (120,000 printed 11 MB).
func TestLoad_ManyFaultsSummarised(t *testing.T) {
	s, good := goodBundle(t)
	es := readEntries(t, good)
	const extra = 20000
	for i := 0; i < extra; i++ {
		name := "blobs/sha256/" + strings.TrimPrefix(sha([]byte(itoa(i))), "sha256:")
		es = append(es, entry{tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg}, nil})
	}
	bad := filepath.Join(s.dir, "noisy.ferry")
	writeEntries(t, bad, es)
	for _, cmd := range []string{"verify", "load"} {
		r := run(t, s.site, cmd, bad)
		if r.code != 1 || len(r.stdout)+len(r.stderr) > 8<<10 || !strings.Contains(r.stdout, "and 19990 more entries like these: not listed in the index") {
			t.Errorf("%s of a bundle with %d unlisted entries = exit %d, %d bytes of output:\n%.2000s\nwant exit 1, a few lines, the rest counted",
				cmd, extra, r.code, len(r.stdout)+len(r.stderr), r.stdout)
		}
	}
	must(t, s.site, "check", "--read-data")
}
