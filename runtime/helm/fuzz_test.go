package helm

import (
	"context"
	"testing"
)

// FuzzFind: no rendered text (what a chart's templates produce is
// untrusted) makes the image finder panic or run away, and every image
// it reports is a valid reference with a place.
func FuzzFind(f *testing.F) {
	for _, name := range []string{"web", "operator"} {
		c, err := Load(context.Background(), chartDir(name), LoadOptions{})
		if err != nil {
			f.Fatal(err)
		}
		r, err := c.render(context.Background(), RenderOptions{IncludeTests: true})
		if err != nil {
			f.Fatal(err)
		}
		for _, text := range r.files {
			f.Add(text)
		}
	}
	f.Add("---# c\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: &a busybox\n    args: [*a, --x=quay.io/a/b:1]\n")
	f.Fuzz(func(t *testing.T, text string) {
		fd := &finder{tests: true, found: map[string]*Image{}}
		if fd.file("chart/templates/x.yaml", text) != nil {
			return
		}
		for _, im := range fd.images() {
			if _, err := parseImage(im.Ref); err != nil || len(im.Found) == 0 {
				t.Errorf("image %q: %v, found at %v", im.Ref, err, im.Found)
			}
		}
	})
}
