package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
)

// checkpointFile is the file train --checkpoint DIR writes in DIR.
const checkpointFile = "model" + checkpoint.Ext

// checkpointFlag adds the --checkpoint flag of eval and predict to fs.
func checkpointFlag(fs *flag.FlagSet) *string {
	return fs.String("checkpoint", "", "restore the parameters from `DIR`/"+checkpointFile+
		" (as written by train --checkpoint DIR), or from a "+checkpoint.Ext+" file, before running")
}

// checkpointPath resolves a --checkpoint argument: a directory stands for
// the checkpoint train writes in it, anything else for itself.
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
	path := filepath.Join(arg, checkpointFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s holds no checkpoint: %s does not exist", arg, path)
	}
	return path, nil
}

// restoreCheckpoint loads the checkpoint arg names into m's parameters and
// returns its path. The file must hold exactly m's parameters with their
// shapes; if it does not and it was saved by another model, the error says
// so. On an error no parameter is changed.
func restoreCheckpoint(m runtime.Model, arg string) (string, error) {
	path, err := checkpointPath(arg)
	if err != nil {
		return "", err
	}
	f, err := checkpoint.Load(path)
	if err != nil {
		return "", err
	}
	if err := f.Restore(m.Params()); err != nil {
		model := m.Signature().Model
		if saved := f.Metadata[metaModel]; saved != "" && saved != model {
			return "", fmt.Errorf("%v (the checkpoint was saved by model %s, this is model %s)", err, saved, model)
		}
		return "", err
	}
	return path, nil
}

// Metadata keys train writes into a checkpoint.
const (
	metaModel = "model"
)

// saveCheckpoint writes m's parameters (optimizer state included) to
// DIR/model.safetensors with the training run's figures as metadata, and
// returns the file's path.
func saveCheckpoint(dir string, m runtime.Model, res *trainResult) (string, error) {
	sig := m.Signature()
	meta := map[string]string{
		metaModel:       sig.Model,
		"source":        sig.Source,
		"steps":         strconv.Itoa(res.Steps),
		"batch":         strconv.Itoa(res.Batch),
		"seed":          strconv.FormatUint(res.Seed, 10),
		"test_accuracy": strconv.FormatFloat(res.TestAccuracy, 'g', -1, 64),
	}
	if sig.Optimizer != "" {
		meta["optimizer"] = sig.Optimizer
	}
	if l, ok := res.FinalLoss.(float64); ok {
		meta["final_loss"] = strconv.FormatFloat(l, 'g', -1, 64)
	}
	path := filepath.Join(dir, checkpointFile)
	if err := checkpoint.Save(path, m.Params(), meta); err != nil {
		return "", err
	}
	return path, nil
}
