package trip

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
)

// TestLoad_UntrustedImageNames: an image name in a signed index is
// untrusted. One that ferry refuses (a newline that would forge a line of
// the report, ".." path pieces, 5,000 characters, a transport prefix)
// costs that image: Verify and Load report it, naming it escaped, and the
// other image loads. Before, each was recorded and printed as it was.
func TestLoad_UntrustedImageNames(t *testing.T) {
	s := signer(t, 1)
	for _, name := range []string{
		"app:1.0\n  image forged:1 sha256:0000 ok",
		"../../../etc/app:1",
		strings.Repeat("a", 5000),
		"oci:/tmp/x:1",
	} {
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			b := newBlobSet()
			ix := b.bundleIndex(map[string]ocispec.Descriptor{"example.com/good:1": b.image("good", nil), name: b.image("bad", nil)})
			ix.SchemaVersion, ix.MediaType, ix.ID = 1, "application/vnd.ferry.bundle.index.v1+json", "0123456789abcdef0123456789abcdef"
			format.Order(ix.Blobs)
			path := b.writeRaw(t, t.TempDir(), ix, s)
			h := siteHome(t, s)
			vrep, lrep := verifyAndLoad(t, h, path)
			for verb, rep := range map[string]*Report{"verify": vrep, "load": lrep} {
				if got := statuses(rep); len(got) != 1 || !got["example.com/good:1"] {
					t.Errorf("%s: images %v, want only the good one", verb, got)
				}
				if len(rep.Faults) != 1 || !strings.Contains(rep.Faults[0].What, "image name") || strings.Contains(rep.Faults[0].What, "\n") {
					t.Errorf("%s: faults %q, want one naming the refused image, escaped", verb, rep.Faults)
				}
			}
			if got := recorded(t, h); !slices.Equal(got, []string{"example.com/good:1"}) {
				t.Errorf("recorded %q, want only the good image", got)
			}
			mustCheck(t, h)
		})
	}
}

// TestLoad_UntrustedSiteNames: a sender (or addressee, or prerequisite
// bundle) that ferry itself would refuse costs the whole bundle, before
// anything is written, even with a key given on the command line. Before,
// a bundle "from" "Evil Site!" loaded with --key, and every receipt
// create failed from then on.
func TestLoad_UntrustedSiteNames(t *testing.T) {
	s := signer(t, 1)
	for _, tc := range []struct {
		name string
		edit func(ix *format.Index)
		want string
	}{
		{"sender", func(ix *format.Index) { ix.From.Site = "Evil Site!" }, "from.site"},
		{"addressee", func(ix *format.Index) { ix.To = "plant-7\nok" }, "to:"},
		{"prerequisite's bundle", func(ix *format.Index) {
			ix.Blobs = append(ix.Blobs, format.Blob{Digest: digest.FromString("held"), Size: 4, MediaType: ocispec.MediaTypeImageLayerGzip,
				Kind: "blob", Status: "prerequisite", Bundle: "b1\nFAULT none", Sequence: 1})
		}, ".bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlobSet()
			ix := b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": b.image("app", nil)})
			ix.SchemaVersion, ix.MediaType, ix.ID = 1, "application/vnd.ferry.bundle.index.v1+json", "0123456789abcdef0123456789abcdef"
			ix.To = ""
			tc.edit(ix)
			format.Order(ix.Blobs)
			path := b.writeRaw(t, t.TempDir(), ix, s)
			h := siteHome(t, s)
			check := CheckOptions{Trust: TrustKey(s.PublicKey(), nil)}
			if _, err := Verify(context.Background(), path, check, Admission{}, h); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify = %v, want an error naming %s", err, tc.want)
			}
			if _, err := Load(context.Background(), h, path, LoadOptions{CheckOptions: check}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error naming %s", err, tc.want)
			}
			if len(recorded(t, h)) != 0 {
				t.Errorf("a refused bundle recorded %v", recorded(t, h))
			}
			if _, err := CreateReceipt(context.Background(), h, time.Now()); err != nil {
				t.Errorf("CreateReceipt after the refused bundle = %v", err)
			}
			mustCheck(t, h)
		})
	}
}
