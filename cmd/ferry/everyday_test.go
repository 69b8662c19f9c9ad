package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// runIn runs ferry in-process with stdin as its standard input.
func runIn(t testing.TB, home, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	if home != "" {
		args = append([]string{"--home", home}, args...)
	}
	code := mainIO(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{out.String(), errb.String(), code}
}

// loginEnv points the Docker config at an empty temporary directory, and
// every other place credentials are read at nothing; it returns the
// config file's path.
func loginEnv(t *testing.T) string {
	t.Helper()
	empty := t.TempDir()
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"} {
		t.Setenv(k, empty)
	}
	t.Setenv(registry.AuthFileEnv, "")
	dir := filepath.Join(t.TempDir(), "docker")
	t.Setenv("DOCKER_CONFIG", dir)
	return filepath.Join(dir, "config.json")
}

// TestLogin_PullPushLogout: login against a registry with htpasswd behind
// TLS checks the password and saves it (mode 0600, never printed); pull
// and push then use it; logout removes it and the registry refuses again.
func TestLogin_PullPushLogout(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	cfg := loginEnv(t)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{TLS: true, User: "ferry", Password: "s3cret"})
	src := filepath.Join(t.TempDir(), "src")
	runtimetest.UmociImage(t, src, "v1", 3, 2, 4096)
	skopeoTLS := []string{"--dest-cert-dir", reg.CertDir, "--dest-creds", "ferry:s3cret"}
	runtimetest.Skopeo(t, append(append([]string{"copy"}, skopeoTLS...), "oci:"+src+":v1", "docker://"+reg.Host+"/team/app:v1")...)
	want := runtimetest.SkopeoDigest(t, "oci:"+src+":v1")
	home := filepath.Join(t.TempDir(), "home")
	must(t, home, "init", "--site", "hq")
	ca := "--ca-file=" + reg.CAFile

	r := runIn(t, home, "wrong\n", ca, "login", reg.Host, "-u", "ferry", "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "unauthorized") || strings.Contains(r.stderr+r.stdout, "wrong") {
		t.Errorf("login with a wrong password = %s, want exit 1, unauthorized, the password not echoed", r)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Errorf("a refused login wrote %s", cfg)
	}
	r = runIn(t, home, "s3cret\n", ca, "login", reg.Host, "-u", "ferry", "--password-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") || strings.Contains(r.stdout+r.stderr, "s3cret") {
		t.Fatalf("login = %s, want success and the password never printed", r)
	}
	fi, err := os.Stat(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s after login: %v, %v, want mode 0600", cfg, fi, err)
	}
	r = runIn(t, home, "", ca, "login", reg.Host, "-u", "ferry", "-p", "s3cret")
	if r.code != 0 || !strings.Contains(r.stderr, "WARNING") || !strings.Contains(r.stderr, "--password-stdin") {
		t.Errorf("login -p = %s, want it to succeed with a warning", r)
	}

	must(t, home, ca, "pull", reg.Host+"/team/app:v1")
	if got := lsDigest(t, home, reg.Host+"/team/app:v1"); got != want {
		t.Errorf("pulled %s = %s, want %s", reg.Host+"/team/app:v1", got, want)
	}
	must(t, home, "tag", reg.Host+"/team/app:v1", "app:v1")
	r = must(t, home, ca, "push", "app:v1")
	if !strings.Contains(r.stderr, "the one registry you logged in to") {
		t.Errorf("push without a target = %s, want it to say it chose the registry logged in to", r)
	}
	must(t, home, ca, "push", reg.Host+"/team/app:v1", "--registry", reg.Host+"/mirror")
	for _, ref := range []string{reg.Host + "/app:v1", reg.Host + "/mirror/team/app:v1"} {
		got := digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--cert-dir", reg.CertDir, "--creds", "ferry:s3cret", "docker://"+ref))
		if got != want {
			t.Errorf("skopeo inspect %s = %s, want %s", ref, got, want)
		}
	}

	r = must(t, home, "logout", reg.Host)
	if !strings.Contains(r.stdout, "Removed") {
		t.Errorf("logout = %s", r)
	}
	if raw, _ := os.ReadFile(cfg); strings.Contains(string(raw), reg.Host) {
		t.Errorf("%s after logout still names %s: %s", cfg, reg.Host, raw)
	}
	r = run(t, home, ca, "pull", reg.Host+"/team/app:v1")
	if r.code != 1 || !strings.Contains(r.stderr, "unauthorized") {
		t.Errorf("pull after logout = %s, want exit 1, unauthorized", r)
	}
	if r = must(t, home, "logout", reg.Host); !strings.Contains(r.stdout, "Not logged in") {
		t.Errorf("second logout = %s, want it to say there was no login", r)
	}
}

