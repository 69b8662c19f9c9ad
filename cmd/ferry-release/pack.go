package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/ferry/internal/atomicfile"
)

// binaryName is what make release names a binary: ferry-OS-ARCH, with
// .exe for Windows.
var binaryName = regexp.MustCompile(`^ferry-[a-z0-9]+-[a-z0-9]+(\.exe)?$`)

// binaries lists the release binaries in dir, sorted.
func binaries(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && binaryName.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// sourceDateEpoch is the time every archive entry carries.
func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// member is one file of an archive.
type member struct {
	name string // inside the archive
	path string // on disk
	mode int64
}

// pack writes the archive of one binary and returns its name: a
// directory named after the binary holding ferry (ferry.exe), then the
// documents in the order given.
func pack(dir, bin string, docs []string, mtime time.Time) (string, error) {
	base := strings.TrimSuffix(bin, ".exe")
	exe := "ferry"
	if strings.HasSuffix(bin, ".exe") {
		exe += ".exe"
	}
	members := []member{{name: base + "/" + exe, path: filepath.Join(dir, bin), mode: 0o755}}
	for _, d := range docs {
		members = append(members, member{name: base + "/" + filepath.Base(d), path: d, mode: 0o644})
	}
	name, write := base+".tar.gz", writeTarGz
	if exe == "ferry.exe" {
		name, write = base+".zip", writeZip
	}
	err := atomicfile.Write(filepath.Join(dir, name), 0o644, func(f *os.File) error {
		return write(f, members, mtime)
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return name, nil
}

func writeTarGz(w io.Writer, members []member, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw) // gzip.Writer leaves the name and time empty
	for _, m := range members {
		err := copyMember(m, func(size int64) (io.Writer, error) {
			h := &tar.Header{Typeflag: tar.TypeReg, Name: m.name, Size: size, Mode: m.mode, ModTime: mtime, Format: tar.FormatUSTAR}
			return tw, tw.WriteHeader(h)
		})
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func writeZip(w io.Writer, members []member, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, m := range members {
		err := copyMember(m, func(int64) (io.Writer, error) {
			h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: mtime}
			h.SetMode(os.FileMode(m.mode))
			return zw.CreateHeader(h)
		})
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// copyMember copies m's file into the writer open returns for its size.
func copyMember(m member, open func(size int64) (io.Writer, error)) error {
	f, err := os.Open(m.path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	w, err := open(fi.Size())
	if err != nil {
		return err
	}
	n, err := io.Copy(w, f)
	if err == nil && n != fi.Size() {
		err = fmt.Errorf("%s: changed while packed", m.path)
	}
	return err
}
