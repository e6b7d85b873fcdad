package elbtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// stateFileVersion changes when the file's layout does; a file of another
// version is refused rather than half-read.
const stateFileVersion = 1

type stateFile struct {
	Version  int
	Snapshot *Snapshot
}

// loadStateFile reads path into the store. A missing file is not an error
// (false, nil): the endpoint starts fresh and creates it on the first
// change.
func (s *Server) loadStateFile(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("elbtest: state file: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return false, fmt.Errorf("elbtest: state file %s: %w", path, err)
	}
	if f.Version != stateFileVersion || f.Snapshot == nil {
		return false, fmt.Errorf("elbtest: state file %s: version %d, want %d", path, f.Version, stateFileVersion)
	}
	if f.Snapshot.Region != s.opts.Region {
		return false, fmt.Errorf("elbtest: state file %s is for region %s, not %s", path, f.Snapshot.Region, s.opts.Region)
	}
	d := f.Snapshot
	fill(&d.VPCs)
	fill(&d.Subnets)
	fill(&d.SecurityGroups)
	fill(&d.EC2Tags)
	fill(&d.LoadBalancers)
	fill(&d.TargetGroups)
	fill(&d.Listeners)
	fill(&d.Rules)
	if d.Tags == nil {
		d.Tags = map[string][]types.Tag{}
	}
	s.st.d = *d
	return true, nil
}

func fill[K comparable, V any](m *map[K]V) {
	if *m == nil {
		*m = map[K]V{}
	}
}

// saveStateFile writes snap to the state file atomically (temporary file,
// fsync, rename), so a crash leaves either the old or the new state.
func (s *Server) saveStateFile() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	// The snapshot is taken under saveMu, so concurrent mutations can
	// never write an older state over a newer one.
	snap := s.Snapshot()
	b, err := json.MarshalIndent(stateFile{Version: stateFileVersion, Snapshot: snap}, "", " ")
	if err != nil {
		return err
	}
	path := s.opts.StateFile
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
