package docker_test

import (
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// BenchmarkSaveLoad compares, on one image of FERRY_BENCH_MB MiB (default
// 1024) of incompressible files, the docker transport against the docker
// command line on the same engines: `docker save | gzip` against an
// export read through a Source, every blob verified and zstd-compressed
// (what ferry save does with it), and `docker load` against Target.Write.
//
//	go test ./runtime/docker -run '^$' -bench SaveLoad -benchtime 1x
func BenchmarkSaveLoad(b *testing.B) {
	a, dst := engines(b)
	mb := 1024
	if s := os.Getenv("FERRY_BENCH_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	makeBig(b, a, mb)
	tar := filepath.Join(b.TempDir(), "big.tar")
	b.SetBytes(int64(mb) << 20)
	b.ResetTimer()
	for range b.N {
		timed(b, "docker save | gzip", func() { shell(b, a, "docker save big:1 | gzip -c > /dev/null") })
		timed(b, "ferry Source + zstd", func() { ferrySave(b, a) })
		a.Docker(b, "save", "-o", tar, "big:1")
		dst.RemoveAllImages(b)
		timed(b, "docker load", func() { dst.Docker(b, "load", "-q", "-i", tar) })
		dst.RemoveAllImages(b)
		timed(b, "ferry Target.Write", func() { ferryLoad(b, a, dst) })
	}
	b.StopTimer()
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM") {
			b.Logf("peak RSS of the benchmark process: %s", strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")))
		}
	}
}

func timed(b *testing.B, what string, fn func()) {
	start := time.Now()
	fn()
	d := time.Since(start)
	b.Logf("%-22s %6.1f s", what, d.Seconds())
}

func shell(b *testing.B, d *runtimetest.Dockerd, script string) {
	cmd := exec.Command("bash", "-o", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", script, err, out)
	}
}

// makeBig imports an image of one layer holding mb MiB of random files.
func makeBig(b *testing.B, d *runtimetest.Dockerd, mb int) {
	dir := b.TempDir()
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for i := range (mb + 255) / 256 {
		f, err := os.Create(filepath.Join(dir, "f"+strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		for range min(256, mb-i*256) {
			rng.Read(buf)
			f.Write(buf)
		}
		f.Close()
	}
	shell(b, d, "tar -C "+dir+" -c . | docker import - big:1 >/dev/null")
}

func ferrySave(b *testing.B, d *runtimetest.Dockerd) {
	ctx := b.Context()
	src, err := docker.FromDaemon("big:1", docker.Options{Host: d.Host})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	imgs, err := src.Resolve(ctx)
	if err != nil {
		b.Fatal(err)
	}
	enc, _ := zstd.NewWriter(io.Discard)
	defer enc.Close()
	_, err = runtime.Walk(ctx, src, imgs[0], func(b runtime.Blob) error {
		if b.Node != nil {
			return nil
		}
		return runtime.CopyBlob(ctx, enc, src, b)
	})
	if err != nil {
		b.Fatal(err)
	}
}

func ferryLoad(b *testing.B, from, to *runtimetest.Dockerd) {
	ctx := b.Context()
	src, err := docker.FromDaemon("big:1", docker.Options{Host: from.Host})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	imgs, err := src.Resolve(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tgt, _ := docker.NewTarget(docker.Options{Host: to.Host})
	if err := tgt.Write(ctx, imgs, src); err != nil {
		b.Fatal(err)
	}
	b.Logf("  (of which Write %.1f s; the rest is reading from A)", time.Since(start).Seconds())
}
