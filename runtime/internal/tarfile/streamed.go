package tarfile

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Files up to smallMax bytes, while the memory they take stays under
// memoryMax, are kept in memory; the others go to the spool.
const (
	smallMax  = 256 << 10
	memoryMax = 8 << 20
)

// Stream is a tar read once, front to back, from a stream that cannot
// seek (Docker's export): each large file goes to a runtime.Spool as it
// streams, hashed on the way, and the small ones stay in memory.
type Stream struct {
	where string
	spool runtime.Spool
	small map[string][]byte
	kept  map[string]keptFile
	links map[string]string
}

// keptFile is a file in the spool.
type keptFile struct {
	desc ocispec.Descriptor // digest, size, media type by its first bytes
}

// ReadStream reads the tar r to its end, keeping its large files in sp.
// where names the stream in errors.
func ReadStream(where string, r io.Reader, sp runtime.Spool) (*Stream, error) {
	s := &Stream{where: where, spool: sp, small: map[string][]byte{}, kept: map[string]keptFile{}, links: map[string]string{}}
	tr := tar.NewReader(r)
	var inMemory int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read tar: %v: %w", where, err, spec.ErrCorrupt)
		}
		name := Clean(h.Name)
		delete(s.small, name) // the last member of a name is the one
		delete(s.kept, name)
		delete(s.links, name)
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			if h.Size <= smallMax && inMemory+h.Size <= memoryMax {
				b, err := io.ReadAll(io.LimitReader(tr, smallMax+1))
				if err != nil {
					return nil, fmt.Errorf("%s: member %q: %w", where, name, cut(err))
				}
				s.small[name] = b
				inMemory += int64(len(b))
				continue
			}
			if err := s.keep(name, tr); err != nil {
				return nil, err
			}
		case tar.TypeSymlink:
			s.links[name] = Clean(path.Join(path.Dir(name), h.Linkname))
		case tar.TypeLink:
			s.links[name] = Clean(h.Linkname)
		}
	}
}

// keep spools one file, noting the media type its first bytes give it.
func (s *Stream) keep(name string, r io.Reader) error {
	head := &headBytes{}
	d, n, err := s.spool.Keep(io.TeeReader(r, head))
	if err != nil {
		return fmt.Errorf("%s: member %q: %w", s.where, name, cut(err))
	}
	s.kept[name] = keptFile{desc: ocispec.Descriptor{MediaType: runtime.LayerMediaType(head.b), Digest: d, Size: n}}
	return nil
}

// cut says a stream that ended inside a file is corrupt.
func cut(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.Join(err, spec.ErrCorrupt)
	}
	return err
}

// headBytes keeps the first runtime.MagicSize bytes written to it.
type headBytes struct{ b []byte }

func (h *headBytes) Write(p []byte) (int, error) {
	if k := runtime.MagicSize - len(h.b); k > 0 {
		h.b = append(h.b, p[:min(k, len(p))]...)
	}
	return len(p), nil
}

// resolve follows links to a file's own name.
func (s *Stream) resolve(name string) (string, error) {
	want := Clean(name)
	for range maxLinks {
		if _, ok := s.small[want]; ok {
			return want, nil
		}
		if _, ok := s.kept[want]; ok {
			return want, nil
		}
		link, ok := s.links[want]
		if !ok {
			return "", fmt.Errorf("%s: no member %q: %w", s.where, name, spec.ErrNotFound)
		}
		want = link
	}
	return "", fmt.Errorf("%s: member %q: too many links: %w", s.where, name, spec.ErrCorrupt)
}

// Has reports whether the tar held a file (or a link) named name.
func (s *Stream) Has(name string) bool {
	_, err := s.resolve(name)
	return err == nil
}

// ReadFile returns the whole file name, refusing more than max bytes.
func (s *Stream) ReadFile(name string, max int64) ([]byte, error) {
	rc, err := s.OpenMember(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: member %q: %w", s.where, name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: member %q: over %d bytes: %w", s.where, name, max, spec.ErrTooLarge)
	}
	return b, nil
}

// OpenMember returns the bytes of the file name: from memory, or from
// the spool.
func (s *Stream) OpenMember(name string) (io.ReadCloser, error) {
	n, err := s.resolve(name)
	if err != nil {
		return nil, err
	}
	if b, ok := s.small[n]; ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return s.spool.Open(s.kept[n].desc.Digest)
}

// Describe returns what was learnt of the file as it streamed.
func (s *Stream) Describe(name string) (ocispec.Descriptor, error) {
	n, err := s.resolve(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if b, ok := s.small[n]; ok {
		return ocispec.Descriptor{MediaType: runtime.LayerMediaType(b), Digest: digest.FromBytes(b), Size: int64(len(b))}, nil
	}
	return s.kept[n].desc, nil
}

// Close forgets the files; the spool is its owner's to close.
func (s *Stream) Close() error {
	s.small, s.kept = nil, nil
	return nil
}
