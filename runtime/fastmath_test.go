package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fastFunc is one fast float32 function with its float64 reference.
type fastFunc struct {
	name string
	fn   int // mathExp, mathSigmoid or mathTanh
	fast func(float32) float32
	ref  func(float32) float32
}

var fastFuncs = []fastFunc{
	{"exp", mathExp, Exp, func(x float32) float32 { return float32(math.Exp(float64(x))) }},
	{"sigmoid", mathSigmoid, Sigmoid, func(x float32) float32 { return float32(SigmoidOf(float64(x))) }},
	{"tanh", mathTanh, Tanh, func(x float32) float32 { return float32(math.Tanh(float64(x))) }},
}

// ulpDiff returns the distance in float32 ulps between a and b (0 when
// both are NaN, a huge distance when only one is). +0 and -0 are 0
// apart.
func ulpDiff(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return 1 << 40
	}
	ord := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&signBit != 0 {
			return -(u &^ signBit)
		}
		return u
	}
	d := ord(a) - ord(b)
	return max(d, -d)
}

var (
	inf32  = float32(math.Inf(1))
	nan32  = float32(math.NaN())
	negZ32 = float32(math.Copysign(0, -1))
)

func TestFastMathSpecialValues(t *testing.T) {
	bits := math.Float32bits
	isNaN := func(v float32) bool { return v != v }
	for _, f := range fastFuncs {
		require.True(t, isNaN(f.fast(nan32)), "%s(NaN)", f.name)
		require.True(t, isNaN(f.fast(-nan32)), "%s(-NaN)", f.name)
		require.True(t, isNaN(f.fast(math.Float32frombits(0x7f800001))), "%s(sNaN)", f.name)
	}

	// Exp: overflow exactly above the largest finite result, underflow
	// through the subnormals to 0.
	require.Equal(t, inf32, Exp(inf32))
	require.Equal(t, float32(0), Exp(-inf32))
	require.Equal(t, float32(1), Exp(0))
	require.Equal(t, float32(1), Exp(negZ32))
	require.Equal(t, float32(1), Exp(1e-45), "denormal input")
	require.Equal(t, float32(1), Exp(-1e-45))
	const lastFinite = 88.72283172607422 // e^x rounds to +Inf above it
	require.Equal(t, float32(3.4027985e+38), Exp(lastFinite))
	require.Equal(t, inf32, Exp(math.Nextafter32(lastFinite, 100)))
	const lastNonzero = -103.97207641601562 // and to 0 below it
	require.Equal(t, float32(1e-45), Exp(lastNonzero))
	require.Equal(t, float32(0), Exp(math.Nextafter32(lastNonzero, -200)))
	require.Equal(t, inf32, Exp(1e30))
	require.Equal(t, float32(math.Exp(-100)), Exp(-100), "subnormal result")
	require.Equal(t, float32(0), Exp(-104))
	require.Equal(t, float32(0), Exp(-1e30))
	require.Equal(t, float32(math.E), Exp(1))

	// Sigmoid saturates exactly where the rounded true value does.
	require.Equal(t, float32(0.5), Sigmoid(0))
	require.Equal(t, float32(0.5), Sigmoid(negZ32))
	require.Equal(t, float32(1), Sigmoid(inf32))
	require.Equal(t, float32(0), Sigmoid(-inf32))
	require.Equal(t, float32(1), Sigmoid(17))
	require.Less(t, Sigmoid(16), float32(1), "1 - 1.1e-7 is still below 1 in float32")
	require.Equal(t, float32(math.Exp(-95)), Sigmoid(-95), "a subnormal, not 0")
	require.Equal(t, float32(1e-45), Sigmoid(lastNonzero))
	require.Equal(t, float32(0), Sigmoid(math.Nextafter32(lastNonzero, -200)))
	require.Equal(t, float32(0.5), Sigmoid(1e-45), "denormal input")

	// Tanh: odd, signed zero kept, ±1 at large |x|, denormals unchanged.
	require.Equal(t, bits(negZ32), bits(Tanh(negZ32)))
	require.Equal(t, uint32(0), bits(Tanh(0)))
	require.Equal(t, float32(1), Tanh(inf32))
	require.Equal(t, float32(-1), Tanh(-inf32))
	require.Equal(t, float32(1), Tanh(10))
	require.Equal(t, float32(-1), Tanh(-1e30))
	require.Equal(t, float32(1e-40), Tanh(1e-40))
	require.Equal(t, float32(-1e-45), Tanh(-1e-45))
	for _, x := range []float32{0.1, 0.6, 0.625, 0.7, 3, 9} {
		require.Equal(t, bits(Tanh(x))|signBit, bits(Tanh(-x)), "tanh is odd at %v", x)
	}
}

