package spec

import (
	"crypto/sha256"
	"hash"
	"io"
	"strconv"

	"github.com/opencontainers/go-digest"
)

// Verifier hashes and counts the bytes written to it and says, at the
// end, whether they were what was promised. VerifyingReader is a Verifier
// fed by a reader; a pipeline that hands buffers on (format's read-ahead)
// feeds one directly.
type Verifier struct {
	want digest.Digest
	size int64
	n    int64
	h    hash.Hash
}

// NewVerifier checks written bytes against want and size. want must be a
// valid sha256 digest (callers validate digests before use).
func NewVerifier(want digest.Digest, size int64) *Verifier {
	return &Verifier{want: want, size: size, h: sha256.New()}
}

// Write hashes p. Past size bytes it hashes nothing more and returns a
// *VerifyError.
func (v *Verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	if v.n > v.size {
		return 0, &VerifyError{Want: v.want, WantSize: v.size, GotSize: v.n}
	}
	v.h.Write(p)
	return len(p), nil
}

// Verify returns nil when exactly size bytes of digest want were
// written, else a *VerifyError.
func (v *Verifier) Verify() error {
	if v.n != v.size {
		return &VerifyError{Want: v.want, WantSize: v.size, GotSize: v.n}
	}
	if got := digest.NewDigest(digest.SHA256, v.h); got != v.want {
		return &VerifyError{Want: v.want, WantSize: v.size, GotDigest: got, GotSize: v.n}
	}
	return nil
}

// Promise returns the digest and size the bytes must have.
func (v *Verifier) Promise() (digest.Digest, int64) { return v.want, v.size }

// SelfVerifying is a reader that checks its own bytes: it returns a
// *VerifyError from Read at EOF unless they were exactly the size bytes
// of the digest that Promise returns. VerifyingReader is one, and so is
// a bundle's entry (format.Reader).
type SelfVerifying interface {
	io.Reader
	Promise() (digest.Digest, int64)
}

// Verify returns r checked against want and size: r itself when it
// already checks exactly that promise (so that no byte is hashed twice),
// else a VerifyingReader over it.
func Verify(r io.Reader, want digest.Digest, size int64) io.Reader {
	if sv, ok := r.(SelfVerifying); ok {
		if d, n := sv.Promise(); d == want && n == size {
			return r
		}
	}
	return NewVerifyingReader(r, want, size)
}

// VerifyingReader reads at most size bytes from r, hashing them, and
// returns a *VerifyError from Read at EOF when the bytes are not what was
// promised: fewer or more than size, or another digest. A plain io.Copy
// through it therefore cannot succeed on bad bytes. It never reads more
// than size+1 bytes from r.
type VerifyingReader struct {
	r   io.Reader
	v   *Verifier
	err error
}

var _ SelfVerifying = (*VerifyingReader)(nil)

// NewVerifyingReader checks r against want and size. want must be a valid
// sha256 digest (callers validate digests before use).
func NewVerifyingReader(r io.Reader, want digest.Digest, size int64) *VerifyingReader {
	return &VerifyingReader{r: io.LimitReader(r, size+1), v: NewVerifier(want, size)}
}

func (v *VerifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if _, werr := v.v.Write(p[:n]); werr != nil {
		v.err = werr
		return 0, v.err
	}
	if err == io.EOF {
		if v.err = v.v.Verify(); v.err != nil {
			return n, v.err
		}
		v.err = io.EOF
	} else if err != nil {
		v.err = err
	}
	return n, err
}

// Promise returns the digest and size the bytes must have.
func (v *VerifyingReader) Promise() (digest.Digest, int64) { return v.v.Promise() }

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
