package runtime

import (
	goruntime "runtime"
	"sync"
)

// Parallel calls fn on disjoint, contiguous sub-ranges [lo, hi) that together
// cover [0, n), running them on up to GOMAXPROCS goroutines, and returns when
// all calls have returned. Every range holds at least minChunk elements, so
// when n < 2*minChunk (or GOMAXPROCS is 1) fn is called once, as fn(0, n), on
// the calling goroutine without starting any goroutine. Nothing is called
// when n <= 0. A minChunk below 1 is treated as 1.
//
// The first range runs on the calling goroutine. fn must be safe to call
// concurrently on disjoint ranges.
func Parallel(n int, minChunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if minChunk < 1 {
		minChunk = 1
	}
	workers := goruntime.GOMAXPROCS(0)
	if most := n / minChunk; workers > most {
		workers = most
	}
	if workers < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Go(func() { fn(lo, hi) })
	}
	fn(0, n/workers)
	wg.Wait()
}
