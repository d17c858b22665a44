package serve

import (
	"context"
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
func (info *modelInfo) exampleCost() int64 {
	var n int64
	for _, t := range info.inputs {
		n += 8 * int64(t.per)
	}
	return n + info.resultBytes(1)
}

// resultBytes returns what the results of n examples take at most: their
// outputs, the best classes of a top-k answer (at most every class) and
// the answer.
func (info *modelInfo) resultBytes(n int) int64 {
	return info.outputBytes(n) + 8*int64(info.classes)*int64(n) + info.answerBytes(n)
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
func (info *modelInfo) answerBytes(n int) int64 {
	var b int64 = answerFrame
	for _, t := range info.outputs {
		b += int64(t.per)*(maxValueChars+topKChars) + 3*nestedArrays(t.dims) + int64(len(t.spec.Name)) + 8
	}
	return int64(n) * b
}

// nestedArrays returns the number of JSON arrays a value of shape dims is
// written with.
func nestedArrays(dims []int) int64 {
	var n, p int64 = 0, 1
	for _, d := range dims {
		n += p
		p *= int64(d)
	}
	return n
}

// outputBytes returns the memory the outputs of n examples take.
func (info *modelInfo) outputBytes(n int) int64 {
	var b int64
	for _, t := range info.outputs {
		b += 4 * int64(t.per)
	}
	return int64(n) * b
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
