package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-lang/flow/runtime"
	"github.com/stretchr/testify/require"
)

// sabotage wraps a model and runs fn before training step at.
type sabotage struct {
	runtime.Model
	step, at int
	fn       func()
}

func (s *sabotage) TrainFeed(n int, in [][]float32) float32 {
	s.step++
	if s.step == s.at {
		s.fn()
	}
	return s.Model.TrainFeed(n, in)
}

// TestTrainErrorEndsProgressLine checks that when training fails part way
// (here: the checkpoint directory vanishes, so a periodic save fails), the
// live progress line on a terminal is ended before the error is printed,
// rather than the error being written onto the end of the bar.
func TestTrainErrorEndsProgressLine(t *testing.T) {
	data := writeData(t)
	defer func(f func(io.Writer) bool) { isTerminal = f }(isTerminal)
	isTerminal = func(io.Writer) bool { return true }
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	m := &sabotage{Model: newSoftmaxModel(), at: 5, fn: func() { os.RemoveAll(ckpt) }}
	code, stdout, stderr := run(m, "train", "--data", data, "--steps", "12", "--batch", "10",
		"--checkpoint", ckpt, "--checkpoint-every", "3")
	require.NotEqual(t, ExitOK, code)
	require.Contains(t, stderr, filepath.Join(ckpt, "ckpt-6.safetensors"), "the error names the file")
	require.Contains(t, stdout, "\rstep ")
	require.True(t, strings.HasSuffix(stdout, "\n"), "the progress line is ended: %q", stdout)
}
