package mp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/wire"
)

// A synchronisation object (Lock, RLock, Semaphore, Event, Condition,
// Barrier) lives in a shared memory segment of its own (internal/shm),
// built on internal/robust; so do the numbers of a Value or Array. The
// segment starts with a header that names the object, so that a child
// decoding it checks what it maps; the object follows.
//
//	0   magic  uint32  syncMagic
//	4   kind   uint32
//	8   id     [16]byte  random, the object's identity in every process
//	24  spare (the benchmarks keep a counter there: export_test.go; a
//	    Value or Array its element type and length: value.go)
//	64  the object
const (
	syncMagic  = 0x6d707379 // "mpsy"
	syncObjOff = 64

	// syncSlots is how many processes can hold units of one Semaphore, or
	// wait on one Condition or Barrier, at once (robust.Table records; the
	// records of dead processes are reused).
	syncSlots = 1024
)

type syncKind uint8

const (
	kindLock syncKind = 1 + iota
	kindRLock
	kindSemaphore
	kindEvent
	kindCondition
	kindBarrier
	kindValue
	kindArray
)

var kindNames = [...]string{kindLock: "Lock", kindRLock: "RLock", kindSemaphore: "Semaphore",
	kindEvent: "Event", kindCondition: "Condition", kindBarrier: "Barrier", kindValue: "Value", kindArray: "Array"}

// sized reports whether the kind's objects have a size of their own (a
// Value's or Array's numbers), which their encoding carries; the others'
// size is the kind's. Closing a sized object unmaps it at once (its
// numbers are not waited on, as a lock is).
func (k syncKind) sized() bool { return k == kindValue || k == kindArray }

func (k syncKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind %d", k)
}

// size returns the segment size for the kind.
func (k syncKind) size() int {
	var n int
	switch k {
	case kindLock, kindRLock:
		n = robust.MutexSize
	case kindSemaphore:
		n = robust.SemSize(syncSlots)
	case kindEvent:
		n = robust.EventSize
	case kindCondition:
		n = robust.CondSize(syncSlots)
	case kindBarrier:
		n = robust.BarrierSize(syncSlots)
	}
	return syncObjOff + n
}

// syncObj is this process's hold on a synchronisation object: the mapped
// segment and the kind's process-local half (core). A process has one per
// object, however many times it was passed to it, so that goroutines of one
// process meet in the same core (the same gate, the same RLock owner).
type syncObj struct {
	id   [16]byte
	kind syncKind
	seg  *shm.Segment
	mem  []byte       // the object, after the header
	core any          // *lockCore, *semCore, ...
	pass *handles.Set // the segment's file, for Start to pass to a child

	closing context.Context // done once Close is called
	cancel  context.CancelFunc
	closed  atomic.Bool

	// onClose releases what this process holds (a lock), or gives up
	// (a semaphore's units); atExit does the same when a child ends.
	onClose, atExit func()
}

// syncObjs finds this process's objects by identity.
var syncObjs = struct {
	sync.Mutex
	m map[[16]byte]weak.Pointer[syncObj]
}{m: map[[16]byte]weak.Pointer[syncObj]{}}

// newSyncObj creates the object's segment; init sets up the object in the
// zeroed memory, and core makes its process-local half.
func newSyncObj(kind syncKind, init func(mem []byte), core func(o *syncObj) any) (*syncObj, error) {
	return newSizedObj(kind, kind.size(), init, core)
}

// newSizedObj is newSyncObj with the segment's size, header included.
func newSizedObj(kind syncKind, size int, init func(mem []byte), core func(o *syncObj) any) (*syncObj, error) {
	seg, err := shm.New(size)
	if err != nil {
		return nil, fmt.Errorf("mp: creating a %s: %w", kind, err)
	}
	mem := seg.Bytes()
	var id [16]byte
	_, _ = rand.Read(id[:])
	binary.LittleEndian.PutUint32(mem[0:], syncMagic)
	binary.LittleEndian.PutUint32(mem[4:], uint32(kind))
	copy(mem[8:24], id[:])
	if init != nil {
		init(mem[syncObjOff:])
	}
	syncObjs.Lock()
	defer syncObjs.Unlock()
	return register(id, kind, seg, handles.New(seg.File()), core), nil
}

