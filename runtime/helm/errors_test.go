package helm

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// copyChart copies a chart of testdata/charts into a temporary directory
// and applies edits (file name → new content; "" removes the file).
func copyChart(t *testing.T, name string, edits map[string]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("cp", "-r", chartDir(name), dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	for f, content := range edits {
		p := filepath.Join(dst, f)
		if content == "" {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestChart_ImagesErrors: a chart that does not render, or renders an
// image that is not a reference, is an error that names the chart and
// the place, and says what to do; never fewer images.
func TestChart_ImagesErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chart func(t *testing.T) string
		opts  RenderOptions
		want  []string // substrings of the error
	}{
		{name: "required value missing", chart: dir("needs-value"),
			want: []string{"needs-value", "needs-value/templates/deployment.yaml", "image.repository is required"}},
		{name: "kubeVersion not met", chart: dir("operator"), opts: RenderOptions{KubeVersion: "1.24.3"},
			want: []string{"monitor-operator 0.4.0", ">=1.25.0-0", "v1.24.3", "--kube-version"}},
		{name: "bad kube version", chart: dir("operator"), opts: RenderOptions{KubeVersion: "latest"},
			want: []string{"--kube-version", "latest"}},
		{name: "dependency declared but absent", chart: func(t *testing.T) string {
			return copyChart(t, "web", map[string]string{"charts/metrics": ""})
		}, want: []string{"web", "metrics", "helm dependency build"}},
		{name: "bad image in a pod spec", chart: dir("operator"), opts: RenderOptions{Set: []string{"rules.image=quay.io/Example/Rules:1"}},
			want: []string{`"quay.io/Example/Rules:1"`, "monitor-operator/templates/deployment.yaml", "Deployment/release-operator",
				"spec.template.spec.volumes[0].image.reference"}},
		{name: "empty image in a pod spec", chart: dir("web"), opts: RenderOptions{IncludeTests: true, Set: []string{"tests.image="}},
			want: []string{"web/templates/tests/test-connection.yaml", "Pod/release-web-test-connection", "spec.containers[0].image", "empty"}},
		{name: "a number as an image in a pod spec", chart: func(t *testing.T) string {
			return copyChart(t, "needs-value", map[string]string{"templates/deployment.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n" +
				"spec:\n  containers:\n    - name: c\n      image: 1.5\n"})
		}, want: []string{"needs-value/templates/deployment.yaml Pod/p spec.containers[0].image is 1.5"}},
		{name: "bad image in an annotation", chart: func(t *testing.T) string {
			return copyChart(t, "needs-value", map[string]string{"Chart.yaml": "apiVersion: v2\nname: needs-value\nversion: 2.0.0\n" +
				"annotations:\n  artifacthub.io/images: |\n    - name: x\n      image: Not/Valid\n"})
		}, opts: RenderOptions{Set: []string{"image.repository=app"}},
			want: []string{`"Not/Valid"`, "needs-value Chart.yaml annotation artifacthub.io/images"}},
		{name: "template that is not YAML", chart: func(t *testing.T) string {
			return copyChart(t, "needs-value", map[string]string{"templates/broken.yaml": "kind: ConfigMap\ndata: [unclosed\n"})
		}, opts: RenderOptions{Set: []string{"image.repository=app"}},
			want: []string{"needs-value/templates/broken.yaml", "not YAML"}},
		{name: "template error", chart: func(t *testing.T) string {
			return copyChart(t, "needs-value", map[string]string{"templates/broken.yaml": "{{ .Values.image.repository | nosuchfunction }}\n"})
		}, want: []string{"needs-value/templates/broken.yaml", "nosuchfunction"}},
		{name: "library chart", chart: func(t *testing.T) string {
			return copyChart(t, "needs-value", map[string]string{"Chart.yaml": "apiVersion: v2\nname: needs-value\nversion: 2.0.0\ntype: library\n"})
		}, want: []string{"library chart"}},
		{name: "bad --set", chart: dir("web"), opts: RenderOptions{Set: []string{"a[x]=1"}}, want: []string{"--set a[x]=1"}},
		{name: "missing values file", chart: dir("web"), opts: RenderOptions{ValueFiles: []string{"/nonexistent/values.yaml"}},
			want: []string{"values file /nonexistent/values.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadChart(t, tc.chart(t))
			images, err := c.Images(context.Background(), tc.opts)
			if err == nil {
				t.Fatalf("Images = %v, want an error", refs(images))
			}
			if !spec.IsBadInput(err) {
				t.Errorf("Images = %v, want a bad-input error (exit 1)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Images = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func dir(name string) func(*testing.T) string {
	return func(*testing.T) string { return chartDir(name) }
}

// TestChart_ImagesPlaces: each image says where it was found.
func TestChart_ImagesPlaces(t *testing.T) {
	ctx := context.Background()
	web, err := loadChart(t, chartDir("web")).Images(ctx, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op, err := loadChart(t, chartDir("operator")).Images(ctx, RenderOptions{ReleaseName: "mon", Namespace: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		images []Image
		ref    string
		want   Place
	}{
		{web, "ghcr.io/example/web-migrations:1.2.0", Place{Chart: "web", Template: "web/templates/migrations-job.yaml", Kind: "Job",
			Name: "release-web-migrate", Field: "spec.template.spec.containers[0].image", Hook: "pre-install,pre-upgrade"}},
		{web, "ghcr.io/example/web-backup:1.2.0", Place{Chart: "web", Template: "web/templates/backup.yaml", Kind: "CronJob",
			Name: "release-web-backup", Field: "spec.jobTemplate.spec.template.spec.containers[0].image"}},
		{web, "redis:7.2.4-alpine", Place{Chart: "web/charts/cache", Template: "web/charts/cache/templates/statefulset.yaml",
			Kind: "StatefulSet", Name: "release-cache", Field: "spec.template.spec.containers[0].image"}},
		{web, "docker.io/bitnami/os-shell:12-debian-12-r30", Place{Chart: "web", Annotation: "artifacthub.io/images"}},
		{op, "quay.io/example/config-reloader:v0.4.0", Place{Chart: "monitor-operator", Template: "monitor-operator/templates/deployment.yaml",
			Kind: "Deployment", Name: "mon-operator", Field: "spec.template.spec.containers[0].args[3]"}},
		{op, "quay.io/example/exporter:v2.1.0@sha256:0f3c8e2a1d4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d", Place{Chart: "monitor-operator",
			Template: "monitor-operator/templates/deployment.yaml", Kind: "Deployment", Name: "mon-operator", Field: "spec.template.spec.containers[0].env[0].value"}},
		{op, "quay.io/example/sidecar:v0.9.0", Place{Chart: "monitor-operator", Template: "monitor-operator/templates/monitor.yaml",
			Kind: "Monitor", Name: "mon", Field: "spec.sidecar.image"}},
	} {
		im, ok := findImage(tc.images, tc.ref)
		if !ok {
			t.Errorf("no image %s", tc.ref)
			continue
		}
		if len(im.Found) != 1 || im.Found[0] != tc.want {
			t.Errorf("%s found at %+v, want %+v", tc.ref, im.Found, tc.want)
		}
	}
	busy, _ := findImage(web, "ghcr.io/example/web:1.2.0@sha256:6a1f4cbd1b8a1e1f6e6c3e3b6c1b2a4c5d6e7f8091a2b3c4d5e6f708192a3b4c")
	if want := "ghcr.io/example/web:1.2.0@sha256:6a1f4cbd1b8a1e1f6e6c3e3b6c1b2a4c5d6e7f8091a2b3c4d5e6f708192a3b4c"; busy.Normalized != want {
		t.Errorf("Normalized = %q, want tag and digest kept: %q", busy.Normalized, want)
	}
	redis, _ := findImage(web, "redis:7.2.4-alpine")
	if redis.Normalized != "docker.io/library/redis:7.2.4-alpine" {
		t.Errorf("Normalized(redis:7.2.4-alpine) = %q", redis.Normalized)
	}
}

// TestDefaultKubeVersion: the default is the Kubernetes minor of the
// k8s.io/client-go this module builds with (v0.X → 1.X), so that a
// dependency upgrade cannot leave it behind.
func TestDefaultKubeVersion(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/client-go").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	v := strings.TrimSpace(string(out)) // v0.37.1
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 {
		t.Fatalf("k8s.io/client-go version %q", v)
	}
	if want := "v1." + parts[1] + ".0"; DefaultKubeVersion != want {
		t.Errorf("DefaultKubeVersion = %s, but k8s.io/client-go is %s: want %s", DefaultKubeVersion, v, want)
	}
}

// TestChart_AliasBomb: a rendered document whose aliases expand beyond
// reason is refused, not walked.
func TestChart_AliasBomb(t *testing.T) {
	bomb := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	dir := copyChart(t, "needs-value", map[string]string{"templates/bomb.yaml": "{{`" + bomb + "`}}"})
	_, err := loadChart(t, dir).Images(context.Background(), RenderOptions{Set: []string{"image.repository=app"}})
	if !errors.Is(err, spec.ErrTooLarge) {
		t.Errorf("Images of an alias bomb = %v, want ErrTooLarge", err)
	}
}
