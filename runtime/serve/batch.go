package serve

import (
	"context"
	"fmt"
	"time"
)

// job is one predict request waiting for the model.
type job struct {
	n    int
	in   []column    // per predict input, n examples
	out  [][]float32 // per served output, n·per values, written by the batcher
	ctx  context.Context
	done chan error // receives once: nil when out is complete

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
// split across consecutive batches.
func (s *Server) loop() {
	defer close(s.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var pending *job // a job with examples left after the last batch
	for {
		first := pending
		pending = nil
		if first == nil {
			select {
			case first = <-s.queue:
			case <-s.quit:
				return
			}
		}
		s.segs = s.segs[:0]
		total := 0
		// add takes as many of j's remaining examples as fit.
		add := func(j *job) {
			if j.finished {
				return // failed in an earlier batch
			}
			if j.ctx != nil && j.ctx.Err() != nil {
				s.finish(j, j.ctx.Err()) // the client is gone
				return
			}
			take := min(j.n-j.next, s.maxBatch-total)
			s.segs = append(s.segs, segment{j: j, lo: j.next, hi: j.next + take, off: total, lastSeg: j.next+take == j.n})
			j.next += take
			total += take
			if j.next < j.n {
				pending = j
			}
		}
		add(first)
		if pending == nil && total < s.maxBatch {
			wait := s.opt.MaxDelay > 0
			if wait {
				timer.Reset(s.opt.MaxDelay)
			}
		gather:
			for pending == nil && total < s.maxBatch {
				select { // take what is already queued
				case j := <-s.queue:
					add(j)
					continue
				default:
				}
				if !wait || s.arriving.Load() == 0 {
					break // no other request is on its way
				}
				select {
				case j := <-s.queue:
					add(j)
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
			s.run(total)
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

// run feeds the segments in s.segs, total examples, to the model and
// copies the results out.
func (s *Server) run(total int) {
	info := s.info
	feedN := total
	if info.fixed > 0 {
		feedN = info.fixed
	}
	in := make([][]float32, len(info.inputs))
	whole := len(s.segs) == 1 && s.segs[0].lo == 0 && s.segs[0].hi == s.segs[0].j.n && feedN == total
	for i, t := range info.inputs {
		if whole { // one whole request: feed its values as they are if they are in one piece
			var ok bool
			if in[i], ok = s.segs[0].j.in[i].contiguous(); ok {
				continue
			}
		}
		buf := s.bufs[i][:feedN*t.per]
		for _, sg := range s.segs {
			sg.j.in[i].copyTo(buf[sg.off*t.per:], sg.lo, sg.hi)
		}
		clear(buf[total*t.per:])
		in[i] = buf
	}
	outs, err := s.predict(feedN, in)
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
		for o, t := range info.outputs {
			copy(sg.j.out[o][sg.lo*t.per:sg.hi*t.per], outs[t.index][sg.off*t.per:])
		}
		if sg.lastSeg {
			s.finish(sg.j, nil)
		}
	}
}

// predict calls the model, turning a panic or malformed results into an
// error.
func (s *Server) predict(n int, in [][]float32) (outs [][]float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("model %s failed: %v", s.name, r)
		}
	}()
	outs = s.model.PredictFeed(n, in)
	if len(outs) != len(s.sig.Outputs) {
		return nil, fmt.Errorf("model %s returned %d outputs, but its signature lists %d", s.name, len(outs), len(s.sig.Outputs))
	}
	for _, t := range s.info.outputs {
		if want := n * t.per; len(outs[t.index]) < want {
			return nil, fmt.Errorf("model %s returned %d values for output %s (%s), want %d for %d examples", s.name, len(outs[t.index]), t.spec.Name, t.spec, want, n)
		}
	}
	return outs, nil
}