// sweepValues returns float32s for the sampled ulp sweeps: every 997th
// bit pattern (all magnitudes, both signs, NaNs included), and every
// float32 near the places where the algorithms switch or saturate.
func sweepValues() []float32 {
	var xs []float32
	for b := uint64(0); b < 1<<32; b += 997 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	dense := func(lo, hi float32) {
		for x := lo; x <= hi; x = math.Nextafter32(x, hi+1) {
			xs = append(xs, x, -x)
		}
	}
	dense(0.6, 0.65)          // tanh's switch at 0.625
	dense(88.70, 88.75)       // exp's overflow
	dense(103.95, 104.0)      // exp's underflow to 0
	dense(0, 1e-38)           // denormals
	dense(15.9, 17.4)         // sigmoid reaching 1, the range reduction at large n
	dense(0.34, 0.35)         // exp's n = 0 / 1 switch, r near ln2/2
	dense(8.9999, 9.0001)     // tanh reaching 1
	dense(1.0990, 1.0992)     // sigmoid's worst case
	dense(0.000001, 0.000002) // exp near 1
	return xs
}

func TestFastMathULP(t *testing.T) {
	xs := sweepValues()
	for _, f := range fastFuncs {
		var worst int64
		var at float32
		for _, x := range xs {
			if d := ulpDiff(f.fast(x), f.ref(x)); d > worst {
				worst, at = d, x
			}
		}
		t.Logf("%s: max %d ulp (at %v) over %d values", f.name, worst, at, len(xs))
		require.LessOrEqual(t, worst, int64(fastMathULPBound[f.name]), "%s at %v", f.name, at)
	}
}

// TestFastMathExhaustive checks the ulp bounds on all 2^32 float32 bit
// patterns (about a minute per function on two cores). It runs only when
// FLOW_FASTMATH_EXHAUSTIVE=1.
func TestFastMathExhaustive(t *testing.T) {
	if os.Getenv("FLOW_FASTMATH_EXHAUSTIVE") != "1" {
		t.Skip("set FLOW_FASTMATH_EXHAUSTIVE=1 to sweep all float32 values")
	}
	workers := goruntime.GOMAXPROCS(0)
	for _, f := range fastFuncs {
		var mu sync.Mutex
		var worst int64
		var at float32
		hist := map[int64]int64{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				var lw int64
				var lat float32
				h := map[int64]int64{}
				for b := uint64(w); b < 1<<32; b += uint64(workers) {
					x := math.Float32frombits(uint32(b))
					d := ulpDiff(f.fast(x), f.ref(x))
					if d > 0 {
						h[d]++
					}
					if d > lw {
						lw, lat = d, x
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if lw > worst {
					worst, at = lw, lat
				}
				for k, v := range h {
					hist[k] += v
				}
			})
		}
		wg.Wait()
		t.Logf("%s: max %d ulp (at %v); values off by n ulp: %v", f.name, worst, at, hist)
		require.LessOrEqual(t, worst, int64(fastMathULPBound[f.name]), f.name)
	}
}

// mathLevels returns the kernel levels this machine can run.
func mathLevels() []int {
	levels := []int{mathGeneric}
	for l := mathAVX2; l <= mathLevelCPU; l++ {
		levels = append(levels, l)
	}
	return levels
}

var mathLevelNames = []string{"generic", "avx2", "avx512"}

func TestSelectMathLevel(t *testing.T) {
	require.Equal(t, selectMathLevel(mathLevelCPU, os.Getenv("FLOW_KERNELS")), mathLevel)
	require.Equal(t, mathGeneric, selectMathLevel(mathAVX512, "generic"))
	require.Equal(t, mathAVX2, selectMathLevel(mathAVX512, "avx2"))
	require.Equal(t, mathGeneric, selectMathLevel(mathGeneric, "avx2"))
	require.Equal(t, mathAVX512, selectMathLevel(mathAVX512, ""))
	t.Logf("CPU level %s, in use %s", mathLevelNames[mathLevelCPU], mathLevelNames[mathLevel])
}