// register makes this process's hold on a mapped object, with syncObjs
// locked.
func register(id [16]byte, kind syncKind, seg *shm.Segment, pass *handles.Set, core func(o *syncObj) any) *syncObj {
	o := &syncObj{id: id, kind: kind, seg: seg, mem: seg.Bytes()[syncObjOff:], pass: pass}
	o.closing, o.cancel = context.WithCancel(context.Background())
	o.core = core(o)
	// The memory is unmapped only once nothing in this process can touch
	// it: Close cannot know that a goroutine is not still inside a wait.
	// The numbers of a Value or Array are unmapped by Close alone: a slice
	// of them (Array.Slice) can outlive the object, unseen by the garbage
	// collector.
	if kind.sized() {
		runtime.AddCleanup(o, func(s *shm.Segment) { _ = s.CloseFile() }, seg)
	} else {
		runtime.AddCleanup(o, func(s *shm.Segment) { _ = s.Close() }, seg)
	}
	runtime.AddCleanup(o, forgetSyncObj, id)
	syncObjs.m[id] = weak.Make(o)
	return o
}

func forgetSyncObj(id [16]byte) {
	syncObjs.Lock()
	defer syncObjs.Unlock()
	if wp, ok := syncObjs.m[id]; ok && wp.Value() == nil {
		delete(syncObjs.m, id)
	}
}

// Close releases this process's hold on the object; see the types' Close.
// Goroutines of this process waiting on it return ErrSyncClosed. A second
// Close returns nil.
func (o *syncObj) Close() error {
	if o.closed.Swap(true) {
		return nil
	}
	o.cancel()
	if o.onClose != nil {
		o.onClose()
	}
	syncObjs.Lock()
	if wp, ok := syncObjs.m[o.id]; ok && wp.Value() == o {
		delete(syncObjs.m, o.id)
	}
	syncObjs.Unlock()
	closeSeg := o.seg.CloseFile
	if o.kind.sized() {
		closeSeg = o.seg.Close
	}
	if err := closeSeg(); err != nil && !errors.Is(err, shm.ErrClosed) {
		return fmt.Errorf("mp: closing a %s: %w", o.kind, err)
	}
	return nil
}

// syncAtExit is a child's last act on its objects when its target has
// returned: a semaphore's units that it took and did not release are used
// up, not given back as a dead holder's are.
func syncAtExit() {
	syncObjs.Lock()
	var objs []*syncObj
	for _, wp := range syncObjs.m {
		if o := wp.Value(); o != nil {
			objs = append(objs, o)
		}
	}
	syncObjs.Unlock()
	for _, o := range objs {
		if o.atExit != nil && !o.closed.Load() {
			o.atExit()
		}
	}
}

// waitCtx returns the context a wait watches: ctx, ended also by Close.
func (o *syncObj) waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil || ctx.Done() == nil {
		return o.closing, func() {}
	}
	merged, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(o.closing, cancel)
	return merged, func() { stop(); cancel() }
}

