package main

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/release"
	"github.com/ferryhq/ferry/store/trip"
)

// withFerry are save's flags that carry ferry itself to a site.
type withFerry struct {
	WithFerry    []string `placeholder:"OS/ARCH" complete:"release" help:"Carry ferry's release binary for this platform, with the release's SHA256SUMS and its signature, as signed extra entries; load writes them beside the bundle; repeatable."`
	FerryRelease string   `type:"existingdir" placeholder:"DIR" env:"FERRY_RELEASE" help:"With --with-ferry: the release to take them from (what make release writes, or a downloaded release); default: this ferry's own directory."`
	ReleaseKey   string   `type:"existingfile" placeholder:"FILE.pub" help:"With --with-ferry: refuse a release whose SHA256SUMS.sig this key did not make."`
}

// releaseFiles are the files --with-ferry carries, each checked against
// the release's SHA256SUMS (and its signature, with --release-key).
func (w *withFerry) releaseFiles() ([]trip.Extra, error) {
	if len(w.WithFerry) == 0 {
		return nil, nil
	}
	dir := w.FerryRelease
	if dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("--with-ferry: name the release with --ferry-release DIR: %w", err)
		}
		dir = filepath.Dir(exe)
	}
	var key ssh.PublicKey
	if w.ReleaseKey != "" {
		data, err := os.ReadFile(w.ReleaseKey)
		if err != nil {
			return nil, fmt.Errorf("--release-key: %w", err)
		}
		if key, err = format.ParsePublicKey(data); err != nil {
			return nil, fmt.Errorf("--release-key %s: %w", w.ReleaseKey, err)
		}
	}
	files, err := release.Files(dir, w.WithFerry, key)
	if err != nil {
		return nil, fmt.Errorf("--with-ferry: %w (--ferry-release DIR names the release)", err)
	}
	extras := make([]trip.Extra, 0, len(files))
	for _, f := range files {
		extras = append(extras, trip.Extra{Name: f.Name, Path: f.Path, Digest: f.Digest, Size: f.Size, Executable: f.Executable})
	}
	return extras, nil
}
