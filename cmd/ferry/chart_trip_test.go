package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// webImages are where the web chart's images live upstream (ghcr.io and
// docker.io, mirrored onto the test's registry) and which image of the
// test's chain each is.
var webImages = map[string]string{
	"example/web:1.2.0":                 "v1",
	"example/web-migrations:1.2.0":      "v2",
	"example/web-backup:1.2.0":          "v3",
	"library/redis:7.2.4-alpine":        "v4",
	"bitnami/os-shell:12-debian-12-r30": "v5",
}

// chartWorld is a source registry holding the web chart's images under
// the names it renders, and two homes.
type chartWorld struct {
	sites
	srcReg, siteReg *runtimetest.Registry
	layout          string
	mirrors         []string // --registry-mirror flags onto src
}

func newChartWorld(t *testing.T) *chartWorld {
	t.Helper()
	runtimetest.NeedTool(t, "skopeo")
	w := &chartWorld{sites: newSites(t)}
	w.layout, _ = chain(t, 6, 16<<10)
	w.srcReg = runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	w.siteReg = runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	for name, tag := range webImages {
		pushTo(t, w.layout, tag, w.srcReg.Host+"/"+name)
	}
	w.mirrors = []string{"--registry-mirror", "ghcr.io=" + w.srcReg.Host, "--registry-mirror", "docker.io=" + w.srcReg.Host}
	return w
}

// rawDigest is the digest of the manifest skopeo reads at ref.
func rawDigest(t *testing.T, ref string) digest.Digest {
	t.Helper()
	return digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", ref))
}

