package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopySteps cuts a [2, 3, 2] tensor into its steps along axis 1 and
// stacks them back.
func TestCopySteps(t *testing.T) {
	src := []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	want := [][]int32{{0, 1, 6, 7}, {2, 3, 8, 9}, {4, 5, 10, 11}}
	back := make([]int32, len(src))
	step := make([]int32, 4)
	for s := range 3 {
		CopyStepIn(step, src, 2, 3, 2, s)
		require.Equal(t, want[s], step, "step %d", s)
		CopyStepOut(back, step, 2, 3, 2, s)
	}
	require.Equal(t, src, back)
	// Along the first axis a step is one contiguous row; along the last,
	// single elements.
	row := make([]bool, 2)
	CopyStepIn(row, []bool{true, false, false, true}, 1, 2, 2, 1)
	require.Equal(t, []bool{false, true}, row)
	col := make([]float32, 2)
	CopyStepIn(col, []float32{1, 2, 3, 4, 5, 6}, 2, 3, 1, 2)
	require.Equal(t, []float32{3, 6}, col)
	require.Zero(t, testing.AllocsPerRun(10, func() { CopyStepIn(step, src, 2, 3, 2, 1) }))
}