// waitError turns the error of a wait in internal/robust into ours: nil
// for a timeout (the callers report it as false), ErrSyncClosed if Close
// ended it, ErrTooManyProcesses, or the caller's context's error.
func (o *syncObj) waitError(ctx context.Context, err error) error {
	switch {
	case err == nil || err == robust.ErrTimeout:
		return nil
	case o.closed.Load():
		return ErrSyncClosed
	case err == robust.ErrTableFull:
		return fmt.Errorf("%w: %d processes already use this %s", ErrTooManyProcesses, syncSlots, o.kind)
	case ctx != nil && ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// deadline turns a timeout into a deadline; a timeout of zero or less is
// a single try, as Python treats a negative timeout as zero.
func deadline(d time.Duration) time.Time {
	now := time.Now()
	if d <= 0 {
		return now
	}
	return now.Add(d)
}

// The encoding of an object: a version, the kind, the object's identity
// (in its segment's header) and that of the handles.Set that carries its
// segment's file to a child (see files.go). A Condition's Set carries its
// lock's segment too, and its encoding names the lock after it.
const syncEncoding = 2

// passSet returns the Set of o's file, or ErrSyncClosed.
func (o *syncObj) passSet() (*handles.Set, error) {
	if o.closed.Load() {
		return nil, ErrSyncClosed
	}
	return o.pass, nil
}

// writeSyncObj writes o's identity and its Set's to w.
func writeSyncObj(w *wire.Writer, o *syncObj, set *handles.Set) {
	w.Byte(syncEncoding)
	w.Byte(byte(o.kind))
	w.Raw(o.id[:])
	w.Raw(set.ID[:])
}

// marshalSyncObj returns o's encoding.
func marshalSyncObj(o *syncObj) ([]byte, error) {
	set, err := o.passSet()
	if err != nil {
		return nil, err
	}
	w := &wire.Writer{}
	writeSyncObj(w, o, set)
	return w.B, nil
}

// findSyncObj returns this process's hold on the object id of the given
// kind, if it has one: made here, or passed before (a Lock passed beside
// a Condition on it is one lock in the child).
func findSyncObj(id [16]byte, kind syncKind) *syncObj {
	if wp, ok := syncObjs.m[id]; ok {
		if o := wp.Value(); o != nil && o.kind == kind && !o.closed.Load() {
			return o
		}
	}
	return nil
}

// attachSyncObj maps the segment f stands for, checks that it holds the
// object id of the kind, and makes this process's hold on it, with
// syncObjs locked. pass is the Set a grandchild will get it in.
func attachSyncObj(id [16]byte, kind syncKind, f *os.File, pass *handles.Set, core func(o *syncObj) any) (*syncObj, error) {
	return attachSizedObj(id, kind, kind.size(), f, pass, core)
}

// attachSizedObj is attachSyncObj with the segment's size, header
// included.
func attachSizedObj(id [16]byte, kind syncKind, size int, f *os.File, pass *handles.Set, core func(o *syncObj) any) (*syncObj, error) {
	seg, err := shm.Attach(f, size)
	if err != nil {
		return nil, fmt.Errorf("mp: mapping a %s: %w", kind, err)
	}
	mem := seg.Bytes()
	if binary.LittleEndian.Uint32(mem[0:]) != syncMagic || syncKind(binary.LittleEndian.Uint32(mem[4:])) != kind ||
		[16]byte(mem[8:24]) != id {
		_, _ = seg.Detach() // the file is the Set's
		return nil, fmt.Errorf("%w: the shared memory of a %s does not hold it", ErrBadMessage, kind)
	}
	return register(id, kind, seg, pass, core), nil
}

// readSyncHead reads an encoding's version, kind and identities.
func readSyncHead(d *wire.Reader, want syncKind) (id, setID [16]byte, err error) {
	if d.Byte() != syncEncoding {
		d.Fail("encoding of a " + want.String())
	}
	kind := syncKind(d.Byte())
	copy(id[:], d.Raw(16))
	copy(setID[:], d.Raw(16))
	if d.Err != nil {
		return id, setID, d.Err
	}
	if kind != want {
		return id, setID, fmt.Errorf("%w: a %s where a %s was expected", ErrBadMessage, kind, want)
	}
	return id, setID, nil
}

// decodeSyncObj decodes an encoding made by marshalSyncObj, and returns
// this process's hold on the object. It fails with ErrNotPassable in a
// process that holds neither the object nor its Set.
func decodeSyncObj(b []byte, want syncKind, core func(o *syncObj) any) (*syncObj, error) {
	d := wire.NewReader(b)
	id, setID, err := readSyncHead(d, want)
	if err != nil {
		return nil, err
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	syncObjs.Lock()
	defer syncObjs.Unlock()
	if o := findSyncObj(id, want); o != nil {
		return o, nil
	}
	set, err := heldSet(setID, 1, want.String())
	if err != nil {
		return nil, err
	}
	return attachSyncObj(id, want, set.Files[0], set, core)
}
