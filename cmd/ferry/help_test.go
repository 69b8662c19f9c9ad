package main

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/helm"
)

// TestHelp: ferry help COMMAND is the command's help, ferry help TOPIC a
// topic, and ferry help --man a roff page with a section per command,
// made from the same grammar.
func TestHelp(t *testing.T) {
	// ferry alone shows the commands, as docker and helm do
	if r := must(t, ""); !strings.Contains(r.stdout, "Commands:") || !strings.Contains(r.stdout, "Make a signed bundle of images") {
		t.Errorf("ferry with no arguments = %s, want the list of commands", r)
	}
	r := must(t, "", "help", "site", "add")
	if !strings.Contains(r.stdout, "Register another site's public key") || !strings.Contains(r.stdout, "--key") {
		t.Errorf("help site add = %s", r)
	}
	r = must(t, "", "help", "transports")
	if !strings.Contains(r.stdout, "docker-archive:FILE[:REF]") {
		t.Errorf("help transports = %s", r)
	}
	if r = run(t, "", "help", "nosuch"); r.code != 2 || !strings.Contains(r.stderr, "transports") {
		t.Errorf("help nosuch = %s, want a usage error listing the topics", r)
	}
	r = must(t, "", "help", "--man")
	if !strings.HasPrefix(r.stdout, ".TH \"FERRY\" \"1\"") {
		t.Fatalf("help --man does not start with .TH: %.200s", r.stdout)
	}
	for _, want := range []string{".SS \"ferry push\"", ".SS \"ferry site show\"", ".SS \"ferry login\"",
		"\\fB\\-\\-password\\-stdin\\fR", ".SH \"EXIT STATUS\"", ".SH \"ENVIRONMENT\""} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help --man lacks %q", want)
		}
	}
	// The texts several commands share are written in (helpTexts),
	// everywhere the grammar names them.
	if i := strings.Index(r.stdout, "${"); i >= 0 {
		t.Errorf("help --man shows a variable unexpanded: %.80s", r.stdout[i:])
	}
	for _, want := range []string{"or a topic: transports", helm.DefaultKubeVersion} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help --man lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "__complete") {
		t.Errorf("help --man shows the hidden completion command")
	}
	if groff, err := exec.LookPath("groff"); err == nil {
		cmd := exec.Command(groff, "-man", "-ww", "-z")
		cmd.Stdin = strings.NewReader(r.stdout)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff -man -ww of ferry help --man: %v\n%s", err, out)
		}
	}
}

// BenchmarkMain_Grammar is what every command pays before its work once
// the process has started: kong builds the grammar, parses the command
// line, and ferry version runs.
func BenchmarkMain_Grammar(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if code := mainIO(context.Background(), []string{"version"}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("ferry version: exit %d", code)
		}
	}
}
