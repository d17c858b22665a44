package gen_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/examples/gen/mnistsoftmax"
	"github.com/flow-lang/flow/examples/gen/optimizers"
)

// TestSaveRestore trains a generated model a step, saves it, restores the
// file into a fresh instance and requires identical params (optimizer
// state included); a checkpoint of another model is refused.
func TestSaveRestore(t *testing.T) {
	x, y := randomBatch(8)
	m := optimizers.New()
	m.TrainStep(8, x, y)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))

	fresh := optimizers.New()
	require.NoError(t, fresh.Restore(path))
	want, got := m.Params(), fresh.Params()
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i].Name, got[i].Name)
		require.Equal(t, want[i].Data, got[i].Data, want[i].Name)
	}
	// The restored model continues exactly where the saved one stopped.
	require.Equal(t, m.TrainStep(8, x, y), fresh.TrainStep(8, x, y))

	other := mnistsoftmax.New()
	err := other.Restore(path)
	require.Error(t, err)
	require.Contains(t, err.Error(), path)
}
