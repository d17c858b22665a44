package opcheck

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/codegen"
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
// of its registry examples in every dtype the checker accepts, through
// generated Go and through the interpreter — outputs, the loss, and params
// after each training step — within MaxRelErr. The instances the checker
// refuses were refused with a positioned error (Plan checks that); the
// only other skips are instances that need params of a dtype generated
// code cannot hold, listed in paramDTypeOps.
func TestGeneratedOpsMatchInterpreter(t *testing.T) {
	start := time.Now()
	cases, skips, fails := Plan(ir.Ops())
	planned := time.Since(start)
	refused := 0
	for _, s := range skips {
		if s.ParamDType && !paramDTypeOps[s.Op] {
			t.Errorf("op %s is not generated for params of its dtype: %s", s.Op, s)
		}
		if !s.ParamDType {
			refused++
		}
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
	instances := 0
	for _, c := range d.Cases {
		instances += len(c.Instances)
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
	t.Logf("checked %d instances of %d ops; the checker refused %d, %d need params generated code cannot hold; planning %v, building and running %v, comparing %v",
		instances, len(d.Cases), refused, len(skips)-refused, planned.Round(time.Millisecond), built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// paramDTypeOps are the ops whose instances in dtypes other than f32
// need params of those dtypes, which generated code cannot hold yet
// (codegen.ErrParamDType): the updates, whose first operand is the param
// they update, and batch_norm, whose moving averages are params of its
// dtype. Any other op skipped for it fails the check, and so does any of
// these that stops being (see TestParamDTypeOpsAreSkipped).
var paramDTypeOps = map[string]bool{"assign": true, "assign_add": true, "assign_sub": true, "batch_norm": true}

// TestParamDTypeOpsAreSkipped keeps paramDTypeOps exact: each op in it has
// an instance skipped for codegen.ErrParamDType.
func TestParamDTypeOpsAreSkipped(t *testing.T) {
	var defs []*ir.OpDef
	for op := range paramDTypeOps {
		def, ok := ir.Lookup(op)
		require.True(t, ok, op)
		defs = append(defs, def)
	}
	_, skips, fails := Plan(defs)
	require.Empty(t, fails)
	skipped := map[string]bool{}
	for _, s := range skips {
		if s.ParamDType {
			require.Contains(t, s.Reason, codegen.ErrParamDType.Error())
			require.NotEqual(t, ir.F32, s.Instance.DType)
			skipped[s.Op] = true
		}
	}
	require.Equal(t, paramDTypeOps, skipped)
}

// TestEveryPublicOpIsPlanned checks that the plan follows the registry
// (ir.Ops()): every instance of every example of every op that is not
// Internal — the example in each compute dtype when it has operands that
// take one — is in its op's case (applied to inputs, and for f32 to
// params when the op is differentiable), a skip or a failure, so an op a
// colleague registers is checked without editing this package.
func TestEveryPublicOpIsPlanned(t *testing.T) {
	cases, skips, fails := Plan(ir.Ops())
	type key struct {
		op string
		ex int
		dt ir.DType
	}
	byOp := map[string]*Case{}
	for _, c := range cases {
		require.False(t, c.Op.Internal, "internal op %s planned", c.Op.Name)
		require.Nil(t, byOp[c.Op.Name], "op %s has two cases", c.Op.Name)
		byOp[c.Op.Name] = c
	}
	accounted := map[key]bool{}
	for _, s := range skips {
		accounted[key{s.Op, s.Instance.Example, s.Instance.DType}] = true
	}
	for _, f := range fails {
		accounted[key{f.Op, f.Example, f.DType}] = true
	}
	for _, def := range ir.Ops() {
		if def.Internal || accounted[key{def.Name, -1, ir.Invalid}] {
			continue
		}
		require.NotEmpty(t, def.Examples, "op %s", def.Name)
		for i, ex := range def.Examples {
			if accounted[key{def.Name, i, ir.Invalid}] {
				continue
			}
			for _, dt := range instanceDTypes(ex) {
				in := Instance{i, dt}
				if accounted[key{def.Name, i, dt}] {
					continue
				}
				c := byOp[def.Name]
				require.NotNil(t, c, "op %s has no case", def.Name)
				require.Contains(t, c.Instances, in, "op %s example %d in %s is not planned", def.Name, i, dt)
				require.Contains(t, c.Graph.OutputNames(), "y"+itoa(i)+in.suffix())
				if y, refusal, _ := probe(def, ex, dt); refusal == nil && def.Grad != nil && trains(in, ex, y) {
					require.Contains(t, c.Graph.OutputNames(), "z"+itoa(i))
					require.NotNil(t, c.Graph.Param("p"+itoa(i)+"_"+itoa(firstFloat(ex))))
					require.NotNil(t, c.Graph.Loss())
				}
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

// TestPlanSkipsAndRejects: an instance the op refuses is a skip with the
// reason (after Plan checked that the checker refuses it at the call); an
// example no dtype makes acceptable, or whose shapes do not match the
// op's arity, whose attributes the op does not declare or whose domain
// is unknown fails; the op's good instances are still planned.
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
	require.Equal(t, []Instance{{4, ir.F32}, {4, ir.F64}, {4, ir.I32}, {4, ir.I64}}, cases[0].Instances)
	require.Len(t, skips, 6, "%v", skips)
	for i, dt := range computeDTypes {
		require.Equal(t, Instance{0, dt}, skips[i].Instance)
		if dt == ir.Bool {
			require.Contains(t, skips[i].Reason, "matmul needs numeric operands")
		} else {
			require.Contains(t, skips[i].Reason, "inner dimensions differ")
		}
	}
	require.Equal(t, Instance{4, ir.Bool}, skips[5].Instance)
	require.Contains(t, skips[5].Reason, "matmul needs numeric operands")
	require.Len(t, fails, 4)
	require.Contains(t, fails[0].Error(), "op matmul, example 0 (shapes [2,3] [4,5]): the op accepts the example in no dtype (f32: inner dimensions differ")
	require.Contains(t, fails[1].Error(), "op matmul, example 1 (shapes [2,3]): the example has 1 operand shapes, the op takes 2 operands")
	require.Contains(t, fails[2].Error(), "bogus")
	require.Contains(t, fails[3].Error(), "domain 200")
}

// TestPlanChecksRefusals: an instance outside an op's DTypes is a skip
// only when the checker refuses it at the call, naming the dtypes the op
// takes (conv2d in f64); an op whose DTypes claims less than the checker
// enforces fails for each instance the checker accepts.
func TestPlanChecksRefusals(t *testing.T) {
	conv, ok := ir.Lookup("conv2d")
	require.True(t, ok)
	_, skips, fails := Plan([]*ir.OpDef{conv})
	require.Empty(t, fails)
	var f64 int
	for _, s := range skips {
		if s.Instance.DType == ir.F64 {
			require.Contains(t, s.Reason, "the checker refuses it: conv2d takes f32 only, got f64[")
			f64++
		}
	}
	require.Equal(t, len(conv.Examples), f64)

	matmul, ok := ir.Lookup("matmul")
	require.True(t, ok)
	def := *matmul
	def.Examples = def.Examples[:1]
	def.DTypes = []ir.DType{ir.F32} // the registered matmul, which the checker uses, takes f64 too
	_, _, fails = Plan([]*ir.OpDef{&def})
	require.Len(t, fails, 3, "%v", fails)
	for i, dt := range []ir.DType{ir.F64, ir.I32, ir.I64} {
		require.Equal(t, dt, fails[i].DType)
		require.Contains(t, fails[i].Error(), "op matmul, example 0 (shapes [3,4] [4,5]) in "+dt.String()+": Infer or DTypes refuses the instance (matmul takes f32 only, got "+dt.String()+"[3,4]), but the checker accepts")
	}
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
	require.Contains(t, fails[0].Error(), "op add, instances [0 0/f64 0/i32 0/i64 1 1/f64 1/i32 1/i64]: the generated Go does not compile")
	require.Contains(t, fails[0].Error(), "undefinedThing")
	require.Contains(t, fails[1].Error(), "does not compile")
	require.Contains(t, fails[1].Error(), "Params")
	require.Contains(t, fails[2].Error(), "op add, instances [0 0/f64 0/i32 0/i64 1 1/f64 1/i32 1/i64]: the generated code crashed the driver")
	require.Contains(t, fails[2].Error(), "boom")
	require.Equal(t, []*Case{good, cases[3]}, d.Cases)
	require.Len(t, results, 1)

	got := results[good.Name]
	want, err := Reference(good, feeds[good.Name])
	require.NoError(t, err)
	require.Empty(t, Compare(good, feeds[good.Name], got, want))

	y1 := slices.Index(good.Graph.OutputNames(), "y1")
	y1i64 := slices.Index(good.Graph.OutputNames(), "y1_i64")
	got.Outputs[y1][1] += 0.01
	got.Outputs[y1i64][0]++
	got.Params[1]["p0_1"][0] -= 0.001
	msgs := Compare(good, feeds[good.Name], got, want)
	require.Len(t, msgs, 4, "%q", msgs)
	require.Equal(t, "op add, example 1 (shapes [2,3] [3]) in f32, predict: output y1 f32[2,3]: relative error", msgs[0][:strings.Index(msgs[0], " 0.")])
	require.Contains(t, msgs[1], "op add, example 1 (shapes [2,3] [3]) in i64, predict: output y1_i64 i64[2,3]: relative error")
	require.Contains(t, msgs[2], "op add, example 0 (shapes [3,4] [3,4]) in f32, train: param p0_1 f32[3,4] after step 2: relative error")
	require.Contains(t, msgs[3], "op add, example 0 (shapes [3,4] [3,4]) in f32, train: update of param p0_1 f32[3,4] at step 2 (-lr * gradient): max error")
}
