package format

import (
	"archive/tar"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// Entry is an entry of a bundle after the index and its signature, as the
// index lists it.
type Entry struct {
	Name      string        // spec.LayoutEntry, spec.LayoutIndexEntry, or the blob's entry name by its kind (kinds.go)
	Kind      string        // spec.KindFile, or the blob's kind
	Digest    digest.Digest // of the entry's bytes, as listed (for a delta, the delta's; Blob.Digest is the layer's)
	Size      int64         // as listed, and as the tar header says
	MediaType string        // blobs only
	Blob      *Blob         // the index's element, nil for the layout files
	// Part is, for a part of a chunked blob (spec.KindChunk), its number
	// from 1, Offset where its bytes start in the blob, and Volume the
	// volume of the set that carries it; zero for an entry that carries
	// its blob whole.
	Part   int
	Offset int64
	Volume int
}

// EntryError is a fault of one entry. It is not fatal: the Reader skips
// the entry's bytes and the next call to Next goes on with the stream.
// It wraps spec.ErrCorrupt.
type EntryError struct {
	Name   string        // the tar name, as found
	Digest digest.Digest // the blob's digest (the layer's, for a delta), when the name is listed or a valid blob name
	Err    error
}

func (e *EntryError) Error() string {
	if e.Err == errNameRefused {
		return fmt.Sprintf("entry name %q refused", e.Name)
	}
	return fmt.Sprintf("entry %q: %v", e.Name, e.Err)
}

func (e *EntryError) Unwrap() []error { return []error{spec.ErrCorrupt, e.Err} }

var errNameRefused = fmt.Errorf("name refused")

// blobDigest returns the digest a blob entry name stands for, or "" when
// name is not spec.BlobPrefix followed by 64 lowercase hex digits. The tar
// name is never used as a path.
func blobDigest(name string) digest.Digest {
	hex, ok := strings.CutPrefix(name, spec.BlobPrefix)
	if !ok || len(hex) != 64 {
		return ""
	}
	for _, c := range []byte(hex) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex)
}

func isFileName(name string) bool {
	return name == spec.LayoutEntry || name == spec.LayoutIndexEntry
}

// typeNames names the tar types a reader refuses.
var typeNames = map[byte]string{
	tar.TypeLink:          "hardlink",
	tar.TypeSymlink:       "symlink",
	tar.TypeChar:          "char device",
	tar.TypeBlock:         "block device",
	tar.TypeDir:           "directory",
	tar.TypeFifo:          "fifo",
	tar.TypeCont:          "contiguous file",
	tar.TypeGNUSparse:     "sparse file",
	tar.TypeGNULongName:   "GNU long name",
	tar.TypeGNULongLink:   "GNU long link",
	tar.TypeXHeader:       "PAX header",
	tar.TypeXGlobalHeader: "PAX global header",
}

// checkType refuses everything but a plain regular file.
func checkType(h *tar.Header) error {
	if h.Typeflag != tar.TypeReg {
		name, ok := typeNames[h.Typeflag]
		if !ok {
			name = fmt.Sprintf("%q", h.Typeflag)
		}
		return fmt.Errorf("type %s refused", name)
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("type sparse file refused")
		}
	}
	return nil
}
