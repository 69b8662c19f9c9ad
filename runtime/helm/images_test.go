package helm

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// chartDir is a chart of testdata/charts.
func chartDir(name string) string { return filepath.Join("..", "..", "testdata", "charts", name) }

func loadChart(t testing.TB, ref string) *Chart {
	t.Helper()
	c, err := Load(context.Background(), ref, LoadOptions{})
	if err != nil {
		t.Fatalf("Load(%s) = %v", ref, err)
	}
	return c
}

func refs(images []Image) []string {
	var out []string
	for _, im := range images {
		out = append(out, im.Ref)
	}
	return out
}

func findImage(images []Image, ref string) (Image, bool) {
	for _, im := range images {
		if im.Ref == ref {
			return im, true
		}
	}
	return Image{}, false
}

func TestChart_Images(t *testing.T) {
	const webDigest = "sha256:6a1f4cbd1b8a1e1f6e6c3e3b6c1b2a4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
	for _, tc := range []struct {
		name  string
		chart string
		opts  RenderOptions
		want  []string
	}{
		{name: "web defaults: subchart on, metrics off, hook kept, test left out, annotations added", chart: "web", want: []string{
			"docker.io/bitnami/os-shell:12-debian-12-r30",
			"ghcr.io/example/web-backup:1.2.0",
			"ghcr.io/example/web-migrations:1.2.0",
			"ghcr.io/example/web:1.2.0",
			"ghcr.io/example/web:1.2.0@" + webDigest,
			"redis:7.2.4-alpine",
		}},
		{name: "web with tests", chart: "web", opts: RenderOptions{IncludeTests: true}, want: []string{
			"busybox",
			"docker.io/bitnami/os-shell:12-debian-12-r30",
			"ghcr.io/example/web-backup:1.2.0",
			"ghcr.io/example/web-migrations:1.2.0",
			"ghcr.io/example/web:1.2.0",
			"ghcr.io/example/web:1.2.0@" + webDigest,
			"redis:7.2.4-alpine",
		}},
		{name: "web with metrics on, cache off, the hook off, a registry for all", chart: "web", opts: RenderOptions{
			Set: []string{"metrics.enabled=true,cache.enabled=false,migrations.enabled=false", "global.imageRegistry=mirror.example.com"},
		}, want: []string{
			"docker.io/bitnami/os-shell:12-debian-12-r30",
			"ghcr.io/example/web:1.2.0",
			"mirror.example.com/example/web-backup:1.2.0",
			"mirror.example.com/example/web:1.2.0@" + webDigest,
			"quay.io/oliver006/redis_exporter:v1.58.0",
		}},
		{name: "operator: arguments, env, image volume, custom resources; CRDs and patterns left out", chart: "operator", want: []string{
			"quay.io/example/config-reloader:v0.4.0",
			"quay.io/example/exporter:v2.1.0@sha256:0f3c8e2a1d4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
			"quay.io/example/monitor-operator:v0.4.0",
			"quay.io/example/monitor:v2.50.1",
			"quay.io/example/rules-bundle:2024.05",
			"quay.io/example/sidecar:v0.9.0",
			"registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.1",
		}},
		{name: "required value given", chart: "needs-value", opts: RenderOptions{Set: []string{"image.repository=registry.example.com/team/app"}},
			want: []string{"registry.example.com/team/app:2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			images, err := loadChart(t, chartDir(tc.chart)).Images(context.Background(), tc.opts)
			if err != nil {
				t.Fatalf("Images = %v", err)
			}
			if got := refs(images); !slices.Equal(got, tc.want) {
				t.Errorf("Images =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}
