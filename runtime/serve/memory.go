package serve

import (
	"context"
	"math"
	"slices"
	"sync"
)

// Memory accounting. Every predict request reserves, before its body is
// read, the most memory it may come to hold: the decoder's read buffer,
// and per example its inputs, outputs and answer. The most examples a
// body can hold follows from its size (each value takes at least two
// bytes, a digit and a separator), so a small body reserves little and
// every request's share is known before any of it is read. Requests wait
// while others hold the rest of Options.MaxMemory, and one whose share
// would exceed the limit on its own is capped at it, its decoder storing
// no more examples than fit. Once decoded, a request keeps only what its
// examples need. The memory of all requests in flight together is thus
// bounded by MaxMemory, whatever their number and their bodies.

// exampleCost returns the bytes one example of a request holds at most:
// its inputs (twice their 4 bytes a value, see column), its outputs (4
// bytes a value) and its share of the answer.
func (info *modelInfo) exampleCost() int64 { return info.exampleCostAt(nil) }

// exampleCostAt is exampleCost when the symbolic dimensions after the
// batch have the sizes dims (1 for those not given).
func (info *modelInfo) exampleCostAt(dims []int) int64 {
	var n int64
	for _, t := range info.inputs {
		n += 8 * int64(t.size(dims))
	}
	return n + info.resultBytes(1, dims)
}

// resultBytes returns what the results of n examples take at most, at
// the sizes dims of the symbolic dimensions: their outputs, the best
// classes of a top-k answer (at most every class) and the answer.
func (info *modelInfo) resultBytes(n int, dims []int) int64 {
	return info.outputBytes(n, dims) + 8*int64(info.classes)*int64(n) + info.answerBytes(n, dims)
}

// Bounds of what an answer takes per example: a value takes at most
// maxValueChars bytes with its separator (a float32 written shortest is
// at most 15 bytes, an integer 20), plus, in a top-k answer, a class
// index of at most topKChars; each nested array takes three bytes
// (brackets and separator); answerFrame covers the object or array
// around an example's outputs.
const (
	maxValueChars = 24
	topKChars     = 12
	answerFrame   = 64
)

// answerBytes bounds the answer to n examples: encodeResponse allocates
// it at once.
func (info *modelInfo) answerBytes(n int, dims []int) int64 {
	var b int64 = answerFrame
	for _, t := range info.outputs {
		b += int64(t.size(dims))*(maxValueChars+topKChars) + 3*nestedArrays(t.shape(dims)) + int64(len(t.spec.Name)) + 8
	}
	return int64(n) * b
}

// nestedArrays returns the number of JSON arrays a value of shape dims is
// written with.
func nestedArrays(dims []int) int64 {
	var n, p int64 = 0, 1
	for _, d := range dims {
		n += p
		p = int64(satMul(int(p), max(d, 1)))
	}
	return n
}

// outputBytes returns the memory the outputs of n examples take.
func (info *modelInfo) outputBytes(n int, dims []int) int64 {
	var b int64
	for _, t := range info.outputs {
		b += 4 * int64(t.size(dims))
	}
	return int64(n) * b
}

// bodyBounds sets perValue and perExample for a model with symbolic
// dimensions after the batch. A body holds at most one input value per
// two bytes; an output whose every symbolic dimension appears in some
// input as often or more has at most out.per/in.per values per value of
// that input (each symbolic size is at least 1), so that what a request
// holds is linear in its body's size. Otherwise perValue stays 0.
func (info *modelInfo) bodyBounds() {
	exps := func(t *tensor) []int {
		e := make([]int, len(info.syms))
		for _, s := range t.syms {
			if s >= 0 {
				e[s]++
			}
		}
		return e
	}
	perValue := 8.0 // an input value's storage, twice its 4 bytes (column)
	perExample := float64(answerFrame + 8*info.classes)
	for i := range info.outputs {
		o := &info.outputs[i]
		eo := exps(o)
		ratio := -1.0
		for j := range info.inputs {
			in := &info.inputs[j]
			ei := exps(in)
			dominated := in.per > 0
			for s := range eo {
				dominated = dominated && eo[s] <= ei[s]
			}
			if r := float64(o.per) / float64(max(in.per, 1)); dominated && (ratio < 0 || r < ratio) {
				ratio = r
			}
		}
		if ratio < 0 {
			info.perValue, info.perExample = 0, 0
			return
		}
		// Per output value: 4 bytes, its answer and its share of the
		// nested arrays (at most one per value per dimension).
		perValue += ratio * float64(4+maxValueChars+topKChars+3*(len(o.dims)+1))
		perExample += float64(len(o.spec.Name)+8) + 3
	}
	info.perValue, info.perExample = perValue, perExample
}

// requestBound returns the most bytes a request whose body has size
// bytes may come to hold with its examples (not counting the buffer the
// body is read through), capped at limit; for a model with symbolic
// dimensions after the batch, whose examples' sizes follow from the body.
func (info *modelInfo) requestBound(size, limit int64) int64 {
	if info.perValue == 0 {
		return limit
	}
	b := info.perValue*float64(size/2+1) + info.perExample*float64(info.bodyExamples(size))
	if b >= float64(limit) {
		return limit
	}
	return int64(math.Ceil(b))
}

// bodyExamples bounds the examples a body of size bytes can hold: each
// takes at least two bytes per value of every input (a digit and a
// separator), and at least two bytes however few values it has.
func (info *modelInfo) bodyExamples(size int64) int64 {
	var per int64
	for _, t := range info.inputs {
		per += 2 * int64(max(t.per, 1))
	}
	return size/per + 1
}

// memory is a budget of bytes that requests reserve and release: a
// weighted semaphore, first come first served, so that a large request
// is not starved by a stream of small ones.
type memory struct {
	mu      sync.Mutex
	free    int64
	waiters []*memWaiter
}

type memWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

// acquire reserves n bytes, waiting until they are free or ctx is done.
func (m *memory) acquire(ctx context.Context, n int64) error {
	m.mu.Lock()
	if len(m.waiters) == 0 && m.free >= n {
		m.free -= n
		m.mu.Unlock()
		return nil
	}
	w := &memWaiter{n: n, ready: make(chan struct{})}
	m.waiters = append(m.waiters, w)
	m.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-w.ready: // granted meanwhile: give the bytes back
		m.free += n
	default:
		m.waiters = slices.DeleteFunc(m.waiters, func(x *memWaiter) bool { return x == w })
	}
	m.grant()
	return ctx.Err()
}

// release returns n reserved bytes.
func (m *memory) release(n int64) {
	if n == 0 {
		return
	}
	m.mu.Lock()
	m.free += n
	m.grant()
	m.mu.Unlock()
}

// grant hands free bytes to the waiters in order.
func (m *memory) grant() {
	for len(m.waiters) > 0 && m.free >= m.waiters[0].n {
		w := m.waiters[0]
		m.free -= w.n
		close(w.ready)
		m.waiters = m.waiters[1:]
	}
}

// available returns the bytes not reserved.
func (m *memory) available() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.free
}
