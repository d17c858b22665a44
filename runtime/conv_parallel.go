package runtime

import (
	"sync"
	"sync/atomic"
)

// convGroupFloats is the im2col scratch, in float32s, that one goroutine
// of the image-parallel path aims at (256 KiB, half of a Zen3 core's L2),
// so that the patch matrix is still cached when the GEMM reads it back. A
// group holds at least one image.
const convGroupFloats = 1 << 18

// convParallelMinImages is the batch from which the convolutions share
// the batch out in groups of images, each group's im2col, GEMM (and
// col2im) computed by one goroutine with the single-goroutine GEMM,
// instead of running im2col and a parallel GEMM over chunks in turn: a
// group's patches stay in its core's cache, and the goroutines meet once
// per call instead of several times per chunk.
const convParallelMinImages = 4

// convAddMin is the row length from which col2im adds a row through
// addInto: below it the call costs more than the inlined loop (measured on
// Zen3: 5 floats, one filter row over one channel, took about twice as long
// through the call; 160 floats, over 32 channels, half as long).
const convAddMin = 16

// Convolution kinds of convTask.
const (
	convForward = iota
	convBackInput
	convBackFilter
	convDirect       // Conv2D by the direct kernel, one image at a time
	convDirectFilter // Conv2DBackpropFilter by the direct kernel
)

// convGroup returns how many images one group of the image-parallel path
// holds: as many as fit convGroupFloats, but at least four groups per
// goroutine so that the shares can even out.
func (s ConvShape) convGroup(workers int) int {
	per := max(s.OutH*s.OutW*s.patch(), 1)
	return max(1, min(convGroupFloats/per, s.Batch/(4*workers)))
}

// convTask is one image-parallel convolution. Every Run call takes groups
// of images from next until none is left. For the filter gradient, each
// Run call lo (ParallelFor(workers, 1, t) makes one call per lo in
// [0, workers)) sums its groups in its own buffer: call 0 straight into
// dfilter, call lo > 0 into pooled scratch, kept in part[lo-1], that the
// caller adds afterwards. There call lo takes the fixed groups lo, lo +
// workers, lo + 2·workers, … instead, so that every sum is formed in the
// same order whichever goroutine runs first: training is reproducible
// bit for bit (a resumed run equals an uninterrupted one).
type convTask struct {
	kind    int
	s       ConvShape
	out     []float32 // Conv2D: dst; BackpropInput: dx; BackpropFilter: dfilter
	a, b    []float32 // Conv2D: x, filter; BackpropInput: filter, dy; BackpropFilter: x, dy
	bias    []float32 // Conv2D: nil or OutC values added to every output pixel
	relu    bool      // Conv2D: apply Relu to the output
	group   int
	workers int
	next    atomic.Int64
	part    []*convScratch // BackpropFilter: partial sums of calls 1.. (index lo-1)
	used    []bool         // BackpropFilter: whether call lo summed any group
}

var convTasks = sync.Pool{New: func() any { return new(convTask) }}

// runConvParallel computes a convolution kind over the whole batch, the
// images shared out across workers goroutines (1: the caller only), each
// computing its groups of images with single-goroutine GEMMs. For
// convForward and convDirect, bias (nil, or OutC values) is added to and
// Relu applied, if relu, to each group's (row's) output as soon as it is
// computed. A pointwise geometry (im2col kinds) multiplies the images
// themselves. Preconditions: arguments checked, Batch, OutH, OutW > 0,
// 1 <= workers <= parallelRanges(Batch, 1); for convBackInput, dx cleared
// unless pointwise; s.directApplies and a direct kernel for the direct
// kinds.
func runConvParallel(kind, workers int, out, a, b, bias []float32, relu bool, s ConvShape) {
	t := convTasks.Get().(*convTask)
	t.kind, t.s, t.out, t.a, t.b, t.bias, t.relu = kind, s, out, a, b, bias, relu
	t.group, t.workers = s.convGroup(workers), workers
	filter := kind == convBackFilter || kind == convDirectFilter
	if kind == convDirect || kind == convDirectFilter {
		t.group = 1
	}
	t.next.Store(0)
	if filter {
		for len(t.part) < workers-1 {
			t.part = append(t.part, nil)
		}
		t.used = t.used[:0]
		for range workers {
			t.used = append(t.used, false)
		}
	}
	if workers < 2 {
		t.Run(0, 1)
	} else {
		ParallelFor(workers, 1, t)
	}
	if filter {
		n := s.filterLen()
		if !t.used[0] {
			clear(out[:n])
		}
		for w := 1; w < workers; w++ {
			if t.used[w] {
				p := t.part[w-1].acc[:n]
				d := out[:n]
				for i, v := range p {
					d[i] += v
				}
			}
			if t.part[w-1] != nil {
				convPool.Put(t.part[w-1])
				t.part[w-1] = nil
			}
		}
	}
	t.out, t.a, t.b, t.bias = nil, nil, nil, nil // drop the caller's tensors before pooling
	convTasks.Put(t)
}

