package runtime

import (
	"strings"
	"testing"
)

func TestRef_WithTag(t *testing.T) {
	for _, tc := range []struct{ in, tag, want string }{
		{"oci:/x/layout:2.0", "1.0", "oci:/x/layout:1.0"},
		{"oci-archive:/x/a.tar", "1.0", "oci-archive:/x/a.tar:1.0"},
		{"docker-archive:/x/a.tar:example.com:5000/app:2.0", "1.0", "docker-archive:/x/a.tar:example.com:5000/app:1.0"},
		{"app:2.0", "1.0", "app:1.0"},
		{"app", "1.0", "app:1.0"},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := r.WithTag(tc.tag).String(); got != tc.want {
			t.Errorf("Parse(%q).WithTag(%q) = %q, want %q", tc.in, tc.tag, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"example.com:5000/team/app:2.0":       "docker://example.com:5000/team/app:1.0",
		"example.com/app@sha256:" + sixtyFour: "docker://example.com/app:1.0",
	} {
		r := Ref{Transport: TransportRegistry, Tag: in}
		if got := r.WithTag("1.0").String(); got != want {
			t.Errorf("docker://%s WithTag(1.0) = %q, want %q", in, got, want)
		}
	}
}

func TestIsBareTag(t *testing.T) {
	for s, want := range map[string]bool{"1.0": true, "v2-rc.1": true, "app:1.0": false, "oci:x": false, "a/b": false, "": false, "x@sha256:1": false,
		strings.Repeat("a", 128): true, strings.Repeat("a", 129): false, "-x": false} {
		if got := IsBareTag(s); got != want {
			t.Errorf("IsBareTag(%q) = %v, want %v", s, got, want)
		}
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
