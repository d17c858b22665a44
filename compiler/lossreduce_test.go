package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// TestLossReduction classifies hand-built losses: sums over the batch of
// per-example terms, means, their scalings and regularizers, and the
// losses the analysis must not claim to understand.
func TestLossReduction(t *testing.T) {
	// model builds a softmax regression's pieces.
	type model struct {
		x, y, W, b, logits, xent *ir.Node // xent: per example, f32[N]
	}
	build := func(b *gb) model {
		var m model
		m.x = b.in("x", ir.Shape{symN, ir.Fixed(4)})
		m.y = b.in("y_", ir.Shape{symN, ir.Fixed(3)})
		m.W = b.param("W", ir.Shp(4, 3))
		m.b = b.param("b", ir.Shp(3))
		m.logits = b.op(ir.Add, nil, b.op(ir.Matmul, nil, m.x, m.W), m.b)
		m.xent = b.op(ir.SoftmaxCrossEntropy, nil, m.logits, m.y)
		return m
	}
	l2 := func(b *gb, m model) *ir.Node { // 0.01 * sum(W*W)
		return b.op(ir.Mul, nil, b.scalar(0.01), b.op(ir.Sum, nil, b.op(ir.Mul, nil, m.W, m.W)))
	}
	sq := func(b *gb, m model) *ir.Node { // (logits - y)^2, f32[N,3]
		err := b.op(ir.Sub, nil, m.logits, m.y)
		return b.op(ir.Mul, nil, err, err)
	}
	for _, tt := range []struct {
		name string
		loss func(b *gb, m model) *ir.Node
		want Reduction
		why  string // part of the reason, for ReductionUnknown
	}{
		{"sum of y*log(p), as the seed writes it", func(b *gb, m model) *ir.Node {
			return b.op(ir.Neg, nil, b.op(ir.Sum, nil, b.op(ir.Mul, nil, m.y, b.op(ir.LogSoftmax, nil, m.logits))))
		}, ReductionSum, ""},
		{"sum of per-example terms", func(b *gb, m model) *ir.Node { return b.op(ir.Sum, nil, m.xent) }, ReductionSum, ""},
		{"mean", func(b *gb, m model) *ir.Node { return b.op(ir.Mean, nil, m.xent) }, ReductionMean, ""},
		{"mean of a sum over classes", func(b *gb, m model) *ir.Node {
			return b.op(ir.Mean, nil, b.op(ir.Sum, ir.Attrs{"axes": []int{1}}, sq(b, m)))
		}, ReductionMean, ""},
		{"sum of a sum", func(b *gb, m model) *ir.Node {
			return b.op(ir.Sum, nil, b.op(ir.Sum, ir.Attrs{"axes": []int{1}}, sq(b, m)))
		}, ReductionSum, ""},
		{"sum over the batch, then over classes", func(b *gb, m model) *ir.Node {
			return b.op(ir.Sum, nil, b.op(ir.Sum, ir.Attrs{"axes": []int{0}}, sq(b, m)))
		}, ReductionSum, ""},
		{"sum of sums", func(b *gb, m model) *ir.Node {
			return b.op(ir.Sub, nil, b.op(ir.Sum, nil, m.xent), b.op(ir.Sum, nil, sq(b, m)))
		}, ReductionSum, ""},
		{"sum scaled by a constant", func(b *gb, m model) *ir.Node {
			return b.op(ir.Neg, nil, b.op(ir.Mul, nil, b.scalar(0.5), b.op(ir.Sum, nil, m.xent)))
		}, ReductionSum, ""},
		{"sum divided by a constant", func(b *gb, m model) *ir.Node {
			return b.op(ir.Div, nil, b.op(ir.Sum, nil, m.xent), b.scalar(100))
		}, ReductionSum, ""},
		{"sum scaled by a param", func(b *gb, m model) *ir.Node {
			return b.op(ir.Mul, nil, b.op(ir.Sum, nil, m.xent), b.op(ir.Sum, nil, m.b))
		}, ReductionSum, ""},
		{"sum over the size", func(b *gb, m model) *ir.Node {
			count := b.op(ir.Cast, ir.Attrs{"dtype": "f32"}, b.op(ir.Size, nil, m.logits))
			return b.op(ir.Div, nil, b.op(ir.Sum, nil, sq(b, m)), count)
		}, ReductionMean, ""},
		{"mean plus an L2 penalty", func(b *gb, m model) *ir.Node {
			return b.op(ir.Add, nil, b.op(ir.Mean, nil, m.xent), l2(b, m))
		}, ReductionMean, ""},
		{"sum plus an L2 penalty", func(b *gb, m model) *ir.Node {
			return b.op(ir.Add, nil, b.op(ir.Sum, nil, m.xent), l2(b, m))
		}, ReductionUnknown, "add: adds a term that does not grow with the batch to a sum over it"},
		{"sum plus a mean", func(b *gb, m model) *ir.Node {
			return b.op(ir.Add, nil, b.op(ir.Sum, nil, m.xent), b.op(ir.Mean, nil, m.xent))
		}, ReductionUnknown, "adds a term that does not grow with the batch"},
		{"a function of means", func(b *gb, m model) *ir.Node {
			mse := b.op(ir.Mean, nil, sq(b, m))
			return b.op(ir.Log, nil, b.op(ir.Add, nil, b.op(ir.Sqrt, nil, mse), b.op(ir.Mean, nil, m.xent)))
		}, ReductionMean, ""},
		{"centred over the batch, then averaged", func(b *gb, m model) *ir.Node {
			mu := b.op(ir.Mean, ir.Attrs{"axes": []int{0}, "keep_dims": true}, m.logits)
			c := b.op(ir.Sub, nil, m.logits, mu)
			return b.op(ir.Mean, nil, b.op(ir.Mul, nil, c, c))
		}, ReductionMean, ""},
		{"a loss of params only", func(b *gb, m model) *ir.Node { return l2(b, m) }, ReductionMean, ""},
		{"a function of a sum", func(b *gb, m model) *ir.Node {
			return b.op(ir.Log, nil, b.op(ir.Sum, nil, m.xent))
		}, ReductionUnknown, "log of a sum over the batch is not a sum over it"},
		{"a product of sums", func(b *gb, m model) *ir.Node {
			s := b.op(ir.Sum, nil, m.xent)
			return b.op(ir.Mul, nil, s, s)
		}, ReductionUnknown, "mul of a sum over the batch"},
		{"max over the batch", func(b *gb, m model) *ir.Node {
			return b.op(ir.Max, nil, b.op(ir.Abs, nil, m.logits))
		}, ReductionUnknown, "max: the max over the batch depends on how many examples it has"},
		{"max over classes, summed", func(b *gb, m model) *ir.Node {
			return b.op(ir.Sum, nil, b.op(ir.Max, ir.Attrs{"axes": []int{1}}, m.logits))
		}, ReductionSum, ""},
		{"softmax across the batch", func(b *gb, m model) *ir.Node {
			across := b.op(ir.Softmax, nil, b.op(ir.Transpose, nil, m.logits)) // f32[3,N]
			return b.op(ir.Sum, nil, b.op(ir.Mul, nil, b.op(ir.Transpose, nil, across), m.y))
		}, ReductionUnknown, "softmax works along the batch dimension"},
		{"a product over the batch", func(b *gb, m model) *ir.Node {
			return b.op(ir.Sum, nil, b.op(ir.Matmul, ir.Attrs{"transpose_a": true}, m.x, m.x))
		}, ReductionUnknown, "matmul: the result has no batch dimension, so matmul combines the examples"},
		{"the batch size in a value", func(b *gb, m model) *ir.Node {
			n := b.op(ir.Cast, ir.Attrs{"dtype": "f32"}, b.op(ir.ShapeOp, nil, m.x))
			return b.op(ir.Add, nil, b.op(ir.Mean, nil, m.xent), b.op(ir.Sum, nil, n))
		}, ReductionUnknown, "shape: the shape of a batched value holds the batch size"},
		{"per-example terms times the batch size", func(b *gb, m model) *ir.Node {
			count := b.op(ir.Cast, ir.Attrs{"dtype": "f32"}, b.op(ir.Size, nil, m.xent))
			return b.op(ir.Sum, nil, b.op(ir.Mul, nil, m.xent, count))
		}, ReductionUnknown, "combines per-example values with one that grows with the batch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &gb{g: ir.NewModule("T", "t.flow")}
			b.g.SetLoss(tt.loss(b, build(b)))
			got, why := LossReduction(b.g)
			require.Equal(t, tt.want, got, why)
			if tt.want == ReductionUnknown {
				require.Contains(t, why, tt.why)
			} else {
				require.Empty(t, why)
			}
		})
	}
}

