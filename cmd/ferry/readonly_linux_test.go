package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// nobody is the user the read-only tests run ferry as when they run as
// root, to whom file modes mean nothing.
const nobody = 65534

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// unprivileged returns ferry as a process of its own, on home, that a
// read-only file stops: as root it runs as nobody (from a copy of the
// test binary nobody may run, with every directory above home and dir
// opened to it); otherwise as the user, whom modes stop already.
func unprivileged(t *testing.T, home string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := ferryCmd(os.TempDir(), home, args...)
	if os.Geteuid() != 0 {
		return cmd
	}
	binOnce.Do(func() {
		var dir string
		if dir, binErr = os.MkdirTemp("", "ferry-bin-"); binErr == nil {
			os.Chmod(dir, 0o755)
			binPath = filepath.Join(dir, "ferry.test")
			binErr = copyFile(os.Args[0], binPath, 0o755)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	cmd.Path, cmd.Args[0] = binPath, binPath
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return cmd
}

// openTo lets nobody reach path: every directory from the temp dir down
// to it gets search permission for all.
func openTo(t *testing.T, path string) {
	t.Helper()
	for p := path; strings.HasPrefix(p, os.TempDir()) && len(p) > len(os.TempDir()); p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			os.Chmod(p, st.Mode().Perm()|0o055)
		}
	}
}

// giveTo makes nobody (when root) the owner of everything under path.
func giveTo(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, nobody, nobody)
		}
		return nil
	})
	openTo(t, path)
}

// readOnly makes everything under path readable by all and writable by
// none, as on a DVD.
func readOnly(t *testing.T, path string) {
	t.Helper()
	filepath.Walk(path, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			os.Chmod(p, 0o555)
		} else if err == nil {
			os.Chmod(p, 0o444)
		}
		return nil
	})
	openTo(t, path)
	t.Cleanup(func() {
		filepath.Walk(path, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
}

func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestReadOnlyHome: a home on a read-only medium (a site's audit copy)
// can be listed, inspected, checked and used to verify: ls, du, inspect,
// verify, check and site show/ls open the catalog read-only. Before, each
// failed to open the catalog for writing.
func TestReadOnlyHome(t *testing.T) {
	s, good := goodBundle(t)
	must(t, s.site, "load", good)
	bundle := filepath.Join(t.TempDir(), "good.ferry")
	if err := copyFile(good, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly(t, s.site)
	readOnly(t, filepath.Dir(bundle))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ls"}, "v2"},
		{[]string{"du"}, "total on disk"},
		{[]string{"inspect", bundle}, "signature: good"},
		{[]string{"verify", "--allow-replay", bundle}, ": OK"},
		{[]string{"check", "--read-data"}, ": ok"},
		{[]string{"site", "show", "hq"}, "bundles loaded from it: 1"},
		{[]string{"site", "ls"}, "hq"},
	} {
		out, err := unprivileged(t, s.site, tc.args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("ferry %s on a read-only home = %v\n%s\nwant it to say %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
}

// TestLoad_ReceiptOnReadOnlyMedium: a bundle on a DVD loads, and the
// receipt that cannot be written beside it goes to the home's receipts/,
// which load names; when no place takes the receipt the load still
// succeeds, with a warning. Before, the load printed OK and exited 2.
func TestLoad_ReceiptOnReadOnlyMedium(t *testing.T) {
	s, good := goodBundle(t)
	dvd := filepath.Join(t.TempDir(), "dvd")
	os.Mkdir(dvd, 0o755)
	bundle := filepath.Join(dvd, "good.ferry")
	if err := copyFile(good, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly(t, dvd)
	giveTo(t, s.site)
	out, err := unprivileged(t, s.site, "load", bundle).CombinedOutput()
	want := filepath.Join(s.site, "receipts", "plant-7-receipt.ferry")
	if err != nil || !strings.Contains(string(out), "receipt: "+want) {
		t.Errorf("load from a read-only medium = %v\n%s\nwant exit 0 and the receipt in %s", err, out, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("no receipt in the home: %v", err)
	}
	readOnly(t, filepath.Join(s.site, "receipts"))
	out, err = unprivileged(t, s.site, "load", "--allow-replay", bundle).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "no receipt was written") {
		t.Errorf("load with nowhere to write a receipt = %v\n%s\nwant exit 0 and a warning", err, out)
	}
	must(t, s.site, "check", "--read-data")
}
