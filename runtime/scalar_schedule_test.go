package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScheduleScalarFunctions(t *testing.T) {
	require.Equal(t, float32(2), Floor(2.7))
	require.Equal(t, float32(-3), Floor(-2.5))
	require.Equal(t, float32(4), Floor(4))
	require.Equal(t, float32(1), Cos(0))
	require.InDelta(t, -1, float64(Cos(math.Pi)), 1e-7)
	require.InDelta(t, math.Cos(0.3), float64(Cos(0.3)), 1e-7)
	require.Equal(t, float32(0), Sin(0))
	require.InDelta(t, 1, float64(Sin(math.Pi/2)), 1e-7)
	require.InDelta(t, math.Sin(-1.2), float64(Sin(-1.2)), 1e-7)
}
