// Package release knows ferry's release files, as make release writes
// them and save --with-ferry carries them: a binary per platform named
// ferry-OS-ARCH (.exe for Windows), SHA256SUMS in sha256sum's format, and
// its SSHSIG signature SHA256SUMS.sig (namespace ferry-release).
package release

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
)

// Names of a release's files, and the namespace of its signature.
const (
	SumsFile  = "SHA256SUMS"
	SigFile   = SumsFile + ".sig"
	Namespace = "ferry-release"
)

// Platforms are the platforms make release builds.
var Platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}

// maxSums caps SHA256SUMS: a few lines per platform.
const maxSums = 64 << 10

// BinaryName is the file of the binary for platform ("linux/amd64" gives
// ferry-linux-amd64, "windows/amd64" ferry-windows-amd64.exe). It refuses
// a platform that is not os/arch.
func BinaryName(platform string) (string, error) {
	if !platformForm.MatchString(platform) {
		return "", fmt.Errorf("platform %s: want OS/ARCH, such as %s: %w", spec.Quote(platform), strings.Join(Platforms, ", "), spec.ErrBadInput)
	}
	goos, arch, _ := strings.Cut(platform, "/")
	name := "ferry-" + goos + "-" + arch
	if goos == "windows" {
		name += ".exe"
	}
	return name, nil
}

var platformForm = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)

// File is one release file to carry.
type File struct {
	Name       string // in the release, and where it is written at the site
	Path       string // on this machine
	Digest     digest.Digest
	Size       int64
	Executable bool
}

// Files returns the release files in dir to carry for platforms: each
// binary, hashed and checked against SHA256SUMS, then SHA256SUMS and, when
// dir has it, SHA256SUMS.sig. With key, the signature must be there and
// made by key; a release that fails any check is refused.
func Files(dir string, platforms []string, key ssh.PublicKey) ([]File, error) {
	sumsPath := filepath.Join(dir, SumsFile)
	raw, err := readCapped(sumsPath, maxSums)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w (make release writes it beside the binaries)", dir, err)
	}
	sums, err := ParseSums(raw)
	if err != nil {
		return nil, fmt.Errorf("release %s: %s: %w", dir, SumsFile, err)
	}
	sig, err := readCapped(filepath.Join(dir, SigFile), spec.MaxSignatureSize)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("release %s: %w", dir, err)
	}
	if err := checkSignature(dir, raw, sig, key); err != nil {
		return nil, err
	}
	var out []File
	for _, p := range slices.Compact(slices.Sorted(slices.Values(platforms))) {
		f, err := binary(dir, p, sums)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	out = append(out, File{Name: SumsFile, Path: sumsPath, Digest: digest.FromBytes(raw), Size: int64(len(raw))})
	if sig != nil {
		out = append(out, File{Name: SigFile, Path: filepath.Join(dir, SigFile), Digest: digest.FromBytes(sig), Size: int64(len(sig))})
	}
	return out, nil
}

func checkSignature(dir string, sums, sig []byte, key ssh.PublicKey) error {
	if key == nil {
		return nil
	}
	if sig == nil {
		return fmt.Errorf("release %s: no %s to check against the release key: %w", dir, SigFile, spec.ErrUnsigned)
	}
	signer, err := format.VerifySignature(sig, Namespace, sums)
	if err != nil {
		return fmt.Errorf("release %s: %s: %w", dir, SigFile, err)
	}
	if !bytes.Equal(signer.Marshal(), key.Marshal()) {
		return fmt.Errorf("release %s: %s is signed by %s, not by the release key %s: %w",
			dir, SigFile, format.Fingerprint(signer), format.Fingerprint(key), spec.ErrBadSignature)
	}
	return nil
}

// binary hashes the binary of platform and checks it against sums.
func binary(dir, platform string, sums map[string]digest.Digest) (File, error) {
	name, err := BinaryName(platform)
	if err != nil {
		return File{}, err
	}
	want, ok := sums[name]
	if !ok {
		return File{}, fmt.Errorf("release %s: %s %w in %s (build it with make release RELEASE_PLATFORMS=%s)",
			dir, name, spec.ErrNotFound, SumsFile, platform)
	}
	p := filepath.Join(dir, name)
	f, err := os.Open(p)
	if err != nil {
		return File{}, fmt.Errorf("release %s: %w", dir, err)
	}
	defer f.Close()
	dg := digest.Canonical.Digester()
	n, err := io.Copy(dg.Hash(), f)
	if err != nil {
		return File{}, fmt.Errorf("release %s: %w", p, err)
	}
	if got := dg.Digest(); got != want {
		return File{}, fmt.Errorf("release %s: %w", p, &spec.VerifyError{Want: want, GotDigest: got, GotSize: n, WantSize: n})
	}
	return File{Name: name, Path: p, Digest: want, Size: n, Executable: true}, nil
}

// ParseSums reads sha256sum's output: "<64 hex>  <name>" (or " *<name>")
// per line. Names must be plain file names (spec.ValidateFileName).
func ParseSums(data []byte) (map[string]digest.Digest, error) {
	out := map[string]digest.Digest{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		hexsum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		d := digest.NewDigestFromEncoded(digest.SHA256, hexsum)
		if !ok || spec.ValidateDigest(d) != nil || spec.ValidateFileName(name) != nil {
			return nil, fmt.Errorf("line %d is not <sha256>  <file name>: %w", n, spec.ErrCorrupt)
		}
		out[name] = d
	}
	return out, sc.Err()
}

// WriteSums writes sums as sha256sum does, sorted by name.
func WriteSums(w io.Writer, sums map[string]digest.Digest) error {
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		if _, err := fmt.Fprintf(w, "%s  %s\n", sums[name].Encoded(), name); err != nil {
			return err
		}
	}
	return nil
}

// readCapped reads a small file whole, refusing one over max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("%s: over %d bytes: %w", path, max, spec.ErrTooLarge)
	}
	return b, err
}