func (t *convTask) Run(lo, _ int) {
	s := t.s
	k, rows := s.patch(), s.OutH*s.OutW
	sc := convPool.Get().(*convScratch)
	direct := t.kind == convDirect || t.kind == convDirectFilter
	pointwise := !direct && s.isPointwise()
	if !direct && !pointwise {
		sc.col = grow(sc.col, t.group*rows*k)
	}
	filter := t.kind == convBackFilter || t.kind == convDirectFilter
	var acc []float32
	if filter {
		if lo == 0 {
			acc = t.out[:s.filterLen()]
		} else {
			sc.acc = grow(sc.acc, s.filterLen())
			acc = sc.acc
		}
	}
	for i := 0; ; i++ {
		b0 := (lo + i*t.workers) * t.group // fixed groups: see convTask
		if !filter {
			b0 = int(t.next.Add(int64(t.group))) - t.group
		}
		if b0 >= s.Batch {
			break
		}
		nb := min(t.group, s.Batch-b0)
		switch in, out := s.InH*s.InW*s.InC, rows*s.OutC; t.kind {
		case convDirect:
			convDirectImage(t.out[b0*out:][:out], t.a[b0*in:][:in], t.b, t.bias, t.relu, s, sc)
			continue
		case convDirectFilter:
			if !t.used[lo] {
				clear(acc)
				t.used[lo] = true
			}
			convDirectFilterImage(acc, t.a[b0*in:][:in], t.b[b0*out:][:out], s, sc)
			continue
		}
		var col []float32
		if !pointwise {
			col = sc.col[:nb*rows*k]
		}
		switch t.kind {
		case convForward:
			if pointwise {
				col = t.a[b0*rows*k:][:nb*rows*k]
			} else {
				t.s.im2colRange(col, t.a, b0, nb)
			}
			out := t.out[b0*rows*s.OutC:][:nb*rows*s.OutC]
			sgemmSerial(false, false, nb*rows, s.OutC, k, 1, col, k, t.b, s.OutC, 0, out, s.OutC)
			convEpilogue(out, t.bias, s.OutC, t.relu)
		case convBackInput:
			if pointwise {
				sgemmSerial(false, true, nb*rows, k, s.OutC, 1, t.b[b0*rows*s.OutC:], s.OutC, t.a, s.OutC, 0, t.out[b0*rows*k:], k)
				continue
			}
			sgemmSerial(false, true, nb*rows, k, s.OutC, 1, t.b[b0*rows*s.OutC:], s.OutC, t.a, s.OutC, 0, col, k)
			t.s.col2imRange(t.out, col, b0, nb)
		case convBackFilter:
			if pointwise {
				col = t.a[b0*rows*k:][:nb*rows*k]
			} else {
				t.s.im2colRange(col, t.a, b0, nb)
			}
			beta := float32(1)
			if !t.used[lo] {
				beta = 0
			}
			sgemmSerial(true, false, k, s.OutC, nb*rows, 1, col, k, t.b[b0*rows*s.OutC:], s.OutC, beta, acc, s.OutC)
			t.used[lo] = true
		}
	}
	if filter && lo > 0 {
		t.part[lo-1] = sc // the caller adds it and returns it to the pool
		return
	}
	convPool.Put(sc)
}

// sgemmSerial is Sgemm on the calling goroutine only, for callers that
// already share their work out across goroutines.
func sgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m*n*k <= gemmSmallMax || m <= gemmRowsMax {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmBlocked(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// im2colRange writes the patches of images [b0, b0+nb) of x into col on
// the calling goroutine.
func (s ConvShape) im2colRange(col, x []float32, b0, nb int) {
	in, per := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.patch()
	for i := range nb {
		im2colImage(col[i*per:][:per], x[(b0+i)*in:][:in], s)
	}
}

// col2imRange adds the patch gradients col of images [b0, b0+nb) onto dx
// on the calling goroutine; dx must be cleared beforehand.
func (s ConvShape) col2imRange(dx, col []float32, b0, nb int) {
	in, per := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.patch()
	for i := range nb {
		col2imImage(dx[(b0+i)*in:][:in], col[i*per:][:per], s)
	}
}
