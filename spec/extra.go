package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// Extra entries (spec/extra-v1.md): a file that travels with the images
// and is written beside the bundle when it is loaded, as ferry's own
// release binaries do (save --with-ferry).
const (
	// KindExtra is the index kind of a blob shipped as an extra file.
	KindExtra = "extra"
	// ExtraPrefix is the directory of extra entries: ExtraPrefix + the
	// file's name (never blobs/sha256/, which holds image blobs).
	ExtraPrefix = "extras/"
	// MediaTypeExecutable is the media type ferry gives an extra that is
	// a program (written with the executable bits); others are files.
	MediaTypeExecutable = "application/vnd.ferry.executable"
)

// Extra is what the index says of an extra entry (the blob's "extra"
// field). The file's digest, size and media type are the Blob record's.
type Extra struct {
	// Name is the file's name: the entry is ExtraPrefix + Name, and a
	// load writes the file under that name beside the bundle.
	Name string `json:"name"`
	// Executable says the file is a program: it is written with mode
	// 0755 where the file system has modes.
	Executable bool `json:"executable,omitempty"`
}

// Validate checks an extra's name (ValidateFileName). Errors wrap
// ErrCorrupt.
func (x *Extra) Validate() error {
	if err := ValidateFileName(x.Name); err != nil {
		return fmt.Errorf("extra: %w: %w", err, ErrCorrupt)
	}
	return nil
}

// fileName is a name that is one plain file name on every system ferry
// runs on: letters, digits, '.', '_', '+' and '-', starting and ending
// with a letter or digit (so never ".", "..", a hidden file, or a name
// Windows trims), at most 128 bytes.
var fileName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,126}[A-Za-z0-9])?$`)

// windowsDevices are names Windows gives to devices in every directory
// (with any extension): a file so named cannot be written there.
var windowsDevices = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

// ValidateFileName refuses, with ErrBadInput, a name that is not one
// plain file name on Linux, macOS and Windows alike: a name from a bundle
// becomes a file's name only through this check.
func ValidateFileName(name string) error {
	base, _, _ := strings.Cut(name, ".")
	if !fileName.MatchString(name) || windowsDevices[strings.ToUpper(base)] {
		return Mark(fmt.Errorf("file name %s: use 1 to 128 letters, digits, '.', '_', '+' or '-', starting and ending with a letter or digit, not a Windows device name",
			Quote(clip(name))), ErrBadInput)
	}
	return nil
}
