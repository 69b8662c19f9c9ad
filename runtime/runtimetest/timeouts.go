package runtimetest

import "time"

// How long the helpers wait for a daemon they started. Generous on
// purpose: a test's outcome must not depend on how busy the machine is,
// so these only guard against a daemon that never answers (or never
// stops) at all; a healthy one on an idle machine takes a second or two.
const (
	// StartTimeout bounds the wait for a registry, containerd or dockerd
	// to answer, and each request a helper's own HTTP client makes.
	StartTimeout = 3 * time.Minute
	// StopTimeout bounds the wait for a daemon to exit after SIGTERM or
	// SIGINT before it is killed.
	StopTimeout = time.Minute
)