// TestChart_Trip: save --chart for a site, load into the site's registry:
// every image keeps its manifest digest and the chart arrives as the
// artifact helm push makes, at charts/web:1.2.0, with the archive's
// bytes; the next version of the chart carries only what changed.
func TestChart_Trip(t *testing.T) {
	w := newChartWorld(t)
	webDigest := rawDigest(t, "docker://"+w.srcReg.Host+"/example/web:1.2.0")
	b1 := filepath.Join(w.dir, "web-1.ferry")
	args := append([]string{"save", "--chart", testChart("web"), "--set", "image.digest=" + webDigest.String(),
		"--for", "plant-7", "-o", b1}, w.mirrors...)
	r := must(t, w.hq, args...)
	// Six names (web:1.2.0 as the annotation lists it and pinned by
	// digest as the deployment renders it), five images, one chart.
	if !strings.Contains(r.stdout, "6 image(s), 1 chart(s)") {
		t.Errorf("save --chart = %s, want 6 images and 1 chart", r)
	}
	var archive digest.Digest // the chart layer as hq made it
	for _, b := range inspectBundle(t, w.hq, b1).Index.Blobs {
		if b.MediaType == spec.HelmChartMediaType {
			archive = digest.Digest(b.Digest)
		}
	}
	must(t, w.site, "load", b1, "--into", "docker://"+w.siteReg.Host+"/site", "--into", "oci:"+filepath.Join(w.dir, "layout"))

	for name := range webImages {
		want := rawDigest(t, "docker://"+w.srcReg.Host+"/"+name)
		if got := rawDigest(t, "docker://"+w.siteReg.Host+"/site/"+name); got != want {
			t.Errorf("%s at the site = %s, want %s as at the source", name, got, want)
		}
	}
	// The chart: Helm's media types, the archive ferry made of the
	// directory, the same digest as at hq.
	raw := runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+w.siteReg.Host+"/site/charts/web:1.2.0")
	var man struct {
		Config struct{ MediaType string }
		Layers []struct {
			MediaType string
			Digest    digest.Digest
		}
	}
	json.Unmarshal(raw, &man)
	if man.Config.MediaType != spec.HelmConfigMediaType || len(man.Layers) != 1 || man.Layers[0].MediaType != spec.HelmChartMediaType {
		t.Fatalf("chart artifact at the site = %s, want Helm's config and content media types", raw)
	}
	tgz := filepath.Join(w.dir, "web-1.2.0.tgz")
	must(t, w.site, "chart", "export", "web", "-o", tgz)
	if got := fileDigest(t, tgz); got != man.Layers[0].Digest {
		t.Errorf("chart export = %s, the registry's chart layer %s", got, man.Layers[0].Digest)
	}
	if archive != man.Layers[0].Digest {
		t.Errorf("the chart archive at the site is %s, hq made %s", man.Layers[0].Digest, archive)
	}
	// -o DIR writes NAME-VERSION.tgz in it: the same file
	os.Remove(tgz)
	must(t, w.site, "chart", "export", "web", "-o", w.dir)
	if got := fileDigest(t, tgz); got != man.Layers[0].Digest {
		t.Errorf("chart export -o DIR wrote %s as %s, want the chart layer %s", tgz, got, man.Layers[0].Digest)
	}
	var exported struct{ Archive, Chart, Version string }
	r = must(t, w.site, "--json", "chart", "export", "web", "-o", tgz)
	if err := json.Unmarshal([]byte(r.stdout), &exported); err != nil || exported != (struct{ Archive, Chart, Version string }{tgz, "web", "1.2.0"}) {
		t.Errorf("chart export --json = %q (%v), want the archive, the chart and its version", r.stdout, err)
	}
	checkWithHelm(t, w, tgz)
	checkMirrors(t, w)
	checkSources(t, w, tgz)

	// ls and inspect name the chart; the layout holds it too.
	if r := must(t, w.site, "ls"); !strings.Contains(r.stdout, "chart web 1.2.0, needs 6 image(s)") {
		t.Errorf("ls at the site =\n%s\nwant the chart listed", r.stdout)
	}
	if r := must(t, w.site, "inspect", b1); !strings.Contains(r.stdout, "charts:\n  web 1.2.0 ") {
		t.Errorf("inspect =\n%s\nwant the chart listed", r.stdout)
	}
	if got, want := rawDigest(t, "oci:"+filepath.Join(w.dir, "layout")+":charts/web:1.2.0"),
		rawDigest(t, "docker://"+w.siteReg.Host+"/site/charts/web:1.2.0"); got != want {
		t.Errorf("chart in the oci: layout = %s, want %s", got, want)
	}

	// Version 2 of the chart: a new web image (one more layer). A bundle
	// for the site ships that layer and the new chart archive, nothing
	// else.
	pushTo(t, w.layout, "v6", w.srcReg.Host+"/example/web:1.3.0")
	v2Digest := rawDigest(t, "docker://"+w.srcReg.Host+"/example/web:1.3.0")
	v2 := copyDir(t, testChart("web"))
	edit(t, filepath.Join(v2, "Chart.yaml"), "version: 1.2.0", "version: 1.3.0")
	edit(t, filepath.Join(v2, "values.yaml"), `tag: "1.2.0"`, `tag: "1.3.0"`)
	b2 := filepath.Join(w.dir, "web-2.ferry")
	args = append([]string{"save", "--chart", v2, "--set", "image.digest=" + v2Digest.String(), "--for", "plant-7", "-o", b2}, w.mirrors...)
	must(t, w.hq, args...)
	var shipped []string
	for _, b := range inspectBundle(t, w.hq, b2).Index.Blobs {
		if b.Status == "shipped" && (isLayer(b.MediaType) || b.MediaType == spec.HelmChartMediaType) {
			shipped = append(shipped, b.MediaType)
		}
	}
	slices.Sort(shipped)
	if want := []string{"application/vnd.cncf.helm.chart.content.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+gzip"}; !slices.Equal(shipped, want) {
		t.Errorf("the upgrade ships layers %v, want the new image layer and the new chart archive only", shipped)
	}
	must(t, w.site, "load", b2, "--into", "docker://"+w.siteReg.Host+"/site")
	if got := rawDigest(t, "docker://"+w.siteReg.Host+"/site/example/web:1.3.0"); got != v2Digest {
		t.Errorf("web:1.3.0 at the site = %s, want %s", got, v2Digest)
	}
	rawDigest(t, "docker://"+w.siteReg.Host+"/site/charts/web:1.3.0")
}

func fileDigest(t *testing.T, path string) digest.Digest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return digest.Digest("sha256:" + hex.EncodeToString(s[:]))
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -r %s: %v: %s", src, err, out)
	}
	return dst
}

