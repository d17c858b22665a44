package ir

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDropoutUniformKnownValues checks the reference draw against values
// computed independently (a Python transcription of the definition); the
// runtime's test checks its own implementation against the same values.
func TestDropoutUniformKnownValues(t *testing.T) {
	for _, c := range []struct {
		seed, step, i uint64
		want          float64
	}{
		{0, 0, 0, 0.4793099186055877},
		{0, 0, 1, 0.7497482413580301},
		{42, 0, 5, 0.041210066470248274},
		{42, 7, 5, 0.22206758274190785},
		{1 << 40, 123456, 999, 0.2033717374882399},
	} {
		require.Equal(t, c.want, DropoutUniform(c.seed, c.step, c.i), "seed %d step %d i %d", c.seed, c.step, c.i)
	}
}
