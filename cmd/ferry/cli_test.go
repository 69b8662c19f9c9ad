package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/helm"
)

// result is what one ferry invocation printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return "exit " + itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// run runs ferry in-process with --home home.
func run(t testing.TB, home string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	if home != "" {
		args = append([]string{"--home", home}, args...)
	}
	code := Main(context.Background(), args, &out, &errb)
	return result{out.String(), errb.String(), code}
}

// must runs ferry and fails the test unless it exits 0.
func must(t testing.TB, home string, args ...string) result {
	t.Helper()
	r := run(t, home, args...)
	if r.code != 0 {
		t.Fatalf("ferry %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// sites is a connected home (hq) and a site home (plant-7) that know each
// other's keys, as after the first visit.
type sites struct {
	dir, hq, site string
}

func newSites(t testing.TB) sites {
	t.Helper()
	dir := t.TempDir()
	s := sites{dir: dir, hq: filepath.Join(dir, "hq"), site: filepath.Join(dir, "plant-7")}
	must(t, s.hq, "init", "--site", "hq")
	must(t, s.site, "init", "--site", "plant-7")
	must(t, s.hq, "site", "add", "plant-7", "--key", filepath.Join(s.site, "keys", "id_ed25519.pub"))
	must(t, s.site, "site", "add", "hq", "--key", filepath.Join(s.hq, "keys", "id_ed25519.pub"))
	return s
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestMain_Usage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"no-such-command"}, 2},
		{[]string{"save"}, 2},
	} {
		r := run(t, t.TempDir(), tc.args...)
		if r.code != tc.code {
			t.Errorf("ferry %v = %s, want exit %d", tc.args, r, tc.code)
		}
	}
}

// TestMain_UsageLine: a mistake kong finds on the command line (an
// argument missing, a flag unknown or out of its set) exits 2 with kong's
// message and, under it, how to run that command and where its help is;
// a command name that is none gets kong's suggestion alone.
func TestMain_UsageLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the second line; "" for none
	}{
		{[]string{"load"}, "usage: ferry load <bundle> ... [flags] (ferry load --help says more)"},
		{[]string{"site", "add", "plant-7"}, "usage: ferry site add --key=STRING <name> (ferry site add --help says more)"},
		{[]string{"copy", "app:1"}, "usage: ferry copy <image> <target> [flags] (ferry copy --help says more)"},
		{[]string{"load", "--no-such-flag", "a.ferry"}, "usage: ferry load <bundle> ... [flags] (ferry load --help says more)"},
		{[]string{"chart"}, "usage: ferry chart <command> [flags] (ferry chart --help says more)"},
		{[]string{"lod", "a.ferry"}, ""},
	} {
		r := run(t, "", tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		var got string
		if len(lines) > 1 {
			got = lines[1]
		}
		if r.code != 2 || !strings.HasPrefix(lines[0], "ferry: ") || len(lines) > 2 || got != tc.want {
			t.Errorf("ferry %s = %s\nwant exit 2, kong's message, then %q", strings.Join(tc.args, " "), r, tc.want)
		}
	}
}

// TestMain_HelpListsTransports: each command's help names every form it
// takes: the sources save and copy read, the targets load and copy write.
func TestMain_HelpListsTransports(t *testing.T) {
	sources := []string{"oci:DIR", "oci-archive:FILE", "docker-archive:FILE", "docker://REF", "docker-daemon:REF",
		"containerd:REF", "podman:REF", "NAME[:TAG]"}
	targets := []string{"oci:DIR", "oci-archive:FILE", "docker-archive:FILE", "docker://HOST", "docker-daemon:[REF]",
		"containerd:[REF]", "podman:[REF]"}
	for _, tc := range []struct {
		cmd   string
		forms []string
	}{
		{"save", sources},
		{"copy", append(sources, targets...)},
		{"load", targets},
	} {
		r := must(t, "", tc.cmd, "--help")
		help := strings.Join(strings.Fields(r.stdout), " ") // kong wraps lines
		for _, f := range tc.forms {
			if !strings.Contains(help, f) {
				t.Errorf("ferry %s --help does not list %s:\n%s", tc.cmd, f, r.stdout)
			}
		}
	}
	home := filepath.Join(t.TempDir(), "h")
	must(t, home, "init", "--site", "hq")
	if r := run(t, home, "copy", "oci:/nowhere:v1", "app:1"); r.code != 1 || !strings.Contains(r.stderr, "podman:[REF]") {
		t.Errorf("copy to a bare name = %s, want exit 1 listing the targets", r)
	}
}

