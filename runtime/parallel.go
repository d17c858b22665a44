package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a unit of data-parallel work for ParallelFor: Run processes the
// elements [lo, hi) of some index space. Run is called concurrently on
// disjoint ranges, so it must be safe for that.
type Task interface {
	Run(lo, hi int)
}

// ParallelFor calls t.Run on disjoint, contiguous sub-ranges [lo, hi) that
// together cover [0, n), running them on up to GOMAXPROCS goroutines, and
// returns when all calls have returned. Every range holds at least minChunk
// elements, so when n < 2*minChunk (or GOMAXPROCS is 1) t.Run is called
// once, as t.Run(0, n), on the calling goroutine. Nothing is called when
// n <= 0. A minChunk below 1 is treated as 1.
//
// The first range runs on the calling goroutine; the others are handed to a
// persistent pool of worker goroutines, started on first use, and any range
// for which no worker is idle at that moment also runs on the calling
// goroutine. So ParallelFor never waits for a worker to become free, and a
// Task may itself call ParallelFor (from the caller or from a worker)
// without risk of deadlock; nested calls simply get less parallelism when
// the pool is busy.
//
// In steady state ParallelFor allocates nothing. t is stored in the pool's
// job queue, so a t built on the caller's stack escapes to the heap: hot
// paths keep their Task structs in a sync.Pool and, when the work is too
// small to split (see parallelRanges), call the serial code directly
// instead of building a Task at all.
//
// A panic in a range run by a worker crashes the program, as a panic in any
// goroutine does.
func ParallelFor(n, minChunk int, t Task) {
	ranges := parallelRanges(n, minChunk)
	switch ranges {
	case 0:
		return
	case 1:
		t.Run(0, n)
		return
	}
	parallelPool.start(ranges - 1)
	// Ranges 1..handed go to workers that have promised to take a job; the
	// caller runs range 0 and ranges handed+1..ranges-1 itself.
	handed := parallelPool.reserve(ranges - 1)
	var c *call
	if handed > 0 {
		c = calls.Get().(*call)
		c.wg.Add(handed)
		c.left.Store(int64(handed))
		for w := 1; w <= handed; w++ {
			parallelPool.jobs <- job{t: t, lo: w * n / ranges, hi: (w + 1) * n / ranges, call: c}
		}
	}
	t.Run(0, n/ranges)
	for w := handed + 1; w < ranges; w++ {
		t.Run(w*n/ranges, (w+1)*n/ranges)
	}
	if c != nil {
		c.wait()
		calls.Put(c)
	}
}

// Parallel is ParallelFor for a plain function: it calls fn on disjoint,
// contiguous sub-ranges [lo, hi) that together cover [0, n), with the same
// splitting, scheduling and nesting rules as ParallelFor. fn must be safe to
// call concurrently on disjoint ranges.
//
// Parallel is a convenience: fn usually escapes to the heap, so a call may
// allocate even when it runs serially. Kernels on the training and inference
// hot paths (Sgemm, SoftmaxRows, ...) use ParallelFor with pooled Tasks and
// allocate nothing per call.
func Parallel(n int, minChunk int, fn func(lo, hi int)) {
	ParallelFor(n, minChunk, funcTask(fn))
}

// funcTask adapts a function to Task.
type funcTask func(lo, hi int)

func (f funcTask) Run(lo, hi int) { f(lo, hi) }

// parallelRanges returns how many ranges ParallelFor(n, minChunk, t) splits
// [0, n) into: 0 when n <= 0, 1 when the work runs serially on the caller,
// otherwise min(GOMAXPROCS, n/minChunk). Callers use it to take a serial
// path that builds no Task.
func parallelRanges(n, minChunk int) int {
	if n <= 0 {
		return 0
	}
	if minChunk < 1 {
		minChunk = 1
	}
	ranges := goruntime.GOMAXPROCS(0)
	if most := n / minChunk; ranges > most {
		ranges = most
	}
	return max(ranges, 1)
}

// job is one range of a ParallelFor call, handed to a worker.
type job struct {
	t      Task
	lo, hi int
	call   *call
}

// call is what the caller of ParallelFor waits on: left counts the
// ranges its workers have not finished (polled), wg the same (blocked
// on). A worker decrements left before wg, so once wg.Wait returns no
// worker touches the call again, and it may be reused.
type call struct {
	left atomic.Int64
	wg   sync.WaitGroup
}

