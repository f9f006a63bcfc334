package node

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Files and folders of a repo.
const (
	configFile   = "config.toml"
	identityFile = "identity.key"
	tokenFile    = "api.token"
	apiFile      = "api"
	lockFile     = "repo.lock"
	versionFile  = "version"
	storeDir     = "store"
	repoVersion  = "1"
)

// ErrNoRepo reports that $LYCEUM_PATH holds no repo.
var ErrNoRepo = errors.New("no Lyceum repo")

// noRepo is the error of a path that holds no repo: KindNotFound, saying
// where and what to do, and ErrNoRepo to errors.Is.
func noRepo(path string) error {
	return &api.Error{Kind: api.KindNotFound, Err: noRepoError(path)}
}

// noRepoError is the path that holds no repo.
type noRepoError string

func (p noRepoError) Error() string {
	return fmt.Sprintf("no Lyceum repo at %s (run `lyceum init`, or set LYCEUM_PATH)", string(p))
}

func (noRepoError) Is(target error) bool { return target == ErrNoRepo }

// ErrRepoLocked reports that another process holds the repo.
var ErrRepoLocked = errors.New("repo in use by another process")

// Repo is an opened, locked repo directory: configuration, identity and
// the path of the content store. Only one process holds a repo at a time.
type Repo struct {
	path   string
	config Config
	key    crypto.PrivKey
	token  string
	lock   *os.File
}

// DefaultRepoPath is $LYCEUM_PATH, or ~/.lyceum.
func DefaultRepoPath() string {
	if p := os.Getenv("LYCEUM_PATH"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".lyceum"
	}
	return filepath.Join(home, ".lyceum")
}

// IsInitialized reports whether path holds a repo.
func IsInitialized(path string) bool {
	_, err := os.Stat(filepath.Join(path, versionFile))
	return err == nil
}

// InitRepo creates a repo at path with the given profile: a new Ed25519
// identity, a documented config.toml, an API token and an empty store. It
// refuses to touch a path that already holds a repo.
func InitRepo(path, profile string) error {
	if IsInitialized(path) {
		return &api.Error{Kind: api.KindConflict, Msg: fmt.Sprintf("%s already holds a Lyceum repo (remove it or set LYCEUM_PATH to another folder)", path)}
	}
	cfg, err := DefaultConfig(profile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("create repo %s: %w", path, err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate identity: %w", err)
	}
	keyBytes, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode identity: %w", err)
	}
	var cfgText bytes.Buffer
	if err := WriteConfig(&cfgText, cfg); err != nil {
		return fmt.Errorf("render config: %w", err)
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return fmt.Errorf("generate API token: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{identityFile, keyBytes, 0o600},
		{configFile, cfgText.Bytes(), 0o600},
		{tokenFile, []byte(hex.EncodeToString(tok) + "\n"), 0o600},
	} {
		if err := writeFileAtomic(filepath.Join(path, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(path, storeDir), 0o700); err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	// The version file goes last: a repo without it was never finished and
	// can be initialised again.
	return writeFileAtomic(filepath.Join(path, versionFile), []byte(repoVersion+"\n"), 0o600)
}

// OpenRepo locks and reads the repo at path.
func OpenRepo(path string) (*Repo, error) {
	if !IsInitialized(path) {
		return nil, noRepo(path)
	}
	v, err := os.ReadFile(filepath.Join(path, versionFile))
	if err != nil {
		return nil, fmt.Errorf("read repo version: %w", err)
	}
	if got := strings.TrimSpace(string(v)); got != repoVersion {
		return nil, &api.Error{Kind: api.KindInvalid, Msg: fmt.Sprintf("repo %s has version %q; this lyceum reads version %s", path, got, repoVersion)}
	}
	lock, err := lockRepo(path)
	if err != nil {
		return nil, err
	}
	r := &Repo{path: path, lock: lock}
	if err := r.load(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Repo) load() error {
	f, err := os.Open(filepath.Join(r.path, configFile))
	if err != nil {
		return fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(r.path, configFile), err)
	}
	r.config = cfg
	keyBytes, err := os.ReadFile(filepath.Join(r.path, identityFile))
	if err != nil {
		return fmt.Errorf("read identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(keyBytes)
	if err != nil {
		return &api.Error{Kind: api.KindInvalid, Msg: fmt.Sprintf("%s is not a valid identity key", filepath.Join(r.path, identityFile)), Err: err}
	}
	r.key = key
	tok, err := os.ReadFile(filepath.Join(r.path, tokenFile))
	if err != nil {
		return fmt.Errorf("read API token: %w", err)
	}
	r.token = strings.TrimSpace(string(tok))
	return nil
}

// Path is the repo's directory.
func (r *Repo) Path() string { return r.path }

// Config is the repo's configuration as read at open.
func (r *Repo) Config() Config { return r.config }

// SetConfig replaces the in-memory configuration (command-line overrides);
// config.toml is not rewritten.
func (r *Repo) SetConfig(c Config) { r.config = c }

// Identity is the node's private key.
func (r *Repo) Identity() crypto.PrivKey { return r.key }

// PeerID is the node's peer ID.
func (r *Repo) PeerID() peer.ID {
	id, _ := peer.IDFromPrivateKey(r.key)
	return id
}

// APIToken is the secret the CLI sends to manage the node over HTTP.
func (r *Repo) APIToken() string { return r.token }

// StorePath is the folder of the content store.
func (r *Repo) StorePath() string { return filepath.Join(r.path, storeDir) }

// WriteAPIAddr records where the running daemon's HTTP server listens, as
// Kubo's $IPFS_PATH/api does, so that the CLI finds it.
func (r *Repo) WriteAPIAddr(addr string) error {
	return writeFileAtomic(filepath.Join(r.path, apiFile), []byte(addr+"\n"), 0o600)
}

// RemoveAPIAddr forgets the daemon's address at shutdown.
func (r *Repo) RemoveAPIAddr() error {
	err := os.Remove(filepath.Join(r.path, apiFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ReadAPI returns the address and token of the daemon that holds the repo
// at path, if it wrote one. It does not lock the repo.
func ReadAPI(path string) (addr, token string, err error) {
	a, err := os.ReadFile(filepath.Join(path, apiFile))
	if err != nil {
		return "", "", err
	}
	t, err := os.ReadFile(filepath.Join(path, tokenFile))
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(string(a)), strings.TrimSpace(string(t)), nil
}

// Close releases the repo's lock.
func (r *Repo) Close() error {
	if r.lock == nil {
		return nil
	}
	err := r.lock.Close() // closing the descriptor releases the flock
	r.lock = nil
	return err
}

// lockRepo takes an exclusive, non-blocking flock on repo.lock. The kernel
// releases it when the process dies, even by SIGKILL, so a crashed daemon
// never leaves a stale lock behind.
func lockRepo(path string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(path, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open repo lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(filepath.Join(path, lockFile))
		f.Close()
		msg := fmt.Sprintf("repo %s is in use by another lyceum process", path)
		if pid := strings.TrimSpace(string(holder)); pid != "" {
			msg += " (pid " + pid + ")"
		}
		msg += ": stop it, or use the running daemon through the CLI"
		return nil, &api.Error{Kind: api.KindUnavailable, Msg: msg, Err: ErrRepoLocked}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// writeFileAtomic writes data to a temporary file, syncs it and renames it
// over name, so that a crash leaves either the old or the new file.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
