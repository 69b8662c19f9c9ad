// Command ferry-release packs the binaries `make release` built: for each
// ferry-OS-ARCH[.exe] in a directory it writes ferry-OS-ARCH.tar.gz
// (ferry-OS-ARCH.zip for Windows) holding the binary and the documents
// named (README.md, LICENSE, ferry.1), then SHA256SUMS of every file, in
// the format sha256sum -c reads. The archives are reproducible: entries
// in a fixed order, every time SOURCE_DATE_EPOCH (default 0), owner
// root, fixed modes, no compressor timestamps.
//
// Usage: go run ./cmd/ferry-release -dir dist README.md LICENSE dist/ferry.1
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("dir", "dist", "directory of the ferry-OS-ARCH binaries; the archives and SHA256SUMS are written there")
	flag.Parse()
	if err := run(*dir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ferry-release:", err)
		os.Exit(1)
	}
}

func run(dir string, docs []string) error {
	mtime, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	bins, err := binaries(dir)
	if err != nil {
		return err
	}
	if len(bins) == 0 {
		return fmt.Errorf("%s: no ferry-OS-ARCH binaries to pack", dir)
	}
	for _, b := range bins {
		name, err := pack(dir, b, docs, mtime)
		if err != nil {
			return err
		}
		fmt.Println("pack", name)
	}
	return writeSums(dir)
}
