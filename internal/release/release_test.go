package release

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

func TestBinaryName(t *testing.T) {
	for in, want := range map[string]string{"linux/amd64": "ferry-linux-amd64", "windows/amd64": "ferry-windows-amd64.exe",
		"darwin/arm64": "ferry-darwin-arm64", "linux": "", "../x/y": "", "linux/amd64/v2": ""} {
		got, err := BinaryName(in)
		if got != want || (want == "") != errors.Is(err, spec.ErrBadInput) {
			t.Errorf("BinaryName(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

// TestSums: what WriteSums writes ParseSums reads back, and sha256sum's
// binary marker is read; a line that is not a sum and a plain file name
// is refused.
func TestSums(t *testing.T) {
	sums := map[string]digest.Digest{"ferry-linux-amd64": digest.FromString("a"), "ferry.1": digest.FromString("b")}
	var b bytes.Buffer
	WriteSums(&b, sums)
	if !strings.HasPrefix(b.String(), digest.FromString("a").Encoded()+"  ferry-linux-amd64\n") {
		t.Errorf("WriteSums = %q", b.String())
	}
	got, err := ParseSums(append(b.Bytes(), []byte(digest.FromString("c").Encoded()+" *SHA256SUMS.sig\n")...))
	if err != nil || len(got) != 3 || got["ferry.1"] != sums["ferry.1"] || got["SHA256SUMS.sig"] != digest.FromString("c") {
		t.Errorf("ParseSums = %v, %v", got, err)
	}
	for _, bad := range []string{"xyz  ferry\n", digest.FromString("a").Encoded() + "  ../ferry\n", digest.FromString("a").Encoded() + "\n"} {
		if _, err := ParseSums([]byte(bad)); !errors.Is(err, spec.ErrCorrupt) {
			t.Errorf("ParseSums(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}
