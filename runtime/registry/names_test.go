package registry_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// TestTarget_Names: where each image is pushed, before anything is. A
// name that is only a tag takes the prefix as its repository, and is
// refused without one; two images that one reference would serve are
// refused.
func TestTarget_Names(t *testing.T) {
	for _, tc := range []struct {
		base    string
		images  []runtime.Image
		want    []string
		wantErr string
	}{
		{"127.0.0.1:5000/site", []runtime.Image{runtimetest.Named("example.com/team/app:1.0", "a"), runtimetest.Named("db:2", "b")},
			[]string{"127.0.0.1:5000/site/team/app:1.0", "127.0.0.1:5000/site/db:2"}, ""},
		{"127.0.0.1:5000/x", []runtime.Image{runtimetest.Named("v1", "a")}, []string{"127.0.0.1:5000/x:v1"}, ""},
		{"127.0.0.1:5000", []runtime.Image{runtimetest.Named("v1", "a")}, nil, "--repo"},
		{"127.0.0.1:5000/x:9", []runtime.Image{runtimetest.Named("v1", "a")}, []string{"127.0.0.1:5000/x:9"}, ""},
		{"127.0.0.1:5000", []runtime.Image{runtimetest.Named("a.example/app:1", "a"), runtimetest.Named("b.example/app:1", "b")}, nil, "would both be named"},
	} {
		tgt, err := registry.NewTarget(tc.base, registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := runtime.TargetNames(tgt, tc.images)
		if tc.wantErr != "" {
			if !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Names(%s) = %v, want ErrBadInput with %q", tc.base, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Names(%s) = %q, %v, want %q", tc.base, got, err, tc.want)
		}
	}
}
