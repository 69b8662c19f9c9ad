package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// ferryCmd is the ferry command as a process of its own (the test binary
// run as ferry), in dir, on home, so that its standard input and output
// are real pipes and files.
func ferryCmd(dir, home string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1", "SOURCE_DATE_EPOCH=1700000000")
	cmd.Dir = dir
	return cmd
}

// tarLen is the length of a zstd bundle's tar.
func tarLen(t *testing.T, bundle []byte) int {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatalf("decompress: %v", err)
	}
	return int(n)
}

// TestPipes: save -o - writes the bundle to standard output and load -
// and verify - read one from standard input, as in
// `ferry save … -o - | ssh site ferry load -`; the receipt goes to the
// current directory (or --receipt FILE), never to /dev/; what save says
// goes to stderr. Before, load /dev/stdin wrote its receipt to /dev/.
func TestPipes(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	s := newSites(t)
	file := filepath.Join(s.dir, "file.ferry")
	c := ferryCmd(s.dir, s.hq, "save", "oci:"+src+":v1", "-o", file)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("save -o FILE: %v\n%s", err, out)
	}
	work := t.TempDir()
	save := ferryCmd(s.dir, s.hq, "--json", "save", "oci:"+src+":v1", "-o", "-")
	load := ferryCmd(work, s.site, "load", "-")
	pipe, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var streamed bytes.Buffer
	load.Stdin = io.TeeReader(pipe, &streamed)
	var saveErr, loadOut bytes.Buffer
	save.Stderr, load.Stdout, load.Stderr = &saveErr, &loadOut, &loadOut
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	if err := load.Run(); err != nil {
		t.Fatalf("load -: %v\n%s", err, loadOut.String())
	}
	if err := save.Wait(); err != nil || !strings.Contains(saveErr.String(), `"bundle": "-"`) {
		t.Fatalf("save -o -: %v, stderr %s; want its report on stderr", err, saveErr.String())
	}
	if _, err := os.Stat(filepath.Join(work, "plant-7-receipt.ferry")); err != nil {
		t.Errorf("load - wrote no receipt in its working directory: %v\n%s", err, loadOut.String())
	}
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v1" {
		t.Errorf("after load -, ls = %v", names)
	}
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":v1"), runtimetest.SkopeoDigest(t, "oci:"+src+":v1"); got != want {
		t.Errorf("through save -o - | load -, v1 is %s, want %s (skopeo inspect --raw)", got, want)
	}
	// The same tar but for the sequence (and so the id): of the same length
	// once decompressed (compressed, the index's frame may differ by a byte).
	if filed, _ := os.ReadFile(file); tarLen(t, streamed.Bytes()) != tarLen(t, filed) {
		t.Errorf("save -o - streamed a tar of %d bytes, save -o FILE one of %d: want the same bundle (but for its sequence)",
			tarLen(t, streamed.Bytes()), tarLen(t, filed))
	}

	verify := ferryCmd(work, s.site, "verify", "--allow-replay", "-")
	verify.Stdin = bytes.NewReader(streamed.Bytes())
	if out, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(out), "verify -: OK") {
		t.Errorf("verify - = %v\n%s", err, out)
	}
	receipt := filepath.Join(t.TempDir(), "r.ferry")
	again := ferryCmd(work, s.site, "load", "--allow-replay", "--receipt", receipt, "-")
	again.Stdin = bytes.NewReader(streamed.Bytes())
	if out, err := again.CombinedOutput(); err != nil {
		t.Errorf("load --receipt FILE - = %v\n%s", err, out)
	}
	if _, err := os.Stat(receipt); err != nil {
		t.Errorf("load --receipt %s wrote nothing there: %v", receipt, err)
	}
	if r := run(t, s.site, "load", "-", "-"); r.code != 2 {
		t.Errorf("load - - = %s, want a usage error", r)
	}
	must(t, s.site, "check", "--read-data")
}
