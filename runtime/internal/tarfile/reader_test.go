package tarfile

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

type testMember struct {
	name, data, link string
	typ              byte
}

func writeTar(t testing.TB, members []testMember) string {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Typeflag: m.typ, Linkname: m.link, Mode: 0o644, Size: int64(len(m.data))}
		if m.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.data))
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "x.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReader_Open(t *testing.T) {
	p := writeTar(t, []testMember{
		{name: "dir/", typ: tar.TypeDir},
		{name: "./a", data: "alpha", typ: tar.TypeReg},
		{name: "dir/b", data: "bravo", typ: tar.TypeReg},
		{name: "dir/sym", link: "../a", typ: tar.TypeSymlink},
		{name: "hard", link: "dir/b", typ: tar.TypeLink},
		{name: "../../escape", data: "x", typ: tar.TypeReg},
		{name: "loop1", link: "loop2", typ: tar.TypeSymlink},
		{name: "loop2", link: "loop1", typ: tar.TypeSymlink},
	})
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, want := range map[string]string{"a": "alpha", "dir/b": "bravo", "dir/sym": "alpha", "hard": "bravo", "escape": "x"} {
		s, err := r.Open(name)
		if err != nil {
			t.Errorf("Open(%s) = %v", name, err)
			continue
		}
		if b, _ := io.ReadAll(s); string(b) != want {
			t.Errorf("Open(%s) = %q, want %q", name, b, want)
		}
	}
	if _, err := r.Open("dir"); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Open(dir) = %v, want ErrNotFound", err)
	}
	if _, err := r.Open("loop1"); !errors.Is(err, spec.ErrCorrupt) {
		t.Errorf("Open(loop1) = %v, want ErrCorrupt", err)
	}
	if _, err := r.ReadFile("a", 2); !errors.Is(err, spec.ErrTooLarge) {
		t.Errorf("ReadFile(a, 2) = %v, want ErrTooLarge", err)
	}
}

func TestOpen_NotATar(t *testing.T) {
	p := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(p, bytes.Repeat([]byte("junk"), 300), 0o644)
	if _, err := Open(p); !errors.Is(err, spec.ErrCorrupt) {
		t.Errorf("Open(junk) = %v, want ErrCorrupt", err)
	}
}

// FuzzOpen: whatever the tar, a member Open serves holds exactly the
// bytes archive/tar reads for the last regular member of that name (no
// byte of another member, of a header or past the end), and nothing it
// refuses is anything but too large, corrupt or absent.
func FuzzOpen(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "index.json", Size: 2, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("{}"))
	tw.WriteHeader(&tar.Header{Name: "./blobs/../manifest.json", Size: 3, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("[1]"))
	tw.WriteHeader(&tar.Header{Name: "link", Linkname: "index.json", Typeflag: tar.TypeSymlink})
	tw.Close()
	f.Add(buf.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.tar")
		os.WriteFile(p, data, 0o644)
		r, err := Open(p)
		if err != nil {
			return
		}
		defer r.Close()
		want := regularMembers(data)
		for _, n := range r.Names() {
			got, err := r.ReadFile(n, 1<<20)
			if err != nil && !errors.Is(err, spec.ErrTooLarge) &&
				!errors.Is(err, spec.ErrCorrupt) && !errors.Is(err, spec.ErrNotFound) {
				t.Fatalf("ReadFile(%s) = %v", n, err)
			}
			if w, ok := want[n]; ok && err == nil && !bytes.Equal(got, w) {
				t.Fatalf("ReadFile(%s) = %q, archive/tar reads %q", n, got, w)
			}
		}
	})
}

// regularMembers reads data with archive/tar alone: the bytes of the last
// regular member of each cleaned name (up to a first error).
func regularMembers(data []byte) map[string][]byte {
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			return out
		}
		name := Clean(h.Name)
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			delete(out, name)
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20+1))
		if err != nil {
			delete(out, name)
			return out
		}
		out[name] = b
	}
}
