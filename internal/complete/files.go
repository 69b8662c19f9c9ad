package complete

import (
	"os"
	"path/filepath"
	"strings"
)

// Files offers the files and directories whose path starts with prefix,
// each after lead (a transport such as "oci:"; "" for none); directories
// end in a separator so that completion goes on into them. Hidden entries
// are offered only once prefix names their leading dot.
func Files(lead, prefix string) []Candidate {
	dir, base := filepath.Split(prefix)
	list := dir
	if list == "" {
		list = "."
	}
	entries, err := os.ReadDir(list)
	if err != nil {
		return nil
	}
	var out []Candidate
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		p := dir + name
		if isDir(filepath.Join(list, name), e) {
			p += string(filepath.Separator)
		}
		out = append(out, Candidate{Value: lead + p})
	}
	return out
}

// isDir follows a symbolic link to say whether it names a directory.
func isDir(path string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