func TestInit(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	must(t, home, "init", "--site", "hq")
	for _, f := range []string{"store/oci-layout", "store/index.json", "catalog.db", "keys/id_ed25519", "keys/id_ed25519.pub"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("after init: %v", err)
		}
	}
	if r := run(t, home, "init", "--site", "hq"); r.code != 1 {
		t.Errorf("second init = %s, want exit 1", r)
	}
	if r := run(t, filepath.Join(t.TempDir(), "x"), "init", "--site", "../evil"); r.code != 1 || !strings.Contains(r.stderr, "site name") {
		t.Errorf("init with a bad site name = %s, want exit 1 naming the site name", r)
	}
	// What to do comes last, not a sentinel's text after it.
	if r := run(t, filepath.Join(t.TempDir(), "none"), "ls"); r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "run ferry init --site NAME") {
		t.Errorf("ls without a home = %s, want exit 1 ending with what to run", r)
	}
}

// TestErrors_AdviceComesLast: an error that says what to do ends with it,
// not with a sentinel's word after it (": usage", ": bad input"), and
// keeps its exit code: 2 for the command line, 1 for the input.
func TestErrors_AdviceComesLast(t *testing.T) {
	home := filepath.Join(t.TempDir(), "hq")
	must(t, home, "init", "--site", "hq")
	plant := filepath.Join(t.TempDir(), "plant")
	must(t, plant, "init", "--site", "plant")
	src, _ := chain(t, 1, 1024)
	must(t, home, "pull", "oci:"+src+":v1")
	for _, tc := range []struct {
		args      []string
		code      int
		wantAtEnd string
	}{
		{[]string{"save"}, 2, "--manifest or --with-ferry"},
		{[]string{"login", "127.0.0.1:1"}, 2, "give the user with -u USER"},
		{[]string{"init", "--site", "../evil"}, 1, "not starting with '.' or '-'"},
		{[]string{"init", "--site", "hq"}, 1, "is already initialised (" + filepath.Join(home, "catalog.db") + " exists): use it, or give another --home"},
		{[]string{"site", "add", "hq", "--key", filepath.Join(plant, "keys", "id_ed25519.pub")}, 1, "register it under a new name"},
		{[]string{"chart", "images", testChart("needs-value")}, 1, "set it with --set image.repository=REPO"},
		{[]string{"chart", "images", testChart("needs-value"), "--set", "image.repository"}, 1, "want KEY=VALUE, as helm takes it (a.b=1,c[0]=x)"},
		{[]string{"chart", "images", testChart("needs-value"), "--kube-version", "x"}, 1, "want a version such as " + helm.DefaultKubeVersion},
		{[]string{"copy", "v1", filepath.Join(home, "out")}, 1, "for a directory, write oci:" + filepath.Join(home, "out")},
		{[]string{"copy", "v1", "docker://"}, 1, "docker-daemon:[REF], containerd:[REF], podman:[REF]"},
		{[]string{"site", "add", "x", "--key", filepath.Join(home, "keys", "id_ed25519")}, 1, "give its public key, the FILE.pub beside it"},
		{[]string{"push", "v1"}, 1, "or log in to one with ferry login HOST"},
		{[]string{"login", "example.com/path", "-u", "me", "-p", "pw"}, 1, "such as registry.example.com:5000 or docker.io"},
		{[]string{"save", "v1", "--platform", "linux/s390x", "-o", filepath.Join(home, "v1.ferry")}, 1, "available: linux/amd64"},
		// a file named on the command line that is not there is a bad value
		{[]string{"load", filepath.Join(home, "nope.ferry")}, 1, "bundle " + filepath.Join(home, "nope.ferry") + ": no such file or directory"},
		{[]string{"site", "add", "x", "--key", filepath.Join(home, "nope.pub")}, 1, "--key " + filepath.Join(home, "nope.pub") + ": no such file or directory"},
		// or a directory: a bundle's says which files to name
		{[]string{"verify", filepath.Join(home, "keys")}, 1, "bundle " + filepath.Join(home, "keys") + " is a directory: name the bundle files in it (" +
			filepath.Join(home, "keys", "*.ferry") + ")"},
		{[]string{"site", "add", "x", "--key", filepath.Join(home, "keys")}, 1, "--key " + filepath.Join(home, "keys") + " is a directory: name a file"},
	} {
		r := run(t, home, tc.args...)
		if msg := strings.TrimSpace(r.stderr); r.code != tc.code || !strings.HasSuffix(msg, tc.wantAtEnd) {
			t.Errorf("ferry %s = %s, want exit %d and the error ending %q", strings.Join(tc.args, " "), r, tc.code, tc.wantAtEnd)
		}
	}
	// a receipt where a bundle goes, and a bundle where a receipt goes, say what reads them
	receipt, bundle := filepath.Join(home, "r.ferry"), filepath.Join(home, "b.ferry")
	must(t, home, "receipt", "create", "-o", receipt)
	must(t, home, "save", "v1", "-o", bundle)
	for _, args := range [][]string{{"load", receipt}, {"verify", receipt}, {"inspect", receipt}} {
		if r := run(t, home, args...); r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "it is a receipt, not a bundle: ferry receipt apply reads it, on the sender") {
			t.Errorf("ferry %s of a receipt = %s, want exit 1 saying what reads it", args[0], r)
		}
	}
	if r := run(t, home, "receipt", "apply", bundle); r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "it is a bundle, not a receipt: ferry verify and ferry load read it") {
		t.Errorf("receipt apply of a bundle = %s, want exit 1 saying what reads it", r)
	}
	r := run(t, home, "save", "v1", "--split", "1KB", "-o", filepath.Join(home, "v1.ferry"))
	if !regexp.MustCompile(`give --split at least \d+$`).MatchString(strings.TrimSpace(r.stderr)) || r.code != 1 {
		t.Errorf("save --split 1KB = %s, want exit 1 and the error ending with the least size", r)
	}
}

