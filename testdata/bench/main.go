// Command bench times ferry against docker, skopeo and crane on every
// path of issue 13's table and prints one table: per path and image,
// ferry's median time and each peer's over several interleaved runs,
// their ratio (peer time ÷ ferry time: above 1 ferry is faster), and the
// peak RSS of each. It builds its images (testdata/mkimage: a Debian-like
// base of about 100 MiB, 20 small layers, a 2 GiB single layer), starts
// its own docker-registry and dockerd (runtimetest), and stops them.
//
//	go run ./testdata/bench -ferry bin/ferry -crane DIR/crane [-dir DIR] [-runs 5] [-only REGEXP]
//
// Run it with `make bench`, which builds ferry and crane first. Times are
// wall times of whole commands, caches warm; the figures are only as
// quiet as the machine.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	ferry, crane, dir string
	runs, bigRuns     int
	bigMiB            int
	only              *regexp.Regexp
}

func run() error {
	var o options
	var only string
	flag.StringVar(&o.ferry, "ferry", "bin/ferry", "the ferry binary")
	flag.StringVar(&o.crane, "crane", "crane", "the crane binary")
	flag.StringVar(&o.dir, "dir", "", "work directory, kept between runs for its images (default: a temporary one)")
	flag.IntVar(&o.runs, "runs", 5, "runs of each command on the small images")
	flag.IntVar(&o.bigRuns, "big-runs", 3, "runs of each command on the 2 GiB image")
	flag.IntVar(&o.bigMiB, "big-mib", 2048, "size of the single-layer image")
	flag.StringVar(&only, "only", "", "measure only the rows whose path matches")
	flag.Parse()
	o.only = regexp.MustCompile(only)
	var err error
	if o.ferry, err = filepath.Abs(o.ferry); err != nil {
		return err
	}
	if o.crane, err = exec.LookPath(o.crane); err != nil {
		return fmt.Errorf("crane: %w (make bench builds it)", err)
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "ferry-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.dir)
	}
	for _, tool := range []string{"skopeo", "docker", "dockerd", "docker-registry", "zstd", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed: %w", tool, err)
		}
	}
	b, err := setup(o)
	if err != nil {
		return err
	}
	defer b.stop()
	rows := b.rows()
	var kept []*row
	for _, r := range rows {
		if !o.only.MatchString(r.path) {
			continue
		}
		n := o.runs
		if r.image == "big" {
			n = o.bigRuns
		}
		fmt.Fprintf(os.Stderr, "measuring %s on %s (%d runs)\n", r.path, r.image, n)
		if err := r.measure(n); err != nil {
			return err
		}
		kept = append(kept, r)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("ferry bench: %s, %d cores, %s; load average %s", version(), runtime.NumCPU(), time.Now().UTC().Format(time.DateOnly),
		strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("; medians of %d runs (%d on big), interleaved\n", o.runs, o.bigRuns)
	fmt.Printf("images: base %s, many %s, big %s\n\n", b.describe("base"), b.describe("many"), b.describe("big"))
	printTable(kept)
	return nil
}

func version() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// fresh empties dir.
func fresh(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Dir(dir), 0o755)
}

// quiet runs a command whose output matters only on failure.
func quiet(env []string, argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail(string(out), 2000))
	}
	return nil
}