// calls recycles the calls of ParallelFor.
var calls = sync.Pool{New: func() any { return new(call) }}

// spinWait is how long a worker polls for its next job before it parks,
// and a caller polls for its workers' ranges before it blocks. Waking a
// parked goroutine takes the operating system several microseconds (a
// futex wake, then scheduling), which is the whole cost of a small range:
// the recurrent steps of an LSTM split each of their small products and
// loops, one after another, a few microseconds apart. Polling costs the
// idle core for at most this long after each call, as OpenMP's spinning
// waits do. The polls do not yield (runtime.Gosched): a yielding goroutine
// goes to the global run queue and resumes on another P, which unbalances
// the per-P caches of sync.Pool and of the runtime's wait queues and
// makes them allocate; a spinning goroutine is still preempted (for the
// GC, say) like any other.
const spinWait = 100 * time.Microsecond

// wait returns when every range handed to a worker has run: it polls for
// up to spinWait, then blocks.
func (c *call) wait() {
	spin(func() bool { return c.left.Load() == 0 })
	c.wg.Wait()
}

// workerPool is the set of persistent worker goroutines behind ParallelFor.
//
// Workers and callers meet through a channel, and a caller only sends
// after reserving a worker: idle gains 1 before each receive of each
// worker, and reserve takes units from idle without ever driving it below
// zero. So at any moment the jobs sent and not yet received are at most as
// many as the workers committed to receive them, every send completes
// promptly (the channel's buffer holds them; beyond it, a committed worker
// takes them), and every job sent is run by a worker that does nothing
// else until it is done. A worker polls the channel for spinWait before it
// blocks on it, so that a job sent soon after its last one starts at once. A caller waits only for jobs that are running, and those jobs can
// only wait, recursively, for jobs that are running too; the waits form a
// tree, so nested ParallelFor calls cannot deadlock.
type workerPool struct {
	jobs    chan job
	idle    atomic.Int64 // workers committed to their next receive, not yet reserved
	started atomic.Int64 // workers started so far

	mu sync.Mutex // serializes growth
}

var parallelPool = workerPool{jobs: make(chan job, jobsBuffer)}

// jobsBuffer is the capacity of the pool's channel: enough for every
// worker of any machine flow runs on to have a job waiting.
const jobsBuffer = 256

// start makes sure at least want workers exist. It starts GOMAXPROCS-1
// workers on first use and more later only if ParallelFor needs more
// ranges than that (because GOMAXPROCS was raised); workers never exit.
func (p *workerPool) start(want int) {
	if p.started.Load() >= int64(want) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	want = max(want, goruntime.GOMAXPROCS(0)-1)
	for p.started.Load() < int64(want) {
		p.started.Add(1)
		p.idle.Add(1) // the new worker's first receive
		go p.work()
	}
}

// work runs jobs forever. Its first unit of idle was added by start.
func (p *workerPool) work() {
	for {
		j := p.next()
		j.t.Run(j.lo, j.hi)
		c := j.call
		j = job{} // do not keep the task reachable while idle
		// Commit to the next receive before reporting completion, so that a
		// caller woken by Done and calling ParallelFor again finds this
		// worker idle instead of running every range itself.
		p.idle.Add(1)
		c.left.Add(-1)
		c.wg.Done()
	}
}

// next returns the worker's next job: it polls for one for up to spinWait,
// then blocks until one comes.
func (p *workerPool) next() job {
	var j job
	if spin(func() bool {
		select {
		case j = <-p.jobs:
			return true
		default:
			return false
		}
	}) {
		return j
	}
	return <-p.jobs
}

// spin calls ready until it reports true, for up to spinWait, and
// returns whether it did.
func spin(ready func() bool) bool {
	start := time.Now()
	for i := 1; ; i++ {
		if ready() {
			return true
		}
		if i%64 == 0 && time.Since(start) > spinWait {
			return false
		}
	}
}

// reserve claims up to want idle workers and returns how many it claimed.
// Each claimed worker must then be sent exactly one job.
func (p *workerPool) reserve(want int) int {
	for {
		idle := p.idle.Load()
		got := min(idle, int64(want))
		if got <= 0 {
			return 0
		}
		if p.idle.CompareAndSwap(idle, idle-got) {
			return int(got)
		}
	}
}
