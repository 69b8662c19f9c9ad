package main

import (
	"archive/tar"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// cutExports listens on a socket in front of the engine at socket and
// passes everything through, but for the answer to an export (GET
// /images/get), which it cuts after n bytes, as an engine that dies
// mid-export would. It returns the DOCKER_HOST to give.
func cutExports(t *testing.T, socket string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cut.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); cutConn(c, socket, n) }()
		}
	}()
	return "unix://" + path
}

func cutConn(c net.Conn, socket string, n int) {
	defer c.Close()
	e, err := net.Dial("unix", socket)
	if err != nil {
		return
	}
	defer e.Close()
	var mu sync.Mutex
	exporting := false
	go func() { // requests: passed on whole, noting an export
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Read(buf)
			if bytes.Contains(buf[:k], []byte("/images/get")) {
				mu.Lock()
				exporting = true
				mu.Unlock()
			}
			if _, werr := e.Write(buf[:k]); err != nil || werr != nil {
				e.Close()
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	sent := 0
	for {
		k, err := e.Read(buf)
		mu.Lock()
		cut := exporting
		mu.Unlock()
		if cut {
			k = min(k, n-sent)
			sent += k
		}
		if _, werr := c.Write(buf[:k]); err != nil || werr != nil || (cut && sent >= n) {
			return
		}
	}
}

// TestDocker_SaveExportCut: an export that breaks in the middle of a
// layer, after other layers were read and handed to the compressor,
// fails the save with an error that names the image, and leaves no
// bundle, no temporary file beside it, nothing in the home's tmp/, and
// no trip recorded.
func TestDocker_SaveExportCut(t *testing.T) {
	src, _ := chain(t, 3, 2<<20)
	d := runtimetest.StartDockerd(t)
	d.SkopeoLoad(t, "oci:"+src+":v3", "app:3")
	s := newSites(t)
	archive := filepath.Join(s.dir, "saved.tar")
	d.Docker(t, "save", "-o", archive, "app:3")
	at, layers := midLastLayer(t, archive)
	if layers != 3 {
		t.Fatalf("docker save wrote %d layers, want 3", layers)
	}
	t.Setenv("DOCKER_HOST", cutExports(t, d.Socket, at))
	out := filepath.Join(s.dir, "out")
	os.MkdirAll(out, 0o755)
	r := run(t, s.hq, "save", "docker-daemon:app:3", "--for", "plant-7", "-o", filepath.Join(out, "trip.ferry"))
	if r.code == 0 || !strings.Contains(r.stderr, "docker-daemon:app:3") || !strings.Contains(r.stderr, "layer.tar") {
		t.Errorf("save of a cut export: %s; want a failure naming the image and the layer cut", r)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a failed save left %v beside its bundle", names(ents))
	}
	if ents, _ := os.ReadDir(filepath.Join(s.hq, "tmp")); len(ents) != 0 {
		t.Errorf("a failed save left %v in tmp/", names(ents))
	}
	show := must(t, s.hq, "--json", "site", "show", "plant-7")
	if !strings.Contains(show.stdout, `"made": null`) && !strings.Contains(show.stdout, `"made": []`) {
		t.Errorf("a failed save recorded a trip: %s", show.stdout)
	}
	// The same engine, not cut, saves the image: the cut was the failure.
	t.Setenv("DOCKER_HOST", d.Host)
	must(t, s.hq, "save", "docker-daemon:app:3", "--for", "plant-7", "-o", filepath.Join(out, "trip.ferry"))
}

// midLastLayer returns the offset of the middle of the last layer in the
// docker archive at path (the export the engine streams is laid out as
// its docker save), and how many layers it holds.
func midLastLayer(t *testing.T, path string) (int, int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := &countReader{r: f}
	tr := tar.NewReader(cr)
	at, layers := 0, 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return at, layers
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, "/layer.tar") {
			at, layers = cr.n+int(h.Size)/2, layers+1
		}
	}
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func names(ents []os.DirEntry) []string {
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
