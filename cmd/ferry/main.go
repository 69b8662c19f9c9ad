// Command ferry moves container images into sites no network reaches, as
// signed bundles that carry only what each site lacks.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/ferryhq/ferry/internal/startgc" // no collection before the heap passes 12 MB
)

func main() {
	quietStdLogger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// quietStdLogger makes the standard logger speak as ferry does: Helm's
// values code is the one user of it in ferry's process, and reports a
// value it ignores ("warning: destination for image is a table…") through
// log.Printf, which would otherwise print a timestamp and no origin.
func quietStdLogger() {
	log.SetFlags(0)
	log.SetPrefix("ferry: helm: ")
}
