package runtimetest

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// CutProxy is a plain-HTTP reverse proxy on a loopback port in front of a
// registry that cuts the connection of the first Cuts GET requests of a
// blob after After bytes of its body, as a flaky network does.
type CutProxy struct {
	// Host is "127.0.0.1:PORT", to use in place of the registry's host.
	Host string
	// Garble, set before the first request, changes the first byte of
	// the body of each connection the proxy cuts: a registry that serves
	// other bytes than the digest names.
	Garble bool

	blob  digest.Digest
	after int64
	mu    sync.Mutex
	cuts  int // cuts left
	made  int
	proxy *httputil.ReverseProxy
	up    *url.URL
}

// StartCutProxy proxies to the plain-HTTP registry at upstream
// ("127.0.0.1:PORT") and cuts the first cuts GETs of blob after after
// bytes. It stops when the test ends.
func StartCutProxy(t testing.TB, upstream string, blob digest.Digest, after int64, cuts int) *CutProxy {
	t.Helper()
	up := &url.URL{Scheme: "http", Host: upstream}
	p := &CutProxy{blob: blob, after: after, cuts: cuts, up: up, proxy: httputil.NewSingleHostReverseProxy(up)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Host = l.Addr().String()
	srv := &http.Server{Handler: p}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

// Cuts returns how many connections the proxy has cut.
func (p *CutProxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made
}

func (p *CutProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+p.blob.String()) || !p.take() {
		p.proxy.ServeHTTP(w, r)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.up.String()+r.URL.RequestURI(), nil)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	n := p.after
	if p.Garble && n > 0 {
		var b [1]byte
		io.ReadFull(resp.Body, b[:])
		w.Write([]byte{b[0] ^ 0xff})
		n--
	}
	io.CopyN(w, resp.Body, n)
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // closes the connection mid-body
}

// take reports whether this request is to be cut, counting it.
func (p *CutProxy) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cuts == 0 {
		return false
	}
	p.cuts--
	p.made++
	return true
}
