package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// discardAll reads every entry of data with Discard, every other one
// (when alternate) with io.Copy instead, and returns what happened to
// each entry in stream order ("name ok", "name fault") and the fatal
// error, if any: the verdicts are waited for only at the end, as verify
// waits for them.
func discardAll(t *testing.T, data []byte, opts ReaderOptions, alternate bool) ([]string, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type pending struct {
		name    string
		verdict func() error
	}
	var out []pending
	var fatal error
	for i := 0; ; i++ {
		e, err := r.Next()
		var ee *EntryError
		if errors.As(err, &ee) {
			out = append(out, pending{ee.Name, func() error { return ee }})
			continue
		}
		if err != nil {
			if err != io.EOF {
				fatal = err
			}
			break
		}
		if alternate && i%2 == 1 {
			_, err := io.Copy(io.Discard, r)
			if err != nil && !errors.As(err, new(*spec.VerifyError)) {
				fatal = err
				break
			}
			out = append(out, pending{e.Name, func() error { return err }})
			continue
		}
		verdict, err := r.Discard()
		if err != nil {
			fatal = err
			break
		}
		out = append(out, pending{e.Name, verdict})
	}
	var got []string
	for _, p := range out {
		if err := p.verdict(); err != nil {
			got = append(got, p.name+" fault")
		} else {
			got = append(got, p.name+" ok")
		}
	}
	return got, fatal
}

// copyAll is discardAll's reference: every entry read with io.Copy.
func copyAll(t *testing.T, data []byte, opts ReaderOptions) ([]string, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for {
		e, err := r.Next()
		var ee *EntryError
		if errors.As(err, &ee) {
			got = append(got, ee.Name+" fault")
			continue
		}
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		_, err = io.Copy(io.Discard, r)
		switch {
		case errors.As(err, new(*spec.VerifyError)):
			got = append(got, e.Name+" fault")
		case err != nil:
			return got, err
		default:
			got = append(got, e.Name+" ok")
		}
	}
}

// TestReader_DiscardConcurrent: entries between discardMin and
// readAheadMin are hashed on goroutines of their own, through at most
// discardBuffers buffers made once per Reader.
func TestReader_DiscardConcurrent(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(35, 100<<10, 700<<10, 1500<<10, 300<<10, 900<<10)
	data := f.write(t, s, WriterOptions{Compression: CompressionNone, ModTime: testTime})
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var verdicts []func() error
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := r.Discard()
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		verdicts = append(verdicts, v)
	}
	for i, v := range verdicts {
		if err := v(); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	if r.discardMade == 0 || r.discardMade > discardBuffers {
		t.Errorf("Discard made %d buffers, want 1 to %d", r.discardMade, discardBuffers)
	}
}

// TestReader_Discard: entries hashed on goroutines of their own, their
// verdicts waited for only at the end, are judged as entries read in
// turn: every good entry passes, a damaged one (in a large entry read
// ahead, or a small one) costs only itself, a cut stream is fatal; read
// alone or between entries read with io.Copy, in either compression.
func TestReader_Discard(t *testing.T) {
	_, s := testKey(t, 1)
	opts := ReaderOptions{Trust: trustKey(s.PublicKey())}
	for _, c := range []string{CompressionZstd, CompressionNone} {
		for name, f := range map[string]*fixture{
			"large": largeFixture(),                             // read ahead: hashed at once
			"small": newFixture(31, 10, 300),                    // under discardMin: hashed at once
			"mid":   newFixture(33, 100<<10, 700<<10, 1500<<10), // hashed on goroutines of their own
		} {
			data := f.write(t, s, WriterOptions{Compression: c, ModTime: testTime})
			cases := map[string][]byte{"whole": data}
			if c == CompressionNone {
				last := f.blobs[f.order[len(f.order)-1]]
				at := bytes.Index(data, last) // stored as it is: no compression
				if at < 0 {
					t.Fatal("the last blob's bytes are not in the bundle")
				}
				damaged := bytes.Clone(data)
				damaged[at+len(last)/2] ^= 1
				cases["damaged"] = damaged
				cases["cut"] = data[:at+len(last)/2]
			}
			for how, in := range cases {
				want, wantFatal := copyAll(t, in, opts)
				for _, alternate := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%s/%s/alternate=%v", c, name, how, alternate), func(t *testing.T) {
						got, fatal := discardAll(t, in, opts, alternate)
						if !slices.Equal(got, want) || (fatal == nil) != (wantFatal == nil) {
							t.Errorf("with Discard: %q, fatal %v\nread in turn: %q, fatal %v", got, fatal, want, wantFatal)
						}
						faults := 0
						for _, g := range got {
							if strings.HasSuffix(g, " fault") {
								faults++
							}
						}
						if how == "damaged" && (faults != 1 || fatal != nil) {
							t.Errorf("damaged: %q, fatal %v; want one entry's fault", got, fatal)
						}
						if how == "whole" && faults != 0 {
							t.Errorf("whole: %q", got)
						}
						if how == "cut" && (fatal == nil || !errors.Is(fatal, spec.ErrCorrupt)) {
							t.Errorf("cut: fatal %v, want a truncation wrapping spec.ErrCorrupt", fatal)
						}
					})
				}
			}
		}
	}
}
