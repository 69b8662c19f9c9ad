package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestJSON_EveryCommand: through a whole trip, every command that prints
// data prints, with --json, one JSON document on stdout, whose keys are
// lowerCamel (never a Go field name) and in which a list with nothing in
// it is [] and never null, so that `jq '.x[]'` works on every answer.
// Only an object that may be absent is null (a site's last receipt, what
// check --repair repaired).
func TestJSON_EveryCommand(t *testing.T) {
	src, _ := chain(t, 2, 4096)
	s := newSites(t)
	bundle, receipt := filepath.Join(s.dir, "v1.ferry"), filepath.Join(s.dir, "r.ferry")
	for _, step := range []struct {
		home string
		args []string
	}{
		{filepath.Join(s.dir, "fresh"), []string{"init", "--site", "fresh"}},
		{s.hq, []string{"site", "add", "other", "--key", filepath.Join(s.site, "keys", "id_ed25519.pub")}},
		{s.hq, []string{"site", "ls"}},
		{s.hq, []string{"site", "show", "plant-7"}}, // nothing made or loaded yet
		{s.hq, []string{"ls"}},                      // empty
		{s.hq, []string{"check"}},                   // nothing to find
		{s.hq, []string{"gc"}},                      // nothing to remove
		{s.hq, []string{"pull", "oci:" + src + ":v1", "oci:" + src + ":v2"}},
		{s.hq, []string{"ls", "nothing/here"}},
		{s.hq, []string{"du"}},
		{s.hq, []string{"save", "v1", "--for", "plant-7", "--dry-run"}},
		{s.hq, []string{"save", "v1", "--for", "plant-7", "-o", bundle}},
		{s.site, []string{"inspect", bundle}},
		{s.site, []string{"verify", bundle}},
		{s.site, []string{"load", bundle, "--into", "oci:" + filepath.Join(s.dir, "out")}},
		{s.site, []string{"receipt", "create", "-o", receipt}},
		{s.hq, []string{"receipt", "apply", receipt}},
		{s.hq, []string{"site", "show", "plant-7"}},
		{s.hq, []string{"tag", "v2", "example.com/app:2"}},
		{s.hq, []string{"copy", "example.com/app:2", "oci:" + filepath.Join(s.dir, "copy")}},
		{s.hq, []string{"rm", "example.com/app:2"}},
		{s.hq, []string{"gc", "--dry-run"}},
		{s.hq, []string{"check", "--repair"}},
		{"", []string{"chart", "images", testChart("web")}},
		{"", []string{"version"}},
	} {
		args := append([]string{"--json"}, step.args...)
		r := must(t, step.home, args...)
		var doc any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Errorf("ferry %s: stdout is not one JSON document: %v\n%s", strings.Join(step.args, " "), err, r.stdout)
			continue
		}
		for _, fault := range jsonFaults(doc, "") {
			t.Errorf("ferry %s: %s\n%s", strings.Join(step.args, " "), fault, r.stdout)
		}
	}
}

var goFieldName = regexp.MustCompile(`^[A-Z][a-z]`)

// jsonFaults lists, in a decoded document, the keys that are Go field
// names and the nulls other than the objects that may be absent.
func jsonFaults(v any, at string) []string {
	var faults []string
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if goFieldName.MatchString(k) {
				faults = append(faults, "key "+at+"."+k+" is a Go field name")
			}
			if child == nil && k != "lastReceipt" && k != "repaired" {
				faults = append(faults, at+"."+k+" is null")
			}
			faults = append(faults, jsonFaults(child, at+"."+k)...)
		}
	case []any:
		for _, child := range v {
			faults = append(faults, jsonFaults(child, at+"[]")...)
		}
	case nil:
		if at == "" {
			faults = append(faults, "the document is null")
		}
	}
	return faults
}
