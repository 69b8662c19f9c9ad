package complete

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

type testCLI struct {
	Home string `help:"Home."`
	JSON bool   `name:"json"`
	Save struct {
		Images      []string `arg:"" optional:"" complete:"image"`
		For         string   `complete:"site"`
		Output      string   `short:"o" type:"path"`
		Compression string   `enum:"zstd,none" default:"zstd"`
		DryRun      bool
	} `cmd:"" help:"Make a bundle."`
	Site struct {
		Add struct {
			Name string `arg:""`
		} `cmd:""`
		Show struct {
			Name string `arg:"" complete:"site"`
		} `cmd:""`
	} `cmd:"" help:"Sites."`
	Secret struct{} `cmd:"" hidden:""`
}

func model(t *testing.T) *kong.Application {
	t.Helper()
	k, err := kong.New(&testCLI{}, kong.Name("prog"))
	if err != nil {
		t.Fatal(err)
	}
	return k.Model
}

func predict(kind, prefix string) []Candidate {
	switch kind {
	case "site":
		return []Candidate{{Value: "hq"}, {Value: "plant-7"}, {Value: "plant-8"}}
	case "image":
		return []Candidate{{Value: "app:1"}, {Value: "oci:"}}
	case "file":
		return []Candidate{{Value: prefix + ".ferry"}}
	}
	return nil
}

func TestComplete(t *testing.T) {
	app := model(t)
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{""}, []string{"save", "site"}},
		{[]string{"s"}, []string{"save", "site"}},
		{[]string{"site", ""}, []string{"add", "show"}},
		{[]string{"site", "show", "pl"}, []string{"plant-7", "plant-8"}},
		{[]string{"--home", "/x", "site", "show", ""}, []string{"hq", "plant-7", "plant-8"}},
		{[]string{"site", "add", ""}, nil},
		{[]string{"site", "show", "hq", ""}, nil},
		{[]string{"save", "--for", "p"}, []string{"plant-7", "plant-8"}},
		{[]string{"save", "--for=h"}, []string{"--for=hq"}},
		{[]string{"save", "--compression", ""}, []string{"zstd", "none"}},
		{[]string{"save", "-o", "x"}, []string{"x.ferry"}},
		{[]string{"save", "--dry-run", ""}, []string{"app:1", "oci:"}},
		{[]string{"save", "app:1", "a"}, []string{"app:1"}},
		{[]string{"save", "--for", "hq", "app:1", "--dry"}, []string{"--dry-run"}},
		{[]string{"--j"}, []string{"--json"}},
		{[]string{"secret", ""}, nil},
	} {
		var got []string
		for _, c := range Complete(app, tc.words, predict) {
			got = append(got, c.Value)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Complete(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
	var flags []string
	for _, c := range Complete(app, []string{"save", "--"}, predict) {
		flags = append(flags, c.Value)
	}
	for _, want := range []string{"--home", "--json", "--for", "--output", "--compression", "--dry-run", "--help"} {
		if !slices.Contains(flags, want) {
			t.Errorf("Complete(save --) = %v, want %s among them", flags, want)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "images"), 0o755)
	os.WriteFile(filepath.Join(dir, "img.tar"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o644)
	var got []string
	for _, c := range Files("oci:", dir+"/im") {
		got = append(got, c.Value)
	}
	slices.Sort(got)
	want := []string{"oci:" + dir + "/images/", "oci:" + dir + "/img.tar"}
	if !slices.Equal(got, want) {
		t.Errorf("Files(oci:, %s/im) = %v, want %v", dir, got, want)
	}
	if got := Files("", dir+"/"); len(got) != 2 {
		t.Errorf("Files(%s/) = %v, want the two entries that are not hidden", dir, got)
	}
	if got := Files("", dir+"/."); len(got) != 1 || !strings.HasSuffix(got[0].Value, ".hidden") {
		t.Errorf("Files(%s/.) = %v, want the hidden file", dir, got)
	}
}

func TestScript(t *testing.T) {
	for _, sh := range Shells {
		s, err := Script(sh, "prog", "__complete")
		if err != nil || !strings.Contains(s, "prog") || !strings.Contains(s, "__complete") || strings.Contains(s, "PROG") {
			t.Errorf("Script(%s) = %v, want a script for prog calling __complete", sh, err)
		}
	}
	if _, err := Script("tcsh", "prog", "__complete"); err == nil {
		t.Errorf("Script(tcsh) = nil error")
	}
}
