package compiler

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// osaReference is the optimal string alignment distance written from its
// recursive definition, memoized: the reference editDistance must match.
func osaReference(a, b string) int {
	memo := map[[2]int]int{}
	var d func(i, j int) int
	d = func(i, j int) int {
		if i == 0 {
			return j
		}
		if j == 0 {
			return i
		}
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		sub := 1
		if a[i-1] == b[j-1] {
			sub = 0
		}
		best := min(d(i-1, j)+1, d(i, j-1)+1, d(i-1, j-1)+sub)
		if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
			best = min(best, d(i-2, j-2)+1)
		}
		memo[key] = best
		return best
	}
	return d(len(a), len(b))
}

func TestEditDistanceReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = "abc_"[r.IntN(4)]
		}
		return string(b)
	}
	for range 3000 {
		a, b := word(), word()
		require.Equal(t, osaReference(a, b), editDistance(a, b), "editDistance(%q, %q)", a, b)
		require.Equal(t, editDistance(a, b), editDistance(b, a), "symmetry for %q, %q", a, b)
	}
}

// TestClosestTypos checks the suggestions for typical typos of the
// names users type: ops, optimizers, initializers, keyword arguments.
func TestClosestTypos(t *testing.T) {
	ops := publicOps()
	for _, tt := range []struct{ typo, cands, want string }{
		{"sofmtax", "ops", "softmax"}, // two letters swapped
		{"reul", "ops", "relu"},
		{"matmull", "ops", "matmul"},
		{"transpsoe", "ops", "transpose"},
		{"rmsprpo", "opt", "rmsprop"},
		{"admam", "opt", "adam"},
		{"glorot_unfiorm", "init", "glorot_uniform"},
		{"zeroes", "init", "zeros"},
		{"xyzzy", "ops", ""},
		{"relu", "ops", ""}, // an exact name is no typo
	} {
		cands := map[string][]string{"ops": ops, "opt": optimizerNames(), "init": initializerNames()}[tt.cands]
		require.Equal(t, tt.want, closest(tt.typo, cands), tt.typo)
	}
}
