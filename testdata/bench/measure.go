package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// step is one command of a row: untimed preparation (a fresh home, an
// image removed from the engine), then the timed command.
type step struct {
	tool    string          // "ferry", "skopeo", "crane", "docker save -o"…
	argv    func() []string // the command, asked after prepare; a pipeline runs as sh -c
	env     []string        // added to the environment
	prepare func() error
}

// sample is one timed run.
type sample struct {
	secs float64
	rss  int64 // peak RSS in KiB
}

// row is a path of the table measured on one image: ferry and
// its peers, each run several times, interleaved.
type row struct {
	path, image, goal string
	bytes             int64 // what the path moves, for GB/s
	steps             []step
	samples           [][]sample // per step
}

// measure runs every step of r, runs times, interleaved (ferry, peer,
// peer, ferry…), so that a change of load hits all alike.
func (r *row) measure(runs int) error {
	r.samples = make([][]sample, len(r.steps))
	for range runs {
		for i, s := range r.steps {
			if s.prepare != nil {
				if err := s.prepare(); err != nil {
					return fmt.Errorf("%s %s: prepare %s: %w", r.path, r.image, s.tool, err)
				}
			}
			// The disk's write-back of what earlier steps wrote (2 GiB
			// after a big image) is finished before the clock starts:
			// otherwise the next command's fsyncs wait behind it, and
			// the step that happens to follow a big write pays for it.
			flushDisk()
			sm, err := runTimed(s)
			if err != nil {
				return fmt.Errorf("%s %s: %s: %w", r.path, r.image, s.tool, err)
			}
			r.samples[i] = append(r.samples[i], sm)
		}
	}
	return nil
}

// runTimed runs one command and returns its wall time and peak RSS (of
// the process and the children it waited for).
func runTimed(s step) (sample, error) {
	argv := s.argv()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail(out.String(), 2000))
	}
	return sample{secs: secs, rss: peakRSS(cmd.ProcessState)}, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// median of the times, and the largest RSS, of one step.
func summary(ss []sample) (secs float64, rssMiB int64) {
	t := make([]float64, len(ss))
	for i, s := range ss {
		t[i] = s.secs
		rssMiB = max(rssMiB, s.rss/1024)
	}
	slices.Sort(t)
	if len(t)%2 == 1 {
		return t[len(t)/2], rssMiB
	}
	return (t[len(t)/2-1] + t[len(t)/2]) / 2, rssMiB
}

// print writes the table: one line per peer of each row, ferry's figures
// repeated, the ratio peer time ÷ ferry time (> 1: ferry is faster).
func printTable(rows []*row) {
	fmt.Printf("| %-30s | %-5s | %10s | %6s | %-31s | %10s | %6s | %7s | %-22s |\n",
		"path", "image", "ferry", "RSS", "peer", "peer", "RSS", "ratio", "goal")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", dash(32), dash(7), dash(12), dash(8), dash(33), dash(12), dash(8), dash(9), dash(24))
	for _, r := range rows {
		fs, frss := summary(r.samples[0])
		ferry := seconds(fs)
		if r.bytes > 0 {
			ferry = fmt.Sprintf("%5.2f GB/s", float64(r.bytes)/fs/1e9)
		}
		for i, s := range r.steps[1:] {
			ps, prss := summary(r.samples[i+1])
			peer := seconds(ps)
			if r.bytes > 0 {
				peer = fmt.Sprintf("%5.2f GB/s", float64(r.bytes)/ps/1e9)
			}
			goal := ""
			if i == 0 {
				goal = r.goal
			}
			fmt.Printf("| %-30s | %-5s | %10s | %4d M | %-31s | %10s | %4d M | %6.2fx | %-22s |\n",
				r.path, r.image, ferry, frss, s.tool, peer, prss, ps/fs, goal)
		}
	}
}

// seconds formats a time to three significant places at least: the rows
// of small images last tens of milliseconds.
func seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%7.0f ms", s*1000)
	}
	return fmt.Sprintf("%8.2f s", s)
}

func dash(n int) string { return strings.Repeat("-", n) }