// TestPush_DockerArchive: push ./x.tar of an archive skopeo made sends
// every image in it, named by its RepoTags, straight to the registry (no
// store), keeping the image ID.
func TestPush_DockerArchive(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	dir := t.TempDir()
	tar := filepath.Join(dir, "app.tar")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v1", "docker-archive:"+tar+":team/app:v1")
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	home := filepath.Join(dir, "home")
	must(t, home, "init", "--site", "hq")
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	r := must(t, home, "push", "./app.tar", reg.Host)
	if !strings.Contains(r.stdout, "team/app:v1") {
		t.Errorf("push ./app.tar = %s, want it to name the image", r)
	}
	var man struct{ Config struct{ Digest string } }
	json.Unmarshal(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+reg.Host+"/team/app:v1"), &man)
	if want := configDigest(t, src, "v1"); man.Config.Digest != want {
		t.Errorf("image ID in the registry = %s, want %s (the archive's)", man.Config.Digest, want)
	}
	if names := lsNames(t, home); len(names) != 0 {
		t.Errorf("push of an archive put %v in the store", names)
	}
}

// TestPull_AllTags: pull --all-tags of a repository with three tags pulls
// each, with the digests the registry serves; push --all-tags sends the
// repository on.
func TestPull_AllTags(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src, tags := chain(t, 3, 2048)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	for _, tag := range tags {
		pushTo(t, src, tag, reg.Host+"/team/app:"+tag)
	}
	pushTo(t, src, "v1", reg.Host+"/other:v1")
	home := filepath.Join(t.TempDir(), "home")
	must(t, home, "init", "--site", "hq")
	if r := run(t, home, "pull", "--all-tags", reg.Host+"/team/app:v1"); r.code != 2 {
		t.Errorf("pull --all-tags REPO:TAG = %s, want a usage error", r)
	}
	// A tag the registry lacks: named once, with what the registry said.
	missing := "docker://" + reg.Host + "/team/app:v9"
	if r := run(t, home, "pull", missing); r.code != 1 || strings.Count(r.stderr, "team/app:v9") != 1 || !strings.Contains(r.stderr, "MANIFEST_UNKNOWN") {
		t.Errorf("pull %s = %s, want exit 1 naming the image once, with the registry's answer", missing, r)
	}
	must(t, home, "pull", "--all-tags", "docker://"+reg.Host+"/team/app")
	names := lsNames(t, home)
	if len(names) != 3 {
		t.Fatalf("after pull --all-tags, ls = %v, want the 3 tags", names)
	}
	for _, tag := range tags {
		name := reg.Host + "/team/app:" + tag
		if got, want := lsDigest(t, home, name), runtimetest.SkopeoDigest(t, "oci:"+src+":"+tag); got != want {
			t.Errorf("pulled %s = %s, want %s", name, got, want)
		}
	}
	must(t, home, "check", "--read-data")
	// And back out as a repository, as img pushes one: every tag to another registry.
	other := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	must(t, home, "push", "--all-tags", reg.Host+"/team/app", "--registry", other.Host)
	for _, tag := range tags {
		ref := "docker://" + other.Host + "/team/app:" + tag
		if got, want := digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", ref)),
			runtimetest.SkopeoDigest(t, "oci:"+src+":"+tag); got != want {
			t.Errorf("push --all-tags: %s = %s, want %s", ref, got, want)
		}
	}
}

