package runtime

import (
	goruntime "runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// skipIfRace skips allocation-counting tests under the race detector.
func skipIfRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("sync.Pool drops objects at random under the race detector")
	}
}

// requireZeroAllocs requires that f allocates nothing once warmed up, both
// as testing.AllocsPerRun sees it and counting the allocations of every
// goroutine, pool workers included, while f runs with GOMAXPROCS set to
// procs (left as it is when procs is 0).
//
// testing.AllocsPerRun is not enough on its own: it sets GOMAXPROCS to 1
// while it measures, so every ParallelFor call inside it runs serially.
// Changing GOMAXPROCS also empties every sync.Pool, so f is warmed up again
// afterwards, until the per-P pool caches and the worker pool are populated.
//
// MemStats.Mallocs also counts the Go runtime's own allocations: a new OS
// thread (about 7 objects), a GC mark worker, or the sudogs behind blocking
// channel and WaitGroup operations, which are cached per P and trickle in
// until those caches settle. They come now and then, not on every call. So
// a measurement that sees any is repeated, up to 20 times; an allocation
// made by f itself shows up in every one.
func requireZeroAllocs(t *testing.T, procs, runs int, f func()) {
	t.Helper()
	skipIfRace(t)
	require.Zero(t, testing.AllocsPerRun(runs, f), "allocations per run at GOMAXPROCS=1")

	if procs > 0 {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(procs))
	}
	for range 8 {
		f()
	}
	var mallocs uint64
	for range 20 {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		for range runs {
			f()
		}
		goruntime.ReadMemStats(&after)
		if mallocs = after.Mallocs - before.Mallocs; mallocs == 0 {
			return
		}
	}
	require.Zero(t, mallocs, "allocations in %d runs at GOMAXPROCS=%d", runs, goruntime.GOMAXPROCS(0))
}

// parallelProcs is the GOMAXPROCS at which tests of parallel paths run: the
// current setting, but at least 2 so that ParallelFor really splits.
func parallelProcs() int { return max(2, goruntime.GOMAXPROCS(0)) }

// coverTask records how often each index is visited.
type coverTask struct {
	hits []atomic.Int32
}

func (c *coverTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		c.hits[i].Add(1)
	}
}

func (c *coverTask) requireOnce(t *testing.T) {
	t.Helper()
	for i := range c.hits {
		require.Equal(t, int32(1), c.hits[i].Swap(0), "index %d", i)
	}
}

func TestParallelForCoversRangeOnce(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 4, 8} {
		goruntime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 5, 64, 1001} {
			for _, minChunk := range []int{0, 1, 3, 100} {
				c := &coverTask{hits: make([]atomic.Int32, n)}
				ParallelFor(n, minChunk, c)
				c.requireOnce(t)
			}
		}
	}
}

// nestedTask calls ParallelFor from inside every range, depth levels deep,
// and counts the leaf elements it visits.
type nestedTask struct {
	depth  int
	leaves *atomic.Int64
}

func (nt nestedTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		if nt.depth == 0 {
			nt.leaves.Add(1)
			continue
		}
		ParallelFor(8, 1, nestedTask{depth: nt.depth - 1, leaves: nt.leaves})
	}
}

// TestParallelForNestedDoesNotDeadlock runs tasks that call ParallelFor from
// worker goroutines, from several top-level callers at once, so that every
// worker is busy waiting on nested calls. It would hang if a nested call
// queued a range for a worker that never becomes free.
func TestParallelForNestedDoesNotDeadlock(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4, 8} {
		goruntime.GOMAXPROCS(procs)
		done := make(chan int64)
		go func() {
			var leaves atomic.Int64
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { ParallelFor(8, 1, nestedTask{depth: 3, leaves: &leaves}) })
			}
			wg.Wait()
			done <- leaves.Load()
		}()
		select {
		case got := <-done:
			require.Equal(t, int64(4*8*8*8*8), got, "GOMAXPROCS=%d", procs)
		case <-time.After(30 * time.Second):
			t.Fatalf("GOMAXPROCS=%d: nested ParallelFor deadlocked", procs)
		}
	}
}

// barrierTask's two ranges each wait for the other to start, so a call
// completes only if the second range runs on a worker concurrently with
// the first.
type barrierTask struct {
	started atomic.Int32
	timeout atomic.Bool
}

func (b *barrierTask) Run(lo, hi int) {
	b.started.Add(1)
	deadline := time.Now().Add(5 * time.Second)
	for b.started.Load() < 2 {
		if time.Now().After(deadline) {
			b.timeout.Store(true)
			return
		}
		goruntime.Gosched()
	}
}

// TestParallelForReusesWorkers checks that back-to-back calls hand ranges to
// the pool rather than running them inline because the worker of the
// previous call has not yet gone back to waiting for a job.
func TestParallelForReusesWorkers(t *testing.T) {
	old := goruntime.GOMAXPROCS(max(2, goruntime.GOMAXPROCS(0)))
	defer goruntime.GOMAXPROCS(old)
	var b barrierTask
	for i := range 200 {
		b.started.Store(0)
		ParallelFor(2, 1, &b)
		require.False(t, b.timeout.Load(), "call %d ran both ranges on the caller", i)
	}
}

func TestParallelForSteadyStateDoesNotAllocate(t *testing.T) {
	c := &coverTask{hits: make([]atomic.Int32, 1000)}
	requireZeroAllocs(t, parallelProcs(), 100, func() { ParallelFor(len(c.hits), 1, c) })
	requireZeroAllocs(t, 0, 100, func() { ParallelFor(len(c.hits), len(c.hits), c) }) // serial
}

// nopTask is a Task that does nothing, for timing ParallelFor itself.
type nopTask struct{}

func (nopTask) Run(_, _ int) {}

// spinTask busies its caller for about d per unit of its range.
type spinTask struct{ d time.Duration }

func (t spinTask) Run(lo, hi int) {
	end := time.Now().Add(time.Duration(hi-lo) * t.d)
	for time.Now().Before(end) {
	}
}

// BenchmarkParallelForLatency times the fork/join of ParallelFor over two
// ranges: empty ones (pure hand-off and wait), and 20 µs of work each with
// 50 µs of serial work between calls, as a model's element-wise steps sit
// between its products. The serial baseline for the latter is 90 µs.
func BenchmarkParallelForLatency(b *testing.B) {
	if goruntime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS >= 2")
	}
	b.Run("empty", func(b *testing.B) {
		for b.Loop() {
			ParallelFor(2, 1, nopTask{})
		}
	})
	b.Run("20us+50us-serial", func(b *testing.B) {
		t, serial := spinTask{d: 20 * time.Microsecond}, spinTask{d: 50 * time.Microsecond}
		for b.Loop() {
			ParallelFor(2, 1, t)
			serial.Run(0, 1)
		}
	})
}
