package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// testChart is a chart of testdata/charts.
func testChart(name string) string { return filepath.Join("..", "..", "testdata", "charts", name) }

// TestChartImages: the images one per line as the chart writes them,
// --why says where, --json adds the normalised reference, and a chart
// that does not render exits 1 quoting the template's message.
func TestChartImages(t *testing.T) {
	r := must(t, "", "chart", "images", testChart("web"))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 6 || lines[5] != "redis:7.2.4-alpine" {
		t.Errorf("chart images web =\n%s\nwant 6 sorted lines ending with redis:7.2.4-alpine as written", r.stdout)
	}
	r = must(t, "", "chart", "images", testChart("web"), "--include-tests", "--why", "--set", "metrics.enabled=true")
	for _, want := range []string{"busybox\n    web/templates/tests/test-connection.yaml Pod/release-web-test-connection spec.containers[0].image (hook test)",
		"quay.io/oliver006/redis_exporter:v1.58.0\n", "web/charts/metrics Chart.yaml annotation images"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("chart images --why =\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	r = must(t, "", "--json", "chart", "images", testChart("web"), "--include-tests", "-f", writeValues(t, "tests:\n  image: busybox:1.36\n"))
	var images []struct {
		Image, Reference string
		Found            []struct{ Template, Field, Hook string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &images); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if images[0].Image != "busybox:1.36" || images[0].Reference != "docker.io/library/busybox:1.36" || images[0].Found[0].Hook != "test" {
		t.Errorf("--json first image = %+v, want busybox:1.36 (from -f), docker.io/library/busybox:1.36, a test hook", images[0])
	}
	r = run(t, "", "chart", "images", testChart("needs-value"))
	if r.code != 1 || !strings.Contains(r.stderr, "needs-value/templates/deployment.yaml") || !strings.Contains(r.stderr, "image.repository is required") {
		t.Errorf("chart images of a chart lacking a required value = %s, want exit 1 quoting the template", r)
	}
	r = must(t, "", "chart", "images", testChart("needs-value"), "--set", "image.repository=registry.example.com/team/app", "--set-string", "image.tag=2.10")
	if r.stdout != "registry.example.com/team/app:2.10\n" {
		t.Errorf("chart images with --set = %q", r.stdout)
	}
	r = must(t, "", "chart", "images", "--help")
	if !strings.Contains(r.stdout, "default v1.") {
		t.Errorf("chart images --help does not say the default Kubernetes version:\n%s", r.stdout)
	}
}

func writeValues(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	writeFile(t, p, content)
	return p
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChartImages_HelmWarningsSpeakAsFerry: a value Helm ignores is said
// on stderr as ferry says things (no timestamp, its origin named), and
// the images are still listed.
func TestChartImages_HelmWarningsSpeakAsFerry(t *testing.T) {
	chart, err := filepath.Abs(testChart("web"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := ferryCmd(t.TempDir(), t.TempDir(), "chart", "images", chart, "--set", "replicaCount.x=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chart images --set replicaCount.x=1: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "ferry: helm: warning:") || regexp.MustCompile(`\d{4}/\d\d/\d\d \d\d:`).MatchString(stderr.String()) {
		t.Errorf("stderr = %q, want Helm's warning prefixed \"ferry: helm: \" and no timestamp", stderr.String())
	}
	if !strings.Contains(stdout.String(), "ghcr.io/example/web") {
		t.Errorf("stdout = %q, want the chart's images", stdout.String())
	}
}

// TestChartImages_SchemaReferencesOutside: a values.schema.json that
// refers to a file of this machine is not read (helm would read it), and
// stderr says which reference went unchecked.
func TestChartImages_SchemaReferencesOutside(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "web")
	if out, err := exec.Command("cp", "-r", testChart("web"), chart).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	refuses := filepath.Join(t.TempDir(), "refuses.json")
	writeFile(t, refuses, `{"type": "string"}`) // the image map is not a string
	writeFile(t, filepath.Join(chart, "values.schema.json"), `{"properties": {"image": {"$ref": "file://`+refuses+`"}}}`)
	r := must(t, "", "chart", "images", chart)
	if !strings.Contains(r.stdout, "ghcr.io/example/web") {
		t.Errorf("stdout = %q, want the chart's images", r.stdout)
	}
	if want := "warning: chart web 1.2.0: values.schema.json refers to file://" + refuses + ", which ferry neither reads nor fetches"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

// TestChartImages_LinkOutsideWarns: a chart directory's symbolic link out
// of the chart is followed and said on stderr.
func TestChartImages_LinkOutsideWarns(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "needs-value")
	if out, err := exec.Command("cp", "-r", testChart("needs-value"), chart).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	outside := filepath.Join(t.TempDir(), "key")
	writeFile(t, outside, "not for the bundle")
	if err := os.Symlink(outside, filepath.Join(chart, "key")); err != nil {
		t.Fatal(err)
	}
	r := must(t, "", "chart", "images", chart, "--set", "image.repository=app")
	if !strings.Contains(r.stderr, "warning: chart directory "+chart+": key is a symbolic link to ") || !strings.Contains(r.stderr, "outside the chart") {
		t.Errorf("stderr = %q, want a warning naming the link", r.stderr)
	}
}