// edit replaces old with new in a file, which must hold old.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s: %v, or no %q in it", path, err, old)
	}
	writeFile(t, path, strings.Replace(string(b), old, new, 1))
}

// checkWithHelm has the real helm CLI pull the chart from the site
// registry (the archive's bytes, as exported) and render it, and finds in
// what helm renders every image ferry found in the chart's templates.
func checkWithHelm(t *testing.T, w *chartWorld, tgz string) {
	helm := runtimetest.Helm(t)
	home := t.TempDir()
	env := append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	helmRun := func(args ...string) string {
		cmd := exec.Command(helm, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	ref := "oci://" + w.siteReg.Host + "/site/charts/web"
	pulled := t.TempDir()
	helmRun("pull", ref, "--version", "1.2.0", "--plain-http", "-d", pulled)
	if got, want := fileDigest(t, filepath.Join(pulled, "web-1.2.0.tgz")), fileDigest(t, tgz); got != want {
		t.Errorf("helm pull %s = %s, want the archive ferry shipped, %s", ref, got, want)
	}
	rendered := helmRun("template", "release", ref, "--version", "1.2.0", "--plain-http", "--kube-version", "1.37.0")
	r := must(t, "", "--json", "chart", "images", tgz)
	var images []struct {
		Image string
		Found []struct{ Template string }
	}
	json.Unmarshal([]byte(r.stdout), &images)
	n := 0
	for _, im := range images {
		if im.Found[0].Template == "" {
			continue // an annotation
		}
		n++
		if !strings.Contains(rendered, im.Image) {
			t.Errorf("ferry found %s in %s, but helm template does not render it:\n%s", im.Image, im.Found[0].Template, rendered)
		}
	}
	if n < 4 {
		t.Errorf("ferry chart images found %d images in templates, want at least 4: %s", n, r.stdout)
	}
}

// TestChart_Manifest: a shipment file names charts, each with its own
// values, images to add and skip, and plain images; one bundle carries
// them. A field the schema does not know is refused with its line.
func TestChart_Manifest(t *testing.T) {
	w := newChartWorld(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), "migrations:\n  enabled: false\n")
	charts, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "charts"))
	ship := filepath.Join(dir, "shipment.yaml")
	writeFile(t, ship, `apiVersion: ferry/v1
kind: Shipment
images:
  - docker://`+w.srcReg.Host+`/example/web-migrations:1.2.0
charts:
  - chart: `+filepath.Join(charts, "web")+`
    values: [web.yaml]
    skipImages: [docker.io/bitnami/os-shell:12-debian-12-r30, ghcr.io/example/web:1.2.0]
    set: ["image.digest="]
  - chart: `+filepath.Join(charts, "needs-value")+`
    version: 2.0.0
    set: [image.repository=ghcr.io/example/web-backup]
    setString: [image.tag=1.2.0]
    addImages: [docker.io/library/redis:7.2.4-alpine]
`)
	r := must(t, w.hq, append([]string{"--json", "save", "--manifest", ship, "--dry-run"}, w.mirrors...)...)
	var plan struct {
		Images []struct {
			Name  string
			Chart bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("save --dry-run --json: %v\n%s", err, r.stdout)
	}
	var names []string
	for _, im := range plan.Images {
		names = append(names, im.Name)
	}
	slices.Sort(names)
	want := []string{"charts/needs-value:2.0.0", "charts/web:1.2.0",
		"docker.io/library/redis:7.2.4-alpine", "ghcr.io/example/web-backup:1.2.0", w.srcReg.Host + "/example/web-migrations:1.2.0"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("save --manifest plans\n  %s\nwant\n  %s", strings.Join(names, "\n  "), strings.Join(want, "\n  "))
	}

	writeFile(t, ship, "apiVersion: ferry/v1\nkind: Shipment\ncharts:\n  - chart: web\n    value: [x.yaml]\n")
	r = run(t, w.hq, "save", "--manifest", ship, "--dry-run")
	if r.code != 1 || !strings.Contains(r.stderr, "line 5") || !strings.Contains(r.stderr, "value") {
		t.Errorf("save --manifest with an unknown field = %s, want exit 1 naming line 5 and the field", r)
	}
}

