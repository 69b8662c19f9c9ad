package format

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A compressed frame's content is cut into chunks of chunkSize bytes,
// each compressed on its own (zstd's EncodeAll: one frame per chunk) by
// one of compressWorkers goroutines, and written in order: compression,
// the costliest work of a save from Docker, runs on both cores, and the
// output depends on the content alone, never on how it was written or on
// which worker took which chunk. A 1 MiB window loses next to nothing at
// a 2 MiB cut. Memory: inFlight chunks, each its input and its output.
const (
	chunkSize       = 2 << 20
	compressWorkers = 2
	inFlight        = compressWorkers + 1
)

// chunk is one piece of a frame's content and, once done, its frame.
type compressJob struct {
	in, out []byte
	done    chan struct{}
}

// compressor compresses the content written between begin and end.
type compressor struct {
	enc     *zstd.Encoder
	jobs    chan *compressJob
	workers sync.WaitGroup
	out     io.Writer
	fill    *compressJob   // the chunk being filled
	queue   []*compressJob // handed to the workers, in order
	spare   []*compressJob
	err     error
}

func newCompressor(level int) (*compressor, error) {
	enc, err := newEncoder(level)
	if err != nil {
		return nil, err
	}
	c := &compressor{enc: enc, jobs: make(chan *compressJob, inFlight)}
	for range compressWorkers {
		c.workers.Add(1)
		go func() {
			defer c.workers.Done()
			for j := range c.jobs {
				j.out = c.enc.EncodeAll(j.in, j.out[:0])
				close(j.done)
			}
		}()
	}
	return c, nil
}

// begin starts a frame's content, written to out.
func (c *compressor) begin(out io.Writer) { c.out, c.err = out, nil }

func (c *compressor) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && c.err == nil {
		if c.fill == nil {
			c.fill = c.job()
		}
		k := min(chunkSize-len(c.fill.in), len(p))
		c.fill.in = append(c.fill.in, p[:k]...)
		p = p[k:]
		if len(c.fill.in) == chunkSize {
			c.submit()
		}
	}
	if c.err != nil {
		return 0, c.err
	}
	return n, nil
}

// end compresses what is left and writes every chunk's frame.
func (c *compressor) end() error {
	if c.fill != nil && len(c.fill.in) > 0 {
		c.submit()
	}
	for len(c.queue) > 0 {
		c.writeHead()
	}
	return c.err
}

// abort drops the content after a failure.
func (c *compressor) abort() {
	for len(c.queue) > 0 {
		<-c.queue[0].done
		c.recycle(c.queue[0])
		c.queue = c.queue[1:]
	}
	if c.fill != nil {
		c.recycle(c.fill)
		c.fill = nil
	}
}

func (c *compressor) job() *compressJob {
	if n := len(c.spare); n > 0 {
		j := c.spare[n-1]
		c.spare = c.spare[:n-1]
		return j
	}
	return &compressJob{in: make([]byte, 0, chunkSize)}
}

func (c *compressor) recycle(j *compressJob) {
	j.in, j.out, j.done = j.in[:0], j.out[:0], nil
	c.spare = append(c.spare, j)
}

// submit hands the filled chunk to the workers, first writing the oldest
// frame when inFlight chunks are out.
func (c *compressor) submit() {
	for len(c.queue) >= inFlight {
		c.writeHead()
	}
	j := c.fill
	c.fill = nil
	j.done = make(chan struct{})
	c.queue = append(c.queue, j)
	c.jobs <- j
}

// writeHead waits for the oldest chunk and writes its frame.
func (c *compressor) writeHead() {
	j := c.queue[0]
	c.queue = c.queue[1:]
	<-j.done
	if c.err == nil {
		_, c.err = c.out.Write(j.out)
	}
	c.recycle(j)
}

// close stops the workers.
func (c *compressor) close() {
	c.abort()
	close(c.jobs)
	c.workers.Wait()
}
