package runtimetest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// daemon is a process a helper started (containerd, dockerd, a registry),
// the one way each is started, waited for and stopped.
type daemon struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

// startDaemon starts cmd with its output to log, tied to this process's
// life (dieWithParent); log, if it is a Closer, is closed once the daemon
// exits.
func startDaemon(name string, cmd *exec.Cmd, log io.Writer) (*daemon, error) {
	cmd.Stdout, cmd.Stderr = log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		if c, ok := log.(io.Closer); ok {
			c.Close()
		}
		close(d.done)
	}()
	return d, nil
}

// waitReady calls ready every interval until it returns nil, and fails
// when the daemon exits first or StartTimeout passes.
func (d *daemon) waitReady(every time.Duration, ready func() error) error {
	deadline := time.Now().Add(StartTimeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("%s exited early", d.name)
		case <-time.After(every):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %v", d.name, StartTimeout, err)
		}
	}
}

// stop sends sig and waits StopTimeout for the daemon to exit, then kills
// it (os.Kill kills it at once).
func (d *daemon) stop(sig os.Signal) {
	d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(StopTimeout):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// syncBuffer is a log in memory that a daemon writes while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
