package jsonschema

import (
	"strings"
	"sync"
	"testing"
)

// TestLazyMetaschemas (ferry's fork): the meta-schemas are compiled at the
// first Compile, not in init, and then check schemas as before: a schema
// that breaks its draft's meta-schema is refused, from many goroutines at
// once (go test -race), for every draft.
func TestLazyMetaschemas(t *testing.T) {
	drafts := []string{
		"http://json-schema.org/draft-04/schema#",
		"http://json-schema.org/draft-06/schema#",
		"http://json-schema.org/draft-07/schema#",
		"https://json-schema.org/draft/2019-09/schema",
		"https://json-schema.org/draft/2020-12/schema",
	}
	var wg sync.WaitGroup
	errs := make([]error, 4*len(drafts))
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := NewCompiler()
			bad := map[string]any{"$schema": drafts[i%len(drafts)], "type": 5}
			if err := c.AddResource("bad.json", bad); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = c.Compile("bad.json")
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("%s: schema with \"type\": 5 compiled: %v", drafts[i%len(drafts)], err)
		}
	}
	for _, d := range []*Draft{Draft4, Draft6, Draft7, Draft2019, Draft2020} {
		if d.sch == nil {
			t.Errorf("%s: meta-schema not compiled after Compile", d)
		}
	}
}
