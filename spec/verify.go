package spec

import (
	"crypto/sha256"
	"hash"
	"io"
	"strconv"

	"github.com/opencontainers/go-digest"
)

// VerifyingReader reads at most size bytes from r, hashing them, and
// returns a *VerifyError from Read at EOF when the bytes are not what was
// promised: fewer or more than size, or another digest. A plain io.Copy
// through it therefore cannot succeed on bad bytes. It never reads more
// than size+1 bytes from r.
type VerifyingReader struct {
	r    io.Reader
	want digest.Digest
	size int64
	n    int64
	h    hash.Hash
	err  error
}

// NewVerifyingReader checks r against want and size. want must be a valid
// sha256 digest (callers validate digests before use).
func NewVerifyingReader(r io.Reader, want digest.Digest, size int64) *VerifyingReader {
	return &VerifyingReader{r: io.LimitReader(r, size+1), want: want, size: size, h: sha256.New()}
}

func (v *VerifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	if v.n > v.size {
		v.err = &VerifyError{Want: v.want, WantSize: v.size, GotSize: v.n}
		return 0, v.err
	}
	v.h.Write(p[:n])
	if err == io.EOF {
		if v.n != v.size {
			v.err = &VerifyError{Want: v.want, WantSize: v.size, GotSize: v.n}
			return n, v.err
		}
		got := digest.NewDigest(digest.SHA256, v.h)
		if got != v.want {
			v.err = &VerifyError{Want: v.want, WantSize: v.size, GotDigest: got, GotSize: v.n}
			return n, v.err
		}
		v.err = io.EOF
	} else if err != nil {
		v.err = err
	}
	return n, err
}

// ValidateDigest accepts only sha256 digests in canonical form, so that a
// digest can safely become a file name.
func ValidateDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return &digestError{d: d, err: err}
	}
	if d.Algorithm() != digest.SHA256 {
		return &digestError{d: d, err: ErrUnsupportedVersion}
	}
	return nil
}

type digestError struct {
	d   digest.Digest
	err error
}

func (e *digestError) Error() string {
	return "invalid digest " + strconv.Quote(clip(string(e.d))) + ": " + e.err.Error()
}
func (e *digestError) Unwrap() []error { return []error{ErrBadInput, e.err} }
