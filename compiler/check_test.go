package compiler

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// compileModel compiles a model M whose body is the given lines, with
// every name of want listed in its output statement, and returns the
// graph's named nodes.
func compileModel(t *testing.T, body string, want map[string]string) map[string]*ir.Node {
	t.Helper()
	var outs []string
	for name := range want {
		outs = append(outs, name)
	}
	src := fmt.Sprintf("model M {\n%s\n    output %s\n}\n", body, strings.Join(outs, ", "))
	// The checker's values, before the passes merge equal ones (cse).
	g, err := Compile("check.flow", []byte(src), Options{NoOptimize: true})
	require.NoError(t, err, src)
	named := map[string]*ir.Node{}
	for _, n := range g.Body.Nodes {
		if n.Name != "" {
			require.NotContains(t, named, n.Name, "two nodes named %s", n.Name)
			named[n.Name] = n
		}
	}
	return named
}

// TestInferTypes checks the types the checker infers for named values.
func TestInferTypes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]string // value name → type
	}{
		{"broadcast symbolic and fixed",
			`input a: f32[N, 1]
			 input b: f32[1, 10]
			 c = a + b
			 d = b * a`,
			map[string]string{"c": "f32[N,10]", "d": "f32[N,10]"}},
		{"broadcast bias",
			`input x: f32[N, 784]
			 param b: f32[784]
			 c = x - b
			 d = b / x`,
			map[string]string{"c": "f32[N,784]", "d": "f32[N,784]"}},
		{"broadcast two symbols and a rank change",
			`input u: f32[N]
			 input v: f32[M, 1]
			 c = u + v`,
			map[string]string{"c": "f32[M,N]"}},
		{"broadcast a scalar param",
			`input x: f32[N, 4]
			 param s: f32 = 2
			 c = x * s
			 d = s - s`,
			map[string]string{"c": "f32[N,4]", "d": "f32[]"}},
		{"literals take the tensor's dtype",
			`input k: i32[N, 3]
			 input d: f64[4]
			 input x: f32[2]
			 a = k * 2 + 1
			 b = 2 / d
			 c = 0.5 * x - -1`,
			map[string]string{"a": "i32[N,3]", "b": "f64[4]", "c": "f32[2]"}},
		{"literal arithmetic folds before it meets a tensor",
			`input k: i32[3]
			 c = k + 2 * (3 - 1)
			 d = (1 + 2) * k`,
			map[string]string{"c": "i32[3]", "d": "i32[3]"}},
		{"negation and matmul",
			`input x: f32[N, 784]
			 param W: f32[784, 10] = zeros
			 c = -x @ W
			 d = -(x @ W) + 1`,
			map[string]string{"c": "f32[N,10]", "d": "f32[N,10]"}},
		{"reductions",
			`input x: f32[N, 4, 5]
			 s0 = sum(x)
			 s1 = sum(x, axes = 1)
			 s2 = sum(x, axes = [0, 2], keep_dims = true)
			 s3 = mean(x, axes = -1)
			 s4 = mean(x, [-1, 0])
			 s5 = sum(x, [1], true)
			 s6 = mean(x, axes = [], keep_dims = true)
			 s7 = sum(x, keep_dims = true)`,
			map[string]string{
				"s0": "f32[]", "s1": "f32[N,5]", "s2": "f32[1,4,1]", "s3": "f32[N,4]",
				"s4": "f32[4]", "s5": "f32[N,1,5]", "s6": "f32[N,4,5]", "s7": "f32[1,1,1]",
			}},
		{"matmul transposes",
			`input a: f32[N, 3]
			 param W: f32[5, 3]
			 param V: f32[3, 5]
			 c = matmul(a, W, transpose_b = true)
			 d = matmul(a, a, transpose_a = true)
			 e = matmul(V, W, transpose_a = true, transpose_b = true)
			 f = matmul(a, V, false, false)
			 g = matmul(b = V, a = a)`,
			map[string]string{"c": "f32[N,5]", "d": "f32[3,3]", "e": "f32[5,5]", "f": "f32[N,5]", "g": "f32[N,5]"}},
		{"element-wise functions keep the type",
			`input x: f64[N, 7]
			 a = softmax(x, axis = 1)
			 b = log_softmax(x, axis = -1)
			 c = relu(exp(x)) + sigmoid(log(x))`,
			map[string]string{"a": "f64[N,7]", "b": "f64[N,7]", "c": "f64[N,7]"}},
		{"relu and negation on integers",
			`input k: i64[N]
			 a = relu(-k)`,
			map[string]string{"a": "i64[N]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			named := compileModel(t, tt.body, tt.want)
			for name, typ := range tt.want {
				n, ok := named[name]
				require.True(t, ok, "no node named %s", name)
				require.Equal(t, typ, n.Type.String(), "type of %s", name)
			}
		})
	}
}

