package helm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// TestChart_ValuesSchema: values.schema.json is checked as helm install
// checks it — the chart's own and each subchart's, references inside the
// schema followed, the draft's meta-schema known — so that a value the
// chart refuses is an error naming the chart and the value.
func TestChart_ValuesSchema(t *testing.T) {
	positive := `{"$schema": "http://json-schema.org/draft-07/schema#",
		"definitions": {"positive": {"type": "integer", "minimum": 1}},
		"properties": {"replicaCount": {"$ref": "#/definitions/positive"}}}`
	web := copyChart(t, "web", map[string]string{
		"values.schema.json":              positive,
		"charts/cache/values.schema.json": `{"properties": {"persistence": {"properties": {"size": {"type": "string", "pattern": "^[0-9]+Gi$"}}}}}`,
	})
	// a subschema cut for its outside $ref keeps its $id and definitions,
	// which a reference elsewhere may point into
	cutKeeps := copyChart(t, "web", map[string]string{"values.schema.json": `{"$schema": "http://json-schema.org/draft-07/schema#",
		"definitions": {"image": {"$id": "image.json", "$ref": "https://example.invalid/image.json",
			"definitions": {"positive": {"type": "integer", "minimum": 1}}}},
		"properties": {"image": {"$ref": "image.json"}, "replicaCount": {"$ref": "image.json#/definitions/positive"}}}`})
	// a reference to a schema of the document by its own $id is inside it
	withIDs := copyChart(t, "web", map[string]string{"values.schema.json": `{"$id": "https://example.com/web/values.json",
		"definitions": {"positive": {"$id": "positive.json", "type": "integer", "minimum": 1}, "image": {"type": "object"}},
		"properties": {"replicaCount": {"$ref": "positive.json"}, "image": {"$ref": "https://example.com/web/values.json#/definitions/image"},
			"unused": {"enum": [{"$ref": "https://example.invalid/not-a-reference-but-a-value.json"}]}}}`})
	for _, tc := range []struct {
		name, chart string
		set         []string
		want        []string // substrings of the error; none: it renders
		warned      int      // references outside the schema
	}{
		{name: "defaults", chart: web},
		{name: "top chart", chart: web, set: []string{"replicaCount=0"}, want: []string{"web 1.2.0", "web:", "/replicaCount", "minimum"}},
		{name: "top chart, type", chart: web, set: []string{"replicaCount=two"}, want: []string{"/replicaCount", "integer"}},
		{name: "subchart", chart: web, set: []string{"cache.persistence.size=lots"}, want: []string{"cache:", "/persistence/size", "lots"}},
		{name: "cut keeps definitions", chart: cutKeeps, set: []string{"replicaCount=0"}, want: []string{"/replicaCount", "minimum"}, warned: 1},
		{name: "$id", chart: withIDs},
		{name: "$id, refused", chart: withIDs, set: []string{"replicaCount=0"}, want: []string{"/replicaCount", "minimum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warned []string
			_, err := loadChart(t, tc.chart).Images(context.Background(),
				RenderOptions{Set: tc.set, Warn: func(m string) { warned = append(warned, m) }})
			if len(warned) != tc.warned {
				t.Errorf("warnings = %q, want %d (the references outside the schema)", warned, tc.warned)
			}
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Images: %v", err)
				}
				return
			}
			if !errors.Is(err, spec.ErrBadInput) {
				t.Fatalf("Images with %v = %v, want a bad-input error", tc.set, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestChart_ValuesSchemaReadsNothingOutside: a schema that refers to a
// file on the machine or to a URL neither reads the one nor fetches the
// other (Helm does both); each such reference is taken as "anything
// passes" and named in a warning, and the chart's images are still found.
func TestChart_ValuesSchemaReadsNothingOutside(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(`{"type": "string"}`)) // would refuse the chart's image map
	}))
	defer srv.Close()
	refuses := filepath.Join(t.TempDir(), "refuses.json")
	if err := os.WriteFile(refuses, []byte(`{"type": "string"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	web := copyChart(t, "web", map[string]string{
		"values.schema.json": `{"properties": {
			"image": {"$ref": "file://` + refuses + `"},
			"backup": {"$ref": "` + srv.URL + `/backup.json"},
			"migrations": {"$ref": "definitions.json#/migrations"},
			"replicaCount": {"type": "integer", "minimum": 1}}}`,
		"charts/cache/values.schema.json": `{"$ref": "https://example.invalid/cache.json"}`,
	})
	var warned []string
	images, err := loadChart(t, web).Images(context.Background(), RenderOptions{Warn: func(m string) { warned = append(warned, m) }})
	if err != nil {
		t.Fatalf("Images: %v (a reference outside the schema must not be read)", err)
	}
	if len(images) == 0 {
		t.Error("no images")
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the schema's URL was fetched %d time(s), want never", n)
	}
	all := strings.Join(warned, "\n")
	for _, ref := range []string{"file://" + refuses, srv.URL + "/backup.json", "file:///definitions.json", "https://example.invalid/cache.json"} {
		if !strings.Contains(all, "refers to "+ref+",") {
			t.Errorf("warnings do not name %s:\n%s", ref, all)
		}
	}
	if len(warned) != 4 || !strings.Contains(warned[0], "web 1.2.0") || !strings.Contains(warned[0], "not checked") {
		t.Errorf("warnings =\n%s\nwant 4, each naming the chart and saying what went unchecked", all)
	}
	// the schema's own constraints still hold
	_, err = loadChart(t, web).Images(context.Background(), RenderOptions{Set: []string{"replicaCount=0"}})
	if err == nil || !strings.Contains(err.Error(), "/replicaCount") {
		t.Errorf("replicaCount=0 against a schema with outside references = %v, want refused", err)
	}
}
