package data

import (
	"sort"
	"testing"

	"github.com/flow-lang/flow/runtime"
	"github.com/stretchr/testify/require"
)

func isPermutation(s []int) bool {
	c := append([]int(nil), s...)
	sort.Ints(c)
	for i, v := range c {
		if v != i {
			return false
		}
	}
	return true
}

func TestBatcherEpochsArePermutations(t *testing.T) {
	tests := []struct{ n, batch int }{
		{1, 1}, {10, 1}, {10, 3}, {10, 10}, {10, 7}, {100, 32}, {7, 20},
	}
	for _, tc := range tests {
		b := NewBatcher(tc.n, tc.batch, runtime.NewRNG(1))
		const epochs = 5
		var stream []int
		for len(stream) < epochs*tc.n {
			batch := b.Next()
			require.Len(t, batch, tc.batch)
			stream = append(stream, batch...)
		}
		for e := 0; e < epochs; e++ {
			require.True(t, isPermutation(stream[e*tc.n:(e+1)*tc.n]), "n=%d batch=%d: epoch %d is not a permutation", tc.n, tc.batch, e)
		}
		require.Equal(t, len(stream)/tc.n, b.Epoch(), "n=%d batch=%d", tc.n, tc.batch)
	}
}

func TestBatcherEpochCount(t *testing.T) {
	b := NewBatcher(10, 4, runtime.NewRNG(2))
	want := []int{0, 0, 1, 1, 2} // after 4, 8, 12, 16, 20 indices
	for i, w := range want {
		b.Next()
		require.Equal(t, w, b.Epoch(), "after batch %d", i+1)
	}
	require.Equal(t, 4, b.BatchSize())
}

func TestBatcherDeterministicAndShuffled(t *testing.T) {
	run := func(seed uint64) []int {
		b := NewBatcher(50, 8, runtime.NewRNG(seed))
		var out []int
		for i := 0; i < 20; i++ {
			out = append(out, b.Next()...)
		}
		return out
	}
	require.Equal(t, run(7), run(7))
	require.NotEqual(t, run(7), run(8))

	first := run(7)
	identity := make([]int, 50)
	for i := range identity {
		identity[i] = i
	}
	require.NotEqual(t, identity, first[:50], "first epoch should be shuffled")
	require.NotEqual(t, first[:50], first[50:100], "each epoch should be reshuffled")
}

func TestBatcherNextDoesNotAllocate(t *testing.T) {
	b := NewBatcher(100, 32, runtime.NewRNG(1))
	require.Zero(t, testing.AllocsPerRun(100, func() { b.Next() }))
}

func TestNewBatcherBadArguments(t *testing.T) {
	require.PanicsWithValue(t, "data.NewBatcher: need positive sizes, got 0 examples and batch 5", func() { NewBatcher(0, 5, runtime.NewRNG(1)) })
	require.PanicsWithValue(t, "data.NewBatcher: need positive sizes, got 5 examples and batch -1", func() { NewBatcher(5, -1, runtime.NewRNG(1)) })
	require.PanicsWithValue(t, "data.NewBatcher: nil RNG", func() { NewBatcher(5, 1, nil) })
}
