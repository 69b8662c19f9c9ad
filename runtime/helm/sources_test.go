package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// versioned is the archive of the needs-value chart at another version.
func versioned(t *testing.T, version string) []byte {
	t.Helper()
	dir := copyChart(t, "needs-value", map[string]string{"Chart.yaml": "apiVersion: v2\nname: needs-value\nversion: " + version + "\n"})
	data, err := archiveDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// repoServer serves a classic chart repository from memory: index.yaml
// and one archive per version. With user set, every request needs basic
// auth.
type repoServer struct {
	files      map[string][]byte
	user, pass string
	authSeen   []string // paths requested with credentials
}

func (s *repoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); ok {
		s.authSeen = append(s.authSeen, r.URL.Path)
		if s.user != "" && (u != s.user || p != s.pass) {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
	} else if s.user != "" {
		http.Error(w, "credentials needed", http.StatusUnauthorized)
		return
	}
	data, ok := s.files[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(data)
}

func newRepo(t *testing.T, versions map[string][]byte, digests map[string]string) (*repoServer, *httptest.Server) {
	s := &repoServer{files: map[string][]byte{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	var idx bytes.Buffer
	idx.WriteString("apiVersion: v1\nentries:\n  needs-value:\n")
	for v, data := range versions {
		name := "charts/needs-value-" + v + ".tgz"
		s.files[name] = data
		sum := sha256.Sum256(data)
		d := hex.EncodeToString(sum[:])
		if o, ok := digests[v]; ok {
			d = o
		}
		url := name // relative to the repository, as helm repo index writes it
		if v == "1.1.0" {
			url = srv.URL + "/" + name // absolute
		}
		fmt.Fprintf(&idx, "    - name: needs-value\n      version: %q\n      digest: %s\n      urls: [%q]\n", v, d, url)
	}
	idx.WriteString("generated: \"2026-01-01T00:00:00Z\"\n")
	s.files["index.yaml"] = idx.Bytes()
	return s, srv
}

// TestLoad_Repo: a chart from a classic repository, its version chosen as
// Helm chooses it, its archive checked against index.yaml's digest and
// kept byte for byte.
func TestLoad_Repo(t *testing.T) {
	versions := map[string][]byte{}
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0-rc.1", "0.9.0"} {
		versions[v] = versioned(t, v)
	}
	_, srv := newRepo(t, versions, nil)
	ctx := context.Background()
	for _, tc := range []struct{ want, version string }{
		{"1.1.0", ""},                // newest stable
		{"1.0.0", "~1.0"},            // a constraint
		{"1.2.0-rc.1", "1.2.0-rc.1"}, // exact, a pre-release
		{"0.9.0", "<1"},
	} {
		c, err := Load(ctx, "needs-value", LoadOptions{Repo: srv.URL, Version: tc.version})
		if err != nil {
			t.Fatalf("Load --version %q = %v", tc.version, err)
		}
		if c.Version != tc.want || !bytes.Equal(c.Archive(), versions[tc.want]) {
			t.Errorf("Load --version %q = %s, want %s with its archive's bytes", tc.version, c.Version, tc.want)
		}
	}
	for _, tc := range []struct {
		name, chart, version string
		want                 error
	}{
		{"no such chart", "nosuch", "", spec.ErrNotFound},
		{"no such version", "needs-value", "3.0.0", spec.ErrNotFound},
	} {
		if _, err := Load(ctx, tc.chart, LoadOptions{Repo: srv.URL, Version: tc.version}); !errors.Is(err, tc.want) {
			t.Errorf("%s: Load = %v, want %v", tc.name, err, tc.want)
		}
	}
	// An archive that is not what index.yaml promised is refused.
	_, bad := newRepo(t, versions, map[string]string{"1.1.0": strings.Repeat("0", 64)})
	if _, err := Load(ctx, "needs-value", LoadOptions{Repo: bad.URL}); !errors.Is(err, spec.ErrDigestMismatch) {
		t.Errorf("Load of an archive with the wrong digest = %v, want ErrDigestMismatch", err)
	}
}

// TestLoad_RepoCredentials: basic auth from the same credential store as
// registries (REGISTRY_AUTH_FILE), sent to the repository's host only.
func TestLoad_RepoCredentials(t *testing.T) {
	versions := map[string][]byte{"1.0.0": versioned(t, "1.0.0")}
	s, srv := newRepo(t, versions, nil)
	s.user, s.pass = "ci", "s3cret"
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv(registry.AuthFileEnv, "")
	if _, err := Load(ctx, "needs-value", LoadOptions{Repo: srv.URL}); !errors.Is(err, spec.ErrUnauthorized) {
		t.Fatalf("Load without credentials = %v, want ErrUnauthorized", err)
	}
	auth := filepath.Join(t.TempDir(), "auth.json")
	host := strings.TrimPrefix(srv.URL, "http://")
	cred := "Y2k6czNjcmV0" // base64("ci:s3cret")
	if err := os.WriteFile(auth, []byte(`{"auths":{"`+host+`":{"auth":"`+cred+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(registry.AuthFileEnv, auth)
	c, err := Load(ctx, "needs-value", LoadOptions{Repo: srv.URL})
	if err != nil || c.Version != "1.0.0" {
		t.Fatalf("Load with credentials = %v, %v", c, err)
	}
}

// TestLoad_OCI: a chart pushed to a registry the test starts is pulled
// through ferry's registry code, its version resolved from the tags, and
// travels as the registry serves it: same manifest digest, same archive.
func TestLoad_OCI(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	ctx := context.Background()
	archives := map[string][]byte{}
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0-beta.1", "0.2.1+build.7"} {
		c, err := loadArchive(versioned(t, v), v)
		if err != nil {
			t.Fatal(err)
		}
		archives[v] = c.archive
		pushChart(t, c, reg.Host+"/team")
	}
	for _, tc := range []struct{ ref, version, want string }{
		{"oci://" + reg.Host + "/team/charts/needs-value", "", "0.2.1+build.7"},
		{"oci://" + reg.Host + "/team/charts/needs-value", "0.1.0", "0.1.0"},
		{"oci://" + reg.Host + "/team/charts/needs-value", "<0.2", "0.1.0"},
		{"oci://" + reg.Host + "/team/charts/needs-value", ">=0.3.0-0", "0.3.0-beta.1"},
		{"oci://" + reg.Host + "/team/charts/needs-value:0.2.0", "", "0.2.0"},
	} {
		c, err := Load(ctx, tc.ref, LoadOptions{Version: tc.version})
		if err != nil {
			t.Fatalf("Load(%s --version %q) = %v", tc.ref, tc.version, err)
		}
		if c.Version != tc.want || !bytes.Equal(c.Archive(), archives[tc.want]) {
			t.Errorf("Load(%s --version %q) = %s, want %s with its archive's bytes", tc.ref, tc.version, c.Version, tc.want)
		}
		img, _, err := c.Artifact()
		if err != nil {
			t.Fatal(err)
		}
		want := digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false",
			"docker://"+reg.Host+"/team/charts/needs-value:"+spec.ChartTag(tc.want)))
		if img.Desc.Digest != want || img.Name != "charts/needs-value:"+spec.ChartTag(tc.want) {
			t.Errorf("Artifact of %s = %s %s, want the registry's manifest %s", tc.ref, img.Name, img.Desc.Digest, want)
		}
		c.Close()
	}
	if _, err := Load(ctx, "oci://"+reg.Host+"/team/charts/nosuch", LoadOptions{Version: "1.0.0"}); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Load of an absent chart = %v, want ErrNotFound", err)
	}
	// A chart served under another chart's name or version is refused; a
	// tag that is not a version may name any version.
	from := "docker://" + reg.Host + "/team/charts/needs-value:0.1.0"
	for _, tc := range []struct{ tag, want string }{
		{"team/charts/needs-value:9.9.9", "needs-value 0.1.0 under the name of needs-value 9.9.9"},
		{"team/charts/other:0.1.0", "needs-value 0.1.0 under the name of other"},
		{"team/charts/needs-value:stable", ""},
	} {
		runtimetest.Skopeo(t, "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", from, "docker://"+reg.Host+"/"+tc.tag)
		c, err := Load(ctx, "oci://"+reg.Host+"/"+tc.tag, LoadOptions{})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Load(%s) = %v, want chart 0.1.0", tc.tag, err)
		case tc.want == "":
			if c.Version != "0.1.0" {
				t.Errorf("Load(%s) = %s, want 0.1.0", tc.tag, c.Version)
			}
			c.Close()
		case !errors.Is(err, spec.ErrCorrupt) || !strings.Contains(err.Error(), tc.want):
			t.Errorf("Load(%s) = %v, want ErrCorrupt saying %q", tc.tag, err, tc.want)
		}
	}
}

// pushChart pushes a chart's artifact to HOST/PREFIX/charts/NAME:TAG with
// ferry's registry target.
func pushChart(t *testing.T, c *Chart, base string) {
	t.Helper()
	img, f, err := c.Artifact()
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := registry.NewTarget(base, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Write(context.Background(), []runtime.Image{img}, f); err != nil {
		t.Fatal(err)
	}
}
