package tarfile

import (
	"archive/tar"
	"context"
	"io"

	"github.com/ferryhq/ferry/runtime"
)

// WriteLayoutTo writes to w the tar WriteLayout writes to a file, the
// same bytes, streamed: nothing is held in memory beyond one copy buffer.
func WriteLayoutTo(ctx context.Context, w io.Writer, index []byte, files []File, blobs []runtime.Blob, src runtime.Fetcher) error {
	tw := tar.NewWriter(w)
	if err := writeLayout(ctx, tw, index, files, blobs, src); err != nil {
		return err
	}
	return tw.Close()
}