// upstream is the name the web chart gives an image of webImages.
func upstream(name string) string {
	if strings.HasPrefix(name, "example/") {
		return "ghcr.io/" + name
	}
	return "docker.io/" + name
}

// checkMirrors writes the site's mirror files and pulls each image by
// the name the chart renders through them: with containerd's own hosts
// parser and resolver, and with containers/image (skopeo, as CRI-O and
// podman) reading the registries.conf drop-in. Neither can reach ghcr.io
// or docker.io from here: only the mirror answers.
func checkMirrors(t *testing.T, w *chartWorld) {
	ctx := context.Background()
	out := t.TempDir()
	r := must(t, w.site, "chart", "mirrors", "--registry", w.siteReg.Host+"/site", "--plain-http", "-o", out)
	if !strings.Contains(r.stdout, filepath.Join(out, "certs.d", "ghcr.io", "hosts.toml")) {
		t.Errorf("chart mirrors = %s, want it to name what it wrote", r)
	}
	hosts := config.ConfigureHosts(ctx, config.HostOptions{HostDir: config.HostDirFromRoot(filepath.Join(out, "certs.d"))})
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: hosts})
	conf := filepath.Join(out, "registries.conf.d", "50-ferry-mirrors.conf")
	for name := range webImages {
		ref := upstream(name)
		want := rawDigest(t, "docker://"+w.srcReg.Host+"/"+name)
		_, desc, err := resolver.Resolve(ctx, ref)
		if err != nil || desc.Digest != want {
			t.Errorf("containerd resolves %s through the mirror files to %s, %v; want %s", ref, desc.Digest, err, want)
			continue
		}
		fetcher, _ := resolver.Fetcher(ctx, ref)
		rc, err := fetcher.Fetch(ctx, desc)
		if err != nil {
			t.Errorf("containerd fetches %s through the mirror: %v", ref, err)
			continue
		}
		raw, _ := io.ReadAll(rc)
		rc.Close()
		if digest.FromBytes(raw) != want {
			t.Errorf("containerd fetched another manifest for %s", ref)
		}
		// skopeo copy pulls as CRI-O and podman pull (inspect does not
		// consult mirrors).
		layout := filepath.Join(t.TempDir(), "pulled")
		cmd := exec.Command(runtimetest.NeedTool(t, "skopeo"), "--registries-conf", conf, "copy", "docker://"+ref, "oci:"+layout+":x")
		if out, err := cmd.CombinedOutput(); err != nil || rawDigest(t, "oci:"+layout+":x") != want {
			t.Errorf("skopeo copy with the registries.conf drop-in of %s: %v\n%s\nwant %s", ref, err, out, want)
		}
	}
}

// checkSources: the chart as a .tgz, pulled back from the site registry
// (oci://) and from a classic repository serving that .tgz gives the same
// images as its directory.
func checkSources(t *testing.T, w *chartWorld, tgz string) {
	want := must(t, "", "chart", "images", testChart("web")).stdout
	repo := t.TempDir()
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, "web-1.2.0.tgz"), string(data))
	writeFile(t, filepath.Join(repo, "index.yaml"), "apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.2.0\n"+
		"    digest: "+strings.TrimPrefix(string(fileDigest(t, tgz)), "sha256:")+"\n    urls: [web-1.2.0.tgz]\n")
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	defer srv.Close()
	for _, args := range [][]string{
		{tgz},
		{"oci://" + w.siteReg.Host + "/site/charts/web", "--version", "1.2.0"},
		{"oci://" + w.siteReg.Host + "/site/charts/web"}, // the newest stable
		{"web", "--repo", srv.URL},
		{"web", "--repo", srv.URL, "--version", "~1.2"},
	} {
		r := must(t, "", append([]string{"chart", "images"}, args...)...)
		if r.stdout != want {
			t.Errorf("chart images %s =\n%s\nwant, as for the directory,\n%s", strings.Join(args, " "), r.stdout, want)
		}
	}
}
