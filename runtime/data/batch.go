package data

import (
	"fmt"

	"github.com/flow-lang/flow/runtime"
)

// Batcher yields batches of example indices in shuffled order for
// stochastic training over n examples.
//
// Indices are drawn from a stream of permutations of 0..n-1, one per epoch,
// each freshly shuffled with the Batcher's RNG. Every batch is full size:
// when an epoch's permutation runs out partway through a batch, the batch
// continues with the start of the next epoch's permutation, so no example
// is skipped and none repeats within an epoch. (If batch > n a batch spans
// more than one epoch and so holds some indices twice.)
//
// A Batcher is deterministic: the same n, batch and RNG seed give the same
// batches. It is not safe for concurrent use.
type Batcher struct {
	rng   *runtime.RNG
	perm  []int
	pos   int // next position in perm
	epoch int
	batch []int
}

// NewBatcher returns a Batcher of batch-sized index batches over n
// examples, shuffling with rng. It panics if n or batch is not positive or
// rng is nil.
func NewBatcher(n, batch int, rng *runtime.RNG) *Batcher {
	if n <= 0 || batch <= 0 {
		panic(fmt.Sprintf("data.NewBatcher: need positive sizes, got %d examples and batch %d", n, batch))
	}
	if rng == nil {
		panic("data.NewBatcher: nil RNG")
	}
	b := &Batcher{rng: rng, perm: make([]int, n), batch: make([]int, batch)}
	for i := range b.perm {
		b.perm[i] = i
	}
	b.shuffle()
	return b
}

func (b *Batcher) shuffle() {
	b.rng.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
}

// Next returns the next batch of indices. The slice is reused by the
// following call, so callers must not keep it; Next does not allocate.
func (b *Batcher) Next() []int {
	for filled := 0; filled < len(b.batch); {
		k := copy(b.batch[filled:], b.perm[b.pos:])
		filled += k
		b.pos += k
		if b.pos == len(b.perm) {
			b.epoch++
			b.pos = 0
			b.shuffle()
		}
	}
	return b.batch
}

// Epoch returns the number of complete passes over the data so far: how
// many epoch permutations have been fully handed out by Next.
func (b *Batcher) Epoch() int { return b.epoch }

// BatchSize returns the number of indices in every batch.
func (b *Batcher) BatchSize() int { return len(b.batch) }
