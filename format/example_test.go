package format_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"log"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
)

// exampleBundle writes a bundle of one blob (a manifest, say) and the
// layout files, signed by a fixed key.
func exampleBundle() ([]byte, ssh.Signer) {
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		log.Fatal(err)
	}
	manifest := []byte(`{"schemaVersion":2}`)
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	index := []byte(`{"schemaVersion":2,"manifests":[]}`)
	ix := &format.Index{
		From:     format.Party{Site: "hq"},
		To:       "plant-7",
		Sequence: 1,
		Images:   []format.Image{{Name: "app:1.0", Digest: digest.FromBytes(manifest), MediaType: ocispec.MediaTypeImageManifest, Size: int64(len(manifest))}},
		Files: []format.File{
			{Name: spec.LayoutEntry, Digest: digest.FromBytes(layout), Size: int64(len(layout))},
			{Name: spec.LayoutIndexEntry, Digest: digest.FromBytes(index), Size: int64(len(index))},
		},
		Blobs: []format.Blob{{Digest: digest.FromBytes(manifest), Size: int64(len(manifest)), MediaType: ocispec.MediaTypeImageManifest, Kind: spec.KindBlob, Status: spec.StatusShipped}},
	}
	var buf bytes.Buffer
	w := format.NewWriter(&buf, format.WriterOptions{ModTime: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)})
	must(w.WriteHeader(ix, signer))
	must(w.WriteFile(spec.LayoutEntry, layout))
	must(w.WriteFile(spec.LayoutIndexEntry, index))
	must(w.WriteBlob(digest.FromBytes(manifest), bytes.NewReader(manifest)))
	must(w.Close())
	return buf.Bytes(), signer
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleNewWriter() {
	data, _ := exampleBundle()
	r, err := format.NewReader(bytes.NewReader(data), format.ReaderOptions{InsecureSkipSignature: true})
	must(err)
	defer r.Close()
	fmt.Println("id", r.Index().ID)
	fmt.Println("created", r.Index().Created)
	// Output:
	// id b5364f8e9f82db26af4fa2f20c2a3c4e
	// created 2024-05-01T00:00:00Z
}

func ExampleNewReader() {
	data, signer := exampleBundle()
	trusted := map[string]string{"hq": format.Fingerprint(signer.PublicKey())}
	r, err := format.NewReader(bytes.NewReader(data), format.ReaderOptions{
		Trust: func(ix *format.Index, key ssh.PublicKey) error {
			if trusted[ix.From.Site] != format.Fingerprint(key) {
				return fmt.Errorf("site %s: %w", ix.From.Site, spec.ErrUnknownSite)
			}
			return nil
		},
	})
	must(err)
	defer r.Close()
	fmt.Println("from", r.Index().From.Site, "sequence", r.Index().Sequence)
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		must(err)                        // an *EntryError is not fatal: a caller may note it and go on
		n, err := io.Copy(io.Discard, r) // a store would ingest here
		must(err)                        // a *spec.VerifyError: the bytes are not what was signed
		fmt.Println(e.Kind, e.Name, n)
	}
	fmt.Println("missing", r.Missing())
	// Output:
	// from hq sequence 1
	// file oci-layout 30
	// file index.json 34
	// blob blobs/sha256/bafebd36189ad3688b7b3915ea55d461e0bfcfbdde11e54b0a123999fb6be50f 19
	// missing []
}
