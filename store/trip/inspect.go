package trip

import (
	"fmt"
	"io"
	"os"

	"github.com/ferryhq/ferry/format"
)

// Info is a bundle's index and what is known of its signature.
type Info struct {
	Bundle    string        `json:"bundle"`
	Index     *format.Index `json:"index"`
	Signature string        `json:"signature"`
}

// Inspect reads only a bundle's index and signature entries. trust, if
// non-nil, judges the signer; its verdict is reported, not enforced, so a
// user can see what an untrusted bundle claims.
func Inspect(path string, trust Truster) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	defer f.Close()
	verdict := "not checked (no home here; use ferry verify --key FILE.pub)"
	if trust != nil {
		r, err := format.NewReader(f, format.ReaderOptions{Trust: trust})
		if err == nil {
			defer r.Close()
			return &Info{Bundle: path, Index: r.Index(), Signature: "good, by " + format.Fingerprint(r.Key())}, nil
		}
		verdict = "NOT TRUSTED: " + err.Error()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	r, err := format.NewReader(f, format.ReaderOptions{InsecureSkipSignature: true})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	defer r.Close()
	return &Info{Bundle: path, Index: r.Index(), Signature: verdict}, nil
}
