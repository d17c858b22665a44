package serve

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// job is one predict request waiting for the model.
type job struct {
	n    int
	in   []column    // per predict input, n examples
	out  [][]float32 // per served output, n·per values, written by the batcher
	ctx  context.Context
	done chan error // receives once: nil when out is complete
	// dims are the sizes of the symbolic dimensions after the batch that
	// the job's examples share (nil for a model without any): only jobs
	// with equal dims share a batch, of at most batch examples.
	dims  []int
	batch int

	// Batcher-owned.
	next     int  // examples already taken into a batch
	finished bool // done has been sent
}

// segment is examples [lo, hi) of a job, fed at offset off of a batch.
type segment struct {
	j       *job
	lo, hi  int
	off     int
	lastSeg bool // the job's last examples
}

// loop is the batcher: the only goroutine that calls the model. It takes
// the first waiting request, then gathers more until the batch is full, for
// up to MaxDelay while other requests are being received (a lone client
// waits for nobody), feeds them in one PredictFeed call and hands each
// request its share of the results. A request larger than the batch is
// split across consecutive batches. Only requests whose examples have
// the same sizes (of a sequence length, say) share a batch: the others
// met while gathering one are held, up to the queue's capacity, and
// start the next batches, oldest first.
func (s *Server) loop() {
	defer close(s.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		pending *job // a job with examples left after the last batch
		// held are jobs taken from the queue while gathering a batch of
		// other sizes (a sequence length, say), oldest first: the next
		// batches start with them. They are at most cap(s.queue).
		held []*job
	)
	for {
		first := pending
		pending = nil
		if first == nil && len(held) > 0 {
			first = held[0]
			held = slices.Delete(held, 0, 1)
		}
		if first == nil {
			select {
			case first = <-s.queue:
			case <-s.quit:
				return
			}
		}
		s.segs = s.segs[:0]
		total := 0
		limit := s.maxBatch
		if first.batch > 0 {
			limit = min(limit, first.batch)
		}
		// add takes as many of j's remaining examples as fit.
		add := func(j *job) {
			if j.finished {
				return // failed in an earlier batch
			}
			if j.ctx != nil && j.ctx.Err() != nil {
				s.finish(j, j.ctx.Err()) // the client is gone
				return
			}
			take := min(j.n-j.next, limit-total)
			s.segs = append(s.segs, segment{j: j, lo: j.next, hi: j.next + take, off: total, lastSeg: j.next+take == j.n})
			j.next += take
			total += take
			if j.next < j.n {
				pending = j
			}
		}
		add(first)
		// Jobs held earlier of first's sizes join it, in order.
		for i := 0; i < len(held) && pending == nil && total < limit; {
			if sameDims(held[i].dims, first.dims) {
				add(held[i])
				held = slices.Delete(held, i, 1+i)
			} else {
				i++
			}
		}
		// take adds a job from the queue, or holds it for a later batch
		// when its examples have other sizes than first's; it reports
		// whether no more may be held, which completes the batch.
		take := func(j *job) (full bool) {
			if sameDims(j.dims, first.dims) {
				add(j)
				return false
			}
			held = append(held, j)
			return len(held) >= cap(s.queue)
		}
		if pending == nil && total < limit && len(held) < cap(s.queue) {
			wait := s.opt.MaxDelay > 0
			if wait {
				timer.Reset(s.opt.MaxDelay)
			}
		gather:
			for pending == nil && total < limit {
				select { // take what is already queued
				case j := <-s.queue:
					if take(j) {
						break gather
					}
					continue
				default:
				}
				if !wait || s.arriving.Load() == 0 {
					break // no other request is on its way
				}
				select {
				case j := <-s.queue:
					if take(j) {
						break gather
					}
				case <-s.wake: // a request failed before reaching the queue
				case <-timer.C:
					wait = false
					break gather
				}
			}
			if wait {
				timer.Stop()
			}
		}
		if total > 0 {
			s.run(total, first.dims)
		}
	}
}

// finish sends a job its result once.
func (s *Server) finish(j *job, err error) {
	if !j.finished {
		j.finished = true
		j.done <- err
	}
}

// run feeds the segments in s.segs, total examples whose symbolic
// dimensions after the batch have the sizes dims, to the model and
// copies the results out.
func (s *Server) run(total int, dims []int) {
	info := s.info
	feedN := total
	if info.fixed > 0 {
		feedN = info.fixed
	}
	in := make([][]float32, len(info.inputs))
	whole := len(s.segs) == 1 && s.segs[0].lo == 0 && s.segs[0].hi == s.segs[0].j.n && feedN == total
	for i := range info.inputs {
		t := &info.inputs[i]
		per := t.size(dims)
		if whole { // one whole request: feed its values as they are if they are in one piece
			var ok bool
			if in[i], ok = s.segs[0].j.in[i].contiguous(); ok {
				continue
			}
		}
		var buf []float32
		if t.syms == nil {
			buf = s.bufs[i][:feedN*per]
		} else {
			// Sized by the requests, whose inputs the memory
			// accounting counts: not kept past the batch.
			buf = make([]float32, feedN*per)
		}
		for _, sg := range s.segs {
			sg.j.in[i].copyTo(buf[sg.off*per:], sg.lo, sg.hi)
		}
		clear(buf[total*per:])
		in[i] = buf
	}
	outs, err := s.predict(feedN, in, dims)
	s.batches.Add(1)
	s.examples.Add(int64(total))
	for _, sg := range s.segs {
		if err != nil {
			s.finish(sg.j, err)
			continue
		}
		if sg.j.finished {
			continue
		}
		for o := range info.outputs {
			t := &info.outputs[o]
			per := t.size(dims)
			copy(sg.j.out[o][sg.lo*per:sg.hi*per], outs[t.index][sg.off*per:])
		}
		if sg.lastSeg {
			s.finish(sg.j, nil)
		}
	}
}

// predict calls the model, turning a panic or malformed results into an
// error.
func (s *Server) predict(n int, in [][]float32, dims []int) (outs [][]float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("model %s failed: %v", s.name, r)
		}
	}()
	outs = s.model.PredictFeed(n, in)
	if len(outs) != len(s.sig.Outputs) {
		return nil, fmt.Errorf("model %s returned %d outputs, but its signature lists %d", s.name, len(outs), len(s.sig.Outputs))
	}
	for i := range s.info.outputs {
		t := &s.info.outputs[i]
		if want := n * t.size(dims); len(outs[t.index]) < want {
			return nil, fmt.Errorf("model %s returned %d values for output %s (%s), want %d for %d examples", s.name, len(outs[t.index]), t.spec.Name, t.spec, want, n)
		}
	}
	return outs, nil
}
