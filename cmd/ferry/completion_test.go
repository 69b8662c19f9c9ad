package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// ferryOnPath puts a `ferry` on PATH that runs this test binary as ferry
// (TestMain), with FERRY_HOME set to home, as the completion scripts call
// the program they complete.
func ferryOnPath(t *testing.T, home string) {
	t.Helper()
	bin := t.TempDir()
	script := "#!/bin/sh\nFERRY_TEST_AS_FERRY=1 exec '" + os.Args[0] + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "ferry"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FERRY_HOME", home)
}

// completionSetup makes a home that knows plant-7 and holds an image, puts
// ferry on PATH with that home, and returns a directory for files.
func completionSetup(t *testing.T) string {
	t.Helper()
	s := newSites(t)
	src, _ := chain(t, 1, 512)
	must(t, s.hq, "pull", "oci:"+src+":v1")
	must(t, s.hq, "tag", "v1", "registry.example/team/app:1.0")
	ferryOnPath(t, s.hq)
	return s.dir
}

// TestCompletion_Bash: the bash script loads, and completes a site name,
// an image of the store, a command, a flag's enum value and a path after
// a transport prefix (bash splits words at ":", the script keeps them).
func TestCompletion_Bash(t *testing.T) {
	runtimetest.NeedTool(t, "bash")
	dir := completionSetup(t)
	os.MkdirAll(filepath.Join(dir, "layouts", "one"), 0o755)
	for line, want := range map[string]string{
		"ferry site show pl":                  "[plant-7]",
		"ferry push registry.example/te":      "[registry.example/team/app:1.0]",
		"ferry rec":                           "[receipt]",
		"ferry save --compression n":          "[none]",
		"ferry copy v1 oci:" + dir + "/layou": "[" + dir + "/layouts/]", // bash replaces what follows the ':'

	} {
		script := `source <(ferry completion bash) || exit 1
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(); COMP_CWORD=0
_ferry_complete
printf '[%s]' "${COMPREPLY[@]}"`
		out, err := exec.Command("bash", "-c", script, "bash", line).CombinedOutput()
		got := string(out)
		if err != nil || got != want {
			t.Errorf("bash completion of %q = %q, %v, want %q", line, got, err, want)
		}
	}
}

// TestCompletion_Fish: fish's own completer, fed the script, completes a
// site name and a subcommand.
func TestCompletion_Fish(t *testing.T) {
	runtimetest.NeedTool(t, "fish")
	completionSetup(t)
	out, err := exec.Command("fish", "-c", `ferry completion fish | source; complete -C "ferry site show pl"; complete -C "ferry site s"`).CombinedOutput()
	got := string(out)
	if err != nil || !strings.Contains(got, "plant-7\t") || !strings.Contains(got, "show\t") || strings.Contains(got, "hq\t") {
		t.Errorf("fish completion = %q, %v, want plant-7 (with its fingerprint) and show", got, err)
	}
}

// TestCompletion_Zsh: in an interactive zsh (on a pty, zsh/zpty), the
// script after compinit completes a site name on TAB.
func TestCompletion_Zsh(t *testing.T) {
	runtimetest.NeedTool(t, "zsh")
	completionSetup(t)
	// TAB, then the start of the line and a print in front of what TAB
	// made of it: the shell prints the completed line.
	script := `zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z 'PS1="> "; autoload -U compinit; compinit -u -D; source <(ferry completion zsh)'
zpty -w -n z $'ferry site show pl\t'
zpty -w -n z $'\C-a'
zpty -w z 'print -r -- RESULT: '
zpty -r z out $'*RESULT: ferry site show *\n'
print -r -- "$out"
zpty -d z`
	// zpty -r waits for its pattern; a bound keeps a broken script from
	// hanging the test (it is no measure of speed).
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "zsh", "-f", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RESULT: ferry site show plant-7") {
		t.Errorf("zsh completion of 'ferry site show pl' = %q, %v, want plant-7 completed", out, err)
	}
}
