package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// TestVersion: ferry version names the stamped version and commit and the
// format versions from spec; --version prints one line; neither needs a home.
func TestVersion(t *testing.T) {
	version, commit = "v1.2.3", "0123456789abcdef"
	defer func() { version, commit = "", "" }()
	r := must(t, "", "--json", "version")
	var v VersionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("version --json = %s: %v", r.stdout, err)
	}
	if v.Version != "v1.2.3" || v.Commit != "0123456789abcdef" || v.Bundle != spec.BundleSchemaVersion ||
		v.Catalog != spec.CatalogSchemaVersion || v.Receipt != spec.ReceiptSchemaVersion || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version --json = %+v, want the stamped version and commit and spec's format versions", v)
	}
	r = must(t, "", "--version")
	if !strings.HasPrefix(r.stdout, "ferry v1.2.3 (0123456789ab) ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("--version = %q, want one line with the version and the short commit", r.stdout)
	}
	r = must(t, "", "version")
	if !strings.Contains(r.stdout, "bundle v1") || !strings.Contains(r.stdout, "catalog v") {
		t.Errorf("version = %q, want the format versions", r.stdout)
	}
}
