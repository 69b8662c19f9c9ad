package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/ignore"
	"sigs.k8s.io/yaml"

	"github.com/ferryhq/ferry/spec"
)

// archiveEpoch is the modification time of every entry of an archive
// made from a directory: fixed, so that the same directory always gives
// the same bytes.
var archiveEpoch = time.Unix(0, 0).UTC()

// maxDirDepth bounds the walk of a chart directory, whose symbolic links
// are followed as Helm follows them.
const maxDirDepth = 64

// archiveDir makes the archive of a chart directory as `helm package`
// would lay it out (every file Helm's loader would read, .helmignore
// honoured, under a top directory named after the chart), deterministic:
// entries sorted by name, regular files only, mode 0644, owner 0, the
// epoch as time, and a gzip header without name or time. The same
// directory gives the same bytes, so the same digest. warn, if set, is
// told of each symbolic link that leads out of the directory.
func archiveDir(dir string, warn func(string)) ([]byte, error) {
	files, err := chartFiles(dir, warn)
	if err != nil {
		return nil, err
	}
	top := path.Base(filepath.ToSlash(filepath.Clean(dir)))
	if data, ok := files["Chart.yaml"]; ok {
		var meta struct {
			Name string `json:"name"`
		}
		if yaml.Unmarshal(data, &meta) == nil && meta.Name != "" && meta.Name == path.Base(meta.Name) {
			top = meta.Name
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + n, Mode: 0o644,
			Size: int64(len(files[n])), ModTime: archiveEpoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > MaxArchiveSize {
		return nil, fmt.Errorf("archive of %d bytes, more than %d: %w", buf.Len(), MaxArchiveSize, spec.ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// chartFiles reads the files of a chart directory as Helm's directory
// loader does: .helmignore and its defaults applied, symbolic links
// followed, anything but a regular file refused. Names are relative,
// with "/". A link that leads out of dir is followed too (a chart of a
// monorepo may share templates so), and warn, if set, is told of it: what
// it names goes into the archive, where Helm only logs it.
func chartFiles(dir string, warn func(string)) (map[string][]byte, error) {
	var err error
	rules := ignore.Empty()
	if _, err := os.Stat(filepath.Join(dir, ignore.HelmIgnore)); err == nil {
		r, err := ignore.ParseFile(filepath.Join(dir, ignore.HelmIgnore))
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", ignore.HelmIgnore, err, spec.ErrBadInput)
		}
		rules = r
	}
	rules.AddDefaults()
	w := &dirWalk{rules: rules, files: map[string][]byte{}, warn: warn, dir: dir}
	if w.root, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, err
	}
	if err := w.walk(dir, "", 0); err != nil {
		return nil, err
	}
	return w.files, nil
}

type dirWalk struct {
	rules *ignore.Rules
	files map[string][]byte
	total int64
	warn  func(string)
	dir   string // as given
	root  string // dir, its links resolved
}

func (w *dirWalk) walk(dir, rel string, depth int) error {
	if depth > maxDirDepth {
		return fmt.Errorf("%s: directories nested deeper than %d (a symbolic link loop?): %w", rel, maxDirDepth, spec.ErrBadInput)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := path.Join(rel, e.Name())
		full := filepath.Join(dir, e.Name())
		fi, err := os.Stat(full) // follows a symbolic link, as Helm does
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if w.rules.Ignore(name, fi) {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			w.outside(full, name)
		}
		if fi.IsDir() {
			if err := w.walk(full, name, depth+1); err != nil {
				return err
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file (mode %s): %w", name, fi.Mode(), spec.ErrBadInput)
		}
		if err := w.read(full, name, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

// outside warns of the link full when it resolves out of the chart
// directory.
func (w *dirWalk) outside(full, name string) {
	to, err := filepath.EvalSymlinks(full)
	if err != nil || w.warn == nil {
		return
	}
	if rel, err := filepath.Rel(w.root, to); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return
	}
	w.warn(fmt.Sprintf("chart directory %s: %s is a symbolic link to %s, outside the chart: what it names goes into the chart's archive", w.dir, name, to))
}

func (w *dirWalk) read(full, name string, size int64) error {
	if w.total+size > maxChartFiles {
		return fmt.Errorf("files of more than %d bytes: %w", int64(maxChartFiles), spec.ErrTooLarge)
	}
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := readCapped(f, maxChartFiles-w.total)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	w.total += int64(len(data))
	w.files[name] = data
	return nil
}

// maxChartFiles caps the bytes read from a chart directory, as Helm's
// loader caps a chart decompressed.
const maxChartFiles = 100 << 20
