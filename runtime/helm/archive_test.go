package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// TestArchiveDir_Deterministic: the same chart directory gives the same
// archive bytes whatever its files' times and modes, and the archive is
// sorted, owned by 0, mode 0644, dated the epoch, with a bare gzip header.
func TestArchiveDir_Deterministic(t *testing.T) {
	dir := copyChart(t, "web", map[string]string{"notes.bak": "left out by .helmignore"})
	first, err := archiveDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			os.Chtimes(p, later, later)
			os.Chmod(p, 0o600)
		}
		return nil
	})
	again, err := archiveDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Fatalf("archiveDir of the same directory differs after touch and chmod: %s, then %s", digest.FromBytes(first), digest.FromBytes(again))
	}
	zr, err := gzip.NewReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" || zr.OS != 255 {
		t.Errorf("gzip header = time %v, name %q, OS %d; want none, none, unknown", zr.ModTime, zr.Name, zr.OS)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Unix(0, 0)) || h.Typeflag != tar.TypeReg {
			t.Errorf("entry %s: mode %o uid %d gid %d time %v type %c, want 644, 0, 0, the epoch, a file", h.Name, h.Mode, h.Uid, h.Gid, h.ModTime, h.Typeflag)
		}
		if h.Name == "web/notes.bak" {
			t.Errorf("entry %s is in the archive, but .helmignore leaves out *.bak", h.Name)
		}
	}
	if !sort.StringsAreSorted(names) || len(names) < 10 || names[0] != "web/.helmignore" {
		t.Errorf("entries = %v, want every file of the chart under web/, sorted", names)
	}
	os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("replicaCount: 3\n"), 0o644)
	changed, _ := archiveDir(dir, nil)
	if bytes.Equal(first, changed) {
		t.Error("archiveDir gave the same bytes after values.yaml changed")
	}
}

// TestArtifact: a chart becomes the artifact `helm push` makes; the same
// archive always gives the same digest; a .tgz keeps its bytes; and
// WriteArchive gives the archive back.
func TestArtifact(t *testing.T) {
	ctx := context.Background()
	c := loadChart(t, chartDir("web"))
	img, f, err := c.Artifact()
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "charts/web:1.2.0" || img.Desc.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("Artifact = %s %s, want charts/web:1.2.0, an OCI manifest", img.Name, img.Desc.MediaType)
	}
	raw, err := runtime.ReadBlob(ctx, f, img.Desc, spec.MaxManifestSize)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	json.Unmarshal(raw, &m)
	if m.SchemaVersion != 2 || m.Config.MediaType != spec.HelmConfigMediaType || len(m.Layers) != 1 ||
		m.Layers[0].MediaType != spec.HelmChartMediaType || m.Layers[0].Digest != digest.FromBytes(c.Archive()) {
		t.Errorf("manifest = %s, want Helm's config and one chart layer holding the archive", raw)
	}
	for k, want := range map[string]string{ocispec.AnnotationTitle: "web", ocispec.AnnotationVersion: "1.2.0",
		ocispec.AnnotationAuthors: "Platform team (platform@example.com)", ocispec.AnnotationSource: "https://github.com/example/web"} {
		if m.Annotations[k] != want {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], want)
		}
	}
	if _, ok := m.Annotations[ocispec.AnnotationCreated]; ok {
		t.Errorf("annotation %s is set: the same chart would get another digest each time", ocispec.AnnotationCreated)
	}
	cfg, _ := runtime.ReadBlob(ctx, f, m.Config, spec.MaxManifestSize)
	var meta struct{ Name, Version, KubeVersion string }
	if json.Unmarshal(cfg, &meta); meta.Name != "web" || meta.Version != "1.2.0" || meta.KubeVersion != ">=1.25.0-0" {
		t.Errorf("config = %s, want Chart.yaml as JSON", cfg)
	}
	again, _, _ := loadChart(t, chartDir("web")).Artifact()
	if again.Desc.Digest != img.Desc.Digest {
		t.Errorf("the same chart directory gave artifacts %s and %s", img.Desc.Digest, again.Desc.Digest)
	}
	var out bytes.Buffer
	if err := WriteArchive(ctx, f, img.Desc, &out); err != nil || !bytes.Equal(out.Bytes(), c.Archive()) {
		t.Errorf("WriteArchive = %v, or other bytes than the archive", err)
	}

	// A .tgz made elsewhere (here: another gzip level, other times) keeps
	// its bytes: they are the layer.
	tgz := filepath.Join(t.TempDir(), "web-1.2.0.tgz")
	os.WriteFile(tgz, regzip(t, c.Archive()), 0o644)
	fromFile := loadChart(t, tgz)
	fileBytes, _ := os.ReadFile(tgz)
	if !bytes.Equal(fromFile.Archive(), fileBytes) || bytes.Equal(fileBytes, c.Archive()) {
		t.Fatalf("a .tgz chart's archive is not the file's bytes")
	}
	tImg, tf, _ := fromFile.Artifact()
	out.Reset()
	WriteArchive(ctx, tf, tImg.Desc, &out)
	if !bytes.Equal(out.Bytes(), fileBytes) {
		t.Errorf("the artifact of a .tgz does not carry the file's bytes")
	}
}

// regzip recompresses a gzip stream at another level, with a name and a
// time in its header: the same chart, other bytes.
func regzip(t *testing.T, data []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Name, zw.ModTime = "web-1.2.0.tar", time.Unix(1700000000, 0)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes()
}

// TestArtifact_RefusesNames: a chart whose name or version cannot be a
// registry repository or tag is refused before anything is shipped.
func TestArtifact_RefusesNames(t *testing.T) {
	for _, chart := range []string{"apiVersion: v2\nname: Web_App\nversion: 1.0.0\n", "apiVersion: v2\nname: web\nversion: 1.0.0+a/b\n"} {
		dir := copyChart(t, "needs-value", map[string]string{"Chart.yaml": chart})
		c, err := Load(context.Background(), dir, LoadOptions{})
		if err != nil {
			t.Logf("Load: %v", err)
			continue // Helm itself refuses it: as good
		}
		if _, _, err := c.Artifact(); !spec.IsBadInput(err) {
			t.Errorf("Artifact of %q = %v, want a bad-input error", chart, err)
		}
	}
}

// TestArchiveDir_LinksOutside: a chart directory's symbolic links are
// followed, as Helm follows them; a link that leads out of the directory
// is named in a warning, since what it names (a shared template of a
// monorepo, or a key) goes into the archive; a link inside is not.
func TestArchiveDir_LinksOutside(t *testing.T) {
	dir := copyChart(t, "needs-value", nil)
	outside := filepath.Join(t.TempDir(), "shared.txt")
	if err := os.WriteFile(outside, []byte("from outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"files/shared.txt": outside, "files/values-copy.yaml": "../values.yaml"} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	var warned []string
	c, err := Load(context.Background(), dir, LoadOptions{Warn: func(m string) { warned = append(warned, m) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resolved, _ := filepath.EvalSymlinks(outside)
	if len(warned) != 1 || !strings.Contains(warned[0], "files/shared.txt is a symbolic link to "+resolved+", outside the chart") {
		t.Errorf("warnings = %q, want one naming files/shared.txt and %s", warned, resolved)
	}
	got := ""
	for _, f := range c.chart.Files {
		if f.Name == "files/shared.txt" {
			got = string(f.Data)
		}
	}
	if got != "from outside" {
		t.Errorf("files/shared.txt in the chart = %q, want the linked file's contents", got)
	}
}
