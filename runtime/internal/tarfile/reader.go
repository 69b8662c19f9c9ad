// Package tarfile reads and writes the tar files of the archive
// transports. Reader scans a tar once and serves members as sections of
// the file, extracting nothing; member names are map keys, never paths on
// disk. Writer writes deterministic tars of an OCI layout.
package tarfile

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/ferryhq/ferry/spec"
)

// maxLinks bounds how many links Open follows.
const maxLinks = 8

type member struct {
	offset, size int64
	link         string // cleaned target of a symlink or hard link
}

// Reader serves the regular files of a tar file by name. Open sections
// may be read concurrently.
type Reader struct {
	path    string
	f       *os.File
	members map[string]member
}

// Open scans the tar at name once, recording where each member's bytes
// lie. Directories and other special members are ignored.
func Open(name string) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	r := &Reader{path: name, f: f, members: map[string]member{}}
	if err := r.scan(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

func (r *Reader) scan() error {
	tr := tar.NewReader(r.f) // an *os.File: tar seeks over member bodies
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %v: %w", err, spec.ErrCorrupt)
		}
		name := Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			off, err := r.f.Seek(0, io.SeekCurrent)
			if err != nil {
				return err
			}
			r.members[name] = member{offset: off, size: h.Size}
		case tar.TypeSymlink:
			r.members[name] = member{link: Clean(path.Join(path.Dir(name), h.Linkname))}
		case tar.TypeLink:
			r.members[name] = member{link: Clean(h.Linkname)}
		}
	}
}

// Clean normalises a member name: no leading "./" or "/", no "..".
func Clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// Has reports whether the tar holds a file (or a link) named name.
func (r *Reader) Has(name string) bool {
	_, ok := r.members[Clean(name)]
	return ok
}

// Names returns the names of every file and link.
func (r *Reader) Names() []string {
	out := make([]string, 0, len(r.members))
	for n := range r.members {
		out = append(out, n)
	}
	return out
}

// Open returns the bytes of the file name, following links.
func (r *Reader) Open(name string) (*io.SectionReader, error) {
	want := Clean(name)
	for range maxLinks {
		m, ok := r.members[want]
		if !ok {
			return nil, fmt.Errorf("%s: no member %q: %w", r.path, name, spec.ErrNotFound)
		}
		if m.link == "" {
			return io.NewSectionReader(r.f, m.offset, m.size), nil
		}
		want = m.link
	}
	return nil, fmt.Errorf("%s: member %q: too many links: %w", r.path, name, spec.ErrCorrupt)
}

// ReadFile returns the whole file name, refusing more than max bytes.
func (r *Reader) ReadFile(name string, max int64) ([]byte, error) {
	s, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	if s.Size() > max {
		return nil, fmt.Errorf("%s: member %q: %d bytes, limit %d: %w", r.path, name, s.Size(), max, spec.ErrTooLarge)
	}
	b := make([]byte, s.Size())
	if _, err := io.ReadFull(s, b); err != nil {
		return nil, fmt.Errorf("%s: member %q: %w", r.path, name, errors.Join(err, spec.ErrCorrupt))
	}
	return b, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