// TestLs_Patterns: ls (and du) with patterns list the images they name, by
// repository, name, Docker's short name or glob, as text and as JSON; a
// pattern that names none says so and lists nothing.
func TestLs_Patterns(t *testing.T) {
	src, _ := chain(t, 2, 1024)
	home := filepath.Join(t.TempDir(), "home")
	must(t, home, "init", "--site", "hq")
	if r := must(t, home, "ls"); r.stdout != "" || !strings.Contains(r.stderr, "ferry pull IMAGE, or ferry load BUNDLE") {
		t.Errorf("ls of an empty store = %s, want no lines and a note of how to fill it", r)
	}
	must(t, home, "pull", "oci:"+src+":v1", "oci:"+src+":v2")
	must(t, home, "tag", "v1", "example.com/team/app:1")
	must(t, home, "tag", "v2", "example.com/team/app:2")
	must(t, home, "tag", "v2", "docker.io/library/tool:3")
	for _, tc := range []struct {
		patterns []string
		want     []string
	}{
		{nil, []string{"docker.io/library/tool:3", "example.com/team/app:1", "example.com/team/app:2", "v1", "v2"}},
		{[]string{"example.com/team/app"}, []string{"example.com/team/app:1", "example.com/team/app:2"}},
		{[]string{"example.com/*/app:2"}, []string{"example.com/team/app:2"}},
		{[]string{"tool"}, []string{"docker.io/library/tool:3"}},
		{[]string{"tool:3", "v?"}, []string{"docker.io/library/tool:3", "v1", "v2"}},
		{[]string{"example.com/team/app:1"}, []string{"example.com/team/app:1"}},
	} {
		args := append([]string{"--json", "ls"}, tc.patterns...)
		var recs []struct{ Name string }
		if err := json.Unmarshal([]byte(must(t, home, args...).stdout), &recs); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ls --json %v = %v, want %v", tc.patterns, got, tc.want)
		}
		// du shows the same images
		var du struct{ Images map[string]int64 }
		if err := json.Unmarshal([]byte(must(t, home, append([]string{"--json", "du"}, tc.patterns...)...).stdout), &du); err != nil {
			t.Fatal(err)
		}
		if names := slices.Sorted(maps.Keys(du.Images)); !slices.Equal(names, tc.want) {
			t.Errorf("du --json %v = %v, want %v", tc.patterns, names, tc.want)
		}
		text := must(t, home, append([]string{"ls"}, tc.patterns...)...).stdout
		if n := len(strings.Split(strings.TrimSpace(text), "\n")); n != len(tc.want) {
			t.Errorf("ls %v printed %d lines, want %d: %s", tc.patterns, n, len(tc.want), text)
		}
	}
	r := must(t, home, "ls", "nothing/here")
	if r.stdout != "" || !strings.Contains(r.stderr, "matches nothing/here") {
		t.Errorf("ls of a pattern that names nothing = %s, want no lines and a note on stderr", r)
	}
	if r := must(t, home, "--json", "ls", "nothing/here"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("ls --json of a pattern that names nothing = %q, want []", r.stdout)
	}
	if r := run(t, home, "du", "example.com/[app"); r.code != 2 || !strings.Contains(r.stderr, `pattern "example.com/[app"`) {
		t.Errorf("du of a pattern that is not a glob = %s, want a usage error naming it", r)
	}
	if r := run(t, home, "ls", "app", "example.com/[app"); r.code != 2 || !strings.Contains(r.stderr, `pattern "example.com/[app": syntax error in pattern`) {
		t.Errorf("ls of a pattern that is not a glob = %s, want a usage error naming it", r)
	}
}