// TestInferStructure checks what the checker builds besides types:
// operator precedence and normalized attributes.
func TestInferStructure(t *testing.T) {
	named := compileModel(t, `input x: f32[N, 4, 5]
	param W: f32[5, 2]
	input m: f32[N, 5]
	c = -m @ W
	s = sum(x, axes = [-1, 0])
	k = mean(x, axes = -2, keep_dims = true)
	p = softmax(x, axis = 2)`, map[string]string{"c": "", "s": "", "k": "", "p": ""})

	c := named["c"]
	require.Equal(t, "matmul", c.Op.Name)
	require.Equal(t, "neg", c.Inputs[0].Op.Name, "unary minus binds tighter than @")
	require.False(t, c.Attrs.Bool("transpose_a"))

	require.Equal(t, []int{0, 2}, named["s"].Attrs.Ints("axes"), "axes are normalized and sorted")
	require.Equal(t, false, named["s"].Attrs["keep_dims"])
	require.Equal(t, []int{1}, named["k"].Attrs.Ints("axes"))
	require.Equal(t, true, named["k"].Attrs["keep_dims"])
	require.Equal(t, -1, named["p"].Attrs.Int("axis", 0), "softmax's axis is normalized to -1")
}

// TestSuggestions checks the "did you mean" hints of the checker's
// messages, and their absence when nothing is close.
func TestSuggestions(t *testing.T) {
	tests := []struct {
		body string
		want string // the error message, exactly
	}{
		{"input x: f32[N, 4]\nparam W: f32[4, 4]\ny = x @ Wt", "undefined: Wt; did you mean W?"},
		{"input hidden: f32[N, 4]\ny = hiden * 2", "undefined: hiden; did you mean hidden?"},
		{"input x: f32[N, 4]\ny = relu(q)", "undefined: q"},
		{"input x: f32[N, 4]\ny = relu(x) + zzz", "undefined: zzz"},
		{"input x: f32[N, 4]\ny = sofmax(x)", "unknown function sofmax; did you mean softmax?"},
		{"input x: f32[N, 4]\ny = reul(x)", "unknown function reul; did you mean relu?"}, // a swap is one edit
		{"input x: f32[N, 4]\ny = rleu(x)", "unknown function rleu; did you mean relu?"},
		{"input x: f32[N, 4]\ny = ulre(x)", "unknown function ulre"},
		{"input x: f32[N, 4]\ny = summ(x)", "unknown function summ; did you mean sum?"},
		{"input x: f32[N, 4]\ny = sum(x, axis = 0)", "sum has no argument axis; flow calls it axes"},
		{"input x: f32[N, 4]\ny = sum(x, keepdims = true)", "sum has no argument keepdims; flow calls it keep_dims"},
		{"input x: f32[N, 4]\ny = matmul(x, x, transpose = true)", "matmul has no argument transpose; did you mean transpose_a?"},
		{"input x: fp32[N, 4]\ny = x", "unknown dtype fp32 (want one of f32, f64, i32, i64, bool, f16, bf16, i8); did you mean f32?"},
		{"input x: float[N, 4]\ny = x", "unknown dtype float (want one of f32, f64, i32, i64, bool, f16, bf16, i8)"},
		{"input x: f32[N, 4]\nparam W: f32[4] = one\ny = x * W", "unknown initializer one (want one of constant, glorot_normal, glorot_uniform, he_normal, he_uniform, normal, ones, orthogonal, restore, truncated_normal, uniform, zeros); did you mean ones?"},
		{"input x: f32[N, 4]\nparam W: f32[4] = normal(stdev = 1)\ny = x * W", "normal has no argument stdev; did you mean stddev?"},
		{"input x: f32[N, 4]\nparam W: f32[4]\ntrain sum(x * W) with sdg()", "unknown optimizer sdg (want one of adam, momentum, rmsprop, sgd); did you mean sgd?"},
		{"input x: f32[N, 4]\nparam W: f32[4]\ntrain sum(x * W) with dsx()", "unknown optimizer dsx (want one of adam, momentum, rmsprop, sgd)"},
		{"input x: f32[N, 4]\nparam W: f32[4]\ntrain sum(x * W) with sgdd()", "unknown optimizer sgdd (want one of adam, momentum, rmsprop, sgd); did you mean sgd?"},
		{"input x: f32[N, 4]\nparam W: f32[4]\ntrain sum(x * W) with sgd(LR = 1)", "sgd has no argument LR; did you mean lr?"},
		// Other frameworks' spellings get flow's; anything else the list.
		{"input x: f32[N, 4]\nparam W: f32[4]\ntrain sum(x * W) with sgd(learning_rate = 0.1)", "sgd has no argument learning_rate; flow calls it lr"},
		{"input x: f32[N, 4]\nparam W: f32[4] = normal(std = 0.1)\ny = x * W", "normal has no argument std; flow calls it stddev"},
		{"input x: f32[N, 4]\nparam W: f32[4] = uniform(minval = -1, maxval = 1)\ny = x * W", "uniform has no argument minval; flow calls it low"},
		{"input x: f32[N, 4]\nparam W: f32[4]\ntrain sum(x * W) with adam(beta_1 = 0.8)", "adam has no argument beta_1; flow calls it beta1"},
		{"input x: f32[N, 4]\ny = dropout(x, keep_prob = 0.9)", "dropout has no argument keep_prob; flow takes rate, the fraction dropped: rate = 1 - keep_prob (as TensorFlow 2 does)"},
		{"input x: f32[N, 4]\ny = relu(x, alpha = 1)", "relu has no argument alpha; its only argument is x"},
		{"input x: f32[N, 4]\ny = transpose(x, order = [1, 0])", "transpose has no argument order; its arguments are x and perm"},
		{"input x: f32[N, 4]\nparam W: f32[4]\ny = assign(W, x, new = 1)", "assign has no argument new; its arguments are p and value"},
	}
	for _, tt := range tests {
		src := "model M {\n" + tt.body + "\noutput y\n}"
		_, err := Compile("s.flow", []byte(src), Options{})
		var list lang.ErrorList
		require.True(t, errors.As(err, &list), "%s: got %v", tt.body, err)
		var msgs []string
		for _, e := range list {
			msgs = append(msgs, e.Msg)
		}
		require.Contains(t, msgs, tt.want, tt.body)
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		name  string
		cands []string
		want  string
	}{
		{"Wt", []string{"x", "W", "b"}, "W"},
		{"hiden", []string{"hidden", "hide"}, "hidden"}, // both at distance 1: the first wins
		{"hide", []string{"hidden", "hide"}, ""},        // an exact match is no typo
		{"axis", []string{"axes", "keep_dims"}, "axes"},
		{"softmx", []string{"sum", "softmax", "log_softmax"}, "softmax"},
		{"x", []string{"y"}, "y"}, // closest itself allows one edit; the checker drops one-letter hints
		{"abc", []string{"xyz"}, ""},
		{"", []string{"a"}, "a"},
		{"anything", nil, ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, closest(tt.name, tt.cands), "closest(%q, %q)", tt.name, tt.cands)
	}
	require.Equal(t, 0, editDistance("", ""))
	require.Equal(t, 3, editDistance("abc", ""))
	require.Equal(t, 1, editDistance("f23", "f32")) // a swap of adjacent letters is one edit
	require.Equal(t, 3, editDistance("ca", "abc"))  // no edits of a swapped pair (optimal string alignment)
	require.Equal(t, 1, editDistance("keepdims", "keep_dims"))
}
