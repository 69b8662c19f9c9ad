package readahead

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func bufs(n, size int) [][]byte {
	var out [][]byte
	for range n {
		out = append(out, make([]byte, size))
	}
	return out
}

// TestReader: read through Read, Next or WriteTo, the stream is the
// source's, whatever the sizes of the source's reads; the source's error
// comes after its bytes; Close mid-stream returns.
func TestReader(t *testing.T) {
	src := bytes.Repeat([]byte("read ahead "), 100000)
	for _, how := range []string{"read", "next", "writeto"} {
		r := New(iotest.HalfReader(bytes.NewReader(src)), bufs(3, 4096))
		var got bytes.Buffer
		var err error
		switch how {
		case "read":
			_, err = io.CopyBuffer(&got, struct{ io.Reader }{r}, make([]byte, 1000))
		case "next":
			for {
				var b []byte
				if b, err = r.Next(); err != nil {
					break
				}
				got.Write(b)
			}
			if err == io.EOF {
				err = nil
			}
		case "writeto":
			_, err = r.WriteTo(&got)
		}
		r.Close()
		if err != nil || !bytes.Equal(got.Bytes(), src) {
			t.Errorf("%s: %d bytes, %v; want the %d of the source", how, got.Len(), err, len(src))
		}
	}
	boom := errors.New("boom")
	r := New(io.MultiReader(bytes.NewReader(src[:5000]), iotest.ErrReader(boom)), bufs(2, 1024))
	got, err := io.ReadAll(struct{ io.Reader }{r})
	r.Close()
	if !errors.Is(err, boom) || !bytes.Equal(got, src[:5000]) {
		t.Errorf("failing source: %d bytes, %v; want its 5000 then its error", len(got), err)
	}
	r = New(bytes.NewReader(src), bufs(2, 1024))
	r.Read(make([]byte, 10))
	r.Close()
}
