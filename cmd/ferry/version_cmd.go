package main

import (
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/ferryhq/ferry/spec"
)

// version and commit are stamped by make release with -ldflags
// "-X main.version=v1.2.0 -X main.commit=<hash>". Other builds report
// their module version (go install …@v1.2.0) or "devel", and the commit
// go build embeds when it builds in a git clone.
var version, commit string

// VersionCmd is `ferry version`.
type VersionCmd struct{}

// VersionInfo is what `ferry version` reports.
type VersionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commitTime,omitempty"`
	Modified   bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go         string `json:"go"`
	Platform   string `json:"platform"`
	Bundle     int    `json:"bundleSchemaVersion"`
	Receipt    int    `json:"receiptSchemaVersion"`
	Catalog    int    `json:"catalogSchemaVersion"`
}

func (c *VersionCmd) Run(g *Globals) error {
	v := buildVersion()
	if g.JSON {
		return g.printJSON(v)
	}
	g.printf("ferry %s\n", v.Version)
	if v.Commit != "" {
		dirty := ""
		if v.Modified {
			dirty = " (uncommitted changes)"
		}
		g.printf("commit:   %s%s\n", strings.TrimSpace(v.Commit+" "+v.CommitTime), dirty)
	}
	g.printf("go:       %s %s\n", v.Go, v.Platform)
	g.printf("formats:  bundle v%d, receipt v%d, catalog v%d (reads and writes these versions only)\n", v.Bundle, v.Receipt, v.Catalog)
	return nil
}

// buildVersion reads the version, the VCS stamp that go build embeds and
// the format versions of spec.
func buildVersion() VersionInfo {
	v := VersionInfo{Version: version, Commit: commit, Go: goruntime.Version(), Platform: goruntime.GOOS + "/" + goruntime.GOARCH,
		Bundle: spec.BundleSchemaVersion, Receipt: spec.ReceiptSchemaVersion, Catalog: spec.CatalogSchemaVersion}
	bi, ok := debug.ReadBuildInfo()
	if v.Version == "" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version // go install github.com/ferryhq/ferry/cmd/ferry@v1.2.0
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	if !ok {
		return v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if v.Commit == "" {
				v.Commit = s.Value
			}
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// versionLine is the one line --version prints.
func versionLine() string {
	v := buildVersion()
	line := "ferry " + v.Version
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		line += " (" + c
		if v.Modified {
			line += ", modified"
		}
		line += ")"
	}
	return line + " " + v.Platform
}
