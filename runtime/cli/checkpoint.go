package cli

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
)

// legacyCheckpointFile is the single file earlier versions of train
// --checkpoint DIR wrote in DIR; eval, predict and serve still read it
// when DIR holds no ckpt-<step> file.
const legacyCheckpointFile = "model" + checkpoint.Ext

// defaultKeep is how many checkpoints train keeps by default.
const defaultKeep = 5

// checkpointFlag adds the --checkpoint flag of eval, predict and serve
// to fs.
func checkpointFlag(fs *flag.FlagSet) *string {
	return fs.String("checkpoint", "", "restore the parameters from the newest checkpoint in `DIR` "+
		"(as written by train --checkpoint DIR), or from a "+checkpoint.Ext+" file, before running")
}

// checkpointPath resolves a --checkpoint argument: a directory stands for
// its newest checkpoint (the highest step; model.safetensors if it has no
// ckpt-<step> file), anything else for itself.
func checkpointPath(arg string) (string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("checkpoint %s does not exist", arg)
		}
		return "", err
	}
	if !st.IsDir() {
		return arg, nil
	}
	latest, ok, err := checkpoint.Latest(arg)
	if err != nil {
		return "", err
	}
	if ok {
		return latest.Path, nil
	}
	path := filepath.Join(arg, legacyCheckpointFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s holds no checkpoint: no %s<step>%s file (nor %s)", arg, checkpoint.Prefix, checkpoint.Ext, legacyCheckpointFile)
	}
	return path, nil
}

// restoreCheckpoint loads the checkpoint arg names (see checkpointPath)
// into m's parameters and returns its path. The file must hold exactly m's
// parameters with their shapes; if it does not and it was saved by another
// model, the error says so. A damaged file is an error naming the file
// (and the tensor at fault); there is no falling back to an older one. On
// an error no parameter is changed.
func restoreCheckpoint(m runtime.Model, arg string) (string, error) {
	path, err := checkpointPath(arg)
	if err != nil {
		return "", err
	}
	f, err := checkpoint.Load(path)
	if err != nil {
		return "", err
	}
	if err := restoreParams(m, f); err != nil {
		return "", err
	}
	return path, nil
}

// restoreParams copies f's tensors into m's parameters, explaining a
// mismatch with the model that saved f.
func restoreParams(m runtime.Model, f *checkpoint.File) error {
	if err := f.Restore(m.Params()); err != nil {
		model := m.Signature().Model
		if saved := f.Metadata[metaModel]; saved != "" && saved != model {
			return fmt.Errorf("%v (the checkpoint was saved by model %s, this is model %s)", err, saved, model)
		}
		return err
	}
	return nil
}

// Metadata keys train writes into a checkpoint. The training state that
// --resume needs is stored beside the parameters (which include the
// optimizer state: moments, step counters, batch-norm statistics).
const (
	metaModel     = "model"
	metaSource    = "source"
	metaOptimizer = "optimizer"
	metaStep      = "step"           // training steps done
	metaBatch     = "batch"          // examples per step
	metaSeed      = "seed"           // the data shuffling seed
	metaExamples  = "train_examples" // the size of the training set
	metaDataRNG   = "data_rng"       // the shuffling RNG's state after step batches, hex
	metaRecent    = "recent_loss"    // the last min(step, lossWindow) losses, oldest first
	metaAccuracy  = "test_accuracy"  // set on the checkpoint taken when training ends
	metaFinalLoss = "final_loss"     // likewise, with the unit appended (lossUnit.key), as in train --json
)

// trainState is what --resume restores besides the parameters.
type trainState struct {
	model    string
	step     int
	batch    int
	seed     uint64
	examples int
	dataRNG  []byte
	recent   []float64 // oldest first
}

// metadata renders the state (and the model's description) as checkpoint
// metadata.
func (s *trainState) metadata(sig *runtime.Signature) map[string]string {
	meta := map[string]string{
		metaModel:    sig.Model,
		metaSource:   sig.Source,
		metaStep:     strconv.Itoa(s.step),
		metaBatch:    strconv.Itoa(s.batch),
		metaSeed:     strconv.FormatUint(s.seed, 10),
		metaExamples: strconv.Itoa(s.examples),
		metaDataRNG:  hex.EncodeToString(s.dataRNG),
	}
	if sig.Optimizer != "" {
		meta[metaOptimizer] = sig.Optimizer
	}
	recent := make([]string, len(s.recent))
	for i, l := range s.recent {
		recent[i] = strconv.FormatFloat(l, 'g', -1, 64) // round-trips exactly
	}
	meta[metaRecent] = strings.Join(recent, ",")
	return meta
}

// readTrainState parses the training state from f's metadata.
func readTrainState(f *checkpoint.File) (*trainState, error) {
	meta := f.Metadata
	fail := func(key, format string, a ...any) error {
		return fmt.Errorf("%s: metadata %s: %s; the file was not written by train --checkpoint, or is damaged",
			f.Path, key, fmt.Sprintf(format, a...))
	}
	integer := func(key string) (int, error) {
		v, ok := meta[key]
		if !ok {
			return 0, fail(key, "missing")
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fail(key, "%q is not a non-negative integer", v)
		}
		return n, nil
	}
	s := &trainState{model: meta[metaModel]}
	var err error
	if s.step, err = integer(metaStep); err != nil {
		return nil, err
	}
	if s.batch, err = integer(metaBatch); err != nil {
		return nil, err
	}
	if s.batch == 0 {
		return nil, fail(metaBatch, "is 0")
	}
	if s.examples, err = integer(metaExamples); err != nil {
		return nil, err
	}
	seed, ok := meta[metaSeed]
	if !ok {
		return nil, fail(metaSeed, "missing")
	}
	if s.seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return nil, fail(metaSeed, "%q is not an unsigned integer", seed)
	}
	if s.dataRNG, err = hex.DecodeString(meta[metaDataRNG]); err != nil || len(s.dataRNG) == 0 {
		return nil, fail(metaDataRNG, "%q is not a hex-encoded RNG state", meta[metaDataRNG])
	}
	if r := meta[metaRecent]; r != "" {
		for _, field := range strings.Split(r, ",") {
			l, err := strconv.ParseFloat(field, 64)
			if err != nil {
				return nil, fail(metaRecent, "%q is not a number", field)
			}
			s.recent = append(s.recent, l)
		}
	}
	if want := min(s.step, lossWindow); len(s.recent) != want {
		return nil, fail(metaRecent, "holds %d losses, want %d for step %d", len(s.recent), want, s.step)
	}
	return s, nil
}

// saveCheckpoint writes m's parameters (optimizer state included) and the
// training state to DIR/ckpt-<step>.safetensors, with extra metadata
// (such as the final figures), then deletes all but the keep newest
// checkpoints of DIR. It returns the new file's path. The new file is
// durable before any older one is deleted.
func saveCheckpoint(dir string, m runtime.Model, st *trainState, extra map[string]string, keep int) (string, error) {
	meta := st.metadata(m.Signature())
	for k, v := range extra {
		meta[k] = v
	}
	path := filepath.Join(dir, checkpoint.FileName(st.step))
	if err := checkpoint.Save(path, m.Params(), meta); err != nil {
		return "", err
	}
	if _, err := checkpoint.Prune(dir, keep); err != nil {
		return "", fmt.Errorf("deleting old checkpoints in %s: %v", dir, err)
	}
	return path, nil
}