// TestMathSliceKernels checks every kernel level this machine can run
// against the scalar functions bit for bit: tails of every length up to
// 70, dst aliasing src, special values and random bit patterns.
func TestMathSliceKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, negZ32, nan32, -nan32, inf32, -inf32, 1e-45, -1e-45, 1e-40, -1e-40,
		88.72283172607422, 88.72284, -103.97207641601562, -103.97208, 89, 100, -103.9, -104, -200, 0.625, -0.625, 0.62499997, 17, -17, 9, -9}
	var bulk []float32
	for range 1 << 16 {
		bulk = append(bulk, math.Float32frombits(r.Uint32()), float32(r.NormFloat64()*4))
	}
	bulk = append(bulk, special...)
	bulk = append(bulk, sweepValues()[:1<<16]...)
	for _, level := range mathLevels() {
		for _, f := range fastFuncs {
			t.Run(mathLevelNames[level]+"/"+f.name, func(t *testing.T) {
				check := func(src, got []float32, what string) {
					for i, x := range src {
						require.Equal(t, math.Float32bits(f.fast(x)), math.Float32bits(got[i]), "%s: %s(%v) bits %#x at %d", what, f.name, x, math.Float32bits(x), i)
					}
				}
				for n := 0; n <= 70; n++ {
					src := make([]float32, n)
					for i := range src {
						if i%3 == 0 {
							src[i] = special[r.IntN(len(special))]
						} else {
							src[i] = float32(r.NormFloat64() * 5)
						}
					}
					dst := make([]float32, n+1)
					dst[n] = 42
					mathSlice(level, f.fn, dst[:n], src)
					check(src, dst, fmt.Sprintf("n=%d", n))
					require.Equal(t, float32(42), dst[n], "n=%d: wrote past the end", n)
					inPlace := append([]float32(nil), src...)
					mathSlice(level, f.fn, inPlace, inPlace)
					check(src, inPlace, fmt.Sprintf("n=%d in place", n))
				}
				dst := make([]float32, len(bulk))
				mathSlice(level, f.fn, dst, bulk)
				check(bulk, dst, "bulk")
			})
		}
	}
}

func TestMathSliceExported(t *testing.T) {
	src := []float32{-3, -0.5, 0, 0.5, 3, 40, -40, 1, 2, 3}
	for _, f := range fastFuncs {
		dst := make([]float32, len(src)+2)
		switch f.fn {
		case mathExp:
			ExpSlice(dst, src)
		case mathSigmoid:
			SigmoidSlice(dst, src)
		case mathTanh:
			TanhSlice(dst, src)
		}
		for i, x := range src {
			require.Equal(t, f.fast(x), dst[i], "%s(%v)", f.name, x)
		}
		require.Equal(t, []float32{0, 0}, dst[len(src):])
	}
	require.Panics(t, func() { SigmoidSlice(make([]float32, 2), make([]float32, 3)) })
	require.Zero(t, testing.AllocsPerRun(10, func() { TanhSlice(src[:7], src[:7]) }))
}

// mathSliceOf is mathSliceGo with the float64 generic functions (the
// former float32 ones), called directly.
func mathSliceOf(fn int, dst, src []float32) {
	switch fn {
	case mathExp:
		for i, v := range src {
			dst[i] = ExpOf(v)
		}
	case mathSigmoid:
		for i, v := range src {
			dst[i] = SigmoidOf(v)
		}
	case mathTanh:
		for i, v := range src {
			dst[i] = TanhOf(v)
		}
	}
}

// BenchmarkFastMath measures ns per element of each function on 4096
// values in [-8, 8]: math is the float64 generic form (the former
// float32 functions) in a loop, generic the fast float32 function in a
// loop (the slice functions' portable kernel, and what generated code
// runs when it calls Exp, Sigmoid or Tanh per element), and the vector
// kernel levels this machine has.
func BenchmarkFastMath(b *testing.B) {
	const n = 4096
	src := make([]float32, n)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range src {
		src[i] = float32(r.Float64()*16 - 8)
	}
	dst := make([]float32, n)
	perElem := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
	}
	for _, f := range fastFuncs {
		b.Run(f.name+"/math", func(b *testing.B) {
			for b.Loop() {
				mathSliceOf(f.fn, dst, src)
			}
			perElem(b)
		})
		for _, level := range mathLevels() {
			b.Run(f.name+"/"+mathLevelNames[level], func(b *testing.B) {
				for b.Loop() {
					mathSlice(level, f.fn, dst, src)
				}
				perElem(b)
			})
		}
	}
}
