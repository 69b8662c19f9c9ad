// Package format owns ferry's signed files, bundles (spec/bundle-v1.md)
// and receipts (spec/receipt-v1.md): their types, canonical encoding and
// SSHSIG signatures, the one envelope both are read through, and the
// bundle's streaming writer and verifying reader.
//
// A bundle is a tar stream, zstd-compressed by default, whose first entry
// is a canonical JSON index and whose second is the index's detached
// SSHSIG signature, followed by the OCI layout files and the blobs; a
// receipt is the same envelope around a receipt and its signature, and
// nothing more. Both are read with one policy for hostile input
// (envelope.go) and tested against one table of hostile files.
//
// The Writer and Reader are shaped like archive/tar's. Both stream: a
// blob's bytes go straight from one io.Reader to the other side, hashed on
// the way, and are never held in memory. The Reader treats its input as
// hostile: it verifies the signature and the index before it returns, caps
// every size it reads from the stream, and reports a damaged entry as an
// *EntryError that costs only that entry.
//
// The package knows nothing of stores, catalogs or runtimes.
package format