// TestTagRm_GC: tag and rm change names only (check --read-data stays
// clean); once no name uses an image, gc frees exactly the blobs no other
// image shares, counted, and the other image still copies out whole.
func TestTagRm_GC(t *testing.T) {
	src, _ := chain(t, 2, 4096) // v2 = v1's layer + one more
	home := filepath.Join(t.TempDir(), "home")
	must(t, home, "init", "--site", "hq")
	must(t, home, "pull", "oci:"+src+":v1", "oci:"+src+":v2")
	must(t, home, "tag", "v2", "example.com/app:2")
	must(t, home, "check", "--read-data")
	r := must(t, home, "rm", "v2")
	if strings.Contains(r.stdout, "gc removes") {
		t.Errorf("rm of one of two names of an image = %s, want no blob left unused", r)
	}
	must(t, home, "check", "--read-data")
	must(t, home, "rm", "example.com/app:2")
	must(t, home, "check", "--read-data")
	// v2's own blobs: its manifest, its config, its top layer.
	var m1, m2 struct {
		Config struct{ Digest string }
		Layers []struct{ Digest string }
	}
	manifestOf(t, src, "v1", &m1)
	manifestOf(t, src, "v2", &m2)
	unique := map[string]bool{m2.Config.Digest: true, string(runtimetest.SkopeoDigest(t, "oci:"+src+":v2")): true}
	for _, l := range m2.Layers[len(m1.Layers):] {
		unique[l.Digest] = true
	}
	r = must(t, home, "--json", "gc")
	var res struct{ Removed []string }
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != len(unique) {
		t.Errorf("gc removed %d blobs %v, want v2's %d unique blobs %v", len(res.Removed), res.Removed, len(unique), unique)
	}
	for _, d := range res.Removed {
		if !unique[d] {
			t.Errorf("gc removed %s, which is not v2's alone", d)
		}
	}
	must(t, home, "check", "--read-data")
	out := filepath.Join(t.TempDir(), "out")
	must(t, home, "copy", "v1", "oci:"+out+":v1")
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+out+":v1"), runtimetest.SkopeoDigest(t, "oci:"+src+":v1"); got != want {
		t.Errorf("v1 after gc = %s, want %s", got, want)
	}
}

// lsDigest is the digest `ferry ls --json` gives name.
func lsDigest(t *testing.T, home, name string) digest.Digest {
	t.Helper()
	var imgs []struct {
		Name   string
		Digest digest.Digest
	}
	json.Unmarshal([]byte(must(t, home, "--json", "ls").stdout), &imgs)
	for _, im := range imgs {
		if im.Name == name {
			return im.Digest
		}
	}
	t.Fatalf("ls: no image %s in %v", name, imgs)
	return ""
}

// TestOutput_Directory: an existing directory given to -o gets the
// default name in it, as cp does (save, receipt create); a target file
// that is a directory is refused before anything is written.
func TestOutput_Directory(t *testing.T) {
	src, _ := chain(t, 1, 1024)
	home := filepath.Join(t.TempDir(), "home")
	must(t, home, "init", "--site", "hq")
	must(t, home, "pull", "oci:"+src+":v1")
	out := filepath.Join(t.TempDir(), "media")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, home, "save", "v1", "-o", out)
	must(t, home, "receipt", "create", "-o", out)
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"hq-receipt.ferry", "v1.ferry"}) {
		t.Errorf("-o DIR wrote %v, want the default names in it", names)
	}
	must(t, home, "verify", filepath.Join(out, "v1.ferry"))
	r := run(t, home, "copy", "v1", "oci-archive:"+out)
	if r.code == 0 || !strings.Contains(r.stderr, out+" is a directory: name a file") {
		t.Errorf("copy to oci-archive:DIR = %s, want it refused naming the directory", r)
	}
	if after, _ := os.ReadDir(out); len(after) != 2 {
		t.Errorf("the refused copy left %d entries in %s, want 2", len(after), out)
	}
	if after, _ := os.ReadDir(filepath.Dir(out)); len(after) != 1 {
		t.Errorf("the refused copy left a file beside %s: %v", out, after)
	}
}
