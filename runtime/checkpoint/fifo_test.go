//go:build unix

package checkpoint

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLoadNamedPipe checks that Load rejects a named pipe instead of
// blocking in open until something writes to it (eval --checkpoint
// /some/fifo used to hang).
func TestLoadNamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt-1.safetensors")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(path)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorContains(t, err, path+": not a regular file")
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing assertion
		// Unblock the open so the goroutine ends.
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Load blocked on a named pipe")
	}
}
