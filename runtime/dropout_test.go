package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDropoutUniformKnownValues checks the draw against values computed
// independently (a Python transcription of the definition).
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

// TestDropoutMaskKeepRate checks the kept fraction statistically, the
// scale of kept elements, and that masks are deterministic per (seed,
// step) and differ between steps and seeds.
func TestDropoutMaskKeepRate(t *testing.T) {
	const n = 200000
	for _, rate := range []float64{0, 0.1, 0.5, 0.9} {
		m := make([]float32, n)
		DropoutMask(m, 3, rate, 11)
		kept := 0
		for _, v := range m {
			switch v {
			case 0:
			case float32(1 / (1 - rate)):
				kept++
			default:
				t.Fatalf("rate %g: mask value %g is neither 0 nor 1/(1-rate)", rate, v)
			}
		}
		p := 1 - rate
		// Five standard deviations of the binomial proportion.
		tol := 5*math.Sqrt(p*(1-p)/n) + 1e-12
		require.InDelta(t, p, float64(kept)/n, tol, "rate %g", rate)
	}

	a, b, c, d := make([]float32, 1000), make([]float32, 1000), make([]float32, 1000), make([]float32, 1000)
	DropoutMask(a, 5, 0.5, 1)
	DropoutMask(b, 5, 0.5, 1)
	DropoutMask(c, 6, 0.5, 1)
	DropoutMask(d, 5, 0.5, 2)
	require.Equal(t, a, b, "same seed and step")
	require.NotEqual(t, a, c, "another step")
	require.NotEqual(t, a, d, "another seed")
	// Masks of consecutive steps are independent: about half of the
	// elements agree at rate 0.5.
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	require.InDelta(t, 500, same, 5*math.Sqrt(1000*0.25))
}