// TestLossReductionWithoutABatch checks models the analysis cannot place
// for want of a batch dimension, or that disagree with themselves.
func TestLossReductionWithoutABatch(t *testing.T) {
	b := &gb{g: ir.NewModule("T", "t.flow")}
	x := b.in("x", ir.Shp(20, 4)) // a fixed batch: which axis holds the examples?
	W := b.param("W", ir.Shp(4, 1))
	b.g.SetLoss(b.op(ir.Sum, nil, b.op(ir.Matmul, nil, x, W)))
	got, why := LossReduction(b.g)
	require.Equal(t, ReductionUnknown, got)
	require.Contains(t, why, "the model has no symbolic batch dimension")

	b = &gb{g: ir.NewModule("T", "t.flow")}
	x = b.in("x", ir.Shape{symN, ir.Sym("M")})
	b.g.SetLoss(b.op(ir.Sum, nil, b.op(ir.Mul, nil, x, b.param("s", ir.Shp()))))
	got, why = LossReduction(b.g)
	require.Equal(t, ReductionSum, got, "N, the first symbolic dimension, is the batch; M is a size within an example: %s", why)

	// The training step's loss (dropout's training variant, say) is a sum
	// where evaluation's is a mean.
	b = &gb{g: ir.NewModule("T", "t.flow")}
	x = b.in("x", ir.Shape{symN, ir.Fixed(4)})
	h := b.op(ir.Mul, nil, x, b.param("s", ir.Shp()))
	b.g.SetLoss(b.op(ir.Mean, nil, h))
	b.g.SetTrainingLoss(b.op(ir.Sum, nil, h))
	got, why = LossReduction(b.g)
	require.Equal(t, ReductionUnknown, got)
	require.Equal(t, "the training step's loss is a sum over the batch, evaluation's a mean", why)
	b.g.SetTrainingLoss(b.op(ir.Max, nil, h))
	got, why = LossReduction(b.g)
	require.Equal(t, ReductionUnknown, got)
	require.Contains(t, why, "(in the training step's loss)")

	got, why = LossReduction(ir.NewModule("T", "t.flow"))
	require.Equal(t, ReductionUnknown, got)
	require.Equal(t, "the model has no loss", why)
}

