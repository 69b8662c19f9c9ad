// Package klauspost118 is the deflate encoder of
// github.com/klauspost/compress/flate v1.18.0, unchanged but for the
// package clause, the import path of its internal/le package (copied into
// le/) and this file, which holds the few declarations the encoder took
// from the decoder's files. LICENSE is that module's.
//
// It is here because recipes name the encoder whose output they need
// (internal/recompress): klauspost's flate output changed in v1.18.1, and
// layers written with v1.15.12 to v1.18.0 — umoci, podman, buildah and
// skopeo of those years, Debian 12's among them — can be reproduced only
// by this code. It is frozen: never update it; a later version that writes
// other bytes goes beside it under its own name.
package klauspost118

const (
	maxNumLit   = 286
	maxNumDist  = 30
	debugDecode = false
)

// InternalError reports an error in the flate code itself.
type InternalError string

func (e InternalError) Error() string { return "flate: internal error: " + string(e) }
