package opcheck

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// buildAndRun builds and runs the given cases, failing the test on errors
// that are not about one case, and returns the driver with the feeds and
// the results of the cases that ran, and the cases that failed.
func buildAndRun(t *testing.T, cases []*Case) (*Driver, map[string]*Feed, map[string]*Result, []Failure) {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := ModuleRoot(wd)
	require.NoError(t, err)
	ctx := context.Background()
	d, fails, err := Build(ctx, t.TempDir(), root, cases)
	require.NoError(t, err)
	feeds := map[string]*Feed{}
	for _, c := range d.Cases {
		feeds[c.Name] = NewFeed(c)
	}
	results, runFails, err := d.Run(ctx, feeds)
	require.NoError(t, err)
	return d, feeds, results, append(fails, runFails...)
}

// TestGeneratedOpsMatchInterpreter is the check: every public op, on each
// of its registry examples, through generated Go and through the
// interpreter — outputs, the loss, and params after each training step —
// within MaxRelErr.
func TestGeneratedOpsMatchInterpreter(t *testing.T) {
	start := time.Now()
	cases, skips, fails := Plan(ir.Ops())
	planned := time.Since(start)
	for _, s := range skips {
		t.Logf("skipped %s", s)
	}
	for _, f := range fails {
		t.Errorf("%v", f)
	}
	require.NotEmpty(t, cases)
	start = time.Now()
	d, feeds, results, runFails := buildAndRun(t, cases)
	built := time.Since(start)
	start = time.Now()
	for _, f := range runFails {
		t.Errorf("%v", f)
	}
	examples := 0
	for _, c := range d.Cases {
		examples += len(c.Examples)
		got, ok := results[c.Name]
		if !ok {
			continue // reported as a failure above
		}
		t.Run(c.Op.Name, func(t *testing.T) {
			want, err := Reference(c, feeds[c.Name])
			if err != nil {
				t.Fatalf("%s: %v\n%s", c, err, c.Source)
			}
			for _, msg := range Compare(c, feeds[c.Name], got, want) {
				t.Error(msg)
			}
		})
	}
	t.Logf("checked %d examples of %d ops, skipped %d; planning %v, building and running %v, comparing %v",
		examples, len(d.Cases), len(skips), planned.Round(time.Millisecond), built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// TestEveryPublicOpIsPlanned checks that the plan follows the registry
// (ir.Ops()): every example of every op that is not Internal is in its
// op's case (applied to inputs, and to params when the op is
// differentiable), a skip or a failure, so an op a colleague registers is
// checked without editing this package.
func TestEveryPublicOpIsPlanned(t *testing.T) {
	cases, skips, fails := Plan(ir.Ops())
	type key struct {
		op string
		ex int
	}
	byOp := map[string]*Case{}
	for _, c := range cases {
		require.False(t, c.Op.Internal, "internal op %s planned", c.Op.Name)
		require.Nil(t, byOp[c.Op.Name], "op %s has two cases", c.Op.Name)
		byOp[c.Op.Name] = c
	}
	accounted := map[key]bool{}
	for _, s := range skips {
		accounted[key{s.Op, s.Example}] = true
	}
	for _, f := range fails {
		accounted[key{f.Op, f.Example}] = true
	}
	for _, def := range ir.Ops() {
		if def.Internal || accounted[key{def.Name, -1}] {
			continue
		}
		require.NotEmpty(t, def.Examples, "op %s", def.Name)
		for i := range def.Examples {
			if accounted[key{def.Name, i}] {
				continue
			}
			c := byOp[def.Name]
			require.NotNil(t, c, "op %s has no case", def.Name)
			require.Contains(t, c.Examples, i, "op %s example %d is not planned", def.Name, i)
			require.Contains(t, c.Graph.OutputNames, "y"+itoa(i))
			if y, _, _ := probe(def, def.Examples[i]); def.Grad != nil && trains(def.Examples[i], y) {
				require.Contains(t, c.Graph.OutputNames, "z"+itoa(i))
				require.NotNil(t, c.Graph.Param("p"+itoa(i)+"_"+itoa(firstFloat(def.Examples[i]))))
				require.NotNil(t, c.Graph.Loss)
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestOpWithoutExamplesFails: a public op with no examples is a failure,
// not a silent pass; an internal one is ignored.
func TestOpWithoutExamplesFails(t *testing.T) {
	exp, ok := ir.Lookup("exp")
	require.True(t, ok)
	bare := *exp
	bare.Name, bare.Examples = "probe_no_examples", nil
	internal := bare
	internal.Name, internal.Internal = "probe_internal", true
	cases, skips, fails := Plan([]*ir.OpDef{&bare, &internal})
	require.Empty(t, cases)
	require.Empty(t, skips)
	require.Len(t, fails, 1)
	require.Equal(t, "probe_no_examples", fails[0].Op)
	require.Contains(t, fails[0].Error(), "no registry Examples")
}

// TestPlanSkipsAndRejects: an example whose operands the op rejects in
// f32 is skipped with the reason; one whose shapes do not match the op's
// arity, whose attributes the op does not declare or whose domain is
// unknown fails; the op's good examples are still planned.
func TestPlanSkipsAndRejects(t *testing.T) {
	matmul, ok := ir.Lookup("matmul")
	require.True(t, ok)
	def := *matmul
	def.Examples = []ir.Example{
		{Shapes: [][]int{{2, 3}, {4, 5}}},                                 // inner dims differ
		{Shapes: [][]int{{2, 3}}},                                         // one operand
		{Shapes: [][]int{{2, 3}, {3, 2}}, Attrs: ir.Attrs{"bogus": true}}, // unknown attribute
		{Shapes: [][]int{{2, 3}, {3, 2}}, Domain: ir.Domain(200)},         // unknown domain
		{Shapes: [][]int{{2, 3}, {3, 2}}},                                 // good
	}
	cases, skips, fails := Plan([]*ir.OpDef{&def})
	require.Len(t, cases, 1)
	require.Equal(t, []int{4}, cases[0].Examples)
	require.Len(t, skips, 1)
	require.Equal(t, 0, skips[0].Example)
	require.Contains(t, skips[0].Reason, "not expressible with f32 operands")
	require.Len(t, fails, 3)
	require.Contains(t, fails[0].Error(), "op matmul, example 1 (shapes [2,3]): the example has 1 operand shapes, the op takes 2 operands")
	require.Contains(t, fails[1].Error(), "bogus")
	require.Contains(t, fails[2].Error(), "domain 200")
}

// TestHarnessCatchesBrokenCode: a package that does not compile, whose
// Model does not implement runtime.Model, or that crashes the driver is
// reported on its own while the others still run, and Compare reports a wrong result with the op, the
// example, the shapes, the tensor and the error.
func TestHarnessCatchesBrokenCode(t *testing.T) {
	add, ok := ir.Lookup("add")
	require.True(t, ok)
	def := *add
	def.Examples = []ir.Example{
		{Shapes: [][]int{{3, 4}, {3, 4}}},
		{Shapes: [][]int{{2, 3}, {3}}},
	}
	cases, _, fails := Plan([]*ir.OpDef{&def})
	require.Empty(t, fails)
	require.Len(t, cases, 1)
	// The good case has the longest name, so that gofmt pads the broken
	// cases' entries in the driver's model table.
	good := cases[0]
	good.Name = "op_add_with_a_long_name"
	broken := func(name, old, new string) *Case {
		c := *good
		c.Name = name
		require.Contains(t, string(c.Code), old)
		c.Code = []byte(strings.Replace(string(c.Code), old, new, 1))
		return &c
	}
	cases = []*Case{
		broken("op_add_undefined", "func New()", "func New() { undefinedThing }\nfunc old()"),
		good,
		broken("op_add_nm", ") Params() []runtime.Param", ") Parameters() []runtime.Param"),
		broken("op_add_crash", "func New() *Model {", "func New() *Model {\n\tdone := make(chan bool)\n\tgo func() { panic(\"boom\") }()\n\t<-done"),
	}

	d, feeds, results, fails := buildAndRun(t, cases)
	require.Len(t, fails, 3, "%v", fails)
	require.Contains(t, fails[0].Error(), "op add, examples [0 1]: the generated Go does not compile")
	require.Contains(t, fails[0].Error(), "undefinedThing")
	require.Contains(t, fails[1].Error(), "does not compile")
	require.Contains(t, fails[1].Error(), "Params")
	require.Contains(t, fails[2].Error(), "op add, examples [0 1]: the generated code crashed the driver")
	require.Contains(t, fails[2].Error(), "boom")
	require.Equal(t, []*Case{good, cases[3]}, d.Cases)
	require.Len(t, results, 1)

	got := results[good.Name]
	want, err := Reference(good, feeds[good.Name])
	require.NoError(t, err)
	require.Empty(t, Compare(good, feeds[good.Name], got, want))

	y1 := good.Graph.OutputNames[3]
	require.Equal(t, "y1", y1)
	got.Outputs[3][1] += 0.01
	got.Params[1]["p0_1"][0] -= 0.001
	msgs := Compare(good, feeds[good.Name], got, want)
	require.Len(t, msgs, 3, "%q", msgs)
	require.Equal(t, "op add, example 1 (shapes [2,3] [3]), predict: output y1 f32[2,3]: relative error", msgs[0][:strings.Index(msgs[0], " 0.")])
	require.Contains(t, msgs[1], "op add, example 0 (shapes [3,4] [3,4]), train: param p0_1 f32[3,4] after step 2: relative error")
	require.Contains(t, msgs[2], "op add, example 0 (shapes [3,4] [3,4]), train: update of param p0_1 f32[3,4] at step 2 (-lr * gradient): max error")
}
