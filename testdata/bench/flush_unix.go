//go:build unix

package main

import "syscall"

// flushDisk writes back every dirty page of the machine and waits for it.
func flushDisk() { syscall.Sync() }
