package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Home is one side's ferry directory:
//
//	DIR/store/       OCI image layout (the blob store)
//	DIR/tmp/         ingest temp files, emptied on open
//	DIR/catalog.db   the catalog (bbolt); its lock is the home's lock
//	DIR/keys/        id_ed25519, id_ed25519.pub
//
// Lifecycle: Init once, then OpenHome, use, Close. While a Home is open
// no other process can open it (see OpenCatalog).
type Home struct {
	Dir     string
	Store   *Store
	Catalog *Catalog
}

// Names inside a home.
const (
	storeDir = "store"
	tmpDir   = "tmp"
	keysDir  = "keys"
	keyFile  = "id_ed25519"
)

// Init creates a home in dir for the site named site: directories,
// layout and catalog. It refuses, with spec.ErrExists, a dir that already
// holds a catalog. The caller writes the key pair to KeyPath and
// PubKeyPath.
func Init(dir, site string) (*Home, error) {
	if err := spec.ValidateSiteName(site); err != nil {
		return nil, err
	}
	cat := filepath.Join(dir, spec.CatalogFile)
	if _, err := os.Stat(cat); err == nil {
		return nil, spec.Mark(fmt.Errorf("home %s is already initialised (%s exists): use it, or give another --home", dir, cat), spec.ErrExists)
	}
	if err := os.MkdirAll(filepath.Join(dir, keysDir), 0o700); err != nil {
		return nil, fmt.Errorf("home %s: %w", dir, err)
	}
	h, err := open(dir)
	if err != nil {
		return nil, err
	}
	if err := h.Catalog.setSelf(site); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// OpenHome opens an initialised home. The error wraps spec.ErrNotFound
// when dir holds no catalog, and spec.ErrLocked when another process has
// the home open.
func OpenHome(dir string) (*Home, error) {
	cat := filepath.Join(dir, spec.CatalogFile)
	if _, err := os.Stat(cat); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a ferry home (%s %w): run ferry init --site NAME",
			dir, spec.CatalogFile, spec.ErrNotFound)
	}
	return open(dir)
}

// OpenHomeReadOnly opens an initialised home for reading only: the
// catalog read-only under a shared lock, the store as it is (nothing is
// created or emptied), so that a home on a read-only medium can be
// listed, checked and used to verify. Nothing may be written through it.
func OpenHomeReadOnly(dir string) (*Home, error) {
	cat := filepath.Join(dir, spec.CatalogFile)
	if _, err := os.Stat(cat); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a ferry home (%s %w): run ferry init --site NAME",
			dir, spec.CatalogFile, spec.ErrNotFound)
	}
	c, err := OpenCatalogWith(cat, CatalogOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	b := &Store{dir: filepath.Join(dir, storeDir), tmp: filepath.Join(dir, tmpDir)}
	if _, err := os.Stat(b.shaDir()); err != nil {
		c.Close()
		return nil, fmt.Errorf("store %s: %w", b.dir, err)
	}
	return &Home{Dir: dir, Store: b, Catalog: c}, nil
}

// open takes the catalog (and so the home's lock) first, and only then
// opens the blob store, which empties tmp/.
func open(dir string) (*Home, error) {
	c, err := OpenCatalog(filepath.Join(dir, spec.CatalogFile))
	if err != nil {
		return nil, err
	}
	b, err := Open(filepath.Join(dir, storeDir), filepath.Join(dir, tmpDir))
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Home{Dir: dir, Store: b, Catalog: c}, nil
}

// Close releases the home.
func (h *Home) Close() error { return h.Catalog.Close() }

// KeyPath is the private key's file.
func (h *Home) KeyPath() string { return filepath.Join(h.Dir, keysDir, keyFile) }

// PubKeyPath is the public key's file.
func (h *Home) PubKeyPath() string { return h.KeyPath() + ".pub" }

// DefaultDir is $XDG_DATA_HOME/ferry, or ~/.local/share/ferry when
// XDG_DATA_HOME is unset or relative. ($FERRY_HOME is the CLI's.)
func DefaultDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "ferry")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".local", "share", "ferry")
}

// SyncIndex rewrites index.json from the catalog's images.
func (h *Home) SyncIndex() error {
	recs, err := h.Catalog.Images()
	if err != nil {
		return err
	}
	images := make([]runtime.Image, 0, len(recs))
	for _, r := range recs {
		images = append(images, r.Image())
	}
	return h.Store.WriteIndex(images)
}

// PartsDir is where the parts of a blob that a split bundle carries in
// chunks wait until every part has arrived (spec/bundle-v1.md section
// 8.3): outside the store, which holds only whole blobs.
func (h *Home) PartsDir() string { return filepath.Join(h.Dir, "parts") }

// TmpDir is the home's directory for temporary files on the store's
// filesystem (emptied of ferry's leftovers on open): where transports
// spool what they must.
func (h *Home) TmpDir() string { return filepath.Join(h.Dir, tmpDir) }

// Scratch makes a directory in the home's tmp/ for the work files of one
// step (the base files a delta uses), on the home's disk rather than in
// memory. The caller removes it; if the process dies first, the next
// open of the home does. A home opened read-only (or on a read-only
// medium) gets one in the system's temporary directory.
func (h *Home) Scratch() (string, error) {
	dir, err := os.MkdirTemp(h.TmpDir(), scratchPrefix+"*")
	if err != nil {
		return os.MkdirTemp("", scratchPrefix+"*")
	}
	return dir, nil
}
