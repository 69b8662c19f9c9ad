package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// progress shows long work: a bar redrawn in place on a terminal, a plain
// line per blob otherwise. It satisfies trip.Progress.
type progress struct {
	g     *Globals
	verb  string
	total int64
	tty   bool

	mu    sync.Mutex
	done  int64
	start time.Time
	last  time.Time
}

func newProgress(g *Globals, verb string, total int64) *progress {
	return &progress{g: g, verb: verb, total: total, tty: isTerminal(g.stderr), start: time.Now()}
}

// plainLineMin is the smallest blob that gets a line of its own when
// stderr is not a terminal: manifests and configs would only be noise.
const plainLineMin = 1 << 20

func (p *progress) Blob(d digest.Digest, size int64) {
	if p.g.JSON || p.tty || size < plainLineMin {
		return
	}
	fmt.Fprintf(p.g.stderr, "%s %s %s\n", p.verb, shortDigest(d), humanBytes(size))
}

func (p *progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if !p.tty || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.draw()
}

func (p *progress) draw() {
	rate := float64(p.done) / time.Since(p.start).Seconds()
	const width = 30
	bar := ""
	if p.total > 0 {
		fill := int(width * p.done / p.total)
		if fill > width {
			fill = width
		}
		for i := 0; i < width; i++ {
			if i < fill {
				bar += "="
			} else {
				bar += " "
			}
		}
		bar = "[" + bar + "] "
	}
	fmt.Fprintf(p.g.stderr, "\r%s %s%s / %s  %s/s   ", p.verb, bar, humanBytes(p.done), humanBytes(p.total), humanBytes(int64(rate)))
}

// SetTotal sets the bytes the bar counts up to, once they are known (a
// bundle's index says them).
func (p *progress) SetTotal(n int64) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
}

// Done ends the bar's line.
func (p *progress) Done() {
	if p.tty {
		p.mu.Lock()
		p.draw()
		p.mu.Unlock()
		fmt.Fprintln(p.g.stderr)
	}
}

func shortDigest(d digest.Digest) string {
	s := d.Encoded()
	if len(s) > 12 {
		s = s[:12]
	}
	return d.Algorithm().String() + ":" + s
}
