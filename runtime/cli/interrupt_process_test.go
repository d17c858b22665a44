//go:build unix

package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime/checkpoint"
	"github.com/stretchr/testify/require"
)

// Environment of the child process TestTrainChild runs in.
const (
	trainChildArgsEnv  = "FLOW_TEST_TRAIN_ARGS"  // JSON array of arguments
	trainChildDelayEnv = "FLOW_TEST_TRAIN_DELAY" // every training step's delay
	trainChildStallEnv = "FLOW_TEST_TRAIN_STALL" // the step that takes 30s more (0: none)
)

// slowTrainer is the softmax model with a TrainFeed that prints "step N"
// when step N begins and then takes a while.
type slowTrainer struct {
	*softmaxModel
	delay time.Duration
	stall int
	n     int
}

func (m *slowTrainer) TrainFeed(n int, in [][]float32) float32 {
	m.n++
	fmt.Printf("step %d\n", m.n)
	time.Sleep(m.delay)
	if m.n == m.stall {
		time.Sleep(30 * time.Second)
	}
	return m.softmaxModel.TrainFeed(n, in)
}

// TestTrainChild is not a test: it is the train process
// TestTrainProcessInterrupted starts, running Main on a slow softmax model.
func TestTrainChild(t *testing.T) {
	raw := os.Getenv(trainChildArgsEnv)
	if raw == "" {
		t.Skip("runs only as TestTrainProcessInterrupted's child")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	delay, err := time.ParseDuration(os.Getenv(trainChildDelayEnv))
	if err != nil {
		t.Fatal(err)
	}
	stall, _ := strconv.Atoi(os.Getenv(trainChildStallEnv))
	os.Exit(Main(args, &slowTrainer{softmaxModel: newSoftmaxModel(), delay: delay, stall: stall}, os.Stdout, os.Stderr))
}

// trainProcess starts train in a child process and returns it with its
// stderr and a channel of the step numbers it begins, closed when its
// stdout ends.
func trainProcess(t *testing.T, delay time.Duration, stall int, args ...string) (*exec.Cmd, *strings.Builder, <-chan int) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	argv, _ := json.Marshal(append([]string{"train", "--quiet"}, args...))
	cmd := exec.Command(exe, "-test.run=^TestTrainChild$")
	cmd.Env = append(os.Environ(), trainChildArgsEnv+"="+string(argv), trainChildDelayEnv+"="+delay.String(),
		trainChildStallEnv+"="+strconv.Itoa(stall))
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	steps := make(chan int, 1000)
	go func() {
		defer close(steps)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "step "); ok {
				if n, err := strconv.Atoi(s); err == nil {
					steps <- n
				}
			}
		}
	}()
	return cmd, stderr, steps
}

// waitStep waits until the child begins step n.
func waitStep(t *testing.T, cmd *exec.Cmd, steps <-chan int, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case s, ok := <-steps:
			require.True(t, ok, "the child ended before step %d", n)
			if s >= n {
				return
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("the child did not reach step %d in 20s", n)
		}
	}
}

// TestTrainProcessInterrupted sends SIGINT, then SIGTERM, to a real train
// process mid-training: it stops after the current step, saves the
// checkpoint of that step and exits with ExitInterrupted or
// ExitTerminated. A second signal kills a process still finishing its
// step.
func TestTrainProcessInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	data := writeData(t)
	stopped := regexp.MustCompile(`stopped early at step (\d+) of 1000`)
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, ExitInterrupted}, {syscall.SIGTERM, ExitTerminated}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, stderr, steps := trainProcess(t, 5*time.Millisecond, 0,
				"--data", data, "--steps", "1000", "--batch", "10", "--checkpoint", dir, "--json")
			waitStep(t, cmd, steps, 5)
			require.NoError(t, cmd.Process.Signal(tt.sig))
			for range steps {
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "exit: %v; stderr: %s", err, stderr)
			require.Equal(t, tt.code, ee.ExitCode(), stderr.String())
			m := stopped.FindStringSubmatch(stderr.String())
			require.NotNil(t, m, stderr.String())
			step, _ := strconv.Atoi(m[1])
			require.GreaterOrEqual(t, step, 5)
			require.Less(t, step, 1000)
			list, err := checkpoint.List(dir)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, step, list[0].Step)
			f, err := checkpoint.Load(filepath.Join(dir, fmt.Sprintf("ckpt-%d.safetensors", step)))
			require.NoError(t, err)
			require.Equal(t, m[1], f.Metadata[metaStep])
		})
	}

	t.Run("twice", func(t *testing.T) {
		dir := t.TempDir()
		cmd, stderr, steps := trainProcess(t, 0, 3, "--data", data, "--steps", "1000", "--batch", "10", "--checkpoint", dir)
		waitStep(t, cmd, steps, 3) // step 3 takes 30s
		exited := make(chan error, 1)
		go func() {
			for range steps {
			}
			exited <- cmd.Wait()
		}()
		// The first signal asks for a stop after step 3; a later one,
		// once the first is handled, kills the process.
		var err error
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
	loop:
		for {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			select {
			case err = <-exited:
				break loop
			case <-tick.C:
			}
		}
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "exit: %v; stderr: %s", err, stderr)
		ws := ee.Sys().(syscall.WaitStatus)
		require.True(t, ws.Signaled(), "killed by the second signal: %v; stderr: %s", err, stderr)
		require.Equal(t, syscall.SIGINT, ws.Signal())
		list, err := checkpoint.List(dir)
		require.NoError(t, err)
		require.Empty(t, list, "killed before saving")
	})
}