func TestSite(t *testing.T) {
	s := newSites(t)
	r := must(t, s.hq, "site", "ls")
	if !strings.Contains(r.stdout, "plant-7") || !strings.Contains(r.stdout, "hq") {
		t.Errorf("site ls = %s, want both sites", r)
	}
	r = must(t, s.hq, "--json", "site", "show", "plant-7")
	if !strings.Contains(r.stdout, `"fingerprint": "SHA256:`) {
		t.Errorf("site show --json = %s, want a fingerprint", r)
	}
	if r := run(t, s.hq, "site", "show", "nowhere"); r.code != 1 || !strings.Contains(r.stderr, "nowhere") {
		t.Errorf("site show of an unknown site = %s, want exit 1 naming it", r)
	}
	// A save for a site not registered says once how to register it.
	r = run(t, s.hq, "save", "--for", "nowhere", "oci:"+t.TempDir()+":1", "-o", filepath.Join(t.TempDir(), "x.ferry"))
	if n := strings.Count(r.stderr, "ferry site add nowhere --key"); r.code != 1 || n != 1 {
		t.Errorf("save --for an unknown site = %s, want exit 1 saying once how to add it (said %d times)", r, n)
	}
	// Another key under a known name is refused.
	if r := run(t, s.hq, "site", "add", "plant-7", "--key", filepath.Join(s.hq, "keys", "id_ed25519.pub")); r.code != 1 {
		t.Errorf("site add with another key = %s, want exit 1", r)
	}
}

// TestHome_EmptyIsUnset: FERRY_HOME set to "" means the default home, as
// an empty XDG_DATA_HOME does, not the working directory (kong expands ""
// as a path to it): FERRY_HOME= ferry init must not make a home in cwd.
func TestHome_EmptyIsUnset(t *testing.T) {
	data, cwd := t.TempDir(), t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("FERRY_HOME", "")
	t.Chdir(cwd)
	must(t, "", "init", "--site", "hq")
	if _, err := os.Stat(filepath.Join(data, "ferry", "catalog.db")); err != nil {
		t.Errorf("FERRY_HOME= ferry init: no home at $XDG_DATA_HOME/ferry: %v", err)
	}
	if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
		t.Errorf("FERRY_HOME= ferry init wrote into the working directory: %v", entries)
	}
	// a relative --home is the working directory's
	must(t, "", "--home", "rel", "init", "--site", "other")
	if _, err := os.Stat(filepath.Join(cwd, "rel", "catalog.db")); err != nil {
		t.Errorf("--home rel: %v", err)
	}
}
