package runtime

import (
	goruntime "runtime"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParallelCoversRangeOnce(t *testing.T) {
	tests := []struct {
		n, minChunk int
	}{
		{0, 1}, {-3, 1}, {1, 1}, {2, 1}, {3, 1}, {7, 2}, {100, 1}, {100, 10}, {100, 49}, {100, 50}, {100, 0}, {1001, 7},
	}
	for _, tc := range tests {
		var mu sync.Mutex
		var ranges [][2]int
		hits := make([]int, max(tc.n, 0))
		Parallel(tc.n, tc.minChunk, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			ranges = append(ranges, [2]int{lo, hi})
			for i := lo; i < hi; i++ {
				hits[i]++
			}
		})
		for i, h := range hits {
			require.Equal(t, 1, h, "n=%d minChunk=%d: index %d visited %d times", tc.n, tc.minChunk, i, h)
		}
		if tc.n <= 0 {
			require.Empty(t, ranges)
			continue
		}
		require.LessOrEqual(t, len(ranges), goruntime.GOMAXPROCS(0))
		sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
		for _, r := range ranges {
			require.GreaterOrEqual(t, r[1]-r[0], max(tc.minChunk, 1), "n=%d minChunk=%d: chunk %v too small", tc.n, tc.minChunk, r)
		}
	}
}

func TestParallelSmallRunsInline(t *testing.T) {
	calls := 0 // no synchronization needed if fn runs on this goroutine only once
	Parallel(9, 5, func(lo, hi int) {
		calls++
		require.Equal(t, 0, lo)
		require.Equal(t, 9, hi)
	})
	require.Equal(t, 1, calls)
}

func TestParallelUsesAllProcs(t *testing.T) {
	old := goruntime.GOMAXPROCS(4)
	defer goruntime.GOMAXPROCS(old)
	var mu sync.Mutex
	count := 0
	Parallel(100, 1, func(lo, hi int) {
		mu.Lock()
		count++
		mu.Unlock()
	})
	require.Equal(t, 4, count)
}
