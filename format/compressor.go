package format

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A compressed frame's content is cut into chunks of chunkSize bytes,
// each compressed on its own (zstd's EncodeAll: one frame per chunk) by
// one of compressWorkers goroutines, and written in order by another:
// compression, the costliest work of a save from Docker, runs on both
// cores, output leaves as soon as it is made (a writer waiting for more
// input holds none back), and it depends on the content alone, never on
// how it was written or on which worker took which chunk. The window is
// the chunk (1 MiB), so a cut loses nothing. Memory: poolSize chunks,
// each its input and its output.
const (
	chunkSize       = 1 << 20
	compressWorkers = 2
	poolSize        = compressWorkers + 2 // one filling, one being written
)

// compressJob is one chunk of a frame's content and, once done, its
// compressed frame; or, with mark set, a point in the output to report.
type compressJob struct {
	in, out []byte
	dst     io.Writer
	done    chan struct{}
	mark    func(error)
}

// outBound is the most EncodeAll writes for a chunk (zstd's
// ZSTD_COMPRESSBOUND, and a frame header and checksum): a job's output
// buffer is made that large once, never grown chunk by chunk.
const outBound = chunkSize + chunkSize>>8 + 64

// compressor compresses the content written between begin and end.
type compressor struct {
	enc     *zstd.Encoder
	jobs    chan *compressJob // to the workers
	order   chan *compressJob // to the writer, in order; nil asks for a flush
	free    chan *compressJob // jobs out of flight
	flushed chan error        // the writer's answer to a flush
	wg      sync.WaitGroup
	out     io.Writer
	fill    *compressJob // the chunk being filled
}

func newCompressor(level int) (*compressor, error) {
	enc, err := newEncoder(level)
	if err != nil {
		return nil, err
	}
	c := &compressor{enc: enc, jobs: make(chan *compressJob, poolSize), order: make(chan *compressJob, poolSize+1),
		free: make(chan *compressJob, poolSize), flushed: make(chan error)}
	for range poolSize {
		c.free <- &compressJob{}
	}
	c.wg.Add(compressWorkers + 1)
	for range compressWorkers {
		go func() {
			defer c.wg.Done()
			for j := range c.jobs {
				j.out = c.enc.EncodeAll(j.in, j.out[:0])
				close(j.done)
			}
		}()
	}
	go c.write()
	return c, nil
}

// write writes each chunk's frame, in order, as soon as it is done, and
// answers each flush with the first write error since the last.
func (c *compressor) write() {
	defer c.wg.Done()
	var err error
	for j := range c.order {
		if j == nil {
			c.flushed <- err
			err = nil
			continue
		}
		if j.mark != nil {
			j.mark(err)
			continue
		}
		<-j.done
		if err == nil {
			_, err = j.dst.Write(j.out)
		}
		j.in, j.out = j.in[:0], j.out[:0]
		c.free <- j
	}
}

// begin starts a frame's content, written to out.
func (c *compressor) begin(out io.Writer) { c.out = out }

func (c *compressor) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if c.fill == nil {
			c.fill = <-c.free
			if c.fill.in == nil {
				c.fill.in, c.fill.out = make([]byte, 0, chunkSize), make([]byte, 0, outBound)
			}
		}
		k := min(chunkSize-len(c.fill.in), len(p))
		c.fill.in = append(c.fill.in, p[:k]...)
		p = p[k:]
		if len(c.fill.in) == chunkSize {
			c.submit()
		}
	}
	return n, nil
}

// submit hands the filled chunk to a worker and to the writer.
func (c *compressor) submit() {
	j := c.fill
	c.fill = nil
	j.dst, j.done = c.out, make(chan struct{})
	c.jobs <- j
	c.order <- j
}

// end compresses what is left, waits until every chunk's frame is
// written, and returns the first write error.
func (c *compressor) end() error {
	c.flushFill()
	c.order <- nil
	return <-c.flushed
}

// endAhead compresses what is left and returns at once: the writer
// calls done once every chunk before it is written, with the first write
// error since the last end (which it does not clear).
func (c *compressor) endAhead(done func(error)) {
	c.flushFill()
	c.mark(done)
}

// mark has the writer call done when it reaches this point of the output.
func (c *compressor) mark(done func(error)) { c.order <- &compressJob{mark: done} }

// flushFill submits the chunk being filled, if it holds anything.
func (c *compressor) flushFill() {
	if c.fill != nil {
		if len(c.fill.in) > 0 {
			c.submit()
		} else {
			c.free <- c.fill
			c.fill = nil
		}
	}
}

// abort ends the content after a failure; what it writes no longer
// matters.
func (c *compressor) abort() { c.end() }

// close stops the goroutines.
func (c *compressor) close() {
	close(c.jobs)
	close(c.order)
	c.wg.Wait()
}
