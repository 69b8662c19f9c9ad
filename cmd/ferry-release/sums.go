package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/internal/release"
)

// writeSums writes SHA256SUMS: the sha256 of every file of dir but itself
// and its signature, as sha256sum writes them.
func writeSums(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	sums := map[string]digest.Digest{}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), release.SumsFile) && !strings.HasPrefix(e.Name(), ".") {
			if sums[e.Name()], err = fileDigest(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	var b bytes.Buffer
	if err := release.WriteSums(&b, sums); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, release.SumsFile), b.Bytes(), 0o644)
}

func fileDigest(path string) (digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dg := digest.Canonical.Digester()
	if _, err := io.Copy(dg.Hash(), f); err != nil {
		return "", err
	}
	return dg.Digest(), nil
}
