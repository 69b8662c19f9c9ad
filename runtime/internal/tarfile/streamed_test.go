package tarfile

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// TestReadStream: a tar read once from a stream serves the same files,
// links followed, as the same tar read from its file: small ones from
// memory, large ones from the spool, each described by what streamed.
func TestReadStream(t *testing.T) {
	large := strings.Repeat("gzip? no: a large layer ", 20000) // over smallMax
	p := writeTar(t, []testMember{
		{name: "dir/", typ: tar.TypeDir},
		{name: "./a", data: "alpha", typ: tar.TypeReg},
		{name: "dir/layer.tar", data: large, typ: tar.TypeReg},
		{name: "dir/sym", link: "layer.tar", typ: tar.TypeSymlink},
		{name: "hard", link: "./a", typ: tar.TypeLink},
	})
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := NewFileSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	s, err := ReadStream("test", bytes.NewReader(data), sp)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"a", "dir/layer.tar", "dir/sym", "hard"} {
		for _, m := range []Members{s, r} {
			if !m.Has(name) {
				t.Errorf("%T: Has(%s) = false", m, name)
			}
		}
		want, err := r.ReadFile(name, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadFile(name, 1<<30)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%s) from the stream: %d bytes, %v; want %d", name, len(got), err, len(want))
		}
		dw, _ := r.Describe(name)
		if dg, err := s.Describe(name); err != nil || dg.Digest != dw.Digest || dg.Size != dw.Size || dg.MediaType != dw.MediaType {
			t.Errorf("Describe(%s) from the stream = %+v, %v; from the file %+v", name, dg, err, dw)
		}
	}
	if len(s.kept) != 1 {
		t.Errorf("%d files spooled, want the one large layer", len(s.kept))
	}
	if _, err := s.ReadFile("dir/layer.tar", 100); !errors.Is(err, spec.ErrTooLarge) {
		t.Errorf("ReadFile over its limit = %v, want ErrTooLarge", err)
	}
	if _, err := s.OpenMember("nosuch"); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("OpenMember(nosuch) = %v, want ErrNotFound", err)
	}
	cut := data[:len(data)/2]
	if _, err := ReadStream("cut", io.MultiReader(bytes.NewReader(cut)), sp); !errors.Is(err, spec.ErrCorrupt) {
		t.Errorf("ReadStream of a cut tar = %v, want ErrCorrupt", err)
	}
}

// FuzzReadStream: whatever the stream, a file ReadStream serves holds
// exactly the bytes archive/tar reads for the last regular member of that
// name, whether it was kept in memory or spooled, and a failure is only
// ever a corrupt or cut stream.
func FuzzReadStream(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Size: 2, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("[]"))
	big := bytes.Repeat([]byte{7}, smallMax+1)
	tw.WriteHeader(&tar.Header{Name: "l/layer.tar", Size: int64(len(big)), Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write(big)
	tw.WriteHeader(&tar.Header{Name: "blobs/sha256/x", Linkname: "../../l/layer.tar", Typeflag: tar.TypeSymlink})
	tw.Close()
	f.Add(buf.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := NewFileSpool(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		s, err := ReadStream("fuzz", bytes.NewReader(data), sp)
		if err != nil {
			if !errors.Is(err, spec.ErrCorrupt) {
				t.Fatalf("ReadStream = %v, want ErrCorrupt", err)
			}
			return
		}
		for name, want := range regularMembers(data) {
			got, err := s.ReadFile(name, 1<<20)
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("ReadFile(%s) = %d bytes, archive/tar reads %d", name, len(got), len(want))
			}
		}
	})
}
