package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateImageName(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"v1", true},
		{"1.0", true},
		{"app:1.0", true},
		{"example.com:5000/team/app:1.0", true},
		{"example.com/app@sha256:" + hex, true},
		{"sha256:" + hex, true}, // an unnamed image, recorded by its digest
		{"docker:24-dind", true},
		{"registry.example.com/podman:1", true},
		{"MyTag", true}, // a ref.name, not a reference
		{"a\nb", false},
		{"app:1.0\nimage forged:1 sha256:0 ok", false},
		{"../x", false},
		{"x/../y", false},
		{"/etc/passwd", false},
		{strings.Repeat("a", 5000), false},
		{"oci:/tmp/x:1", false},
		{"oci:x:1", false},
		{"podman:1", false},
		{"docker-archive:a.tar", false},
		{"docker://x/y:1", false},
		{"Evil Name", false},
		{"app:1.0\x1b[2J", false},
	} {
		err := ValidateImageName(tc.name)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadInput)) {
			t.Errorf("ValidateImageName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\x1b") {
			t.Errorf("ValidateImageName(%q) = %q: the error holds the name unescaped", tc.name, err)
		}
	}
}

func TestValidateSiteName(t *testing.T) {
	for name, ok := range map[string]bool{"hq": true, "plant-7": true, "a.b_c": true, strings.Repeat("x", 64): true,
		"": false, "Evil Site!": false, ".hidden": false, "-x": false, "a/b": false, strings.Repeat("x", 65): false, "é": false} {
		if err := ValidateSiteName(name); (err == nil) != ok {
			t.Errorf("ValidateSiteName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"app:1.0": "app:1.0", "": `""`, "a b": `"a b"`, "a\nb": `"a\nb"`,
		"\x1b[2J": `"\x1b[2J"`, `say "hi"`: `"say \"hi\""`} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
