//go:build unix

package cli

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
	"github.com/stretchr/testify/require"
)

// sigkillDirEnv makes the test binary a checkpoint-saving child for
// TestCheckpointSurvivesSIGKILL: it names the directory to save into.
const sigkillDirEnv = "FLOW_TEST_SIGKILL_DIR"

// sigkillKeep is how many checkpoints the child keeps.
const sigkillKeep = 3

// bigModel is a model whose 4 MiB of parameters take a few milliseconds
// to save; its values are a function of the step, so a loaded checkpoint
// can be checked against its file name.
type bigModel struct {
	softmaxModel
	w, v []float32
}

func newBigModel() *bigModel {
	m := &bigModel{softmaxModel: *newSoftmaxModel(), w: make([]float32, 1<<20), v: make([]float32, 1000)}
	m.sig.Model = "Big"
	return m
}

func (m *bigModel) Signature() *runtime.Signature { return &m.sig }

func (m *bigModel) Params() []runtime.Param {
	return []runtime.Param{{Name: "W", Shape: []int{1 << 10, 1 << 10}, Data: m.w}, {Name: "W/adam_v", Shape: []int{1000}, Data: m.v}}
}

// set fills the params with their values at step.
func (m *bigModel) set(step int) {
	for i := range m.w {
		m.w[i] = float32(step) + float32(i%101)
	}
	for i := range m.v {
		m.v[i] = -float32(step)
	}
}

// check reports whether f holds the params of step.
func (m *bigModel) check(f *checkpoint.File, step int) error {
	m.set(step)
	want := m.Params()
	fresh := newBigModel()
	if err := f.Restore(fresh.Params()); err != nil {
		return err
	}
	for i, p := range fresh.Params() {
		for j, v := range p.Data {
			if v != want[i].Data[j] {
				return fmt.Errorf("%s: %s[%d] = %v, want %v", f.Path, p.Name, j, v, want[i].Data[j])
			}
		}
	}
	if got := f.Metadata[metaStep]; got != strconv.Itoa(step) {
		return fmt.Errorf("%s: metadata step %q", f.Path, got)
	}
	return nil
}

// TestSIGKILLChild is the child process of TestCheckpointSurvivesSIGKILL;
// it does nothing in a normal test run. Like train, it clears temporary
// files, then saves checkpoints continuing from the newest in the
// directory, printing "saved <step>" after each, until it is killed.
func TestSIGKILLChild(t *testing.T) {
	dir := os.Getenv(sigkillDirEnv)
	if dir == "" {
		t.Skip("the child of TestCheckpointSurvivesSIGKILL")
	}
	if _, err := checkpoint.RemoveTemps(dir); err != nil {
		t.Fatal(err)
	}
	step := 0
	if latest, ok, err := checkpoint.Latest(dir); err != nil {
		t.Fatal(err)
	} else if ok {
		step = latest.Step
	}
	m := newBigModel()
	rng := runtime.NewRNG(1)
	deadline := time.Now().Add(20 * time.Second) // never outlive a broken parent for long
	for time.Now().Before(deadline) {
		step++
		m.set(step)
		st, _ := rng.State()
		state := &trainState{step: step, batch: 1, seed: 1, examples: 1, dataRNG: st, recent: make([]float64, min(step, lossWindow))}
		if _, err := saveCheckpoint(dir, m, state, nil, sigkillKeep); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "saved %d\n", step)
	}
}

// TestCheckpointSurvivesSIGKILL kills a process that saves checkpoints
// in a loop with SIGKILL at random moments, several times, each new
// process continuing where the last stopped. After every kill, each
// checkpoint file in the directory loads and holds its step's values, the
// last one the child reported saving is intact, and the newest checkpoint
// eval would pick is a complete one, never a temporary file.
func TestCheckpointSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const rounds = 8
	midSave := 0
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^TestSIGKILLChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), sigkillDirEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Let it save at least once, then kill it a random time later:
		// often in the middle of writing, syncing or renaming a file.
		last := 0
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the child exited without saving")
			last = parseSaved(t, l)
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the child saved nothing in 15s")
		}
		time.Sleep(time.Duration(r.IntN(60_000)) * time.Microsecond)
		require.NoError(t, cmd.Process.Kill()) // SIGKILL
		for l := range lines {
			if strings.HasPrefix(l, "saved ") {
				last = parseSaved(t, l)
			}
		}
		err = cmd.Wait()
		require.Error(t, err, "the child was killed")

		list, err := checkpoint.List(dir)
		require.NoError(t, err)
		require.NotEmpty(t, list)
		require.LessOrEqual(t, len(list), sigkillKeep+1, "old checkpoints are deleted")
		m := newBigModel()
		found := false
		for _, e := range list {
			f, err := checkpoint.Load(e.Path)
			require.NoError(t, err, "round %d: every checkpoint file is complete", round)
			require.NoError(t, m.check(f, e.Step))
			found = found || e.Step == last
		}
		require.True(t, found, "round %d: the last checkpoint reported saved (%d) is there: %v", round, last, list)
		newest := list[len(list)-1]
		require.GreaterOrEqual(t, newest.Step, last)
		path, err := checkpointPath(dir)
		require.NoError(t, err)
		require.Equal(t, newest.Path, path, "eval, predict and serve pick the newest complete checkpoint")
		des, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, de := range des {
			if _, ok := checkpoint.ParseFileName(de.Name()); !ok {
				require.True(t, strings.HasPrefix(de.Name(), ".ckpt-"), "only temporary files besides checkpoints: %s", de.Name())
				midSave++
			}
		}
	}
	t.Logf("%d kills; %d left a temporary file behind (killed while writing)", rounds, midSave)
	// Like train, the next run removes the leftovers.
	_, err = checkpoint.RemoveTemps(dir)
	require.NoError(t, err)
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, de := range des {
		_, ok := checkpoint.ParseFileName(de.Name())
		require.True(t, ok, filepath.Join(dir, de.Name()))
	}
}

// parseSaved parses a "saved <step>" line of the child.
func parseSaved(t *testing.T, line string) int {
	t.Helper()
	s, ok := strings.CutPrefix(line, "saved ")
	require.True(t, ok, "unexpected child output %q", line)
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
