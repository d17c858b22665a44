package trainlog

import (
	"math"
	"sort"
)

// maxBuckets bounds the memory a series takes however long the run: when
// a series has this many buckets, adjacent pairs are merged and each bucket
// then aggregates twice as many points.
const maxBuckets = 4096

// maxPlotPoints is the most points a plotted line has.
const maxPlotPoints = 2000

// bucket aggregates consecutive points of a series.
type bucket struct {
	n                   int     // points aggregated
	stepSum             float64 // sum of their steps
	sum, min, max       float64 // of their values
	firstStep, lastStep int
}

func (b *bucket) merge(o bucket) {
	b.n += o.n
	b.stepSum += o.stepSum
	b.sum += o.sum
	b.min = math.Min(b.min, o.min)
	b.max = math.Max(b.max, o.max)
	b.lastStep = o.lastStep
}

// series is one scalar's history for the report: summary statistics over
// every value, and a bounded, progressively coarser downsampling of the
// points in step order.
type series struct {
	buckets   []bucket
	width     int // points per bucket; a power of two
	count     int // finite values seen
	sum       float64
	min, max  float64
	last      float64
	lastStep  int
	nonFinite int // ±Inf values seen (NaN means "not measured" and is not counted)
}

// add records v at step. NaN is ignored; ±Inf is counted but not plotted.
func (s *series) add(step int, v float64) {
	if math.IsNaN(v) {
		return
	}
	if math.IsInf(v, 0) {
		s.nonFinite++
		return
	}
	if s.count == 0 {
		s.min, s.max = v, v
		s.width = 1
	}
	s.count++
	s.sum += v
	s.min = math.Min(s.min, v)
	s.max = math.Max(s.max, v)
	s.last, s.lastStep = v, step
	if k := len(s.buckets); k > 0 && s.buckets[k-1].n < s.width {
		s.buckets[k-1].merge(bucket{n: 1, stepSum: float64(step), sum: v, min: v, max: v, lastStep: step})
		return
	}
	if len(s.buckets) == maxBuckets {
		s.buckets = coarsen(s.buckets, 2)
		s.width *= 2
	}
	s.buckets = append(s.buckets, bucket{n: 1, stepSum: float64(step), sum: v, min: v, max: v, firstStep: step, lastStep: step})
}

// coarsen merges each run of k adjacent buckets into one, in place.
func coarsen(bs []bucket, k int) []bucket {
	out := bs[:0]
	for i := 0; i < len(bs); i += k {
		b := bs[i]
		for j := i + 1; j < i+k && j < len(bs); j++ {
			b.merge(bs[j])
		}
		out = append(out, b)
	}
	return out
}

// mean returns the mean of the finite values, NaN when there is none.
func (s *series) mean() float64 {
	if s.count == 0 {
		return math.NaN()
	}
	return s.sum / float64(s.count)
}

// point is one plotted point: the mean step and value of a bucket, with
// the range of values it aggregates.
type point struct {
	x, y, lo, hi float64
}

// points returns at most max points (max ≥ 1) in step order, merging
// adjacent buckets as needed.
func (s *series) points(max int) []point {
	bs := append([]bucket(nil), s.buckets...)
	if len(bs) > max {
		bs = coarsen(bs, (len(bs)+max-1)/max)
	}
	ps := make([]point, len(bs))
	for i, b := range bs {
		n := float64(b.n)
		ps[i] = point{x: b.stepSum / n, y: b.sum / n, lo: b.min, hi: b.max}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].x < ps[j].x })
	return ps
}
