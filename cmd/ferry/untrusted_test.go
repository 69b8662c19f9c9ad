package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
)

// resign rewrites a bundle's index with edit and signs it again with the
// key of the home hq, as a sender that means harm would.
func resign(t *testing.T, es []entry, hq string, edit func(raw string) string) []entry {
	t.Helper()
	s, err := format.LoadSigner(filepath.Join(hq, "keys", "id_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	es[0].data = []byte(edit(string(es[0].data)))
	es[0].hdr.Size = int64(len(es[0].data))
	sig, err := format.Sign(s, spec.SignatureNamespace, es[0].data)
	if err != nil {
		t.Fatal(err)
	}
	es[1].data, es[1].hdr.Size = sig, int64(len(sig))
	return es
}

// TestLoad_NameForgesNoLine: an image name with a newline in a signed
// bundle cannot forge a line of load's report: the image is left out,
// named escaped, the other image loads, and the site's receipt is still
// written. Before, the name was recorded and printed as it was.
func TestLoad_NameForgesNoLine(t *testing.T) {
	s, good := goodBundle(t)
	forged := `v1\n  image forged:1 sha256:0 ok`
	bad := filepath.Join(s.dir, "forged.ferry")
	writeEntries(t, bad, resign(t, readEntries(t, good), s.hq, func(raw string) string {
		return strings.Replace(raw, `"name":"v1"`, `"name":"`+forged+`"`, 1)
	}))
	r := run(t, s.site, "load", bad)
	if r.code != 1 {
		t.Errorf("load of a bundle with a forged name = %s, want exit 1", r)
	}
	for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "image forged") {
			t.Errorf("the report holds a forged line %q:\n%s", line, r)
		}
	}
	if !strings.Contains(r.stdout, `\n  image forged`) || !strings.Contains(r.stdout, "receipt:") {
		t.Errorf("load = %s, want the refused name escaped and a receipt written", r)
	}
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v2" {
		t.Errorf("ls = %q, want v2 only", names)
	}
	must(t, s.site, "receipt", "create", "-o", filepath.Join(s.dir, "r.ferry"))
	must(t, s.site, "check", "--read-data")
}

// TestLoad_KeyNeverSpeaksForARegisteredSite: a bundle that names a
// registered sender but is signed by another key is refused even when
// that key is given with --key, so it can never forge the sender's
// sequences; --insecure-skip-signature loads it without touching them.
func TestLoad_KeyNeverSpeaksForARegisteredSite(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	impostor := filepath.Join(s.dir, "impostor")
	must(t, impostor, "init", "--site", "hq")
	forged := filepath.Join(s.dir, "forged.ferry")
	must(t, impostor, "save", "oci:"+src+":v1", "-o", forged)
	r := run(t, s.site, "load", "--key", filepath.Join(impostor, "keys", "id_ed25519.pub"), forged)
	if r.code != 1 || !strings.Contains(r.stderr, "never speaks for a registered site") {
		t.Errorf("load --key IMPOSTOR.pub of a bundle from hq = %s, want exit 1 saying the key cannot speak for hq", r)
	}
	if names := lsNames(t, s.site); len(names) != 0 {
		t.Errorf("the refused bundle stored %v", names)
	}
	must(t, s.site, "load", "--insecure-skip-signature", forged)
	genuine := filepath.Join(s.dir, "genuine.ferry")
	must(t, s.hq, "save", "oci:"+src+":v2", "--for", "plant-7", "-o", genuine)
	must(t, s.site, "load", genuine)
	must(t, s.site, "check", "--read-data")
}
