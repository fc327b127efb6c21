//go:build unix

package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// createNamed makes the segment in t's registry, sized and registered,
// then links it to its name: a process killed at any instant leaves either
// nothing under the name or a registered segment.
func createNamed(name string, size int, t *Tree) (*os.File, error) {
	if t == nil {
		return nil, errors.New("no tree to register the segment with")
	}
	dir, err := segmentDir()
	if err != nil {
		return nil, err
	}
	reg, err := t.prepare(dir)
	if err != nil {
		return nil, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(reg, "tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := truncate(f, size); err != nil {
		f.Close()
		return nil, err
	}
	path := filepath.Join(dir, name)
	entry := filepath.Join(reg, namesDir, name)
	if err := register(tmp, entry, path); err != nil {
		f.Close()
		return nil, err
	}
	if err := os.Link(tmp, path); err != nil {
		removeIfSame(entry, tmp)
		f.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, fs.ErrExist
		}
		return nil, err
	}
	return f, nil
}

// register links the new segment tmp into the registry as entry. An entry
// that is there already is a segment of the tree's that something other
// than Unlink removed (another program, or a process killed inside
// Unlink): it goes, unless it is still the segment named path, whose name
// is then taken.
func register(tmp, entry, path string) error {
	err := os.Link(tmp, entry)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	if sameFile(entry, path) {
		return fs.ErrExist
	}
	if err := os.Remove(entry); err != nil && !notExist(err) {
		return err
	}
	return os.Link(tmp, entry)
}

// openNamed opens and maps the named segment.
func openNamed(name string, t *Tree) (*os.File, []byte, error) {
	dir, err := segmentDir()
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if notExist(err) {
			return nil, nil, fs.ErrNotExist
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	size := fi.Size()
	switch {
	case !fi.Mode().IsRegular():
		f.Close()
		return nil, nil, fmt.Errorf("%w: not a regular file", ErrBadName)
	case size == 0:
		// Python's SharedMemory sizes its segment after it creates it.
		f.Close()
		return nil, nil, errors.New("the segment is empty (is it still being created?)")
	case size > MaxSize:
		f.Close()
		return nil, nil, fmt.Errorf("the segment holds %d bytes, more than %d", size, int64(MaxSize))
	}
	if t != nil {
		if err := t.join(dir); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	mem, err := mapFile(f, int(size))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, mem, nil
}

// unlinkNamed removes the name, and t's registry entry for the segment.
func unlinkNamed(name string, t *Tree) error {
	dir, err := segmentDir()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil {
		if notExist(err) {
			return fs.ErrNotExist
		}
		return err
	}
	if t != nil {
		t.forget(dir, name, fi)
	}
	return nil
}

// persistNamed removes the registry entries of every tree for the
// segment that has the name.
func persistNamed(name string) error {
	dir, err := segmentDir()
	if err != nil {
		return err
	}
	fi, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		if notExist(err) {
			return fs.ErrNotExist
		}
		return err
	}
	trees, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range trees {
		if !strings.HasPrefix(e.Name(), treePrefix) {
			continue
		}
		entry := filepath.Join(dir, e.Name(), namesDir, name)
		if efi, err := os.Lstat(entry); err == nil && os.SameFile(fi, efi) {
			if err := os.Remove(entry); err != nil && !notExist(err) {
				return err
			}
		}
	}
	return nil
}

// sameFile reports whether the paths a and b name the same file.
func sameFile(a, b string) bool {
	fa, err := os.Lstat(a)
	if err != nil {
		return false
	}
	fb, err := os.Lstat(b)
	return err == nil && os.SameFile(fa, fb)
}

// removeIfSame removes path if it is the file that other is.
func removeIfSame(path, other string) {
	if sameFile(path, other) {
		_ = os.Remove(path)
	}
}

// mkdirPrivate makes the directory path, readable by the user alone, or
// checks that the one there is such a directory: it is in a directory that
// every user can write to.
func mkdirPrivate(path string) error {
	err := os.Mkdir(path, 0o700)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Getuid() || st.Mode&0o077 != 0 {
		return fmt.Errorf("%s is not a directory that only this user can use", path)
	}
	return nil
}

// notExist reports whether err says that a file is not there.
func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
