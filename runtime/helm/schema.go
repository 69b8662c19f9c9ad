package helm

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
)

// schemaURL is where a chart's values.schema.json sits for the
// validator, as Helm names it: references relative to it resolve to
// file:///NAME, outside the chart.
const schemaURL = "file:///values.schema.json"

// validateValues checks values, merged as Helm merges them, against the
// values.schema.json of the chart and of each subchart the values reach,
// as Helm's ValidateAgainstSchema does, with one difference: a schema's
// reference to anything outside itself (a file:, http:, https: or urn:
// $ref) is neither read nor fetched but taken as the schema true, as
// Helm takes a urn: it cannot resolve. Helm reads such a file from the
// machine's disk and fetches such a URL; a chart from anywhere must make
// ferry do neither (a $ref to file:///etc/shadow, or to a cloud metadata
// address). It returns the references it did not follow, sorted, each
// once, so that the caller can say that those parts went unchecked.
func validateValues(ch *chartv2.Chart, values common.Values) ([]string, error) {
	var sb strings.Builder
	skipped := map[string]bool{}
	validateChart(ch, values, &sb, skipped)
	refs := make([]string, 0, len(skipped))
	for r := range skipped {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	if sb.Len() > 0 {
		return refs, errors.New("values don't meet the specifications of the schema(s) in the following chart(s):\n" +
			strings.TrimSuffix(sb.String(), "\n"))
	}
	return refs, nil
}

// validateChart writes what values breaks in ch's schema, and in its
// subcharts' for the values under each one's name, to sb.
func validateChart(ch *chartv2.Chart, values common.Values, sb *strings.Builder, skipped map[string]bool) {
	if len(ch.Schema) > 0 {
		if err := validateOne(ch.Schema, values, skipped); err != nil {
			fmt.Fprintf(sb, "%s:\n%s\n", ch.Name(), err)
		}
	}
	for _, sub := range ch.Dependencies() {
		raw, ok := values[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		subValues, ok := raw.(map[string]any)
		if !ok {
			fmt.Fprintf(sb, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name(), raw)
			continue
		}
		validateChart(sub, subValues, sb, skipped)
	}
}

// validateOne checks values against one schema document.
func validateOne(schemaJSON []byte, values common.Values, skipped map[string]bool) (err error) {
	defer func() {
		if r := recover(); r != nil { // as Helm guards its validator
			err = fmt.Errorf("unable to validate schema: %v", r)
		}
	}()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	base, _ := url.Parse(schemaURL)
	ids := map[string]bool{schemaURL: true}
	schemaIDs(doc, base, ids)
	doc = cutOutsideRefs(doc, base, ids, skipped)
	c := jsonschema.NewCompiler()
	c.UseLoader(outsideRefs(skipped)) // for what the cut did not see: $schema
	if err := c.AddResource(schemaURL, doc); err != nil {
		return err
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return err
	}
	if err := sch.Validate(values.AsMap()); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "jsonschema validation failed with '"+schemaURL+"#'\n"))
	}
	return nil
}

// notSchemas are the keywords whose values are data, not subschemas: a
// "$ref" key inside them is a value to compare, not a reference.
var notSchemas = map[string]bool{"enum": true, "const": true, "default": true, "examples": true}

// schemaIDs records in ids the document URL (without fragment) of every
// $id (draft 4: id) in the schema document v, resolved as a validator
// resolves it, against the $id of the schema around it.
func schemaIDs(v any, base *url.URL, ids map[string]bool) {
	walkSchema(v, base, func(obj map[string]any, base *url.URL) any {
		ids[docURL(base)] = true
		return obj
	})
}

// cutOutsideRefs returns the schema document v with each subschema whose
// $ref, $dynamicRef or $recursiveRef names a document other than v (not
// itself, nor a schema of it with an $id) replaced by the schema true
// (keeping what names it and the definitions it holds: kept), and records
// each such document's URL in cut. (In drafts 4 to 7 a $ref
// makes its schema's other keywords ignored; from 2019-09 they apply
// beside it, and go unchecked with it.)
func cutOutsideRefs(v any, base *url.URL, ids, cut map[string]bool) any {
	return walkSchema(v, base, func(obj map[string]any, base *url.URL) any {
		for _, k := range []string{"$ref", "$dynamicRef", "$recursiveRef"} {
			ref, ok := obj[k].(string)
			if !ok {
				continue
			}
			u, err := url.Parse(ref)
			if err != nil {
				continue // the compiler says what is wrong with it
			}
			if doc := docURL(base.ResolveReference(u)); !ids[doc] {
				cut[doc] = true
				return kept(obj)
			}
		}
		return obj
	})
}

// keptKeywords are what a cut subschema keeps: what names it or holds
// subschemas that other references may point into, and its draft; none of
// them asserts anything of a value.
var keptKeywords = []string{"$schema", "$id", "id", "$anchor", "definitions", "$defs"}

// kept is the schema that replaces a cut one: true, or an object of its
// keptKeywords.
func kept(obj map[string]any) any {
	keep := map[string]any{}
	for _, k := range keptKeywords {
		if v, ok := obj[k]; ok {
			keep[k] = v
		}
	}
	if len(keep) == 0 {
		return true
	}
	return keep
}

// walkSchema calls f on every object of the schema document v, depth
// first, children before parents, with the base URL its $id (or its
// enclosing schemas') gives, and puts what f returns in its place.
func walkSchema(v any, base *url.URL, f func(obj map[string]any, base *url.URL) any) any {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"$id", "id"} {
			if id, ok := v[k].(string); ok {
				if u, err := url.Parse(id); err == nil {
					base = base.ResolveReference(u)
				}
				break
			}
		}
		for k, child := range v {
			if !notSchemas[k] {
				v[k] = walkSchema(child, base, f)
			}
		}
		return f(v, base)
	case []any:
		for i, child := range v {
			v[i] = walkSchema(child, base, f)
		}
	}
	return v
}

// docURL is u without its fragment: the document it names.
func docURL(u *url.URL) string {
	d := *u
	d.Fragment, d.RawFragment = "", ""
	return d.String()
}

// outsideRefs is the validator's loader for every document a schema
// names other than itself and the JSON Schema drafts' meta-schemas
// (which the library carries): it reads nothing, records the URL, and
// answers the schema true.
type outsideRefs map[string]bool

func (o outsideRefs) Load(url string) (any, error) {
	o[url] = true
	return true, nil
}
