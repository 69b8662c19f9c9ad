package helm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchChart writes a chart with 5 subcharts and 80 templates (30 in the
// parent, 10 in each subchart): Deployments, StatefulSets, CronJobs and
// custom resources rendered through helpers, as large umbrella charts
// are.
func benchChart(b *testing.B) string {
	b.Helper()
	root := filepath.Join(b.TempDir(), "umbrella")
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	helpers := `{{- define "img" -}}{{ .registry }}/{{ .repository }}:{{ .tag }}{{- end -}}
{{- define "labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
`
	kinds := []string{"Deployment", "StatefulSet", "CronJob", "Monitor"}
	chart := func(dir, name string, templates int, deps string) {
		write(filepath.Join(dir, "Chart.yaml"), fmt.Sprintf("apiVersion: v2\nname: %s\nversion: 1.0.0\nappVersion: \"1.0\"\n%s", name, deps))
		values := "image:\n  registry: registry.example.com\n  repository: team/" + name + "\n  tag: \"1.0\"\nreplicas: 2\nresources:\n  limits: {cpu: 100m, memory: 128Mi}\n"
		write(filepath.Join(dir, "values.yaml"), values)
		write(filepath.Join(dir, "templates", "_helpers.tpl"), helpers)
		for i := 0; i < templates; i++ {
			kind := kinds[i%len(kinds)]
			spec := `      containers:
        - name: main
          image: {{ include "img" .Values.image | quote }}
          args: ["--sidecar-image=quay.io/example/sidecar-` + name + fmt.Sprint(i) + `:v1", "--port=8080"]
          env:
            - name: RELATED_IMAGE
              value: ghcr.io/example/related-` + name + fmt.Sprint(i) + `:v2
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`
			var body string
			switch kind {
			case "CronJob":
				body = "spec:\n  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" + indent(spec, 6)
			case "Monitor":
				body = "spec:\n  image: quay.io/example/monitor-" + name + fmt.Sprint(i) + ":v3\n  sidecar:\n    image:\n      registry: quay.io\n      repository: example/m-" + name + fmt.Sprint(i) + "\n      tag: v1\n"
			default:
				body = "spec:\n  replicas: {{ .Values.replicas }}\n  template:\n    metadata:\n      labels:\n        {{- include \"labels\" . | nindent 8 }}\n    spec:\n" + spec
			}
			write(filepath.Join(dir, "templates", fmt.Sprintf("t%02d.yaml", i)),
				fmt.Sprintf("apiVersion: apps/v1\nkind: %s\nmetadata:\n  name: {{ .Release.Name }}-%s-%d\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\n%s", kind, name, i, body))
		}
	}
	deps := "dependencies:\n"
	for i := 1; i <= 5; i++ {
		sub := fmt.Sprintf("sub%d", i)
		deps += fmt.Sprintf("  - name: %s\n    version: 1.0.0\n", sub)
		chart(filepath.Join(root, "charts", sub), sub, 10, "")
	}
	chart(root, "umbrella", 30, deps)
	return root
}

func indent(s string, n int) string {
	pad := fmt.Sprintf("%*s", n, "")
	out := ""
	for _, line := range splitLines(s) {
		if line != "" {
			line = pad + line
		}
		out += line + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// BenchmarkChart_Images: load (the directory archived), render and find
// every image of a chart with 5 subcharts and 80 templates. The target is
// well under a second per operation.
func BenchmarkChart_Images(b *testing.B) {
	dir := benchChart(b)
	ctx := context.Background()
	var n int
	for b.Loop() {
		c, err := Load(ctx, dir, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		images, err := c.Images(ctx, RenderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(images)
	}
	if n < 150 {
		b.Fatalf("found %d images, want more than 150", n)
	}
	b.ReportMetric(float64(n), "images")
}