// TestLossReductionOfExamples classifies every example model as compiled,
// the graph code generation sees.
func TestLossReductionOfExamples(t *testing.T) {
	want := map[string]Reduction{
		"mnist_softmax.flow":  ReductionSum, // -sum(y_ * log(y))
		"mlp.flow":            ReductionMean,
		"lenet.flow":          ReductionMean,
		"conv_tiny.flow":      ReductionMean,
		"dropout_bn.flow":     ReductionMean, // batch statistics in the training step
		"layers.flow":         ReductionMean,
		"optimizers.flow":     ReductionMean,
		"array_ops.flow":      ReductionMean, // reshape, transpose, pad, slice, concat
		"array_more.flow":     ReductionMean, // sum(err * err) / cast(size(z))
		"compare.flow":        ReductionMean,
		"counter.flow":        ReductionMean,
		"elementwise.flow":    ReductionUnknown, // max(abs(err)) and min(s) over the batch
		"initializers.flow":   ReductionMean,
		"linalg.flow":         ReductionMean,
		"ops_tour.flow":       ReductionMean, // a mean plus an L2 penalty on s
		"tf_attrs.flow":       ReductionMean,
		"lstm_mnist.flow":     ReductionMean,    // through a scan over the rows
		"seq_rnn.flow":        ReductionMean,    // through scans along T, a second symbolic dimension
		"control.flow":        ReductionUnknown, // s = sum(h) and the while test sum over the batch
		"control_nested.flow": ReductionUnknown, // loops along the batch axis
	}
	files, err := filepath.Glob("../examples/*.flow")
	require.NoError(t, err)
	require.Len(t, files, len(want), "every example is listed")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			g, err := Compile(path, src, Options{})
			require.NoError(t, err)
			got, why := LossReduction(g)
			require.Equal(t, want[filepath.Base(path)], got, why)
			if why != "" {
				t.Log(why)
			}
		})
	}
}

// TestLossReductionThroughControlFlow: if, while and for keep the
// examples apart when their regions do and what decides them is the
// same for every batch.
func TestLossReductionThroughControlFlow(t *testing.T) {
	for _, tt := range []struct {
		body string
		want Reduction
		why  string
	}{
		{`hs, _ = for xt in x along 1 (h = fill(dims = [N, 3], value = 0)) {
        h = tanh(xt + h * w)
        yield h
    }
    loss = mean(hs)`, ReductionMean, ""},
		{`hs, h = for xt in x along 1 (h = fill(dims = [N, 3], value = 0)) {
        h = h * w + xt
        yield h
    }
    loss = sum(hs) + sum(h)`, ReductionSum, ""},
		{`ys = for xt in x along 0 { yield xt * w }
    loss = mean(ys)`, ReductionUnknown, "for steps along the batch dimension"},
		{`y = if sum(x) > 0.0 { x * w } else { x }
    loss = mean(y)`, ReductionUnknown, "greater of a sum over the batch"},
		{`y = if w > 0.0 { x * w } else { x }
    loss = mean(y)`, ReductionMean, ""},
		{`r, _ = while (r = x, k = 0) k < 3 limit 5 { r = r * w; k = k + 1 }
    loss = mean(r)`, ReductionMean, ""},
		{`r, _ = while (r = x, k = 0) sum(r) > 1.0 limit 5 { r = r * w; k = k + 1 }
    loss = mean(r)`, ReductionUnknown, "how many times while runs depends on the batch's values"},
	} {
		src := "model M {\n    input x: f32[N, 4, 3]\n    param w: f32[]\n    " + tt.body + "\n    train loss with sgd(lr = 0.1)\n}\n"
		g, err := Compile("m.flow", []byte(src), Options{})
		require.NoError(t, err, src)
		got, why := LossReduction(g)
		require.Equal(t, tt.want, got, "%s\n%s", src, why)
		require.Contains(t, why, tt.why)
	}
}
